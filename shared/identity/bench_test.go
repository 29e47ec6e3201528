package identity_test

import (
	"testing"

	"identityservice/shared/identity"
)

// The hot paths of a request besides I/O: what `make bench` reports with
// allocations (docs/BENCHMARKS.md).

var benchRef = identity.MaterialRef{TenantID: "5f0c3a52-0000-4000-8000-000000000001", ClientID: "4a5b6c7d-0000-4000-8000-000000000002", SecretID: "9e8d7c6b-0000-4000-8000-000000000003"}

func BenchmarkGenerateSecret(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := identity.GenerateSecret(benchRef); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerifySecret is the constant-time check of a presented secret
// against a stored verifier: every token request does one per active secret.
func BenchmarkVerifySecret(b *testing.B) {
	plain, verifier, err := identity.GenerateSecret(benchRef)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if !identity.VerifySecret(benchRef, plain, verifier) {
			b.Fatal("the secret does not verify")
		}
	}
}

// BenchmarkValidateHybridClient validates what a Hybrid client create
// carries: ids, name, tags, roles, redirect and web URIs.
func BenchmarkValidateHybridClient(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := identity.ParseGUID("ClientId", "2e8f4a6c-1b3d-4f5e-8a7c-9b0d1e2f3a4b"); err != nil {
			b.Fatal(err)
		}
		if err := identity.ValidateName("customer-portal"); err != nil {
			b.Fatal(err)
		}
		if _, err := identity.NormalizeTags([]string{"billing", "prod", "eu"}); err != nil {
			b.Fatal(err)
		}
		if _, err := identity.NormalizeRoleIDs([]string{identity.RoleAccountMember}); err != nil {
			b.Fatal(err)
		}
		for _, u := range []string{"https://portal.example.com/signin-oidc", "http://localhost:5000/signin-oidc"} {
			if err := identity.ValidateRedirectURI("RedirectUris", u); err != nil {
				b.Fatal(err)
			}
		}
		for _, u := range []string{"https://portal.example.com/", "https://portal.example.com/logo.png"} {
			if err := identity.ValidateWebURI("ClientUri", u); err != nil {
				b.Fatal(err)
			}
		}
	}
}
