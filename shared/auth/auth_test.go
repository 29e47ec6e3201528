package auth_test

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"identityservice/infra/testenv"
	"identityservice/shared/auth"
	"identityservice/shared/identity"
	"identityservice/shared/store"
	"identityservice/shared/vault"
)

var env *testenv.Env

func TestMain(m *testing.M) { testenv.Main(m, &env) }

// keyManager returns a manager on its own Secrets Manager prefix and its
// own published JWKS table, so tests do not share keys.
func keyManager(t *testing.T, prefix, table string) *auth.KeyManager {
	t.Helper()
	return &auth.KeyManager{
		Private: vault.NewSigningKeys(env.Clients.SecretsManager, prefix),
		Public:  store.New(env.Clients.DynamoDB, table).Keys,
	}
}

func freshTable(t *testing.T) string {
	t.Helper()
	name := "keys-" + strings.ReplaceAll(identity.NewID(), "-", "")[:12]
	if err := env.CreateTable(context.Background(), name); err != nil {
		t.Fatal(err)
	}
	return name
}

// Cold starts that race to create the first key all end with the same key.
func TestFirstKeyIsCreatedOnceUnderRace(t *testing.T) {
	prefix, table := "race-"+identity.NewID(), freshTable(t)
	const starts = 8
	kids := make([]string, starts)
	errs := make([]error, starts)
	var wg sync.WaitGroup
	for i := range starts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ks, err := keyManager(t, prefix, table).KeySet(context.Background())
			errs[i] = err
			kids[i] = ks.Active
		}()
	}
	wg.Wait()
	for i := range starts {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		if kids[i] != kids[0] {
			t.Fatalf("cold starts disagree on the signing key: %v", kids)
		}
	}
	raw, err := store.New(env.Clients.DynamoDB, table).Keys.JWKS(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(raw, &set); err != nil || len(set.Keys) != 1 || set.Keys[0].KeyID != kids[0] {
		t.Fatalf("published JWKS %s", raw)
	}
	if !set.Keys[0].IsPublic() {
		t.Fatal("the published JWKS holds a private key")
	}
}

func client() identity.Client {
	return identity.Client{ID: identity.NewID(), TenantID: identity.NewID(), RoleIDs: []string{identity.RoleAccountMember}}
}

