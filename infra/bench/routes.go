package main

import (
	"context"
	"fmt"
	"net/url"

	"identityservice/shared/identity"
)

// A scenario drives one route: prepare makes the fixtures for c workers
// sending per requests each, and returns the k-th request of worker w. A
// read reads fixtures made once; a write gets fixtures of its own (a fresh
// client or secret per DELETE, a client per worker for PUT, so workers
// never contend for one item).
type scenario struct {
	fn      string // the function's Go package directory
	prepare func(ctx context.Context, c, per int) (func(w, k int) request, error)
	note    string // what the request is
	list    bool   // a list: its raw baseline is the Query, not the GetItem
	// variant names one of a route's scenarios beyond its first (the
	// token route's other grants), measured as a row of its own.
	variant string
}

// fixtures are what the read scenarios share.
type fixtures struct {
	read, write *caller         // Account Administrators of the two tenants
	ccc, hyb    []fixtureClient // clients of the read tenant
}

func (b *bench) prepareFixtures(ctx context.Context) error {
	if err := b.prepareRaw(ctx); err != nil {
		return fmt.Errorf("raw baseline table: %w", err)
	}
	rt, err := b.newTenant(ctx, "bench reads")
	if err != nil {
		return err
	}
	wt, err := b.newTenant(ctx, "bench writes")
	if err != nil {
		return err
	}
	if b.fx.read, err = b.newCaller(ctx, rt); err != nil {
		return err
	}
	if b.fx.write, err = b.newCaller(ctx, wt); err != nil {
		return err
	}
	if b.fx.ccc, err = b.newClients(ctx, rt, identity.ClientCredential, b.o.routeTenant); err != nil {
		return err
	}
	if b.fx.hyb, err = b.newClients(ctx, rt, identity.Hybrid, b.o.routeTenant); err != nil {
		return err
	}
	// The clients whose secrets are read have a few.
	for _, c := range []struct {
		kind identity.ClientKind
		c    *fixtureClient
	}{{identity.ClientCredential, &b.fx.ccc[0]}, {identity.Hybrid, &b.fx.hyb[0]}} {
		if err := b.addSecrets(ctx, rt, c.kind, c.c, 2); err != nil {
			return err
		}
	}
	return b.prepareSignIn(ctx)
}

const (
	ocsCCC    = "/api/v1-preview/Tenants/%s/ClientCredentialClients"
	ocsHyb    = "/api/Tenants/%s/HybridClient"
	ocsCCCSec = "/api/v1-preview/Tenants/%s/ClientCredentialClients/%s/Secret"
	ocsHybSec = "/api/v1-preview/Tenants/%s/HybridClients/%s/Secret"
	ocsAnySec = "/api/v1-preview/Tenants/%s/Clients/%s/Secret"
	keyRot    = "/api/tenants/%s/applications/%s/secrets"
)

func (b *bench) get(cl *caller, path string, query url.Values) request {
	return request{method: "GET", path: path, query: query, header: map[string]string{"authorization": cl.bearer}}
}

func (b *bench) send(cl *caller, method, path, body string) request {
	h := map[string]string{"authorization": cl.bearer}
	if body != "" {
		h["content-type"] = "application/json"
	}
	return request{method: method, path: path, header: h, body: body}
}

// constant is a scenario without fixtures of its own.
func constant(r func() request) func(context.Context, int, int) (func(int, int) request, error) {
	return func(context.Context, int, int) (func(int, int) request, error) {
		req := r()
		return func(int, int) request { return req }, nil
	}
}

// perWorker gives each worker a client of its own in the write tenant.
func (b *bench) perWorker(kind identity.ClientKind, r func(w, k int, c fixtureClient) request) func(context.Context, int, int) (func(int, int) request, error) {
	return func(ctx context.Context, c, per int) (func(int, int) request, error) {
		cs, err := b.newClients(ctx, b.fx.write.tenant, kind, c)
		if err != nil {
			return nil, err
		}
		return func(w, k int) request { return r(w, k, cs[w]) }, nil
	}
}

