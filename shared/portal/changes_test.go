package portal_test

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"identityservice/infra/local/server"
	"identityservice/infra/template"
	"identityservice/shared/identity"
	"identityservice/shared/portal"
)

func changesPath(tenant, client string) string {
	return fmt.Sprintf("/_/op-dashboard/api/tenants/%s/client-credential-clients/%s/changes", tenant, client)
}

func hybridChangesPath(tenant, client string) string {
	return fmt.Sprintf("/_/op-dashboard/api/tenants/%s/hybrid-clients/%s/changes", tenant, client)
}

// recent fails unless at is an RFC 3339 time within the last ten minutes.
func recent(t *testing.T, what, at string) {
	t.Helper()
	ts, err := time.Parse(time.RFC3339, at)
	if err != nil || time.Since(ts) > 10*time.Minute || time.Until(ts) > time.Minute {
		t.Errorf("%s at %q (%v), want about now", what, at, err)
	}
}

// The dashboard's changes routes on DynamoDB Local: who last changed a
// client and each secret (a person, a machine client, nobody recorded),
// read with the roles and tenant checks of the client's own GET; the
// secrets only for a role that lists them.
func TestClientChanges(t *testing.T) {
	s := api(t)
	ctx := context.Background()
	svc := s.app.Service

	// A tenant of its own (the browser test counts the stack tenant's
	// clients), with an Account Administrator and an Account Member client.
	ten, err := svc.CreateTenant(ctx, "", "Changes tenant", 0)
	if err != nil {
		t.Fatal(err)
	}
	admin, err := svc.CreateClient(ctx, ten.ID, identity.NewClient{Kind: identity.ClientCredential, Name: "changes admin",
		RoleIDs: &[]string{identity.RoleAccountAdministrator, identity.RoleAccountMember}})
	if err != nil {
		t.Fatal(err)
	}
	member, err := svc.CreateClient(ctx, ten.ID, identity.NewClient{Kind: identity.ClientCredential, Name: "changes member"})
	if err != nil {
		t.Fatal(err)
	}
	adminToken := s.token(t, admin.Client.ID, admin.SecretString)
	memberToken := s.token(t, member.Client.ID, member.SecretString)
	operatorToken := s.token(t, s.operator.ID, s.operator.Secret) // a Cluster Operator of another tenant

	// A person creates a client (as the router records a person's token:
	// the client signed in to, the subject and the name); a machine
	// client then adds a secret and soft-deletes another through the API.
	person := identity.Actor{ClientID: s.dashboard, Subject: "ada-subject-1", Name: "Ada <b>Lovelace</b>"}
	made, err := svc.CreateClient(identity.WithActor(ctx, person), ten.ID, identity.NewClient{Kind: identity.ClientCredential, Name: "changed by people", SecretDescription: "first"})
	if err != nil {
		t.Fatal(err)
	}
	cid := made.Client.ID
	var added struct{ SecretId string }
	s.as(t, adminToken, http.MethodPost, "/api/v1-preview/Tenants/"+ten.ID+"/ClientCredentialClients/"+cid+"/Secret", map[string]any{"Description": "second"}).JSON(t, http.StatusCreated, &added)
	var doomed struct{ SecretId string }
	s.as(t, adminToken, http.MethodPost, "/api/v1-preview/Tenants/"+ten.ID+"/ClientCredentialClients/"+cid+"/Secret", map[string]any{"Description": "third"}).JSON(t, http.StatusCreated, &doomed)
	s.as(t, adminToken, http.MethodDelete, "/api/tenants/"+ten.ID+"/applications/"+cid+"/secrets/"+doomed.SecretId, nil).JSON(t, http.StatusOK, nil)
	// A Hybrid client written with no actor (as a service's own seeding).
	hybrid, err := svc.CreateClient(ctx, ten.ID, identity.NewClient{Kind: identity.Hybrid, Name: "seeded hybrid", RedirectURIs: []string{"https://app.example.com/cb"}})
	if err != nil {
		t.Fatal(err)
	}

	// --- An Account Administrator reads the client's and every secret's
	// last change.
	var got portal.ChangesDto
	res := s.as(t, adminToken, http.MethodGet, changesPath(ten.ID, cid), nil)
	res.JSON(t, http.StatusOK, &got)
	checkSecurityHeaders(t, res.Header)
	if cc := res.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control %q, want no-store", cc)
	}
	if got.TenantId != ten.ID || got.ClientId != cid || got.Kind != "ClientCredential" || got.SecretsWithheld != "" {
		t.Errorf("changes %s", res.Body)
	}
	wantPerson := portal.ActorDto{Kind: "person", Id: person.Subject, Name: person.Name, ClientId: s.dashboard}
	wantClient := portal.ActorDto{Kind: "client", Id: admin.Client.ID, ClientId: admin.Client.ID}
	if got.LastChange == nil || got.LastChange.By != wantPerson {
		t.Fatalf("the client's last change %+v, want by %+v", got.LastChange, wantPerson)
	}
	recent(t, "the client's last change", got.LastChange.At)
	want := []struct {
		id      string
		deleted bool
		by      portal.ActorDto
	}{{made.Secret.ID, false, wantPerson}, {added.SecretId, false, wantClient}, {doomed.SecretId, true, wantClient}}
	if len(got.Secrets) != len(want) {
		t.Fatalf("secrets %s, want %d (the soft-deleted one included)", res.Body, len(want))
	}
	for i, w := range want {
		g := got.Secrets[i]
		if g.SecretId != w.id || g.Deleted != w.deleted || g.LastChange == nil || g.LastChange.By != w.by {
			t.Errorf("secret %d: %+v (by %+v), want %s deleted=%v by %+v", i, g, g.LastChange, w.id, w.deleted, w.by)
			continue
		}
		recent(t, "secret "+w.id, g.LastChange.At)
	}
	// A client updated by a machine client: the update is its last change.
	s.as(t, adminToken, http.MethodPut, "/api/v1-preview/Tenants/"+ten.ID+"/ClientCredentialClients/"+cid, map[string]any{"Enabled": false}).JSON(t, http.StatusOK, nil)
	got = portal.ChangesDto{}
	s.as(t, adminToken, http.MethodGet, changesPath(ten.ID, cid), nil).JSON(t, http.StatusOK, &got)
	if got.LastChange == nil || got.LastChange.By != wantClient {
		t.Errorf("after the admin client's update the client's last change is %+v, want by %+v", got.LastChange, wantClient)
	}
	// No actor recorded: said so, never a blank or someone else.
	got = portal.ChangesDto{}
	s.as(t, adminToken, http.MethodGet, hybridChangesPath(ten.ID, hybrid.Client.ID), nil).JSON(t, http.StatusOK, &got)
	if got.Kind != "Hybrid" || got.LastChange == nil || got.LastChange.By != (portal.ActorDto{Kind: "unknown"}) || len(got.Secrets) != 1 {
		t.Errorf("a client seeded without an actor: %+v (by %+v)", got, got.LastChange)
	}

	// --- The roles of the client's own GET, then of its secrets' list.
	var withheld portal.ChangesDto
	res = s.as(t, memberToken, http.MethodGet, changesPath(ten.ID, cid), nil)
	res.JSON(t, http.StatusOK, &withheld)
	if withheld.LastChange == nil || withheld.LastChange.By != wantClient || withheld.Secrets != nil || !strings.Contains(withheld.SecretsWithheld, "Account Administrator") ||
		!strings.Contains(string(res.Body), `"Secrets":null`) {
		t.Errorf("an Account Member reads %s, want the client's change and the secrets withheld", res.Body)
	}
	withheld = portal.ChangesDto{}
	s.as(t, operatorToken, http.MethodGet, hybridChangesPath(ten.ID, hybrid.Client.ID), nil).JSON(t, http.StatusOK, &withheld)
	if withheld.Kind != "Hybrid" || withheld.Secrets != nil || withheld.SecretsWithheld == "" {
		t.Errorf("a Cluster Operator reads a Hybrid client's changes as %+v, want the client's and the secrets withheld", withheld)
	}
	for _, c := range []struct {
		name, token, path string
		status            int
		says              string
	}{
		// As GET .../HybridClient/{id} refuses an Account Member, and GET
		// .../ClientCredentialClients/{id} a cluster role, before reading
		// anything (the same for a client that does not exist).
		{"Hybrid client as an Account Member", memberToken, hybridChangesPath(ten.ID, hybrid.Client.ID), 403, "roles do not allow"},
		{"unknown Hybrid client as an Account Member", memberToken, hybridChangesPath(ten.ID, identity.NewID()), 403, "roles do not allow"},
		{"Client Credential client as a Cluster Operator", operatorToken, changesPath(ten.ID, cid), 403, "roles do not allow"},
		// A client of the other kind is not found, as on the API.
		{"Client Credential client on the Hybrid route", adminToken, hybridChangesPath(ten.ID, cid), 404, "lient"},
		{"Hybrid client on the Client Credential route", adminToken, changesPath(ten.ID, hybrid.Client.ID), 404, "lient"},
		// Tenant isolation: another tenant's role is refused before
		// anything is read, whether or not the client exists there; under
		// its own tenant, another tenant's client is not found.
		{"another tenant's client", s.token(t, s.admin.ID, s.admin.Secret), changesPath(ten.ID, cid), 403, "another tenant"},
		{"another tenant's unknown client", s.token(t, s.admin.ID, s.admin.Secret), changesPath(ten.ID, identity.NewID()), 403, "another tenant"},
		{"another tenant's client under one's own", s.token(t, s.admin.ID, s.admin.Secret), changesPath(s.tenant, cid), 404, "lient"},
		{"a client of this tenant under another", adminToken, changesPath(s.tenant, s.clients["billing-service"].ID), 403, "another tenant"},
		{"unknown client", adminToken, changesPath(ten.ID, identity.NewID()), 404, "lient"},
		{"unknown tenant", operatorToken, hybridChangesPath(identity.NewID(), hybrid.Client.ID), 404, "enant"},
		{"malformed client id", adminToken, changesPath(ten.ID, "not-a-guid"), 400, "clientId"},
		{"malformed tenant id", adminToken, changesPath("not-a-guid", cid), 400, "tenantId"},
		{"no token", "", changesPath(ten.ID, cid), 401, "bearer token"},
	} {
		t.Run(c.name, func(t *testing.T) {
			auth := ""
			if c.token != "" {
				auth = "Bearer " + c.token
			}
			res := s.client.Do(t, http.MethodGet, c.path, auth, nil)
			if res.Status != c.status || !strings.Contains(string(res.Body), c.says) {
				t.Fatalf("%d %s, want %d saying %q", res.Status, res.Body, c.status, c.says)
			}
			if strings.Contains(string(res.Body), person.Subject) || strings.Contains(string(res.Body), "LastChange") {
				t.Errorf("a refusal carries a change: %s", res.Body)
			}
		})
	}
}

