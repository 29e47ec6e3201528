package apitest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
)

// Every answer that carries a ClientSecret — client create of both kinds,
// secret add of both kinds, the Key Rotation POST — and every token answer
// has Cache-Control: no-store and Pragma: no-cache (RFC 6749 5.1), so no
// cache keeps a secret.
func TestAnswersWithASecretAreNotCached(t *testing.T) {
	s := api(t)
	admin := s.callers[accountAdmin]
	cc := s.createClient(t, map[string]any{"Name": "no-store cc"})
	res := s.as(t, admin, http.MethodPost, fmt.Sprintf("/api/Tenants/%s/HybridClient", s.tenant), map[string]any{"Name": "no-store hybrid", "RedirectUris": []string{"https://app.example.com/signin-oidc"}})
	var hybrid struct{ ClientId, ClientSecret string }
	if res.Status != http.StatusCreated || json.Unmarshal(res.Body, &hybrid) != nil || hybrid.ClientSecret == "" {
		t.Fatalf("create hybrid: %s", res)
	}
	checks := []struct {
		name   string
		res    response
		status int
	}{
		{"Client Credential client create", s.as(t, admin, http.MethodPost, fmt.Sprintf(cccPath, s.tenant), map[string]any{"Name": "no-store again"}), 201},
		{"Hybrid client create", res, 201},
		{"Client Credential secret add", s.as(t, admin, http.MethodPost, fmt.Sprintf("/api/v1-preview/Tenants/%s/ClientCredentialClients/%s/Secret", s.tenant, cc.ClientId), map[string]any{"Description": "x"}), 201},
		{"Hybrid secret add", s.as(t, admin, http.MethodPost, fmt.Sprintf("/api/v1-preview/Tenants/%s/HybridClients/%s/Secret", s.tenant, hybrid.ClientId), map[string]any{"Description": "x"}), 201},
		{"Key Rotation POST", s.as(t, admin, http.MethodPost, fmt.Sprintf("/api/tenants/%s/applications/%s/secrets", s.tenant, cc.ClientId), nil), 200},
		{"token", s.tokenRequest(t, clientSecretBasic, cc.ClientId, cc.ClientSecret), 200},
		{"token error", s.tokenRequest(t, clientSecretBasic, cc.ClientId, "wrong"), 401},
	}
	for _, c := range checks {
		t.Run(c.name, func(t *testing.T) {
			if c.res.Status != c.status {
				t.Fatalf("status %d, want %d: %s", c.res.Status, c.status, c.res)
			}
			if cc, p := c.res.Header.Get("Cache-Control"), c.res.Header.Get("Pragma"); cc != "no-store" || p != "no-cache" {
				t.Fatalf("Cache-Control %q, Pragma %q: want no-store and no-cache", cc, p)
			}
		})
	}
}
