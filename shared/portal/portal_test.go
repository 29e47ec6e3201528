package portal_test

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"identityservice/infra/testenv/apiclient"
	"identityservice/shared/identity"
	"identityservice/shared/portal"
	"identityservice/shared/signin"
)

// hostileState is a state value that would run script if a page
// reflected it unescaped, in text, in an attribute or in a URL.
const hostileState = `"><script>window.__xss=1</script><img src=x onerror="window.__xss=2">' onmouseover='x` + "\u2028&amp;"

var securityHeaders = map[string]string{
	"X-Content-Type-Options": "nosniff",
	"Referrer-Policy":        "no-referrer",
	"X-Frame-Options":        "DENY",
}

func checkSecurityHeaders(t *testing.T, h http.Header) {
	t.Helper()
	for k, want := range securityHeaders {
		if got := h.Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	csp := h.Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'none'", "script-src 'self'", "style-src 'self'", "frame-ancestors 'none'", "base-uri 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("Content-Security-Policy %q lacks %q", csp, want)
		}
	}
	if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") || strings.Contains(csp, "*") {
		t.Errorf("Content-Security-Policy %q allows inline code, eval or any host", csp)
	}
}

// Every page and asset answers with the security headers, and the pages
// hold no inline script or style (which the CSP would block anyway).
func TestPagesAndAssetsSendSecurityHeaders(t *testing.T) {
	s := api(t)
	for _, path := range []string{portal.DashboardPath, portal.ProfilePath, portal.NoAccessPath, portal.ProfilePath + "?state=abc",
		"/_/op-dashboard/assets/portal.css", "/_/op-dashboard/assets/session.js", "/_/op-dashboard/assets/dashboard.js",
		"/_/op-dashboard/assets/chart.js", "/_/op-dashboard/assets/profile.js"} {
		t.Run(path, func(t *testing.T) {
			res := s.client.Do(t, http.MethodGet, path, "", nil)
			if res.Status != http.StatusOK {
				t.Fatalf("status %d: %s", res.Status, res.Body)
			}
			checkSecurityHeaders(t, res.Header)
			body := string(res.Body)
			switch {
			case strings.HasSuffix(path, ".js"):
				if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/javascript") {
					t.Errorf("Content-Type %q", ct)
				}
				if strings.Contains(body, "innerHTML") || strings.Contains(body, "eval(") {
					t.Error("a script writes HTML or evaluates strings")
				}
			case strings.HasSuffix(path, ".css"):
				if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/css") {
					t.Errorf("Content-Type %q", ct)
				}
			default:
				if ct := res.Header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
					t.Errorf("Content-Type %q", ct)
				}
				lower := strings.ToLower(body)
				if strings.Count(lower, "<script") != strings.Count(lower, "<script src=") {
					t.Error("the page has an inline script")
				}
				if strings.Contains(lower, "<style") || strings.Contains(lower, " style=") || strings.Contains(lower, " on") && strings.Contains(lower, "onclick=") {
					t.Error("the page has inline style or an inline event handler")
				}
				if strings.Contains(lower, "http://") || strings.Contains(lower, "https://") {
					t.Error("the page loads or links something from another origin")
				}
			}
		})
	}
}

// The UI routes keep state in their links and never reflect it unescaped.
func TestStateIsCarriedAndEscaped(t *testing.T) {
	s := api(t)
	for _, path := range []string{portal.ProfilePath, portal.NoAccessPath} {
		t.Run(path, func(t *testing.T) {
			res := s.client.Do(t, http.MethodGet, path+"?state="+url.QueryEscape(hostileState), "", nil)
			if res.Status != http.StatusOK {
				t.Fatalf("status %d", res.Status)
			}
			body := string(res.Body)
			for _, raw := range []string{`"><script`, "<script>window", "<img src=x", `onerror="window`, "onmouseover='x"} {
				if strings.Contains(body, raw) {
					t.Errorf("the page reflects %q unescaped", raw)
				}
			}
			// The links to the dashboard carry the exact state.
			want := portal.DashboardPath + "?state=" + url.QueryEscape(hostileState)
			found := false
			for _, href := range hrefs(body) {
				u, err := url.Parse(href)
				if err == nil && u.Path == portal.DashboardPath && u.Query().Get("state") == hostileState {
					found = true
				}
			}
			if !found {
				t.Errorf("no link to the dashboard carries the state (want one like %s); links: %v", want, hrefs(body))
			}
		})
	}
}