// The changes routes' role sets are the API's: each kind's route allows
// the roles of that kind's client GET routes (every family), and the
// secrets go to the roles of the secret list routes.
func TestChangesRoles(t *testing.T) {
	s := api(t)
	tpl, err := template.Load(filepath.Join(env.Root, "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	routes, err := server.Routes(tpl, s.app)
	if err != nil {
		t.Fatal(err)
	}
	roles := map[string][]string{}
	for _, r := range routes {
		if r.Method == http.MethodGet {
			roles[r.Path] = r.Roles
		}
	}
	cccRoles, hybridRoles := roles[portal.ClientCredentialChangesPath], roles[portal.HybridChangesPath]
	if len(cccRoles) == 0 || len(hybridRoles) == 0 {
		t.Fatalf("the changes routes are not served with roles: %v, %v", cccRoles, hybridRoles)
	}
	checked := 0
	for _, r := range routes {
		if r.Method != http.MethodGet || !strings.HasPrefix(r.Path, "/api/") {
			continue
		}
		var want []string
		lower := strings.ToLower(r.Path)
		switch {
		case strings.HasSuffix(r.Path, "/{clientId}") && strings.Contains(r.Path, "/ClientCredentialClients/"):
			want = cccRoles
		case strings.HasSuffix(r.Path, "/{clientId}") && strings.Contains(r.Path, "/HybridClient"):
			want = hybridRoles
		case strings.HasSuffix(lower, "/{clientid}/secret") || strings.HasSuffix(lower, "/{clientid}/secrets"):
			want = portal.SecretReadRoles()
		default:
			continue
		}
		got, want := slices.Clone(r.Roles), slices.Clone(want)
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("GET %s allows %v; the changes routes read it with %v", r.Path, got, want)
		}
		checked++
	}
	if checked < 8 { // the v1-preview and v1 client GETs of both kinds, the secret lists of every family
		t.Errorf("checked %d routes, want the client GETs and secret lists of every family", checked)
	}
}
