package auth

import (
	"errors"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// verificationKey holds every key to the one algorithm its JWK states (or,
// without an "alg", the one its key type implies): a token's header cannot
// choose another, and a JWK whose "alg" does not fit its key is useless.
// The library would refuse most mismatches by key type alone; this is the
// check that does not depend on it.
func TestVerificationKeyHoldsAKeyToItsAlg(t *testing.T) {
	rs, err := GenerateKey(time.Now(), RS256)
	if err != nil {
		t.Fatal(err)
	}
	es, err := GenerateKey(time.Now(), ES256)
	if err != nil {
		t.Fatal(err)
	}
	rsJWK, esJWK := rs.jwk(), es.jwk()
	bare := func(k jose.JSONWebKey) *jose.JSONWebKey { k.Algorithm = ""; return &k }
	lying := func(k jose.JSONWebKey, alg string) *jose.JSONWebKey { k.Algorithm = alg; return &k }
	enc := func(k jose.JSONWebKey) *jose.JSONWebKey { k.Use = "enc"; return &k }
	for _, tc := range []struct {
		name string
		key  *jose.JSONWebKey
		alg  string
		ok   bool
	}{
		{"RSA key, RS256", &rsJWK, "RS256", true},
		{"EC key, ES256", &esJWK, "ES256", true},
		{"RSA key without alg, RS256", bare(rsJWK), "RS256", true},
		{"EC key without alg, ES256", bare(esJWK), "ES256", true},
		{"RSA key, ES256 token", &rsJWK, "ES256", false},
		{"EC key, RS256 token", &esJWK, "RS256", false},
		{"RSA key without alg, ES256 token", bare(rsJWK), "ES256", false},
		{"EC key without alg, RS256 token", bare(esJWK), "RS256", false},
		{"RSA key, HS256 token", &rsJWK, "HS256", false},
		{"RSA key stating ES256", lying(rsJWK, "ES256"), "ES256", false},
		{"EC key stating RS256", lying(esJWK, "RS256"), "RS256", false},
		{"RSA key for encryption", enc(rsJWK), "RS256", false},
	} {
		got, err := verificationKey(tc.key, tc.alg)
		if tc.ok && (err != nil || got == nil) {
			t.Errorf("%s: %v, want the key", tc.name, err)
		}
		if !tc.ok && !errors.Is(err, ErrInvalidToken) {
			t.Errorf("%s: %v (%T), want ErrInvalidToken", tc.name, err, got)
		}
	}
}
