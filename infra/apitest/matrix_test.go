package apitest

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"github.com/google/uuid"

	"identityservice/infra/contract"
	"identityservice/infra/local/server"
	"identityservice/shared/auth"
	"identityservice/shared/httpapi"
	"identityservice/shared/identity"
	"identityservice/shared/tokenapi"
)

// specRoute is what the API reference says about a route (its roles, its
// error family), and how the matrix calls it when the call is allowed: the
// body, and the status the handler answers on fresh fixtures.
type specRoute struct {
	section string   // the operation's summary
	roles   []string // role names the reference allows
	family  httpapi.Family
	body    any
	status  int
}

// specRoutes holds every operation of docs/openapi.yaml that lists roles
// (x-roles), by "METHOD path": its roles and error family (x-error-family)
// from the document, not from the code's route table, so the matrix checks
// one against the other; the body is the request body's example, the
// status the operation's first 2xx. A management route of template.yaml
// the document lacks fails TestEveryRouteHasSpecRoles.
var specRoutes = func() map[string]specRoute {
	doc, err := contract.Default()
	if err != nil {
		panic(err)
	}
	families := map[string]httpapi.Family{"OCS": httpapi.OCS, "KeyRotation": httpapi.KeyRotation, "OAuth": httpapi.OAuth}
	out := map[string]specRoute{}
	for path, item := range doc.T.Paths.Map() {
		for method, op := range item.Operations() {
			list, _ := op.Extensions["x-roles"].([]any)
			if len(list) == 0 {
				continue
			}
			spec := specRoute{section: op.Summary}
			for _, v := range list {
				name, _ := v.(string)
				spec.roles = append(spec.roles, name)
			}
			fam, _ := op.Extensions["x-error-family"].(string)
			f, ok := families[fam]
			if !ok {
				panic(fmt.Sprintf("%s %s: x-error-family %q", method, path, fam))
			}
			spec.family = f
			if op.RequestBody != nil && op.RequestBody.Value != nil {
				if mt := op.RequestBody.Value.Content.Get("application/json"); mt != nil {
					spec.body = mt.Example
				}
			}
			for code := 200; code < 300 && spec.status == 0; code++ {
				if op.Responses.Status(code) != nil {
					spec.status = code
				}
			}
			out[strings.ToUpper(method)+" "+path] = spec
		}
	}
	return out
}()

// managementRoutes returns "METHOD path" of every route of template.yaml
// that lists roles in its Go route table, sorted. The others are public
// (the token endpoint, discovery, JWKS: how a caller gets a token), so the
// matrix leaves them out; a public route must not address a tenant's data.
func managementRoutes(t *testing.T, s *stack) []string {
	t.Helper()
	served, err := server.Routes(s.tpl, s.app)
	if err != nil {
		t.Fatal(err)
	}
	var out, public []string
	for _, r := range served {
		if len(r.Roles) == 0 {
			public = append(public, r.Method+" "+r.Path)
			if strings.Contains(r.Path, "{tenant") {
				t.Errorf("%s %s lists no roles but addresses a tenant: it would be public", r.Method, r.Path)
			}
			continue
		}
		out = append(out, r.Method+" "+r.Path)
	}
	for _, want := range []string{"GET " + tokenapi.DiscoveryPath, "GET " + tokenapi.JWKSPath, "POST " + tokenapi.TokenPath} {
		if !slices.Contains(public, want) {
			t.Errorf("%s is not public (it must answer without a bearer token)", want)
		}
	}
	sort.Strings(out)
	if len(out) == 0 {
		t.Fatal("template.yaml declares no management route")
	}
	return out
}

// Every management route of the template has its roles written down from
// the reference, the table names no route the template lacks, and the
// code's route table lists exactly those roles.
func TestEveryRouteHasSpecRoles(t *testing.T) {
	s := api(t)
	routes := managementRoutes(t, s)
	for _, key := range routes {
		if _, ok := specRoutes[key]; !ok {
			t.Errorf("%s is in template.yaml but has no x-roles in docs/openapi.yaml: write down its roles from the API reference", key)
		}
	}
	for key := range specRoutes {
		if !slices.Contains(routes, key) {
			t.Errorf("docs/openapi.yaml lists roles for %s, which template.yaml does not declare", key)
		}
	}
	served, err := server.Routes(s.tpl, s.app)
	if err != nil {
		t.Fatal(err)
	}
	for _, rt := range served {
		spec, ok := specRoutes[rt.Method+" "+rt.Path]
		if !ok {
			continue
		}
		var want []string
		for _, name := range spec.roles {
			role, _ := identity.RoleByName(name)
			want = append(want, role.ID)
		}
		got := slices.Clone(rt.Roles)
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("%s %s (%s) allows roles %v, the reference %v", rt.Method, rt.Path, spec.section, got, spec.roles)
		}
		if rt.Family != spec.family {
			t.Errorf("%s %s answers errors in family %d, want %d", rt.Method, rt.Path, rt.Family, spec.family)
		}
	}
}

