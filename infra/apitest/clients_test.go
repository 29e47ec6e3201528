package apitest

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/lestrrat-go/jwx/v3/jws"
	"github.com/lestrrat-go/jwx/v3/jwt"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"identityservice/shared/auth"
	"identityservice/shared/identity"
	"identityservice/shared/tokenapi"
)

// authStyleRecorder is the token client's transport: it notes how each
// token request authenticated, so the test knows the auth style it asked
// for is the one that reached the server.
type authStyleRecorder struct {
	mu   sync.Mutex
	seen []authMethod
}

func (r *authStyleRecorder) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Path == tokenapi.TokenPath {
		m := clientSecretPost
		if _, _, ok := req.BasicAuth(); ok {
			m = clientSecretBasic
		}
		r.mu.Lock()
		r.seen = append(r.seen, m)
		r.mu.Unlock()
	}
	return http.DefaultTransport.RoundTrip(req)
}

// A standard OAuth 2.0 client library gets a token by either auth style
// and calls the API with it.
func TestClientCredentialsLibrary(t *testing.T) {
	s := api(t)
	c := s.createClient(t, map[string]any{"Name": "x/oauth2 client"}) // Account Member
	for _, tc := range []struct {
		name  string
		style oauth2.AuthStyle
		want  authMethod
	}{
		{"AuthStyleInHeader", oauth2.AuthStyleInHeader, clientSecretBasic},
		{"AuthStyleInParams", oauth2.AuthStyleInParams, clientSecretPost},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := &authStyleRecorder{}
			ctx := context.WithValue(context.Background(), oauth2.HTTPClient, &http.Client{Transport: rec})
			cfg := clientcredentials.Config{ClientID: c.ClientId, ClientSecret: c.ClientSecret, TokenURL: s.srv.URL + tokenapi.TokenPath, AuthStyle: tc.style}
			tok, err := cfg.Token(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if tok.TokenType != "Bearer" || !tok.Valid() {
				t.Fatalf("token %+v", tok)
			}
			res, err := cfg.Client(ctx).Get(s.srv.URL + fmt.Sprintf(cccPath, s.tenant))
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			body, _ := io.ReadAll(res.Body)
			var list []struct{ ClientId string }
			if res.StatusCode != http.StatusOK || json.Unmarshal(body, &list) != nil {
				t.Fatalf("list clients: %d %s", res.StatusCode, body)
			}
			if !slices.ContainsFunc(list, func(e struct{ ClientId string }) bool { return e.ClientId == c.ClientId }) {
				t.Errorf("the list does not hold the calling client %s: %s", c.ClientId, body)
			}
			if len(rec.seen) == 0 || slices.ContainsFunc(rec.seen, func(m authMethod) bool { return m != tc.want }) {
				t.Errorf("token requests authenticated by %v, want only %s", rec.seen, tc.want)
			}
		})
	}
}

// discovery is the part of the OpenID discovery document a resource server
// reads.
type discovery struct {
	Issuer        string `json:"issuer"`
	JWKSURI       string `json:"jwks_uri"`
	TokenEndpoint string `json:"token_endpoint"`
}

