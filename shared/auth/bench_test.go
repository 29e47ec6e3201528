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
func benchKeys(b *testing.B) (*auth.KeyManager, *auth.Verifier) {
	b.Helper()
	ctx := context.Background()
	table := "bench-" + identity.NewID()[:8]
	if err := env.CreateTable(ctx, table); err != nil {
		b.Fatal(err)
	}
	km := &auth.KeyManager{
		Private: vault.NewSigningKeys(env.Clients.SecretsManager, "bench-"+identity.NewID()),
		Public:  store.New(env.Clients.DynamoDB, table),
	}
	if _, err := km.KeySet(ctx); err != nil {
		b.Fatal(err)
	}
	return km, &auth.Verifier{Keys: store.New(env.Clients.DynamoDB, table)}
}

// BenchmarkIssue is the CPU of one access token (claims, RS256 signature
// with a 2048-bit key) on a warm token function. Budget: 1.5 ms.
func BenchmarkIssue(b *testing.B) {
	km, _ := benchKeys(b)
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
func BenchmarkVerify(b *testing.B) {
	km, v := benchKeys(b)
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