// tokenKind is one column of the matrix: an Authorization header, and the
// caller it speaks for if the token is valid.
type tokenKind struct {
	name          string
	authorization string  // "" sends none
	caller        *caller // nil: the token must be refused (401)
}

// tokenKinds returns the matrix's columns: tokens that must be refused,
// then valid tokens of each caller. Every refused token claims to be the
// test tenant's Account Administrator, so accepting one would let it
// through to the handler.
func tokenKinds(t *testing.T, s *stack) []tokenKind {
	t.Helper()
	ks, err := s.app.KeyManager().KeySet(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	key, err := ks.ActiveKey()
	if err != nil {
		t.Fatal(err)
	}
	foreign, err := auth.GenerateKey(time.Now(), auth.RS256)
	if err != nil {
		t.Fatal(err)
	}
	admin := s.callers[accountAdmin]
	now := time.Now()
	claims := func(change func(c map[string]any)) map[string]any {
		c := map[string]any{
			"iss": s.srv.URL + "/identity", "sub": admin.clientID, "aud": auth.DefaultAudience,
			"exp": now.Add(time.Hour).Unix(), "iat": now.Unix(), "nbf": now.Unix(), "jti": uuid.NewString(),
			"client_id": admin.clientID, "tid": admin.tenantID,
			"role": []string{identity.RoleAccountAdministrator, identity.RoleAccountMember},
		}
		if change != nil {
			change(c)
		}
		return c
	}
	rs256 := func(k auth.SigningKey, kid string, c map[string]any) string {
		signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: k.Private, KeyID: kid}},
			(&jose.SignerOptions{}).WithType("at+jwt"))
		if err != nil {
			t.Fatal(err)
		}
		raw, err := jwt.Signed(signer).Claims(c).Serialize()
		if err != nil {
			t.Fatal(err)
		}
		return raw
	}
	// A control: the crafting itself is right, so each refused token below
	// differs from an accepted one only in what its name says.
	if _, err := s.app.Authenticator.Verifier.Verify(context.Background(), rs256(key, key.KID, claims(nil)), s.srv.URL+"/identity"); err != nil {
		t.Fatalf("a well-formed token signed with the active key is refused: %v", err)
	}
	payload := func(c map[string]any) string {
		b, err := json.Marshal(c)
		if err != nil {
			t.Fatal(err)
		}
		return base64.RawURLEncoding.EncodeToString(b)
	}
	header := func(h map[string]any) string { return payload(h) }
	algNone := header(map[string]any{"alg": "none", "typ": "at+jwt", "kid": key.KID}) + "." + payload(claims(nil)) + "."
	// Algorithm confusion: HS256 keyed with the published RSA public key.
	pub, err := x509.MarshalPKIXPublicKey(key.Private.Public())
	if err != nil {
		t.Fatal(err)
	}
	hsInput := header(map[string]any{"alg": "HS256", "typ": "at+jwt", "kid": key.KID}) + "." + payload(claims(nil))
	mac := hmac.New(sha256.New, pub)
	mac.Write([]byte(hsInput))
	hs256 := hsInput + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil))

	kinds := []tokenKind{
		{name: "no token"},
		{name: "malformed token", authorization: "Bearer not-a-jwt"},
		{name: "not a bearer token", authorization: "Basic " + base64.StdEncoding.EncodeToString([]byte(admin.clientID+":"+admin.secret))},
		{name: "expired token", authorization: "Bearer " + rs256(key, key.KID, claims(func(c map[string]any) {
			c["exp"], c["iat"], c["nbf"] = now.Add(-time.Hour).Unix(), now.Add(-2*time.Hour).Unix(), now.Add(-2*time.Hour).Unix()
		}))},
		{name: "wrong signature (foreign key, published kid)", authorization: "Bearer " + rs256(foreign, key.KID, claims(nil))},
		{name: "wrong signature (foreign key and kid)", authorization: "Bearer " + rs256(foreign, foreign.KID, claims(nil))},
		{name: "wrong audience", authorization: "Bearer " + rs256(key, key.KID, claims(func(c map[string]any) { c["aud"] = "another-api" }))},
		{name: "wrong issuer", authorization: "Bearer " + rs256(key, key.KID, claims(func(c map[string]any) { c["iss"] = "https://evil.example.com/identity" }))},
		{name: "alg none", authorization: "Bearer " + algNone},
		{name: "alg HS256 keyed with the public key", authorization: "Bearer " + hs256},
	}
	for _, name := range []string{accountAdmin, accountMember, clusterOperator, clusterSupport, otherTenantsAdmin} {
		c := s.callers[name]
		kinds = append(kinds, tokenKind{name: name, authorization: "Bearer " + c.token, caller: c})
	}
	return kinds
}