// An issued token verifies against the JWKS found through the discovery
// document, with a JOSE library independent of the one the service signs
// with (lestrrat-go/jwx), and carries the documented claims.
func TestTokenVerifiesAgainstPublishedJWKS(t *testing.T) {
	s := api(t)
	ctx := context.Background()
	res := s.do(t, http.MethodGet, tokenapi.DiscoveryPath, "", nil)
	var disc discovery
	if res.Status != http.StatusOK || json.Unmarshal(res.Body, &disc) != nil || disc.JWKSURI == "" {
		t.Fatalf("discovery: %s", res)
	}
	if want := s.srv.URL + "/identity"; disc.Issuer != want {
		t.Errorf("issuer %q, want %q", disc.Issuer, want)
	}
	if want := s.srv.URL + tokenapi.TokenPath; disc.TokenEndpoint != want {
		t.Errorf("token_endpoint %q, want %q", disc.TokenEndpoint, want)
	}

	admin := s.callers[accountAdmin]
	raw := s.mustToken(t, clientSecretPost, admin.clientID, admin.secret)

	// The published keys are public keys only.
	pub := s.do(t, http.MethodGet, strings.TrimPrefix(disc.JWKSURI, s.srv.URL), "", nil)
	var members struct{ Keys []map[string]any }
	if pub.Status != http.StatusOK || json.Unmarshal(pub.Body, &members) != nil || len(members.Keys) == 0 {
		t.Fatalf("JWKS: %s", pub)
	}
	for _, k := range members.Keys {
		for _, private := range []string{"d", "p", "q", "dp", "dq", "qi"} {
			if _, ok := k[private]; ok {
				t.Errorf("the JWKS publishes the private member %q of key %v", private, k["kid"])
			}
		}
	}

	set, err := jwk.Fetch(ctx, disc.JWKSURI)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := jwt.Parse([]byte(raw), jwt.WithKeySet(set), jwt.WithValidate(true),
		jwt.WithIssuer(disc.Issuer), jwt.WithAudience(auth.DefaultAudience))
	if err != nil {
		t.Fatalf("jwx refuses the token: %v", err)
	}

	msg, err := jws.Parse([]byte(raw))
	if err != nil || len(msg.Signatures()) != 1 {
		t.Fatalf("parse JWS: %v", err)
	}
	h := msg.Signatures()[0].ProtectedHeaders()
	kid, _ := h.KeyID()
	if _, ok := set.LookupKeyID(kid); !ok || kid == "" {
		t.Errorf("kid %q is not a key of the JWKS", kid)
	}
	if alg, _ := h.Algorithm(); alg != jwa.RS256() {
		t.Errorf("alg %v, want RS256", alg)
	}

	str := func(name string) string {
		var v string
		if err := tok.Get(name, &v); err != nil {
			t.Errorf("claim %s: %v", name, err)
		}
		return v
	}
	sub, _ := tok.Subject()
	aud, _ := tok.Audience()
	jti, _ := tok.JwtID()
	exp, okExp := tok.Expiration()
	iat, okIat := tok.IssuedAt()
	nbf, okNbf := tok.NotBefore()
	var roleClaim []any
	if err := tok.Get("role", &roleClaim); err != nil {
		t.Errorf("claim role: %v", err)
	}
	var roles []string
	for _, r := range roleClaim {
		if id, ok := r.(string); ok {
			roles = append(roles, id)
		}
	}
	slices.Sort(roles)
	wantRoles := []string{identity.RoleAccountAdministrator, identity.RoleAccountMember}
	slices.Sort(wantRoles)
	for _, c := range []struct {
		claim     string
		got, want any
	}{
		{"sub", sub, admin.clientID},
		{"client_id", str("client_id"), admin.clientID},
		{"tid", str("tid"), admin.tenantID},
		{"aud", aud, []string{auth.DefaultAudience}},
		{"role", roles, wantRoles},
		{"jti is a UUID", uuid.Validate(jti) == nil, true},
		{"exp, iat and nbf present", okExp && okIat && okNbf, true},
		{"exp - iat", exp.Sub(iat), time.Hour},
		{"nbf", nbf, iat},
	} {
		if fmt.Sprint(c.got) != fmt.Sprint(c.want) {
			t.Errorf("%s: got %v, want %v", c.claim, c.got, c.want)
		}
	}

	// The check is not vacuous: the same library refuses a token whose
	// signature is not from a published key.
	forged := forgeWithForeignKey(t, raw)
	if _, err := jwt.Parse([]byte(forged), jwt.WithKeySet(set)); err == nil {
		t.Error("jwx accepts a token signed with a key the JWKS does not hold")
	}
}

// forgeWithForeignKey re-signs a token's header and claims, unchanged, with
// a new RSA key: the kid still names a published key, the signature does not
// match it.
func forgeWithForeignKey(t *testing.T, raw string) string {
	t.Helper()
	k, err := auth.GenerateKey(time.Now(), auth.RS256)
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		t.Fatalf("not a compact JWS: %q", raw)
	}
	digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	sig, err := rsa.SignPKCS1v15(rand.Reader, k.Private.(*rsa.PrivateKey), crypto.SHA256, digest[:])
	if err != nil {
		t.Fatal(err)
	}
	return parts[0] + "." + parts[1] + "." + base64.RawURLEncoding.EncodeToString(sig)
}