// After a rotation, tokens of the old key still verify until they expire,
// new tokens are signed with the new key, and both keys are published.
func TestRotationKeepsOldTokensValid(t *testing.T) {
	ctx := context.Background()
	prefix, table := "rot-"+identity.NewID(), freshTable(t)
	km := keyManager(t, prefix, table)
	pub := store.New(env.Clients.DynamoDB, table).Keys
	iss := "https://id.example.com/identity"
	issuer := &auth.Issuer{Keys: km}
	oldToken, _, err := issuer.Issue(ctx, iss, client())
	if err != nil {
		t.Fatal(err)
	}
	old, _ := km.KeySet(ctx)

	// The operator rotates (make admin ARGS='keys rotate': its own manager);
	// the JWKS published at once holds both keys.
	rotated, err := keyManager(t, prefix, table).Rotate(ctx)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := pub.JWKS(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var published jose.JSONWebKeySet
	if err := json.Unmarshal(raw, &published); err != nil || len(published.Key(old.Active)) != 1 || len(published.Key(rotated.Active)) != 1 {
		t.Fatalf("JWKS right after rotation %s: want the old key %s and the new %s", raw, old.Active, rotated.Active)
	}
	// A new cold start (fresh manager) signs with the new key and
	// publishes both.
	km2 := keyManager(t, prefix, table)
	newToken, _, err := (&auth.Issuer{Keys: km2}).Issue(ctx, iss, client())
	if err != nil {
		t.Fatal(err)
	}
	v := &auth.Verifier{Keys: pub}
	for name, tok := range map[string]string{"old": oldToken, "new": newToken} {
		if _, err := v.Verify(ctx, tok, iss); err != nil {
			t.Fatalf("%s token: %v", name, err)
		}
	}
	if rotated.Active == old.Active || len(rotated.JWKS(time.Now()).Keys) != 2 {
		t.Fatalf("rotation: active %s, old %s, %d keys", rotated.Active, old.Active, len(rotated.JWKS(time.Now()).Keys))
	}
	// Long after, the retired key is dropped at the next rotation.
	later, err := rotated.Rotate(time.Now().Add(3*time.Hour), auth.RS256)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range later.Keys {
		if k.KID == old.Active {
			t.Fatal("a key retired hours ago is still published")
		}
	}
}

func TestVerifierRefusesBadTokens(t *testing.T) {
	ctx := context.Background()
	prefix, table := "bad-"+identity.NewID(), freshTable(t)
	km := keyManager(t, prefix, table)
	iss := "https://id.example.com/identity"
	good, _, err := (&auth.Issuer{Keys: km}).Issue(ctx, iss, client())
	if err != nil {
		t.Fatal(err)
	}
	v := &auth.Verifier{Keys: store.New(env.Clients.DynamoDB, table).Keys}
	if _, err := v.Verify(ctx, good, iss); err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(good, ".")
	for name, tc := range map[string]struct{ token, issuer string }{
		"other issuer":         {good, "https://evil.example.com/identity"},
		"tampered payload":     {parts[0] + "." + parts[1] + "x." + parts[2], iss},
		"no signature":         {parts[0] + "." + parts[1] + ".", iss},
		"garbage":              {"not.a.jwt", iss},
		"empty":                {"", iss},
		"alg none":             {"eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0." + parts[1] + ".", iss},
		"other audience":       {signWith(t, km, map[string]any{"aud": "someone-else"}), iss},
		"expired":              {signWith(t, km, map[string]any{"exp": time.Now().Add(-time.Minute).Unix()}), iss},
		"not yet valid":        {signWith(t, km, map[string]any{"nbf": time.Now().Add(time.Hour).Unix()}), iss},
		"unknown signing key":  {signWithNewKey(t), iss},
		"issued in the future": {signWith(t, km, map[string]any{"iat": time.Now().Add(time.Hour).Unix()}), iss},
		"no expiry":            {signWith(t, km, map[string]any{"exp": nil}), iss},
		"no client_id":         {signWith(t, km, map[string]any{"client_id": ""}), iss},
		"critical header":      {signRaw(t, activeKey(t, km), map[string]any{"alg": "RS256", "kid": activeKey(t, km).KID, "crit": []string{"exp"}}, nil), iss},
		"RS512":                {signRaw(t, activeKey(t, km), map[string]any{"alg": "RS512", "kid": activeKey(t, km).KID}, nil), iss},
		"header not an object": {b64("[1]") + "." + parts[1] + "." + parts[2], iss},
		"four parts":           {good + ".x", iss},
		"JWE-like five parts":  {parts[0] + ".." + parts[1] + ".." + parts[2], iss},
		"signature not base64": {parts[0] + "." + parts[1] + ".***", iss},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := v.Verify(ctx, tc.token, tc.issuer); !errors.Is(err, auth.ErrInvalidToken) {
				t.Fatalf("err %v, want ErrInvalidToken", err)
			}
		})
	}
	// The bearer authenticator reads the header.
	a := &auth.BearerAuthenticator{Verifier: v, Issuer: auth.IssuerURL(iss, nil)}
	for header, ok := range map[string]bool{"Bearer " + good: true, "bearer " + good: true, "Basic abc": false, "": false, "Bearer": false} {
		r := httptest.NewRequest("GET", "/", nil)
		if header != "" {
			r.Header.Set("Authorization", header)
		}
		if _, err := a.Authenticate(r); (err == nil) != ok {
			t.Errorf("Authorization %q: err %v", header, err)
		}
	}
}

// Tokens are standard compact JWS: a general JOSE library (go-jose) parses
// and verifies them, finds the RFC 9068 header, and reads every claim. An
// audience given as an array is accepted too.
func TestTokensAreStandardJWS(t *testing.T) {
	ctx := context.Background()
	km := keyManager(t, "std-"+identity.NewID(), freshTable(t))
	iss := "https://id.example.com/identity"
	c := client()
	raw, _, err := (&auth.Issuer{Keys: km}).Issue(ctx, iss, c)
	if err != nil {
		t.Fatal(err)
	}
	k := activeKey(t, km)
	tok, err := jwt.ParseSigned(raw, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		t.Fatal(err)
	}
	if h := tok.Headers[0]; h.KeyID != k.KID || h.ExtraHeaders["typ"] != "at+jwt" {
		t.Errorf("header %+v", h)
	}
	var std jwt.Claims
	var extra struct {
		ClientID string   `json:"client_id"`
		TenantID string   `json:"tid"`
		Roles    []string `json:"role"`
	}
	if err := tok.Claims(k.Private.Public(), &std, &extra); err != nil {
		t.Fatal(err)
	}
	if err := std.ValidateWithLeeway(jwt.Expected{Issuer: iss, AnyAudience: jwt.Audience{auth.DefaultAudience}, Time: time.Now()}, 0); err != nil {
		t.Fatal(err)
	}
	if std.Subject != c.ID || std.ID == "" || std.Expiry.Time().Sub(std.IssuedAt.Time()) != auth.TokenLifetime ||
		extra.ClientID != c.ID || extra.TenantID != c.TenantID || len(extra.Roles) != len(c.RoleIDs) {
		t.Errorf("claims %+v %+v", std, extra)
	}
	v := &auth.Verifier{Keys: km.Public}
	arrayAud := signWith(t, km, map[string]any{"aud": []string{"another-api", auth.DefaultAudience}})
	if p, err := v.Verify(ctx, arrayAud, iss); err != nil || p.ClientID != "c" {
		t.Errorf("aud as an array: %+v, %v", p, err)
	}
}

