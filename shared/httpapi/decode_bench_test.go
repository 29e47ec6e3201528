package httpapi_test

import (
	"net/http/httptest"
	"strings"
	"testing"

	"identityservice/shared/httpapi"
)

// hybridCreate has the shape of the largest request body, a Hybrid client
// create (shared/ocsapi).
type hybridCreate struct {
	ClientId                    *string
	Name                        *string
	Enabled                     *bool
	AllowOfflineAccess          *bool
	AllowAccessTokensViaBrowser *bool
	RedirectUris                *[]string
	PostLogoutRedirectUris      *[]string
	ClientUri                   *string
	LogoUri                     *string
	SecretDescription           *string
	SecretExpirationDate        *string
}

const hybridBody = `{"ClientId": "2e8f4a6c-1b3d-4f5e-8a7c-9b0d1e2f3a4b", "Name": "customer-portal", "Enabled": true, "AllowOfflineAccess": true, "AllowAccessTokensViaBrowser": false, "RedirectUris": ["https://portal.example.com/signin-oidc", "http://localhost:5000/signin-oidc"], "PostLogoutRedirectUris": ["https://portal.example.com/signout-callback-oidc"], "ClientUri": "https://portal.example.com/", "LogoUri": "https://portal.example.com/logo.png", "SecretDescription": "portal web app", "SecretExpirationDate": "2030-01-31T12:00:00Z"}`

// BenchmarkDecodeJSON is the request decoding of every OCS write: strict
// (unknown properties refused), any letter case, one object.
func BenchmarkDecodeJSON(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		r := httptest.NewRequest("POST", "/api/Tenants/t/HybridClient", strings.NewReader(hybridBody))
		var dst hybridCreate
		if err := httpapi.DecodeJSON(httptest.NewRecorder(), r, &dst); err != nil {
			b.Fatal(err)
		}
		if dst.Name == nil || len(*dst.RedirectUris) != 2 {
			b.Fatal("decoded wrong")
		}
	}
}