// perRequest gives each request a client of its own in the write tenant.
func (b *bench) perRequest(kind identity.ClientKind, r func(c fixtureClient) request) func(context.Context, int, int) (func(int, int) request, error) {
	return func(ctx context.Context, c, per int) (func(int, int) request, error) {
		cs, err := b.newClients(ctx, b.fx.write.tenant, kind, c*per)
		if err != nil {
			return nil, err
		}
		return func(w, k int) request { return r(cs[w*per+k]) }, nil
	}
}

// secretsPerClient is how many secrets a write scenario adds to one client:
// with its first secret, the most a client may have (identity.MaxSecretsPerClient).
const secretsPerClient = identity.MaxSecretsPerClient - 1

// perSecretSlot gives each request a client with room for one more secret
// (addSecrets false) or a secret of its own to delete (addSecrets true).
func (b *bench) perSecretSlot(kind identity.ClientKind, added bool, r func(c fixtureClient, secret string) request) func(context.Context, int, int) (func(int, int) request, error) {
	return func(ctx context.Context, c, per int) (func(int, int) request, error) {
		perW := (per + secretsPerClient - 1) / secretsPerClient
		cs, err := b.newClients(ctx, b.fx.write.tenant, kind, c*perW)
		if err != nil {
			return nil, err
		}
		if added {
			err := parallel(len(cs), 4, func(i int) error {
				return b.addSecrets(ctx, b.fx.write.tenant, kind, &cs[i], secretsPerClient)
			})
			if err != nil {
				return nil, err
			}
		}
		return func(w, k int) request {
			cl := cs[w*perW+k/secretsPerClient]
			sec := ""
			if added {
				sec = cl.secrets[1+k%secretsPerClient]
			}
			return r(cl, sec)
		}, nil
	}
}

