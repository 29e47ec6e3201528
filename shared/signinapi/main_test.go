package signinapi_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"identityservice/infra/testenv"
	"identityservice/shared/auth"
	"identityservice/shared/config"
	"identityservice/shared/httpapi"
	"identityservice/shared/identity"
	"identityservice/shared/ocsapi"
	"identityservice/shared/signin"
	"identityservice/shared/signinapi"
	"identityservice/shared/tokenapi"
)

var env *testenv.Env

func TestMain(m *testing.M) { testenv.Main(m, &env) }

// upstreamSide is the tenant's upstream the tests sign people in at. Until
// the upstream half of sign-in (its DynamoDB UpstreamStore and its
// go-oidc Federation with the local upstream provider) is merged, it is
// testUpstream below; then this one line returns those instead.
func upstreamSide(t *testing.T) (signin.UpstreamStore, signin.Federation, *testUpstream) {
	u := newTestUpstream()
	return u, u, u
}

// testUpstream stands for a tenant's upstream provider: it keeps the
// tenants' upstream settings in memory, and "signs in" at once the person
// a test names (Person), redirecting straight back to the callback with a
// code. Finish checks what a real upstream's answer would be held to: the
// PKCE verifier against the challenge it was sent, the nonce, the
// redirect URI, and the code used once.
type testUpstream struct {
	mu        sync.Mutex
	upstreams map[string]signin.Upstream
	Person    signin.UpstreamIdentity
	codes     map[string]pendingCode
	// Asked records the last UpstreamRequest (prompt, login_hint, max_age).
	Asked signin.UpstreamRequest
}

type pendingCode struct {
	req signin.UpstreamRequest
	who signin.UpstreamIdentity
}

func newTestUpstream() *testUpstream {
	return &testUpstream{upstreams: map[string]signin.Upstream{}, codes: map[string]pendingCode{}}
}

func (u *testUpstream) PutUpstream(_ context.Context, up signin.Upstream) error {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.upstreams[up.TenantID] = up
	return nil
}

func (u *testUpstream) GetUpstream(_ context.Context, tenantID string) (signin.Upstream, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	up, ok := u.upstreams[tenantID]
	if !ok {
		return signin.Upstream{}, signin.ErrUpstreamNotFound
	}
	return up, nil
}

func (u *testUpstream) DeleteUpstream(_ context.Context, tenantID string) error {
	u.mu.Lock()
	defer u.mu.Unlock()
	delete(u.upstreams, tenantID)
	return nil
}

func (u *testUpstream) AuthCodeURL(_ context.Context, up signin.Upstream, req signin.UpstreamRequest) (string, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	code, _ := signin.RandomToken()
	who := u.Person
	who.Issuer = up.Issuer
	u.codes[code] = pendingCode{req: req, who: who}
	u.Asked = req
	return req.RedirectURI + "?" + url.Values{"code": {code}, "state": {req.State}}.Encode(), nil
}

func (u *testUpstream) Finish(_ context.Context, up signin.Upstream, code, verifier, nonce, redirectURI string) (signin.UpstreamIdentity, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	p, ok := u.codes[code]
	delete(u.codes, code)
	if !ok {
		return signin.UpstreamIdentity{}, errors.New("unknown upstream code")
	}
	sum := sha256.Sum256([]byte(verifier))
	if base64.RawURLEncoding.EncodeToString(sum[:]) != p.req.CodeChallenge || nonce != p.req.Nonce || redirectURI != p.req.RedirectURI {
		return signin.UpstreamIdentity{}, errors.New("PKCE, nonce or redirect URI differ")
	}
	return p.who, nil
}

// stack is a running sign-in function, token function and Hybrid Clients
// API on the test environment's DynamoDB Local and moto, served as one
// HTTP server (their routes are disjoint, as in template.yaml).
type stack struct {
	URL       string
	Handler   http.Handler // what the server serves (for API Gateway events through the Lambda adapter)
	Logs      *logBuffer   // the service's log lines
	App       *config.App
	Upstream  *testUpstream
	Upstreams signin.UpstreamStore
	Tenant    string
}