// hrefs returns the href attributes of a page, unescaped as a browser does.
func hrefs(body string) []string {
	var out []string
	for _, part := range strings.Split(body, `href="`)[1:] {
		end := strings.IndexByte(part, '"')
		if end >= 0 {
			out = append(out, html.UnescapeString(part[:end]))
		}
	}
	return out
}

func TestBadRequestsToThePortal(t *testing.T) {
	s := api(t)
	member := s.token(t, s.member.ID, s.member.Secret)
	for _, c := range []struct {
		name, path, token string
		status            int
		says              string
	}{
		{"state too long", portal.ProfilePath + "?state=" + strings.Repeat("a", portal.MaxStateLength+1), "", 400, "longer than 1024"},
		{"unknown asset", "/_/op-dashboard/assets/nothing.js", "", 404, "no file named nothing.js"},
		{"asset of an unknown type", "/_/op-dashboard/assets/templates", "", 404, "no file named"},
		{"last sweep without a token", portal.LastSweepPath, "", 401, "bearer token"},
		{"profile without a token", portal.ProfileAPIPath, "", 401, "bearer token"},
		{"last sweep as an Account Member", portal.LastSweepPath, member, 403, "roles do not allow"},
	} {
		t.Run(c.name, func(t *testing.T) {
			auth := ""
			if c.token != "" {
				auth = "Bearer " + c.token
			}
			res := s.client.Do(t, http.MethodGet, c.path, auth, nil)
			if res.Status != c.status || !strings.Contains(string(res.Body), c.says) {
				t.Fatalf("%d %s, want %d saying %q", res.Status, res.Body, c.status, c.says)
			}
		})
	}
}

// The two JSON routes: who a token speaks for, and the last sweep.
func TestProfileAndLastSweepRoutes(t *testing.T) {
	s := api(t)
	admin := s.token(t, s.admin.ID, s.admin.Secret)
	var me portal.ProfileDto
	s.as(t, admin, http.MethodGet, portal.ProfileAPIPath, nil).JSON(t, http.StatusOK, &me)
	if me.ClientId != s.admin.ID || me.Name != s.admin.Name || me.TenantId != s.tenant || me.TenantName != "Portal test tenant" || me.Kind != "ClientCredential" {
		t.Errorf("profile %+v, want the admin client %s of tenant %s", me, s.admin.ID, s.tenant)
	}
	names := []string{}
	for _, r := range me.Roles {
		names = append(names, r.Name)
	}
	if strings.Join(names, ",") != "Account Administrator,Account Member" {
		t.Errorf("roles %v", names)
	}

	// A cluster role reads the service-wide summary of the sweep the stack ran.
	operator := s.token(t, s.operator.ID, s.operator.Secret)
	var last portal.LastSweepDto
	res := s.as(t, operator, http.MethodGet, portal.LastSweepPath, nil)
	res.JSON(t, http.StatusOK, &last)
	checkSecurityHeaders(t, res.Header)
	if !last.Recorded || last.Counts == nil || *last.Counts != s.sweep || last.FinishedAt == "" || last.Counts.Warned == 0 {
		t.Errorf("last sweep %+v, want the counts of the sweep the stack ran (%+v), with warnings", last, s.sweep)
	}
}

// The sweep counts cover every tenant: a tenant administrator is told that
// a sweep ran and why it sees no more, never another tenant's numbers.
func TestLastSweepIsServiceWideOnlyForClusterRoles(t *testing.T) {
	s := api(t)
	admin := s.token(t, s.admin.ID, s.admin.Secret)
	res := s.as(t, admin, http.MethodGet, portal.LastSweepPath, nil)
	var last portal.LastSweepDto
	res.JSON(t, http.StatusOK, &last)
	checkSecurityHeaders(t, res.Header)
	if last.Counts != nil || last.FailedSteps != nil || last.DurationMs != 0 || last.StartedAt != "" || last.FinishedAt != "" {
		t.Errorf("an Account Administrator read the service-wide sweep summary: %s", res.Body)
	}
	if !last.Recorded || !strings.Contains(last.Withheld, "cluster role") {
		t.Errorf("an Account Administrator's answer %s: want Recorded and a Withheld note naming the cluster roles", res.Body)
	}
	for _, field := range []string{"Counts", "Warned", "Expired", "DurationMs"} {
		if strings.Contains(string(res.Body), field) {
			t.Errorf("the tenant role's answer %s carries %s", res.Body, field)
		}
	}
}