// scenarios returns a scenario per route, by "METHOD path" as template.yaml
// declares it. The bench refuses to run when a route has none.
func (b *bench) scenarios() map[string]scenario {
	rt := func() string { return b.fx.read.tenant }
	wt := func() string { return b.fx.write.tenant }
	rd, wr := func() *caller { return b.fx.read }, func() *caller { return b.fx.write }
	list10 := url.Values{"count": {"10"}}
	hybridBody := `{"Name":"bench","RedirectUris":["https://app.example.com/signin-oidc"],"ClientUri":"https://app.example.com/"}`
	const cccF, hybF, secF, krF, tokF = "functions/clientcredentialclients", "functions/hybridclients", "functions/clientsecrets", "functions/applicationsecrets", "functions/token"
	const porF = "functions/portal"
	cc, hy := identity.ClientCredential, identity.Hybrid
	sc := map[string]scenario{
		// Client Credential clients.
		"POST /api/v1-preview/Tenants/{tenantId}/ClientCredentialClients": {fn: cccF, note: "create with Name",
			prepare: constant(func() request { return b.send(wr(), "POST", fmt.Sprintf(ocsCCC, wt()), `{"Name":"bench"}`) })},
		"GET /api/v1-preview/Tenants/{tenantId}/ClientCredentialClients": {fn: cccF, note: "count=10", list: true,
			prepare: constant(func() request { return b.get(rd(), fmt.Sprintf(ocsCCC, rt()), list10) })},
		"GET /api/v1-preview/Tenants/{tenantId}/ClientCredentialClients/{clientId}": {fn: cccF,
			prepare: constant(func() request { return b.get(rd(), fmt.Sprintf(ocsCCC, rt())+"/"+b.fx.ccc[0].id, nil) })},
		"PUT /api/v1-preview/Tenants/{tenantId}/ClientCredentialClients/{clientId}": {fn: cccF, note: "new Name",
			prepare: b.perWorker(cc, func(w, k int, c fixtureClient) request {
				return b.send(wr(), "PUT", fmt.Sprintf(ocsCCC, wt())+"/"+c.id, fmt.Sprintf(`{"Name":"bench-%d"}`, k))
			})},
		"DELETE /api/v1-preview/Tenants/{tenantId}/ClientCredentialClients/{clientId}": {fn: cccF, note: "client with 1 secret",
			prepare: b.perRequest(cc, func(c fixtureClient) request {
				return b.send(wr(), "DELETE", fmt.Sprintf(ocsCCC, wt())+"/"+c.id, "")
			})},

		// Hybrid clients.
		"POST /api/Tenants/{tenantId}/HybridClient": {fn: hybF, note: "create with a redirect URI",
			prepare: constant(func() request { return b.send(wr(), "POST", fmt.Sprintf(ocsHyb, wt()), hybridBody) })},
		"GET /api/Tenants/{tenantId}/HybridClient": {fn: hybF, note: "count=10", list: true,
			prepare: constant(func() request { return b.get(rd(), fmt.Sprintf(ocsHyb, rt()), list10) })},
		"GET /api/Tenants/{tenantId}/HybridClient/{clientId}": {fn: hybF,
			prepare: constant(func() request { return b.get(rd(), fmt.Sprintf(ocsHyb, rt())+"/"+b.fx.hyb[0].id, nil) })},
		"PUT /api/Tenants/{tenantId}/HybridClient/{clientId}": {fn: hybF, note: "new Name",
			prepare: b.perWorker(hy, func(w, k int, c fixtureClient) request {
				return b.send(wr(), "PUT", fmt.Sprintf(ocsHyb, wt())+"/"+c.id, fmt.Sprintf(`{"Name":"bench-%d"}`, k))
			})},
		"DELETE /api/Tenants/{tenantId}/HybridClient/{clientId}": {fn: hybF, note: "client with 1 secret",
			prepare: b.perRequest(hy, func(c fixtureClient) request {
				return b.send(wr(), "DELETE", fmt.Sprintf(ocsHyb, wt())+"/"+c.id, "")
			})},

		// Key Rotation.
		"POST /api/tenants/{tenant}/applications/{clientId}/secrets": {fn: krF, note: "add, no expiration",
			prepare: b.perSecretSlot(cc, false, func(c fixtureClient, _ string) request {
				return b.send(wr(), "POST", fmt.Sprintf(keyRot, wt(), c.id), `{}`)
			})},
		"GET /api/tenants/{tenant}/applications/{clientId}/secrets": {fn: krF, note: "client with 3 secrets", list: true,
			prepare: constant(func() request { return b.get(rd(), fmt.Sprintf(keyRot, rt(), b.fx.ccc[0].id), nil) })},
		"DELETE /api/tenants/{tenant}/applications/{clientId}/secrets/{id}": {fn: krF, note: "soft delete",
			prepare: b.perSecretSlot(cc, true, func(c fixtureClient, sec string) request {
				return b.send(wr(), "DELETE", fmt.Sprintf(keyRot, wt(), c.id)+"/"+sec, "")
			})},

		// The token function.
		"POST /identity/connect/token": {fn: tokF, note: "client_secret_post",
			prepare: constant(func() request { return tokenRequest(b.fx.read.clientID, b.fx.read.secret) })},
		"GET /identity/.well-known/openid-configuration": {fn: tokF,
			prepare: constant(func() request { return request{method: "GET", path: "/identity/.well-known/openid-configuration"} })},
		"GET /identity/.well-known/openid-configuration/jwks": {fn: tokF,
			prepare: constant(func() request { return request{method: "GET", path: "/identity/.well-known/openid-configuration/jwks"} })},

		// The portal: pages and assets need no token; its JSON routes do.
		"GET /_/op-dashboard": {fn: porF, note: "HTML page",
			prepare: constant(func() request { return request{method: "GET", path: "/_/op-dashboard"} })},
		"GET /_/op-dashboard/assets/{name}": {fn: porF, note: "dashboard.js",
			prepare: constant(func() request { return request{method: "GET", path: "/_/op-dashboard/assets/dashboard.js"} })},
		"GET /_/op-dashboard/api/last-sweep": {fn: porF,
			prepare: constant(func() request { return b.get(rd(), "/_/op-dashboard/api/last-sweep", nil) })},
		"GET /_/op-dashboard/api/profile": {fn: porF,
			prepare: constant(func() request { return b.get(rd(), "/_/op-dashboard/api/profile", nil) })},
		"GET /_/op-dashboard/api/tenants/{tenantId}/client-credential-clients/{clientId}/changes": {fn: porF, note: "client with 3 secrets",
			prepare: constant(func() request {
				return b.get(rd(), fmt.Sprintf("/_/op-dashboard/api/tenants/%s/client-credential-clients/%s/changes", rt(), b.fx.ccc[0].id), nil)
			})},
		"GET /_/op-dashboard/api/tenants/{tenantId}/hybrid-clients/{clientId}/changes": {fn: porF, note: "client with 3 secrets",
			prepare: constant(func() request {
				return b.get(rd(), fmt.Sprintf("/_/op-dashboard/api/tenants/%s/hybrid-clients/%s/changes", rt(), b.fx.hyb[0].id), nil)
			})},
		"GET /profile": {fn: porF, note: "HTML page",
			prepare: constant(func() request { return request{method: "GET", path: "/profile"} })},
		"GET /no-access-callback": {fn: porF, note: "HTML page",
			prepare: constant(func() request { return request{method: "GET", path: "/no-access-callback"} })},

		// Obsolete secret routes (either kind).
		"GET /api/v1-preview/Tenants/{tenantId}/Clients/{clientId}/Secret": {fn: secF, note: "client with 3 secrets", list: true,
			prepare: constant(func() request { return b.get(rd(), fmt.Sprintf(ocsAnySec, rt(), b.fx.ccc[0].id), nil) })},
		"PUT /api/v1-preview/Tenants/{tenantId}/Clients/{clientId}/Secret/{secretId}": {fn: secF, note: "new Description",
			prepare: b.perWorker(cc, func(w, k int, c fixtureClient) request {
				return b.send(wr(), "PUT", fmt.Sprintf(ocsAnySec, wt(), c.id)+"/"+c.secrets[0], fmt.Sprintf(`{"Description":"bench-%d"}`, k))
			})},
	}
	// OCS secret routes, one set per kind.
	b.secretScenarios(sc, cc, "/api/v1-preview/Tenants/{tenantId}/ClientCredentialClients/{clientId}/Secret", ocsCCCSec, `{"Description":"bench"}`, "add with Description", func() fixtureClient { return b.fx.ccc[0] })
	b.secretScenarios(sc, hy, "/api/v1-preview/Tenants/{tenantId}/HybridClients/{clientId}/Secret", ocsHybSec, `{"Description":"bench"}`, "add with Description", func() fixtureClient { return b.fx.hyb[0] })
	b.addV1Scenarios(sc)  // routes_v1.go
	b.signInScenarios(sc) // signin.go
	return sc
}

