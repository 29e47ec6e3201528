package auth_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/lestrrat-go/jwx/v3/jwk"
	jwxjwt "github.com/lestrrat-go/jwx/v3/jwt"

	"identityservice/shared/auth"
	"identityservice/shared/store"
)

// publishedJWK is one member of the published JWKS as a verifier elsewhere
// reads it.
type publishedJWK struct {
	Kid string `json:"kid"`
	Kty string `json:"kty"`
	Alg string `json:"alg"`
	Crv string `json:"crv"`
	Use string `json:"use"`
	D   string `json:"d"`
}

func (d *deployment) publishedJWKs(t *testing.T) map[string]publishedJWK {
	t.Helper()
	raw, err := store.New(env.Clients.DynamoDB, d.table).Keys.JWKS(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var set struct{ Keys []publishedJWK }
	if err := json.Unmarshal(raw, &set); err != nil {
		t.Fatal(err)
	}
	out := map[string]publishedJWK{}
	for _, k := range set.Keys {
		if k.D != "" {
			t.Fatalf("the published JWKS holds a private key: %s", raw)
		}
		out[k.Kid] = k
	}
	return out
}

func headerAlg(t *testing.T, token string) string {
	t.Helper()
	tok, _, err := jwt.NewParser().ParseUnverified(token, jwt.MapClaims{})
	if err != nil {
		t.Fatal(err)
	}
	alg, _ := tok.Header["alg"].(string)
	return alg
}

// With SIGNING_ALG=ES256 the first key is a P-256 key, published with
// alg ES256 and crv P-256, stored and loaded again as such (a cold start
// signs with it), and its tokens verify in another function's verifier,
// which reads only the published JWKS.
func TestES256TokenVerifiesInAnotherFunction(t *testing.T) {
	ctx := context.Background()
	d := newDeployment(t)
	tokenFn := d.manager()
	tokenFn.Alg = auth.ES256
	tok, _, err := (&auth.Issuer{Keys: tokenFn, Now: d.clock.Now}).Issue(ctx, iss, client())
	if err != nil {
		t.Fatal(err)
	}
	if alg := headerAlg(t, tok); alg != "ES256" {
		t.Fatalf("token header alg %q, want ES256", alg)
	}
	ks, err := tokenFn.KeySet(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if k := d.publishedJWKs(t)[ks.Active]; k.Kty != "EC" || k.Crv != "P-256" || k.Alg != "ES256" || k.Use != "sig" {
		t.Fatalf("published key %+v, want kty EC, crv P-256, alg ES256, use sig", k)
	}
	p, err := d.verifier().Verify(ctx, tok, iss)
	if err != nil || p.ClientID == "" {
		t.Fatalf("an ES256 token in another function's verifier: %+v, %v", p, err)
	}
	// A cold start whose own SIGNING_ALG is still RS256 loads the stored
	// set and signs with its active key, an ES256 one: configuration only
	// chooses the algorithm of new keys.
	cold := d.manager()
	tok2, _, err := (&auth.Issuer{Keys: cold, Now: d.clock.Now}).Issue(ctx, iss, client())
	if err != nil {
		t.Fatal(err)
	}
	if alg := headerAlg(t, tok2); alg != "ES256" {
		t.Fatalf("a cold start signs with %q, want the stored ES256 key", alg)
	}
	if _, err := d.verifier().Verify(ctx, tok2, iss); err != nil {
		t.Fatal(err)
	}
}

// Switching RS256 -> ES256 is an ordinary rotation: the JWKS then holds
// both keys, each with its alg, tokens of both verify, and the RS256 key
// (and its tokens) leave when it retires.
func TestRotationFromRS256ToES256(t *testing.T) {
	ctx := context.Background()
	d := newDeployment(t)
	tokenFn := d.manager() // SIGNING_ALG unset: RS256
	issuer := &auth.Issuer{Keys: tokenFn, Now: d.clock.Now}
	rsTok, _, err := issuer.Issue(ctx, iss, client())
	if err != nil {
		t.Fatal(err)
	}
	first, _ := tokenFn.KeySet(ctx)
	operator := d.manager()
	operator.Alg = auth.ES256 // keys rotate --alg ES256
	rotated, err := operator.Rotate(ctx)
	if err != nil {
		t.Fatal(err)
	}
	jwks := d.publishedJWKs(t)
	if rs, es := jwks[first.Active], jwks[rotated.Active]; len(jwks) != 2 || rs.Alg != "RS256" || rs.Kty != "RSA" || es.Alg != "ES256" || es.Kty != "EC" || es.Crv != "P-256" {
		t.Fatalf("JWKS after the rotation to ES256: %+v", jwks)
	}
	if got := rotated.Algs(d.clock.Now()); !slices.Equal(got, []string{"ES256", "RS256"}) {
		t.Fatalf("algorithms of the published keys %v, want [ES256 RS256]", got)
	}
	d.clock.Advance(auth.KeyRefresh) // the warm token function reloads
	esTok, _, err := issuer.Issue(ctx, iss, client())
	if err != nil {
		t.Fatal(err)
	}
	if alg := headerAlg(t, esTok); alg != "ES256" {
		t.Fatalf("after the rotation the token function signs with %q, want ES256", alg)
	}
	v := d.verifier()
	// An independent JOSE library (lestrrat-go/jwx) reading the published
	// mixed JWKS verifies both too: the EC key's crv, x, y and the ES256
	// signature format (R || S) are standard.
	raw, err := store.New(env.Clients.DynamoDB, d.table).Keys.JWKS(ctx)
	if err != nil {
		t.Fatal(err)
	}
	set, err := jwk.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	for name, tok := range map[string]string{"RS256 (old key)": rsTok, "ES256 (new key)": esTok} {
		if _, err := v.Verify(ctx, tok, iss); err != nil {
			t.Fatalf("%s token: %v", name, err)
		}
		if _, err := jwxjwt.Parse([]byte(tok), jwxjwt.WithKeySet(set), jwxjwt.WithValidate(true), jwxjwt.WithClock(jwxjwt.ClockFunc(d.clock.Now)),
			jwxjwt.WithIssuer(iss), jwxjwt.WithAudience(auth.DefaultAudience)); err != nil {
			t.Fatalf("%s token: jwx refuses it against the published JWKS: %v", name, err)
		}
	}
	// Once the RS256 key retires it is refused and leaves the set.
	d.clock.Advance(auth.RetiredKeyKept)
	firstKey, _ := first.ActiveKey()
	if _, err := v.Verify(ctx, signAt(t, firstKey, d.clock.Now()), iss); !errors.Is(err, auth.ErrInvalidToken) {
		t.Fatalf("a token of the retired RS256 key: %v, want ErrInvalidToken", err)
	}
	ks, err := tokenFn.KeySet(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got := ks.Algs(d.clock.Now()); !slices.Equal(got, []string{"ES256"}) || len(d.publishedJWKs(t)) != 1 {
		t.Fatalf("after retirement: algorithms %v, JWKS %+v; want ES256 only", got, d.publishedJWKs(t))
	}
}

// Alg confusion (RFC 8725 2.1, 3.1): a token is checked only with the
// algorithm its key states in the JWKS, whatever its header says. Refused:
// a token whose header alg was changed to the other algorithm; a token
// signed with the other algorithm by another key but naming a published
// kid; HS256 with a public key's bytes (PEM, DER, JWK) as the HMAC secret;
// "none". The genuine tokens of both keys verify.
func TestAlgConfusionIsRefused(t *testing.T) {
	ctx := context.Background()
	d := newDeployment(t)
	rsFn := d.manager()
	rsGood, _, err := (&auth.Issuer{Keys: rsFn, Now: d.clock.Now}).Issue(ctx, iss, client())
	if err != nil {
		t.Fatal(err)
	}
	rsSet, _ := rsFn.KeySet(ctx)
	rsKey, _ := rsSet.ActiveKey()
	op := d.manager()
	op.Alg = auth.ES256
	esSet, err := op.Rotate(ctx)
	if err != nil {
		t.Fatal(err)
	}
	esKey, _ := esSet.ActiveKey()
	esGood, _, err := (&auth.Issuer{Keys: d.manager(), Now: d.clock.Now}).Issue(ctx, iss, client())
	if err != nil {
		t.Fatal(err)
	}
	v := d.verifier()
	for name, tok := range map[string]string{"RS256": rsGood, "ES256": esGood} {
		if _, err := v.Verify(ctx, tok, iss); err != nil {
			t.Fatalf("genuine %s token: %v", name, err)
		}
	}

	claims := jwt.MapClaims{}
	for k, val := range claimsWith(map[string]any{"iat": d.clock.Now().Unix(), "nbf": d.clock.Now().Unix(), "exp": d.clock.Now().Add(time.Hour).Unix()}) {
		claims[k] = val
	}
	signed := func(method jwt.SigningMethod, kid string, key any) string {
		t.Helper()
		tok := jwt.NewWithClaims(method, claims)
		tok.Header["kid"], tok.Header["typ"] = kid, "at+jwt"
		s, err := tok.SignedString(key)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	otherEC, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	otherRSA, _ := rsa.GenerateKey(rand.Reader, 2048)
	rsDER, _ := x509.MarshalPKIXPublicKey(rsKey.Private.Public())
	esDER, _ := x509.MarshalPKIXPublicKey(esKey.Private.Public())
	rsPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: rsDER})
	esPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: esDER})
	rsJWK, _ := json.Marshal(rsSet.JWKS(d.clock.Now()).Keys[0])
	// The header of a genuine token, its alg swapped, its signature kept.
	swapAlg := func(tok, alg string) string {
		parts := strings.Split(tok, ".")
		var h map[string]any
		hb, _ := jwt.NewParser().DecodeSegment(parts[0])
		_ = json.Unmarshal(hb, &h)
		h["alg"] = alg
		nh, _ := json.Marshal(h)
		return b64(string(nh)) + "." + parts[1] + "." + parts[2]
	}
	for name, tok := range map[string]string{
		"RS256 token, header alg changed to ES256":     swapAlg(rsGood, "ES256"),
		"ES256 token, header alg changed to RS256":     swapAlg(esGood, "RS256"),
		"ES256 by another key under the RSA key's kid": signed(jwt.SigningMethodES256, rsKey.KID, otherEC),
		"RS256 by another key under the EC key's kid":  signed(jwt.SigningMethodRS256, esKey.KID, otherRSA),
		"HS256 with the RSA public key's PEM":          signed(jwt.SigningMethodHS256, rsKey.KID, rsPEM),
		"HS256 with the RSA public key's DER":          signed(jwt.SigningMethodHS256, rsKey.KID, rsDER),
		"HS256 with the RSA public key's JWK":          signed(jwt.SigningMethodHS256, rsKey.KID, rsJWK),
		"HS256 with the EC public key's PEM":           signed(jwt.SigningMethodHS256, esKey.KID, esPEM),
		"ES384 under the EC key's kid":                 signed(jwt.SigningMethodES384, esKey.KID, mustEC384(t)),
		"PS256 under the RSA key's kid":                signed(jwt.SigningMethodPS256, rsKey.KID, rsKey.Private.(*rsa.PrivateKey)),
		"none under the RSA key's kid":                 signed(jwt.SigningMethodNone, rsKey.KID, jwt.UnsafeAllowNoneSignatureType),
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := v.Verify(ctx, tok, iss); !errors.Is(err, auth.ErrInvalidToken) {
				t.Fatalf("err %v, want ErrInvalidToken", err)
			}
		})
	}
}

func mustEC384(t *testing.T) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}