// allowed says whether the reference lets the caller use the route in
// tenant: one of its roles is listed, and it is a cluster role or the
// caller's own tenant ("": the route names no tenant).
func allowed(spec specRoute, c *caller, tenant string) bool {
	for _, name := range c.roles {
		if !slices.Contains(spec.roles, name) {
			continue
		}
		role, _ := identity.RoleByName(name)
		if role.Cluster || tenant == "" || c.tenantID == tenant {
			return true
		}
	}
	return false
}

// fixture is what a route's path parameters name: a Client Credential and
// a Hybrid client of the test tenant, each with its first secret. Each
// route gets fresh ones, so an allowed DELETE or PUT does not change what
// another route sees.
type fixture struct {
	tenant     string
	cc, hybrid identity.CreatedClient
}

func (s *stack) fixture(t *testing.T) fixture {
	t.Helper()
	ctx := context.Background()
	cc, err := s.app.Service.CreateClient(ctx, s.tenant, identity.NewClient{Kind: identity.ClientCredential, Name: "matrix fixture"})
	if err != nil {
		t.Fatal(err)
	}
	hybrid, err := s.app.Service.CreateClient(ctx, s.tenant, identity.NewClient{Kind: identity.Hybrid, Name: "matrix fixture",
		RedirectURIs: []string{"https://app.example.com/signin-oidc"}})
	if err != nil {
		t.Fatal(err)
	}
	return fixture{tenant: s.tenant, cc: cc, hybrid: hybrid}
}

// tenantOf is the tenant a route pattern acts in: the test tenant, or ""
// for a route without a tenant parameter.
func tenantOf(pattern, tenant string) string {
	if strings.Contains(pattern, "{tenant") {
		return tenant
	}
	return ""
}

var pathParam = regexp.MustCompile(`\{([^}]+)\}`)

// path fills in a route pattern's parameters with the fixture's ids: the
// Hybrid client on Hybrid routes (the API's .../HybridClient(s)/..., the
// dashboard's .../hybrid-clients/...), else the Client Credential client.
func (f fixture) path(t *testing.T, pattern string) string {
	t.Helper()
	client := f.cc
	if strings.Contains(pattern, "/HybridClient") || strings.Contains(pattern, "/hybrid-clients/") {
		client = f.hybrid
	}
	return pathParam.ReplaceAllStringFunc(pattern, func(p string) string {
		switch name := strings.Trim(p, "{}"); name {
		case "tenantId", "tenant":
			return f.tenant
		case "clientId":
			return client.Client.ID
		case "secretId", "id":
			return client.Secret.ID
		default:
			t.Fatalf("%s: no fixture for path parameter %s", pattern, p)
			return ""
		}
	})
}

// The matrix: every management route against every kind of token. A
// refused token gets 401 with WWW-Authenticate: Bearer; a valid token of a
// role the reference does not list, or of a tenant role in another tenant,
// gets 403; any other valid token reaches the handler and gets the
// route's success status. Errors come in the route family's format.
func TestRouteAuthorizationMatrix(t *testing.T) {
	s := api(t)
	kinds := tokenKinds(t, s)
	routes := managementRoutes(t, s)
	cells := 0
	for _, key := range routes {
		spec, ok := specRoutes[key]
		if !ok {
			t.Errorf("%s has no roles in specRoutes (see TestEveryRouteHasSpecRoles)", key)
			continue
		}
		method, pattern, _ := strings.Cut(key, " ")
		t.Run(key, func(t *testing.T) {
			path := s.fixture(t).path(t, pattern)
			for _, k := range kinds {
				cells++
				t.Run(k.name, func(t *testing.T) {
					res := s.do(t, method, path, k.authorization, spec.body)
					switch {
					case k.caller == nil:
						checkError(t, res, http.StatusUnauthorized, spec.family, path)
						if h := res.Header.Get("WWW-Authenticate"); !strings.HasPrefix(h, "Bearer") {
							t.Errorf("WWW-Authenticate %q, want a Bearer challenge", h)
						}
					case allowed(spec, k.caller, tenantOf(pattern, s.tenant)):
						if res.Status != spec.status {
							t.Errorf("%s is allowed on %s (%s): got %s, want %d", k.name, key, spec.section, res, spec.status)
						}
					default:
						checkError(t, res, http.StatusForbidden, spec.family, path)
					}
				})
			}
		})
	}
	t.Logf("matrix: %d routes × %d token kinds = %d cells", len(routes), len(kinds), cells)
}

