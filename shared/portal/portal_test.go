package portal_test

import (
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"identityservice/shared/portal"
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
