package apitest

import (
	"context"
	"net/http"
	"testing"

	"identityservice/shared/identity"
)

// A tenant's Account Administrator cannot take over a cluster-role client
// of their tenant: no secret can be added to it (which would let them act
// with its cluster role in every tenant), and it and its secrets cannot be
// changed or deleted through the tenant API. Reading it is allowed.
func TestClusterRoleClientsAreOutOfTheTenantAPIsReach(t *testing.T) {
	s := api(t)
	ctx := context.Background()
	svc := s.app.Service
	tenant := s.callers[clusterOperator].tenantID

	admin := &caller{name: "ops tenant's Account Administrator", tenantID: tenant}
	adminClient, err := svc.CreateClient(ctx, tenant, identity.NewClient{Kind: identity.ClientCredential, Name: "ops admin",
		RoleIDs: &[]string{identity.RoleAccountAdministrator, identity.RoleAccountMember}})
	if err != nil {
		t.Fatal(err)
	}
	admin.token = s.mustToken(t, clientSecretBasic, adminClient.Client.ID, adminClient.SecretString)

	operator, err := svc.CreateClient(ctx, tenant, identity.NewClient{Kind: identity.ClientCredential, Name: "ops operator",
		RoleIDs: &[]string{identity.RoleClusterOperator}, OperatorRoles: true})
	if err != nil {
		t.Fatal(err)
	}
	op, sec := operator.Client.ID, operator.Secret.ID
	cc := "/api/v1-preview/Tenants/" + tenant + "/ClientCredentialClients/" + op
	kr := "/api/tenants/" + tenant + "/applications/" + op + "/secrets"
	obsolete := "/api/v1-preview/Tenants/" + tenant + "/Clients/" + op + "/Secret/" + sec

	for _, tc := range []struct {
		name, method, path string
		body               any
		want               int
	}{
		{"get the client", http.MethodGet, cc, nil, http.StatusOK},
		{"list its secrets", http.MethodGet, cc + "/Secret", nil, http.StatusOK},
		{"Key Rotation list", http.MethodGet, kr, nil, http.StatusOK},
		{"add a secret", http.MethodPost, cc + "/Secret", map[string]any{"Description": "mine now"}, http.StatusForbidden},
		{"Key Rotation add", http.MethodPost, kr, map[string]any{"expirationDate": nil}, http.StatusForbidden},
		{"update the client", http.MethodPut, cc, map[string]any{"Enabled": false}, http.StatusForbidden},
		{"remove its cluster role", http.MethodPut, cc, map[string]any{"RoleIds": []string{identity.RoleAccountMember}}, http.StatusForbidden},
		{"update its secret", http.MethodPut, cc + "/Secret/" + sec, map[string]any{"Description": "x"}, http.StatusForbidden},
		{"obsolete update", http.MethodPut, obsolete, map[string]any{"Description": "x"}, http.StatusForbidden},
		{"delete its secret", http.MethodDelete, cc + "/Secret/" + sec, nil, http.StatusForbidden},
		{"Key Rotation delete", http.MethodDelete, kr + "/" + sec, nil, http.StatusForbidden},
		{"delete the client", http.MethodDelete, cc, nil, http.StatusForbidden},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := s.as(t, admin, tc.method, tc.path, tc.body)
			if res.Status != tc.want {
				t.Fatalf("%s %s: %s, want %d", tc.method, tc.path, res, tc.want)
			}
		})
	}

	// Nothing changed: one secret, the client enabled, its secret still
	// gets a token.
	page, err := svc.ListSecrets(ctx, tenant, identity.ClientCredential, op, true, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	if page.Total != 1 || page.Secrets[0].ID != sec || page.Secrets[0].DeletedAt != nil || page.Secrets[0].Description != operator.Secret.Description {
		t.Fatalf("the operator client's secrets changed: %+v", page.Secrets)
	}
	c, err := svc.GetClient(ctx, tenant, identity.ClientCredential, op)
	if err != nil || !c.Enabled || !identity.HasClusterRole(c.RoleIDs) {
		t.Fatalf("the operator client changed: %+v, %v", c, err)
	}
	s.mustToken(t, clientSecretPost, op, operator.SecretString)

	// Control: the same administrator manages an ordinary client of the
	// tenant, so the 403s above are about the cluster role alone.
	plain, err := svc.CreateClient(ctx, tenant, identity.NewClient{Kind: identity.ClientCredential, Name: "ordinary"})
	if err != nil {
		t.Fatal(err)
	}
	if res := s.as(t, admin, http.MethodPost, "/api/v1-preview/Tenants/"+tenant+"/ClientCredentialClients/"+plain.Client.ID+"/Secret", map[string]any{}); res.Status != http.StatusCreated {
		t.Fatalf("adding a secret to an ordinary client: %s", res)
	}
}