// ocsError is the OCS error body.
type ocsError struct {
	OperationId, Error, Reason, Resolution string
}

// problemDetails is the Key Rotation API's RFC 7807 body.
type problemDetails struct {
	Type     string `json:"type"`
	Title    string `json:"title"`
	Status   int    `json:"status"`
	Detail   string `json:"detail"`
	Instance string `json:"instance"`
}

// keyRotationForbidden is the Key Rotation API's 403 body.
type keyRotationForbidden struct {
	Type         string   `json:"type"`
	Identifier   string   `json:"identifier"`
	Message      string   `json:"message"`
	ResponseCode string   `json:"responseCode"`
	Errors       []string `json:"errors"`
}

// checkError checks an error answer's status and that its body has exactly
// the shape of its family's format.
func checkError(t *testing.T, res response, status int, family httpapi.Family, path string) {
	t.Helper()
	if res.Status != status {
		t.Fatalf("got %s, want %d", res, status)
	}
	opID := res.Header.Get("Operation-Id")
	if _, err := uuid.Parse(opID); err != nil {
		t.Errorf("Operation-Id %q is not a UUID", opID)
	}
	ct := res.Header.Get("Content-Type")
	switch {
	case family == httpapi.OCS:
		var e ocsError
		if err := decodeStrict(res.Body, &e); err != nil || !strings.HasPrefix(ct, "application/json") {
			t.Fatalf("not an OCS error body (%v, Content-Type %q): %s", err, ct, res.Body)
		}
		if e.OperationId != opID || e.Error == "" || e.Reason == "" || e.Resolution == "" {
			t.Errorf("OCS error body %+v: want OperationId %s and Error, Reason, Resolution", e, opID)
		}
	case family == httpapi.KeyRotation && status == http.StatusForbidden:
		var e keyRotationForbidden
		if err := decodeStrict(res.Body, &e); err != nil || !strings.HasPrefix(ct, "application/json") {
			t.Fatalf("not the Key Rotation forbidden body (%v, Content-Type %q): %s", err, ct, res.Body)
		}
		if _, err := uuid.Parse(e.Identifier); err != nil || e.Type == "" || e.Message == "" || e.ResponseCode == "" || len(e.Errors) == 0 {
			t.Errorf("Key Rotation forbidden body %+v: want type, a UUID identifier, message, responseCode and errors", e)
		}
	case family == httpapi.KeyRotation:
		var e problemDetails
		if err := decodeStrict(res.Body, &e); err != nil || !strings.HasPrefix(ct, "application/problem+json") {
			t.Fatalf("not a ProblemDetails body (%v, Content-Type %q): %s", err, ct, res.Body)
		}
		if e.Status != status || e.Type == "" || e.Title == "" || e.Instance != path {
			t.Errorf("ProblemDetails %+v: want status %d, type, title and instance %s", e, status, path)
		}
	default:
		t.Fatalf("no error format known for family %d", family)
	}
}

// The token function's routes are public: no bearer token is needed to get
// one, nor to read the discovery document and the keys.
func TestTokenRoutesArePublic(t *testing.T) {
	s := api(t)
	admin := s.callers[accountAdmin]
	for _, tc := range []struct {
		name, method, path string
		want               int
	}{
		{"discovery", http.MethodGet, tokenapi.DiscoveryPath, 200},
		{"JWKS", http.MethodGet, tokenapi.JWKSPath, 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if res := s.do(t, tc.method, tc.path, "", nil); res.Status != tc.want {
				t.Fatalf("got %s, want %d", res, tc.want)
			}
		})
	}
	t.Run("token", func(t *testing.T) {
		s.mustToken(t, clientSecretPost, admin.clientID, admin.secret)
	})
}