func newStack(t *testing.T) *stack {
	t.Helper()
	logs := &logBuffer{}
	log := slog.New(slog.NewJSONHandler(logs, nil))
	app := config.NewApp(env.Config, env.Clients, log)
	ups, fed, tu := upstreamSide(t)
	st := app.SignIn()
	keys := app.KeyManager()
	routes := signinapi.NewRoutes(signinapi.Deps{
		Clients: app, Upstreams: ups, Federation: fed,
		People: st, Sessions: st, Consents: st, Codes: st, Interactions: st,
		Verifier: app.Authenticator.Verifier, IssuerURL: app.IssuerURL,
	})
	routes = append(routes, tokenapi.Routes(tokenapi.Deps{Clients: app.Service, Tokens: &auth.Issuer{Keys: keys, Audience: app.Config.Audience}, IssuerURL: app.IssuerURL,
		Codes: tokenapi.CodeGrant{Codes: st, Sessions: st, Interactions: st, Refresh: st, Upstreams: ups, Tokens: app.PersonIssuer(keys)}})...)
	routes = append(routes, ocsapi.HybridClientRoutes(app.Service)...)
	routes = append(routes, ocsapi.ClientSecretRoutes(app.Service)...)
	h := env.Tagged(httpapi.NewHandler(log, routes, httpapi.WithAuthenticator(app.Authenticator)))
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	tenant := identity.NewID()
	if _, err := app.Service.CreateTenant(context.Background(), tenant, "sign-in tests", 0); err != nil {
		t.Fatal(err)
	}
	return &stack{URL: srv.URL, Handler: h, Logs: logs, App: app, Upstream: tu, Upstreams: ups, Tenant: tenant}
}

// logBuffer keeps log lines written from the server's goroutines.
type logBuffer struct {
	mu  sync.Mutex
	buf strings.Builder
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Redirect and post-logout URIs of the test clients: a relying party that
// is not served (the test reads where the browser would go).
const (
	rpCallback   = "https://rp.example/callback"
	rpSignedOut  = "https://rp.example/signed-out"
	adminRoleTag = "admins"
)

// setUpstream gives the stack's tenant an upstream that maps the claim
// value "admins" to Account Administrator.
func (s *stack) setUpstream(t *testing.T, mutate func(*signin.Upstream)) {
	t.Helper()
	up := signin.Upstream{TenantID: s.Tenant, Issuer: "https://idp.example", ClientID: "this-service", RoleClaim: "groups",
		RoleMap: map[string][]string{adminRoleTag: {identity.RoleAccountAdministrator, identity.RoleAccountMember}}}
	if mutate != nil {
		mutate(&up)
	}
	if err := s.Upstreams.PutUpstream(context.Background(), up); err != nil {
		t.Fatal(err)
	}
}

// hybrid creates an enabled Hybrid client of the stack's tenant.
func (s *stack) hybrid(t *testing.T, viaBrowser, offline bool) identity.CreatedClient {
	t.Helper()
	c, err := s.App.Service.CreateClient(context.Background(), s.Tenant, identity.NewClient{
		Kind: identity.Hybrid, Name: "Expense <Reports>", RedirectURIs: []string{rpCallback}, PostLogoutRedirectURIs: []string{rpSignedOut},
		ClientURI: "https://rp.example/about", LogoURI: "https://cdn.rp.example/logo.png",
		AllowAccessTokensViaBrowser: viaBrowser, AllowOfflineAccess: offline,
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// browser is a cookie-keeping HTTP client that follows this service's
// redirects and stops at the relying party's.
func browser(t *testing.T) *http.Client {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Jar: jar, Timeout: 30 * time.Second, CheckRedirect: func(req *http.Request, via []*http.Request) error {
		if req.URL.Host == "rp.example" || strings.HasPrefix(req.URL.Path, signinapi.NoAccessPath) {
			return http.ErrUseLastResponse
		}
		return nil
	}}
}

// get answers a GET, its body read.
func get(t *testing.T, c *http.Client, u string) (*http.Response, string) {
	t.Helper()
	res, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, string(b)
}

func postForm(t *testing.T, c *http.Client, u string, form url.Values) (*http.Response, string) {
	t.Helper()
	res, err := c.PostForm(u, form)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, string(b)
}

var hiddenField = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)

// formFields reads a page's hidden fields.
func formFields(page string) url.Values {
	v := url.Values{}
	for _, m := range hiddenField.FindAllStringSubmatch(page, -1) {
		v.Set(m[1], htmlUnescape(m[2]))
	}
	return v
}

func htmlUnescape(s string) string {
	return strings.NewReplacer("&amp;", "&", "&lt;", "<", "&gt;", ">", "&#34;", `"`, "&#39;", "'").Replace(s)
}

// answer is what reached the relying party: the parameters of its
// redirect URI's query or fragment.
func answer(t *testing.T, res *http.Response) url.Values {
	t.Helper()
	if res.StatusCode != http.StatusFound {
		t.Fatalf("status %d, want a redirect to the relying party", res.StatusCode)
	}
	loc, err := url.Parse(res.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	if loc.Host != "rp.example" {
		t.Fatalf("redirected to %s, want the relying party", loc)
	}
	if loc.Fragment != "" {
		v, err := url.ParseQuery(loc.EscapedFragment())
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	return loc.Query()
}

func s256(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

func must[T any](t *testing.T) func(T, error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}
