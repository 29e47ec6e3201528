package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"identityservice/shared/identity"
	"identityservice/shared/vault"
)

// dashboard register as the operator types it: the tenant gets a Hybrid
// client returning to the dashboard's callback, its secret stored for the
// dashboard and never printed; a second run keeps it; bad input is a
// clear error.
func TestDashboardRegister(t *testing.T) {
	ctx := context.Background()
	svc := env.Service(nil)
	tenant, err := svc.CreateTenant(ctx, "", "dashboard test", 0)
	if err != nil {
		t.Fatal(err)
	}
	register := func(args ...string) (map[string]any, string, error) {
		var out bytes.Buffer
		err := run(ctx, append([]string{"dashboard", "register"}, args...), &out)
		var got map[string]any
		if out.Len() > 0 {
			if jerr := json.Unmarshal(out.Bytes(), &got); jerr != nil {
				t.Fatalf("output %s: %v", out.String(), jerr)
			}
		}
		return got, out.String(), err
	}
	got, printed, err := register("--tenant", tenant.ID, "--url", "https://api.example.com")
	if err != nil || got["New"] != true || got["RedirectUri"] != "https://api.example.com/_/op-dashboard/callback" {
		t.Fatalf("dashboard register: %v %v", got, err)
	}
	stored, err := vault.NewDashboardClients(env.Clients.SecretsManager, env.Config.SecretPrefix).DashboardClient(ctx, tenant.ID)
	if err != nil || stored.ClientID != got["ClientId"] || stored.ClientSecret == "" {
		t.Fatalf("the stored dashboard client: %+v (%v)", stored, err)
	}
	if strings.Contains(printed, stored.ClientSecret) {
		t.Fatal("dashboard register printed the client's secret")
	}
	c, err := svc.GetClient(ctx, tenant.ID, identity.Hybrid, stored.ClientID)
	if err != nil || c.RedirectURIs[0] != "https://api.example.com/_/op-dashboard/callback" || c.PostLogoutRedirectURIs[0] != "https://api.example.com/_/op-dashboard" || c.AllowAccessTokensViaBrowser {
		t.Fatalf("the dashboard client: %+v (%v)", c, err)
	}
	again, _, err := register("--tenant", tenant.ID, "--url", "https://api.example.com")
	if err != nil || again["New"] != false || again["ClientId"] != stored.ClientID {
		t.Fatalf("a second register: %v %v, want the same client kept", again, err)
	}
	for _, bad := range [][]string{{"--tenant", tenant.ID}, {"--tenant", tenant.ID, "--url", "ftp://x"}, {"--tenant", identity.NewID(), "--url", "https://api.example.com"}} {
		if _, _, err := register(bad...); err == nil {
			t.Errorf("dashboard register %v succeeded", bad)
		}
	}
}