func activeKey(t *testing.T, km *auth.KeyManager) auth.SigningKey {
	t.Helper()
	ks, err := km.KeySet(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	k, err := ks.ActiveKey()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func b64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

// signRaw signs standard claims (overridden by extra) under any header,
// with RS256 whatever the header says.
func signRaw(t *testing.T, k auth.SigningKey, hdr, extra map[string]any) string {
	t.Helper()
	h, _ := json.Marshal(hdr)
	p, _ := json.Marshal(claimsWith(extra))
	input := b64(string(h)) + "." + b64(string(p))
	digest := sha256.Sum256([]byte(input))
	sig, err := rsa.SignPKCS1v15(nil, k.Private.(*rsa.PrivateKey), crypto.SHA256, digest[:])
	if err != nil {
		t.Fatal(err)
	}
	return input + "." + base64.RawURLEncoding.EncodeToString(sig)
}

func claimsWith(extra map[string]any) map[string]any {
	now := time.Now()
	claims := map[string]any{
		"iss": "https://id.example.com/identity", "sub": "c", "aud": auth.DefaultAudience, "client_id": "c", "tid": "t",
		"role": []string{identity.RoleAccountAdministrator}, "iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(time.Hour).Unix(), "jti": "j",
	}
	for key, val := range extra {
		if val == nil {
			delete(claims, key)
			continue
		}
		claims[key] = val
	}
	return claims
}

// signWith signs standard claims, overridden by extra, with the manager's key.
func signWith(t *testing.T, km *auth.KeyManager, extra map[string]any) string {
	t.Helper()
	ks, err := km.KeySet(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	k, _ := ks.ActiveKey()
	return sign(t, k, extra)
}

func signWithNewKey(t *testing.T) string {
	k, err := auth.GenerateKey(time.Now(), auth.RS256)
	if err != nil {
		t.Fatal(err)
	}
	return sign(t, k, nil)
}

func sign(t *testing.T, k auth.SigningKey, extra map[string]any) string {
	t.Helper()
	claims := claimsWith(extra)
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: k.Private, KeyID: k.KID}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	payload, _ := json.Marshal(claims)
	jws, err := signer.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	s, err := jws.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// On a new deployment a function may check a token before the first key is
// published; once the token function publishes it, tokens verify at once
// (nothing empty was cached).
func TestFirstPublishedKeyIsSeenAtOnce(t *testing.T) {
	ctx := context.Background()
	prefix, table := "first-"+identity.NewID(), freshTable(t)
	v := &auth.Verifier{Keys: store.New(env.Clients.DynamoDB, table).Keys}
	iss := "https://id.example.com/identity"
	// A token signed by a key of another deployment: nothing is published here yet.
	stranger, _, err := (&auth.Issuer{Keys: keyManager(t, "stranger-"+identity.NewID(), freshTable(t))}).Issue(ctx, iss, client())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(ctx, stranger, iss); !errors.Is(err, auth.ErrInvalidToken) {
		t.Fatalf("with no key published: %v, want ErrInvalidToken", err)
	}
	tok, _, err := (&auth.Issuer{Keys: keyManager(t, prefix, table)}).Issue(ctx, iss, client())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(ctx, tok, iss); err != nil {
		t.Fatalf("a token of the first published key, right after publication: %v", err)
	}
}

// A process that loaded the key set just before a rotation, and publishes
// it after, does not hide the rotated-in key: the newer set stays published.
func TestStaleKeySetDoesNotOverwriteANewerJWKS(t *testing.T) {
	ctx := context.Background()
	table := freshTable(t)
	pub := store.New(env.Clients.DynamoDB, table).Keys
	old, err := auth.NewKeySet(time.Now(), auth.RS256)
	if err != nil {
		t.Fatal(err)
	}
	rotated, err := old.Rotate(time.Now().Add(time.Minute), auth.RS256)
	if err != nil {
		t.Fatal(err)
	}
	publish := func(ks auth.KeySet) error {
		t.Helper()
		raw, err := ks.PublishedJWKS(time.Now())
		if err != nil {
			t.Fatal(err)
		}
		return pub.PublishJWKS(ctx, raw, ks.Version)
	}
	for _, ks := range []auth.KeySet{old, rotated} {
		if err := publish(ks); err != nil {
			t.Fatal(err)
		}
	}
	var newer *auth.NewerJWKSError
	if err := publish(old); !errors.As(err, &newer) || newer.Version != rotated.Version { // the stale process
		t.Fatalf("publishing the older set: %v, want NewerJWKSError of version %d", err, rotated.Version)
	}
	raw, err := pub.JWKS(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(raw, &set); err != nil || len(set.Key(rotated.Active)) != 1 || len(set.Key(old.Active)) != 1 {
		t.Fatalf("published JWKS %s: want the rotated set (keys %s and %s)", raw, rotated.Active, old.Active)
	}
}
