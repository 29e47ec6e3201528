package auth_test

import (
	"context"
	"testing"

	"identityservice/shared/auth"
	"identityservice/shared/identity"
	"identityservice/shared/store"
	"identityservice/shared/vault"
)

// benchKeys returns a key manager on the emulators whose key set is loaded,
// so the loops measure our CPU (signing, verifying), not the emulators.
func benchKeys(b *testing.B, alg auth.Alg) (*auth.KeyManager, *auth.Verifier) {
	b.Helper()
	ctx := context.Background()
	table := "bench-" + identity.NewID()[:8]
	if err := env.CreateTable(ctx, table); err != nil {
		b.Fatal(err)
	}
	km := &auth.KeyManager{
		Private: vault.NewSigningKeys(env.Clients.SecretsManager, "bench-"+identity.NewID()),
		Public:  store.New(env.Clients.DynamoDB, table).Keys,
		Alg:     alg,
	}
	if _, err := km.KeySet(ctx); err != nil {
		b.Fatal(err)
	}
	return km, &auth.Verifier{Keys: store.New(env.Clients.DynamoDB, table).Keys}
}

// BenchmarkIssue is the CPU of one access token (claims, RS256 signature
// with a 2048-bit key) on a warm token function. Budget: 1.5 ms.
func BenchmarkIssue(b *testing.B) { benchIssue(b, auth.RS256) }

// BenchmarkIssueES256 is the same with a P-256 key (SIGNING_ALG=ES256).
func BenchmarkIssueES256(b *testing.B) { benchIssue(b, auth.ES256) }

func benchIssue(b *testing.B, alg auth.Alg) {
	km, _ := benchKeys(b, alg)
	issuer := &auth.Issuer{Keys: km}
	c := client()
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := issuer.Issue(ctx, "https://id.example.com/identity", c); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerify is the CPU of checking one bearer token on a warm
// function (the JWKS cached).
func BenchmarkVerify(b *testing.B) { benchVerify(b, auth.RS256) }

// BenchmarkVerifyES256 is the same for a token of a P-256 key.
func BenchmarkVerifyES256(b *testing.B) { benchVerify(b, auth.ES256) }

func benchVerify(b *testing.B, alg auth.Alg) {
	km, v := benchKeys(b, alg)
	ctx := context.Background()
	tok, _, err := (&auth.Issuer{Keys: km}).Issue(ctx, "https://id.example.com/identity", client())
	if err != nil {
		b.Fatal(err)
	}
	if _, err := v.Verify(ctx, tok, "https://id.example.com/identity"); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.Verify(ctx, tok, "https://id.example.com/identity"); err != nil {
			b.Fatal(err)
		}
	}
}
