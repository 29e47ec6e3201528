package faultmatrix

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"

	"identityservice/infra/testenv/faults"
	"identityservice/shared/identity"
	"identityservice/shared/portal"
	"identityservice/shared/tokenapi"
)

// captureStderr sends everything this process writes to file descriptor 2
// (the SDK's log lines, which config.AWS writes to os.Stderr, and anything
// else that writes there) into a buffer until the returned stop is called.
func captureStderr(t *testing.T) (stop func() string) {
	t.Helper()
	saved, err := syscall.Dup(2)
	if err != nil {
		t.Fatal(err)
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Dup2(int(w.Fd()), 2); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	done := make(chan struct{})
	go func() { _, _ = io.Copy(&buf, r); close(done) }()
	var once sync.Once
	var out string
	stop = func() string {
		once.Do(func() {
			_ = syscall.Dup2(saved, 2)
			_ = syscall.Close(saved)
			_ = w.Close()
			<-done
			_ = r.Close()
			out = buf.String()
		})
		return out
	}
	t.Cleanup(func() { stop() })
	return stop
}

// apiRun is a full API run: every route, with its successes and its errors.
type apiRun struct {
	w       *world
	needles map[string]string // text that must appear in no log line -> what it is
	bodies  []observed        // every non-2xx answer
	mu      sync.Mutex
}

type observed struct {
	route  string
	fam    family
	res    response
	faulty bool
}

// secret adds a secret, and its verifier for each record it may belong
// to, to the needles.
func (a *apiRun) secret(what, plain string, refs ...identity.MaterialRef) {
	if plain == "" {
		return
	}
	a.needles[plain] = what
	for _, ref := range refs {
		v := identity.Verifier(ref, plain)
		a.needles[base64.StdEncoding.EncodeToString(v)] = what + " (its verifier)"
		a.needles[hex.EncodeToString(v)] = what + " (its verifier, hex)"
	}
}

// recordOf is the record of a created client's first secret.
func recordOf(c identity.CreatedClient) identity.MaterialRef {
	return identity.MaterialRef{TenantID: c.Secret.TenantID, ClientID: c.Secret.ClientID, SecretID: c.Secret.ID}
}

// send serves one request on the injected API, remembering the
// Authorization value and any error answer.
func (a *apiRun) send(ctx context.Context, route, method, path, authorization string, body any, faulty bool) response {
	if authorization != "" {
		a.needles[authorization] = "an Authorization header value"
		if tok, ok := strings.CutPrefix(authorization, "Bearer "); ok {
			a.needles[tok] = "a bearer token"
		}
	}
	res := a.w.request(a.w.h, ctx, method, path, authorization, body)
	a.observe(route, path, res, faulty)
	return res
}

func (a *apiRun) observe(route, path string, res response, faulty bool) {
	if res.Status < 300 {
		return
	}
	f := ocsFamily
	switch {
	case strings.HasPrefix(path, "/identity/"):
		f = oauthFamily
	case strings.HasPrefix(path, "/api/tenants/"):
		f = keyRotationFamily
	}
	a.mu.Lock()
	a.bodies = append(a.bodies, observed{route: route, fam: f, res: res, faulty: faulty})
	a.mu.Unlock()
}

// token asks for a token with Basic or form credentials and remembers it.
func (a *apiRun) token(ctx context.Context, clientID, secret string, basic bool, faulty bool) response {
	form := url.Values{"grant_type": {"client_credentials"}}
	if !basic {
		form.Set("client_id", clientID)
		form.Set("client_secret", secret)
	}
	req := httptest.NewRequestWithContext(ctx, http.MethodPost, tokenapi.TokenPath, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if basic {
		req.SetBasicAuth(url.QueryEscape(clientID), url.QueryEscape(secret))
		a.needles[req.Header.Get("Authorization")] = "a Basic Authorization header value"
		a.needles[strings.TrimPrefix(req.Header.Get("Authorization"), "Basic ")] = "Basic credentials"
	}
	rec := httptest.NewRecorder()
	a.w.h.ServeHTTP(rec, req)
	res := response{Status: rec.Code, Header: rec.Header(), Body: rec.Body.Bytes()}
	if tok := accessToken(res); tok != "" {
		a.needles[tok] = "an access token"
	}
	a.observe("POST "+tokenapi.TokenPath, tokenapi.TokenPath, res, faulty)
	return res
}

// routeCase is one route with a request on a fresh target.
type routeCase struct {
	route string // METHOD path template
	// make returns a request on targets it creates (through the clean
	// app): method, path and body.
	make func() (string, string, any)
}

// TestNothingLeaks runs every route of the API — tokens issued with both
// methods and used as bearer tokens, secrets created and shown, errors of
// every kind, and every store call of every route failed in turn — with
// all log output captured (the service's logger, slog's default, the
// standard logger and file descriptor 2, where the SDK logs). No issued
// secret, access token or Authorization value may appear in it, and no
// error body may carry AWS error text, a stack trace or a Go type name.
func TestNothingLeaks(t *testing.T) {
	stopStderr := captureStderr(t)
	defaultLog := &lockedBuffer{}
	prevDefault := slog.Default()
	slog.SetDefault(slog.New(slog.NewJSONHandler(defaultLog, &slog.HandlerOptions{Level: slog.LevelDebug})))
	prevLogOut := log.Writer()
	log.SetOutput(defaultLog)
	t.Cleanup(func() { slog.SetDefault(prevDefault); log.SetOutput(prevLogOut) })

	w := newWorld(t, "").hangsCleanup() // its apps log at DEBUG into w.logs
	ctx := context.Background()
	a := &apiRun{w: w, needles: map[string]string{}}
	admin := w.createClient(identity.ClientCredential, []string{identity.RoleAccountAdministrator, identity.RoleAccountMember}, "")
	a.secret("the admin's secret", admin.SecretString, recordOf(admin))
	// Tokens, both methods; the first creates the signing key.
	w.adminToken = accessToken(a.token(ctx, admin.Client.ID, admin.SecretString, true, false))
	if w.adminToken == "" {
		t.Fatal("no token for the admin")
	}
	accessToken(a.token(ctx, admin.Client.ID, admin.SecretString, false, false))
	a.needles["Bearer "+w.adminToken] = "an Authorization header value"
	bearer := "Bearer " + w.adminToken
	ten := w.tenant

	newCC := func() identity.CreatedClient {
		c := w.createClient(identity.ClientCredential, nil, "d")
		a.secret("a client secret", c.SecretString, recordOf(c))
		return c
	}
	newHybrid := func() identity.CreatedClient {
		c := w.createClient(identity.Hybrid, nil, "d")
		a.secret("a client secret", c.SecretString, recordOf(c))
		return c
	}
	cc := func(format string) func() (string, string, any) {
		return func() (string, string, any) {
			c := newCC()
			return "", fmt.Sprintf(format, ten, c.Client.ID, c.Secret.ID), nil
		}
	}
	hy := func(format string) func() (string, string, any) {
		return func() (string, string, any) {
			c := newHybrid()
			return "", fmt.Sprintf(format, ten, c.Client.ID, c.Secret.ID), nil
		}
	}
	withBody := func(f func() (string, string, any), body any) func() (string, string, any) {
		return func() (string, string, any) { m, p, _ := f(); return m, p, body }
	}
	const (
		cccOne    = "/api/v1-preview/Tenants/%s/ClientCredentialClients/%s%.0s"
		cccSecret = "/api/v1-preview/Tenants/%s/ClientCredentialClients/%s/Secret/%s"
		hySecret  = "/api/v1-preview/Tenants/%s/HybridClients/%s/Secret/%s"
	)
	cases := []routeCase{
		{"POST " + cccBase, func() (string, string, any) {
			return "", fmt.Sprintf(cccBase, ten), map[string]any{"Name": "leak", "Tags": []string{"x"}}
		}},
		{"GET " + cccBase, func() (string, string, any) { return "", fmt.Sprintf(cccBase+"?tags=x", ten), nil }},
		{"GET " + cccBase + "/{clientId}", cc(cccOne)},
		{"PUT " + cccBase + "/{clientId}", withBody(cc(cccOne), map[string]any{"Name": "renamed"})},
		{"DELETE " + cccBase + "/{clientId}", cc(cccOne)},
		{"POST " + hybridBase, func() (string, string, any) {
			return "", fmt.Sprintf(hybridBase, ten), map[string]any{"Name": "leak", "RedirectUris": []string{"https://a.example.com/cb"}}
		}},
		{"GET " + hybridBase, func() (string, string, any) { return "", fmt.Sprintf(hybridBase, ten), nil }},
		{"GET " + hybridBase + "/{clientId}", hy("/api/Tenants/%s/HybridClient/%s%.0s")},
		{"PUT " + hybridBase + "/{clientId}", withBody(hy("/api/Tenants/%s/HybridClient/%s%.0s"), map[string]any{"Name": "renamed"})},
		{"DELETE " + hybridBase + "/{clientId}", hy("/api/Tenants/%s/HybridClient/%s%.0s")},
		{"GET .../ClientCredentialClients/{clientId}/Secret", cc("/api/v1-preview/Tenants/%s/ClientCredentialClients/%s/Secret%.0s")},
		{"POST .../ClientCredentialClients/{clientId}/Secret", withBody(cc("/api/v1-preview/Tenants/%s/ClientCredentialClients/%s/Secret%.0s"), map[string]any{"Description": "n"})},
		{"GET .../ClientCredentialClients/{clientId}/Secret/{secretId}", cc(cccSecret)},
		{"PUT .../ClientCredentialClients/{clientId}/Secret/{secretId}", withBody(cc(cccSecret), map[string]any{"Description": "u"})},
		{"DELETE .../ClientCredentialClients/{clientId}/Secret/{secretId}", cc(cccSecret)},
		{"GET .../HybridClients/{clientId}/Secret", hy("/api/v1-preview/Tenants/%s/HybridClients/%s/Secret%.0s")},
		{"POST .../HybridClients/{clientId}/Secret", withBody(hy("/api/v1-preview/Tenants/%s/HybridClients/%s/Secret%.0s"), map[string]any{"Description": "n"})},
		{"GET .../HybridClients/{clientId}/Secret/{secretId}", hy(hySecret)},
		{"PUT .../HybridClients/{clientId}/Secret/{secretId}", withBody(hy(hySecret), map[string]any{"Description": "u"})},
		{"DELETE .../HybridClients/{clientId}/Secret/{secretId}", hy(hySecret)},
		{"GET .../Clients/{clientId}/Secret", cc("/api/v1-preview/Tenants/%s/Clients/%s/Secret%.0s")},
		{"PUT .../Clients/{clientId}/Secret/{secretId}", withBody(cc("/api/v1-preview/Tenants/%s/Clients/%s/Secret/%s"), map[string]any{"Description": "u"})},
		{"POST /api/tenants/{tenant}/applications/{clientId}/secrets", withBody(cc("/api/tenants/%s/applications/%s/secrets%.0s"), `{"expirationDate":null}`)},
		{"GET /api/tenants/{tenant}/applications/{clientId}/secrets", hy("/api/tenants/%s/applications/%s/secrets%.0s")},
		{"DELETE /api/tenants/{tenant}/applications/{clientId}/secrets/{id}", cc("/api/tenants/%s/applications/%s/secrets/%s")},
		{"GET " + portal.LastSweepPath, func() (string, string, any) { return "", portal.LastSweepPath, nil }},
		{"GET " + portal.ProfileAPIPath, func() (string, string, any) { return "", portal.ProfileAPIPath, nil }},
		{"GET " + tokenapi.DiscoveryPath, func() (string, string, any) { return "", tokenapi.DiscoveryPath, nil }},
		{"GET " + tokenapi.JWKSPath, func() (string, string, any) { return "", tokenapi.JWKSPath, nil }},
	}
	faultPointsHere := 0
	for _, c := range cases {
		method := strings.Fields(c.route)[0]
		// Dry run: a success, whose shown secrets are remembered.
		_, path, body := c.make()
		w.inj.Reset()
		res := a.send(ctx, c.route, method, path, bearer, body, false)
		calls := len(w.inj.Calls())
		if res.Status >= 300 {
			t.Errorf("%s: %s", c.route, res)
		}
		a.rememberShown(res)
		// Every call failed in turn, both ways.
		for _, mode := range []faults.Mode{faults.Error, faults.Timeout} {
			for n := 1; n <= calls; n++ {
				_, path, body := c.make()
				dctx := newDeadlineCtx()
				w.inj.FailNth(n, mode, dctx.expire)
				res := a.send(dctx, c.route, method, path, bearer, body, true)
				w.inj.Reset()
				dctx.expire()
				a.rememberShown(res)
				faultPointsHere++
			}
		}
	}
	// Token endpoint: success with a new client, each call failed, and the
	// refusals (a wrong secret, a deleted client's secret).
	for _, basic := range []bool{true, false} {
		c := w.createClient(identity.ClientCredential, nil, "")
		a.secret("a client secret", c.SecretString, recordOf(c))
		w.inj.Reset()
		a.token(ctx, c.Client.ID, c.SecretString, basic, false)
		calls := len(w.inj.Calls())
		for _, mode := range []faults.Mode{faults.Error, faults.Timeout} {
			for n := 1; n <= calls; n++ {
				c := w.createClient(identity.ClientCredential, nil, "")
				a.secret("a client secret", c.SecretString, recordOf(c))
				dctx := newDeadlineCtx()
				w.inj.FailNth(n, mode, dctx.expire)
				a.token(dctx, c.Client.ID, c.SecretString, basic, true)
				w.inj.Reset()
				dctx.expire()
				faultPointsHere++
			}
		}
		wrong, _, _ := identity.GenerateSecret(recordOf(c))
		a.secret("a wrong secret", wrong, recordOf(c))
		if res := a.token(ctx, c.Client.ID, wrong, basic, false); res.Status != http.StatusUnauthorized {
			t.Errorf("wrong secret: %s", res)
		}
	}
	// Bearer refusals: garbage, another audience's shape, a token of a
	// deleted client still verifies (tokens live an hour) — all logged
	// without the value.
	for _, authz := range []string{"Bearer not.a.token", "Bearer " + w.adminToken + "x", "Basic " + base64.StdEncoding.EncodeToString([]byte("id:secret-in-basic"))} {
		a.send(ctx, "GET "+cccBase, http.MethodGet, fmt.Sprintf(cccBase, ten), authz, nil, false)
	}
	// 4xx of the domain: unknown ids, a bad body, a wrong method.
	a.send(ctx, "GET "+cccBase+"/{clientId}", http.MethodGet, fmt.Sprintf(cccBase+"/%s", ten, identity.NewID()), bearer, nil, false)
	a.send(ctx, "DELETE .../Secret/{secretId}", http.MethodDelete, fmt.Sprintf(cccSecret, ten, newCC().Client.ID, identity.NewID()), bearer, nil, false)
	a.send(ctx, "POST "+cccBase, http.MethodPost, fmt.Sprintf(cccBase, ten), bearer, `{"Name": 12}`, false)
	a.send(ctx, "PATCH "+cccBase, http.MethodPatch, fmt.Sprintf(cccBase, ten), bearer, nil, false)
	a.send(ctx, "DELETE /api/tenants/.../secrets/{id}", http.MethodDelete, fmt.Sprintf("/api/tenants/%s/applications/%s/secrets/%s", ten, identity.NewID(), identity.NewID()), bearer, nil, false)

	sdk := stopStderr()
	logs := map[string]string{"the service's log": w.logs.String(), "slog's default and the standard logger": defaultLog.String(), "file descriptor 2 (the SDK's log)": sdk}
	// The capture works: internal causes are logged (the injected errors'
	// request id), though never answered.
	if !strings.Contains(w.logs.String(), "FAULT0INJECTED") || !strings.Contains(w.logs.String(), "request failed") {
		t.Fatalf("the service's log lacks the injected failures: the capture is broken (%d bytes)", len(w.logs.String()))
	}
	checks := 0
	for where, text := range logs {
		for needle, what := range a.needles {
			checks++
			if needle != "" && strings.Contains(text, needle) {
				t.Errorf("%s holds %s", where, what)
			}
		}
	}
	fivexx := 0
	for _, o := range a.bodies {
		checks++
		if o.res.Status >= 500 {
			fivexx++
			for _, msg := range errorBody(o.fam, o.res) {
				t.Errorf("%s (fault %v): %s", o.route, o.faulty, msg)
			}
			continue
		}
		if leaks := bodyLeaks(o.res.Body); len(leaks) > 0 {
			t.Errorf("%s: %d body leaks %q: %s", o.route, o.res.Status, leaks, o.res.Body)
		}
	}
	if fivexx == 0 {
		t.Error("no 5xx answer was provoked")
	}
	summary := fmt.Sprintf("leaks: %d routes, %d fault points, %d non-2xx answers (%d 5xx), %d needles in %d bytes of logs (%d bytes from fd 2), %d checks",
		len(cases)+1, faultPointsHere, len(a.bodies), fivexx, len(a.needles), len(w.logs.String())+len(defaultLog.String())+len(sdk), len(sdk), checks)
	t.Log(summary)
	fmt.Println(summary)
}

// rememberShown adds the secrets and tokens an answer shows to the needles.
func (a *apiRun) rememberShown(res response) {
	var m map[string]any
	if json.Unmarshal(res.Body, &m) != nil {
		return
	}
	for _, k := range []string{"ClientSecret", "clientSecret", "access_token"} {
		if s, ok := m[k].(string); ok && s != "" {
			a.secret("a secret shown in an answer", s)
		}
	}
}
