package auth_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"identityservice/shared/auth"
)

// publishedKeys is a fixed JWKS: the fuzz target reads no store.
type publishedKeys []byte

func (p publishedKeys) PublishJWKS(context.Context, []byte, int64) error { return nil }
func (p publishedKeys) ReplaceJWKS(context.Context, []byte, int64) error { return nil }
func (p publishedKeys) JWKS(context.Context) ([]byte, error)             { return p, nil }

// FuzzBearer holds bearer token parsing and verification to: no panic;
// anything but a valid token of the published key, issuer and audience is
// ErrInvalidToken (a 401), never another error; an accepted token is the
// client it was issued to. The published set holds an RS256 and an ES256
// key. Seeds: a valid token of each, cut, re-signed with alg none, with
// another scheme, in other cases and spacing.
func FuzzBearer(f *testing.F) {
	// A mixed set, as after a rotation RS256 -> ES256: both keys published.
	rsSet, err := auth.NewKeySet(time.Now(), auth.RS256)
	if err != nil {
		f.Fatal(err)
	}
	rsKey, _ := rsSet.ActiveKey()
	ks, err := rsSet.Rotate(time.Now(), auth.ES256)
	if err != nil {
		f.Fatal(err)
	}
	esKey, _ := ks.ActiveKey()
	jwks, _ := json.Marshal(ks.JWKS(time.Now()))
	const issuer = "https://api.example.com/identity"
	signWith := func(key auth.SigningKey, c map[string]any) string {
		signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.SignatureAlgorithm(key.Alg), Key: jose.JSONWebKey{Key: key.Private, KeyID: key.KID}}, (&jose.SignerOptions{}).WithType("at+jwt"))
		if err != nil {
			f.Fatal(err)
		}
		s, err := jwt.Signed(signer).Claims(c).Serialize()
		if err != nil {
			f.Fatal(err)
		}
		return s
	}
	sign := func(c map[string]any) string { return signWith(rsKey, c) }
	now := time.Now().Unix()
	claims := func(exp int64, aud string) map[string]any {
		return map[string]any{"iss": issuer, "sub": "c1", "aud": []string{aud}, "exp": exp, "iat": now, "nbf": now, "jti": "j",
			"client_id": "c1", "tid": "t1", "role": []string{"r1"}}
	}
	valid := sign(claims(now+3600, auth.DefaultAudience))
	validES := signWith(esKey, claims(now+3600, auth.DefaultAudience))
	expired := claims(now-3600, auth.DefaultAudience)
	otherAud := claims(now+3600, "someone-else")
	for _, h := range []string{"Bearer " + valid, "bearer  " + valid + " ", "Bearer " + valid[:len(valid)-5], "Bearer " + sign(expired),
		"Bearer " + sign(otherAud), "Basic " + valid, "Bearer", "Bearer ", "", "Bearer a.b.c",
		"Bearer eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJjbGllbnRfaWQiOiJjMSJ9.", "Bearer " + validES, "Bearer " + validES[:len(validES)-3]} {
		f.Add(h)
	}
	verifier := &auth.Verifier{Keys: publishedKeys(jwks)}
	authn := &auth.BearerAuthenticator{Verifier: verifier, Issuer: auth.IssuerURL(issuer, nil)}
	for _, tok := range []string{valid, validES} {
		probe := httptest.NewRequest(http.MethodGet, "/", nil)
		probe.Header.Set("Authorization", "Bearer "+tok)
		if p, err := authn.Authenticate(probe); err != nil || p.ClientID != "c1" {
			f.Fatalf("an issued seed token does not verify (%+v, %v): the target would test nothing", p, err)
		}
	}
	f.Fuzz(func(t *testing.T, header string) {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.Header["Authorization"] = []string{header}
		p, err := authn.Authenticate(r)
		if err != nil {
			if !errors.Is(err, auth.ErrInvalidToken) {
				t.Fatalf("Authorization %q: %v: want ErrInvalidToken", header, err)
			}
			return
		}
		if p.ClientID != "c1" || p.TenantID != "t1" {
			t.Fatalf("Authorization %q accepted as %+v: only the issued token verifies", header, p)
		}
	})
}