// secretScenarios adds the five secret routes of one kind under base
// (path: its Sprintf format), reading the secrets of client c and adding
// addBody.
func (b *bench) secretScenarios(sc map[string]scenario, kind identity.ClientKind, base, path, addBody, addNote string, c func() fixtureClient) {
	const secF = "functions/clientsecrets"
	rd, wr := func() *caller { return b.fx.read }, func() *caller { return b.fx.write }
	rt, wt := func() string { return b.fx.read.tenant }, func() string { return b.fx.write.tenant }
	sc["GET "+base] = scenario{fn: secF, note: "client with 3 secrets", list: true,
		prepare: constant(func() request { return b.get(rd(), fmt.Sprintf(path, rt(), c().id), nil) })}
	sc["POST "+base] = scenario{fn: secF, note: addNote,
		prepare: b.perSecretSlot(kind, false, func(cl fixtureClient, _ string) request {
			return b.send(wr(), "POST", fmt.Sprintf(path, wt(), cl.id), addBody)
		})}
	sc["GET "+base+"/{secretId}"] = scenario{fn: secF,
		prepare: constant(func() request {
			return b.get(rd(), fmt.Sprintf(path, rt(), c().id)+"/"+c().secrets[0], nil)
		})}
	sc["PUT "+base+"/{secretId}"] = scenario{fn: secF, note: "new Description",
		prepare: b.perWorker(kind, func(w, n int, cl fixtureClient) request {
			return b.send(wr(), "PUT", fmt.Sprintf(path, wt(), cl.id)+"/"+cl.secrets[0], fmt.Sprintf(`{"Description":"bench-%d"}`, n))
		})}
	sc["DELETE "+base+"/{secretId}"] = scenario{fn: secF, note: "secret and its material",
		prepare: b.perSecretSlot(kind, true, func(cl fixtureClient, sec string) request {
			return b.send(wr(), "DELETE", fmt.Sprintf(path, wt(), cl.id)+"/"+sec, "")
		})}
}
