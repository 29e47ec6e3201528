package auth_test

import (
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"testing"

	"identityservice/shared/auth"
)

// The issuer of a request: a configured ISSUER wins over every request
// header; its {apiId} is filled by the API id the edge hands over, and
// stays when there is none; without ISSUER (local development) the
// request's own address is the issuer.
func TestIssuerURL(t *testing.T) {
	spoofed := func() *http.Request {
		r := httptest.NewRequest(http.MethodGet, "http://evil.example.com/identity/connect/token", nil)
		r.Header.Set("X-Forwarded-Proto", "https")
		r.Header.Set("X-Forwarded-Host", "evil.example.com")
		return r
	}
	apiID := func(id string) func(*http.Request) string { return func(*http.Request) string { return id } }
	for _, tc := range []struct {
		name       string
		configured string
		apiID      func(*http.Request) string
		want       string
	}{
		{"pinned", "https://id.example.com/identity/", apiID("zz99"), "https://id.example.com/identity"},
		{"API id filled", "https://{apiId}.execute-api.us-east-1.amazonaws.com/identity", apiID("zz99"), "https://zz99.execute-api.us-east-1.amazonaws.com/identity"},
		{"no API id", "https://{apiId}.execute-api.us-east-1.amazonaws.com/identity", apiID(""), "https://{apiId}.execute-api.us-east-1.amazonaws.com/identity"},
		{"no API id reader", "https://{apiId}.execute-api.us-east-1.amazonaws.com/identity", nil, "https://{apiId}.execute-api.us-east-1.amazonaws.com/identity"},
		{"local development", "", apiID("zz99"), "https://evil.example.com/identity"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := auth.IssuerURL(tc.configured, tc.apiID)(spoofed()); got != tc.want {
				t.Fatalf("issuer %q, want %q", got, tc.want)
			}
		})
	}
	r := httptest.NewRequest(http.MethodGet, "http://127.0.0.1:3000/identity/connect/token", nil)
	if got := auth.IssuerURL("", nil)(r); got != "http://127.0.0.1:3000/identity" {
		t.Fatalf("plain HTTP local issuer %q", got)
	}
	r.TLS = &tls.ConnectionState{}
	if got := auth.IssuerURL("", nil)(r); got != "https://127.0.0.1:3000/identity" {
		t.Fatalf("TLS local issuer %q", got)
	}
}