// The dashboard's sign-in routes without a browser: the sign-in start's
// cookie and authorization request; a session's answer; the API call's
// CSRF header, methods and paths; the sign-out form's CSRF token.
func TestDashboardSessionRoutes(t *testing.T) {
	s := api(t)
	c := apiclient.Client{BaseURL: s.srv.URL, HTTP: &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	send := func(method, path, cookie string, header map[string]string, body string) apiclient.Response {
		t.Helper()
		req, err := http.NewRequest(method, s.srv.URL+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		if cookie != "" {
			req.Header.Set("Cookie", portal.SessionCookie+"="+cookie)
		}
		for k, v := range header {
			req.Header.Set(k, v)
		}
		res, err := c.Send(req)
		if err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
		return res
	}

	// The start: the tenant's dashboard client, PKCE S256, state and nonce,
	// the flow in an HttpOnly cookie scoped to the dashboard.
	res := send(http.MethodGet, portal.SignInPath+"?tenant="+s.tenant+"&state=abc", "", nil, "")
	if res.Status != http.StatusOK {
		t.Fatalf("sign-in start: %s", res)
	}
	to := regexp.MustCompile(`id="continue" href="([^"]+)"`).FindStringSubmatch(string(res.Body))
	if to == nil {
		t.Fatalf("the sign-in page links nowhere: %s", res.Body)
	}
	authz, err := url.Parse(html.UnescapeString(to[1]))
	if err != nil {
		t.Fatal(err)
	}
	q := authz.Query()
	if authz.Path != "/identity/connect/authorize" || q.Get("client_id") != s.dashboard || q.Get("response_type") != "code" || q.Get("code_challenge_method") != "S256" ||
		q.Get("code_challenge") == "" || q.Get("nonce") == "" || q.Get("state") == "" || q.Get("redirect_uri") != s.srv.URL+portal.CallbackPath {
		t.Errorf("the sign-in goes to %s", authz)
	}
	var flow *http.Cookie
	for _, ck := range (&http.Response{Header: res.Header}).Cookies() {
		if ck.Name == "dashboard_signin" {
			flow = ck
		}
	}
	if flow == nil || !flow.HttpOnly || flow.SameSite != http.SameSiteLaxMode || flow.Path != "/_/op-dashboard" || flow.MaxAge <= 0 {
		t.Errorf("the sign-in's cookie: %+v, want HttpOnly, SameSite=Lax, Path=/_/op-dashboard", flow)
	}
	if res := send(http.MethodGet, portal.CallbackPath+"?code=x&state=forged", "dashboard_signin="+flow.Value, nil, ""); res.Status != http.StatusBadRequest {
		t.Errorf("a callback whose state is not the cookie's: %s", res)
	}

	// A session as the callback stores it (its access token: the admin
	// client's, for the calls).
	id, cookie, hash, err := signin.NewSessionCookie()
	if err != nil {
		t.Fatal(err)
	}
	se := signin.DashboardSession{ID: id, SecretHash: hash, CSRF: "csrf-" + id, ClientID: s.dashboard, TenantID: s.tenant, Subject: "someone",
		Name: "Some One", Email: "some@example.com", Roles: []string{identity.RoleAccountAdministrator}, AuthTime: time.Now(), Created: time.Now(),
		Expires: time.Now().Add(time.Hour), AccessToken: s.token(t, s.admin.ID, s.admin.Secret), IDToken: "id-token"}
	if err := s.app.SignIn().CreateDashboardSession(context.Background(), se); err != nil {
		t.Fatal(err)
	}
	var me portal.SessionDto
	send(http.MethodGet, portal.SessionPath, cookie, nil, "").JSON(t, http.StatusOK, &me)
	if me.Name != se.Name || me.Csrf != se.CSRF || len(me.Roles) != 1 || me.Roles[0].Name != "Account Administrator" || len(me.Grants) != 2 || !slices.Contains(me.Grants[0].Values, "identity-admins") {
		t.Errorf("the session answers %+v", me)
	}
	if res := send(http.MethodGet, portal.SessionPath, se.ID+".not-the-secret", nil, ""); res.Status != http.StatusUnauthorized {
		t.Errorf("a cookie with a wrong secret: %s", res)
	}

	list := `{"Method":"GET","Path":"/api/v1-preview/Tenants/` + s.tenant + `/ClientCredentialClients?count=2"}`
	jsonCSRF := map[string]string{"Content-Type": "application/json", portal.CSRFHeader: se.CSRF}
	if res := send(http.MethodPost, portal.CallPath, cookie, map[string]string{"Content-Type": "application/json"}, list); res.Status != http.StatusForbidden || !strings.Contains(string(res.Body), "CSRF") {
		t.Errorf("a call without the CSRF header: %s", res)
	}
	if res := send(http.MethodPost, portal.CallPath, cookie, map[string]string{"Content-Type": "application/json", portal.CSRFHeader: "wrong"}, list); res.Status != http.StatusForbidden {
		t.Errorf("a call with a wrong CSRF token: %s", res)
	}
	if res := send(http.MethodPost, portal.CallPath, cookie, jsonCSRF, list); res.Status != http.StatusOK || res.Header.Get("Total-Count") == "" {
		t.Errorf("a list through the dashboard: %s (Total-Count %q)", res, res.Header.Get("Total-Count"))
	}
	// The changes route may be called too (as the pages do), and nothing
	// else of the portal's.
	changes := `{"Method":"GET","Path":"/_/op-dashboard/api/tenants/` + s.tenant + `/client-credential-clients/` + s.clients["reporting-job"].ID + `/changes"}`
	var ch portal.ChangesDto
	send(http.MethodPost, portal.CallPath, cookie, jsonCSRF, changes).JSON(t, http.StatusOK, &ch)
	if ch.ClientId != s.clients["reporting-job"].ID || ch.Secrets == nil {
		t.Errorf("the changes route through the dashboard: %+v", ch)
	}
	for _, bad := range []string{
		`{"Method":"GET","Path":"/_/op-dashboard/api/session"}`,
		`{"Method":"GET","Path":"/_/op-dashboard/api/tenants/` + s.tenant + `/hybrid-clients/x/y/changes"}`,
		`{"Method":"GET","Path":"/_/op-dashboard/api/tenants/` + s.tenant + `/clients/` + s.clients["reporting-job"].ID + `/changes"}`,
		`{"Method":"GET","Path":"/_/op-dashboard/api/tenants/` + s.tenant + `/client-credential-clients/` + s.clients["reporting-job"].ID + `/changes/../../../../session"}`,
		`{"Method":"GET","Path":"/_/op-dashboard/api/tenants//hybrid-clients/x/changes"}`,
		`{"Method":"GET","Path":"/identity/connect/token"}`,
		`{"Method":"GET","Path":"/api/../identity/.well-known/openid-configuration"}`,
		`{"Method":"GET","Path":"//evil.example/api/x"}`,
		`{"Method":"GET","Path":"https://evil.example/api/x"}`,
		`{"Method":"PATCH","Path":"/api/v1-preview/Tenants/` + s.tenant + `/ClientCredentialClients"}`,
	} {
		if res := send(http.MethodPost, portal.CallPath, cookie, jsonCSRF, bad); res.Status != http.StatusBadRequest {
			t.Errorf("call %s: %s, want 400", bad, res)
		}
	}

	// Sign-out: a wrong CSRF token ends nothing; the right one ends the
	// session and goes on to end the sign-in session with the ID token.
	form := map[string]string{"Content-Type": "application/x-www-form-urlencoded"}
	if res := send(http.MethodPost, portal.SignOutPath, cookie, form, "csrf=wrong&state=s1"); res.Status != http.StatusForbidden {
		t.Errorf("sign-out with a wrong CSRF token: %s", res)
	}
	send(http.MethodGet, portal.SessionPath, cookie, nil, "").JSON(t, http.StatusOK, nil)
	res = send(http.MethodPost, portal.SignOutPath, cookie, form, "csrf="+url.QueryEscape(se.CSRF)+"&state=s1")
	end, _ := url.Parse(res.Header.Get("Location"))
	if res.Status != http.StatusSeeOther || end == nil || end.Path != "/identity/connect/endsession" || end.Query().Get("id_token_hint") != se.IDToken ||
		end.Query().Get("post_logout_redirect_uri") != s.srv.URL+portal.DashboardPath || end.Query().Get("state") != "s1" {
		t.Errorf("sign-out: %d to %s", res.Status, end)
	}
	if res := send(http.MethodGet, portal.SessionPath, cookie, nil, ""); res.Status != http.StatusUnauthorized {
		t.Errorf("the session after sign-out: %s", res)
	}
}
