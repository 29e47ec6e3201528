package main

import (
	"fmt"
	"net/url"

	"identityservice/shared/identity"
)

// The v1 routes and the tenants' routes, measured as their v1-preview
// twins are: the same fixtures, the v1 bodies. The v1 create sends what
// AVEVA's setup script sends, and the v1 secret add an Expiration with
// Expires, so their rows price the requests that code makes.
const (
	v1CCC    = "/api/v1/Tenants/%s/ClientCredentialClients"
	v1Hyb    = "/api/v1/Tenants/%s/HybridClients"
	v1CCCSec = "/api/v1/Tenants/%s/ClientCredentialClients/%s/Secrets"
	v1HybSec = "/api/v1/Tenants/%s/HybridClients/%s/Secrets"
)

func (b *bench) addV1Scenarios(sc map[string]scenario) {
	rt := func() string { return b.fx.read.tenant }
	wt := func() string { return b.fx.write.tenant }
	rd, wr := func() *caller { return b.fx.read }, func() *caller { return b.fx.write }
	list10 := url.Values{"count": {"10"}}
	const cccF, hybF, tenF = "functions/clientcredentialclients", "functions/hybridclients", "functions/tenants"
	cc, hy := identity.ClientCredential, identity.Hybrid
	createV1 := fmt.Sprintf(`{"AccessTokenLifetime":3600,"Id":null,"Name":"bench","RoleIds":[%q],"SecretDescription":"bench","SecretExpirationDate":"2099-01-01T00:00:00+00:00"}`, identity.RoleAccountMember)
	hybridV1 := `{"Name":"bench","RedirectUris":["https://app.example.com/signin-oidc"],"ClientUri":"https://app.example.com/","AccessTokenLifetime":3600}`
	for _, k := range []struct {
		kind       identity.ClientKind
		base, path string // pattern, Sprintf format
		fn, create string
		c          func() fixtureClient
	}{
		{cc, "/api/v1/Tenants/{tenantId}/ClientCredentialClients", v1CCC, cccF, createV1, func() fixtureClient { return b.fx.ccc[0] }},
		{hy, "/api/v1/Tenants/{tenantId}/HybridClients", v1Hyb, hybF, hybridV1, func() fixtureClient { return b.fx.hyb[0] }},
	} {
		sc["POST "+k.base] = scenario{fn: k.fn, note: "v1 create (AVEVA setup script body)",
			prepare: constant(func() request { return b.send(wr(), "POST", fmt.Sprintf(k.path, wt()), k.create) })}
		sc["GET "+k.base] = scenario{fn: k.fn, note: "count=10", list: true,
			prepare: constant(func() request { return b.get(rd(), fmt.Sprintf(k.path, rt()), list10) })}
		sc["GET "+k.base+"/{clientId}"] = scenario{fn: k.fn,
			prepare: constant(func() request { return b.get(rd(), fmt.Sprintf(k.path, rt())+"/"+k.c().id, nil) })}
		sc["PUT "+k.base+"/{clientId}"] = scenario{fn: k.fn, note: "new Name and AccessTokenLifetime",
			prepare: b.perWorker(k.kind, func(w, n int, c fixtureClient) request {
				return b.send(wr(), "PUT", fmt.Sprintf(k.path, wt())+"/"+c.id, fmt.Sprintf(`{"Name":"bench-%d","AccessTokenLifetime":%d}`, n, 600+n%2))
			})}
		sc["DELETE "+k.base+"/{clientId}"] = scenario{fn: k.fn, note: "client with 1 secret",
			prepare: b.perRequest(k.kind, func(c fixtureClient) request {
				return b.send(wr(), "DELETE", fmt.Sprintf(k.path, wt())+"/"+c.id, "")
			})}
	}
	const secretV1 = `{"Description":"bench","Expiration":"2099-01-01T00:00:00+00:00","Expires":true}`
	b.secretScenarios(sc, cc, "/api/v1/Tenants/{tenantId}/ClientCredentialClients/{clientId}/Secrets", v1CCCSec, secretV1, "v1 add (AVEVA setup script body)", func() fixtureClient { return b.fx.ccc[0] })
	b.secretScenarios(sc, hy, "/api/v1/Tenants/{tenantId}/HybridClients/{clientId}/Secrets", v1HybSec, secretV1, "v1 add (AVEVA setup script body)", func() fixtureClient { return b.fx.hyb[0] })
	for _, v := range []string{"v1", "v1-preview"} {
		sc["GET /api/"+v+"/Tenants/{tenantId}"] = scenario{fn: tenF, note: "the tenant",
			prepare: constant(func() request { return b.get(rd(), "/api/"+v+"/Tenants/"+rt(), nil) })}
	}
}

// The v1 routes cost what their v1-preview twins cost: the same use cases
// over the same items. The tenant is one item.
func init() {
	twins := map[string]string{
		"/api/v1/Tenants/{tenantId}/ClientCredentialClients":                               "/api/v1-preview/Tenants/{tenantId}/ClientCredentialClients",
		"/api/v1/Tenants/{tenantId}/ClientCredentialClients/{clientId}":                    "/api/v1-preview/Tenants/{tenantId}/ClientCredentialClients/{clientId}",
		"/api/v1/Tenants/{tenantId}/HybridClients":                                         "/api/Tenants/{tenantId}/HybridClient",
		"/api/v1/Tenants/{tenantId}/HybridClients/{clientId}":                              "/api/Tenants/{tenantId}/HybridClient/{clientId}",
		"/api/v1/Tenants/{tenantId}/ClientCredentialClients/{clientId}/Secrets":            "/api/v1-preview/Tenants/{tenantId}/ClientCredentialClients/{clientId}/Secret",
		"/api/v1/Tenants/{tenantId}/ClientCredentialClients/{clientId}/Secrets/{secretId}": "/api/v1-preview/Tenants/{tenantId}/ClientCredentialClients/{clientId}/Secret/{secretId}",
		"/api/v1/Tenants/{tenantId}/HybridClients/{clientId}/Secrets":                      "/api/v1-preview/Tenants/{tenantId}/HybridClients/{clientId}/Secret",
		"/api/v1/Tenants/{tenantId}/HybridClients/{clientId}/Secrets/{secretId}":           "/api/v1-preview/Tenants/{tenantId}/HybridClients/{clientId}/Secret/{secretId}",
	}
	for v1, twin := range twins {
		for _, m := range []string{"GET", "POST", "PUT", "DELETE"} {
			if min, ok := minimums[m+" "+twin]; ok {
				minimums[m+" "+v1] = minimum{min.calls, "as `" + m + " " + twin + "`"}
			}
		}
	}
	for _, v := range []string{"v1", "v1-preview"} {
		minimums["GET /api/"+v+"/Tenants/{tenantId}"] = minimum{"DDB GetItem 1 (1 RCU)", "the tenant item"}
	}
}
