package portal

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"identityservice/shared/auth"
	"identityservice/shared/httpapi"
	"identityservice/shared/identity"
	"identityservice/shared/signin"
)

// The dashboard signs people in as a backend-for-frontend (the IETF
// "OAuth 2.0 for Browser-Based Applications" draft, 6.1): PortalFunction
// is a confidential client (the tenant's dashboard client) of this
// service's own authorization and token endpoints; the tokens stay in a
// server-side session (signin.DashboardSession), and the browser holds
// only an HttpOnly cookie naming it. The pages call the API through
// CallPath, which adds the session's access token. docs/dashboard.md says
// why and how.
const (
	SignInPath   = "/_/op-dashboard/signin"
	CallbackPath = "/_/op-dashboard/callback"
	SignOutPath  = "/_/op-dashboard/signout"
	SessionPath  = "/_/op-dashboard/api/session"
	CallPath     = "/_/op-dashboard/api/call"
	// CSRFHeader carries the session's CSRF token on every CallPath call.
	CSRFHeader = "X-Dashboard-Csrf"
)

// Cookies, scoped to the dashboard's paths, HttpOnly, Secure except on
// loopback hosts. The session's is SameSite=Strict (no other site's page
// can make the browser send it); the sign-in's is Lax, since it must come
// back on the redirect from the authorization endpoint.
const (
	SessionCookie = "dashboard_session"
	signInCookie  = "dashboard_signin"
	tenantCookie  = "dashboard_tenant"
	cookiePath    = "/_/op-dashboard"
	signInTimeout = 10 * time.Minute
	// rememberTenant is how long the tenant of the last sign-in is kept.
	rememberTenant = 365 * 24 * time.Hour
)

// dashboardScopes are what the dashboard asks for: who the person is.
var dashboardScopes = []string{signin.ScopeOpenID, signin.ScopeProfile, signin.ScopeEmail}

// dashboardRoles are the roles that may use the dashboard (its reads
// need one of them; its actions need Account Administrator).
var dashboardRoles = []string{identity.RoleAccountAdministrator, identity.RoleAccountMember}

// SignInDeps are what the dashboard's sign-in needs.
type SignInDeps struct {
	Sessions  signin.DashboardSessions
	Clients   signin.DashboardClients
	Upstreams UpstreamReader
	Verifier  *auth.Verifier
	// IssuerURL is the issuer of a request (auth.IssuerURL); the API's
	// base URL is it without /identity.
	IssuerURL func(*http.Request) string
	// HTTP calls the token endpoint and the API (nil: a client with a
	// 25-s timeout, shorter than the function's).
	HTTP *http.Client
}

// UpstreamReader reads a tenant's upstream: which of its claims give
// which role (the no-access page says who can grant a role).
type UpstreamReader interface {
	GetUpstream(ctx context.Context, tenantID string) (signin.Upstream, error)
}

var defaultHTTP = &http.Client{Timeout: 25 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

func (h *handlers) http() *http.Client {
	if h.SignIn.HTTP != nil {
		return h.SignIn.HTTP
	}
	return defaultHTTP
}

// apiBase is the API's own base URL: the issuer without /identity.
func (h *handlers) apiBase(r *http.Request) string {
	return strings.TrimSuffix(h.SignIn.IssuerURL(r), "/identity")
}

func (h *handlers) oauth(r *http.Request, c signin.DashboardClient) *oauth2.Config {
	iss := h.SignIn.IssuerURL(r)
	return &oauth2.Config{
		ClientID: c.ClientID, ClientSecret: c.ClientSecret, Scopes: dashboardScopes,
		RedirectURL: h.apiBase(r) + CallbackPath,
		Endpoint:    oauth2.Endpoint{AuthURL: iss + "/connect/authorize", TokenURL: iss + "/connect/token", AuthStyle: oauth2.AuthStyleInHeader},
	}
}

// signInFlow is a sign-in on its way, kept in the browser's HttpOnly
// signInCookie for at most signInTimeout: the state, nonce and PKCE
// verifier of the authorization request, and where to return. Nothing in
// it is of use to anyone but this browser: the code it waits for is
// redeemed only with the dashboard's client secret, which never leaves
// PortalFunction.
type signInFlow struct {
	State       string
	Nonce       string
	Verifier    string
	TenantID    string
	ClientID    string
	ReturnState string // the page's own state parameter
}

func (h *handlers) cookie(r *http.Request, name, value string, maxAge time.Duration, same http.SameSite) *http.Cookie {
	c := &http.Cookie{Name: name, Value: value, Path: cookiePath, HttpOnly: true, Secure: !httpapi.Loopback(r), SameSite: same, MaxAge: int(maxAge.Seconds())}
	if maxAge < 0 {
		c.MaxAge, c.Value = -1, ""
	}
	return c
}

func seeOther(to string) httpapi.Response {
	return httpapi.Response{Status: http.StatusSeeOther, Header: httpapi.NoStore(map[string]string{"Location": to})}
}

func withState(p, state string) string {
	if state == "" {
		return p
	}
	return p + "?state=" + url.QueryEscape(state)
}

// dashboardPage is the dashboard with a notice about the request (a
// sign-in that could not start or finish), in words.
func (h *handlers) dashboardPage(r *http.Request, status int, state, tenant, notice string) (httpapi.Response, error) {
	if len(state) > MaxStateLength {
		state = ""
	}
	body, err := pages.render("dashboard.html", pageData{State: state, Error: notice, Tenant: tenant})
	if err != nil {
		return httpapi.Response{}, identity.Internal("render dashboard.html", err)
	}
	return httpapi.Response{Status: status, Raw: []byte(body), ContentType: "text/html; charset=utf-8", Header: httpapi.NoStore(nil)}, nil
}

// signIn starts a person's sign-in to the dashboard, for the tenant the
// form names: to this service's authorization endpoint, as the tenant's
// dashboard client (response_type=code, PKCE S256, state, nonce).
func (h *handlers) signIn(w http.ResponseWriter, r *http.Request) (httpapi.Response, error) {
	q := r.URL.Query()
	state := q.Get("state")
	if len(state) > MaxStateLength {
		return h.dashboardPage(r, http.StatusBadRequest, "", "", "The state parameter is longer than 1024 characters. Open the dashboard without it.")
	}
	tenant := strings.TrimSpace(q.Get("tenant"))
	if _, err := identity.ParseGUID("tenant", tenant); err != nil {
		return h.dashboardPage(r, http.StatusBadRequest, state, "", "Enter your tenant's id, a GUID such as 5f0c3a52-7a1e-4c4e-9a57-2d7b1f0e6a10 (your administrator knows it).")
	}
	dc, err := h.SignIn.Clients.DashboardClient(r.Context(), tenant)
	if errors.Is(err, signin.ErrNotFound) {
		return h.dashboardPage(r, http.StatusBadRequest, state, tenant, "Tenant "+tenant+" has no dashboard sign-in (or does not exist). "+
			"An operator of the service registers one: make admin ARGS='dashboard register --tenant "+tenant+" --url <the API URL>'.")
	}
	if err != nil {
		return httpapi.Response{}, err
	}
	var f signInFlow
	for _, p := range []*string{&f.State, &f.Nonce} {
		if *p, err = signin.RandomToken(); err != nil {
			return httpapi.Response{}, err
		}
	}
	f.Verifier, f.TenantID, f.ClientID, f.ReturnState = oauth2.GenerateVerifier(), tenant, dc.ClientID, state
	raw, err := json.Marshal(f)
	if err != nil {
		return httpapi.Response{}, err
	}
	http.SetCookie(w, h.cookie(r, signInCookie, base64.RawURLEncoding.EncodeToString(raw), signInTimeout, http.SameSiteLaxMode))
	to := h.oauth(r, dc).AuthCodeURL(f.State, oauth2.SetAuthURLParam("nonce", f.Nonce), oauth2.S256ChallengeOption(f.Verifier))
	return continuePage(to), nil
}

// continuePage goes on to the authorization endpoint by a refresh, not a
// redirect: the sign-in form's submission would otherwise carry on, by
// redirects, to the tenant's upstream provider, another origin, which the
// page's CSP (form-action 'self') rightly blocks. A refresh of a loaded
// page is a navigation of its own; the link serves where refreshes are
// off. No script.
func continuePage(to string) httpapi.Response {
	u := html.EscapeString(to)
	doc := `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="0;url=` + u + `">` +
		`<meta name="viewport" content="width=device-width, initial-scale=1"><title>Signing in · Identity clients</title>` +
		`<link rel="stylesheet" href="/_/op-dashboard/assets/portal.css"></head><body><main><section class="card">` +
		`<h1>Signing in</h1><p><a id="continue" href="` + u + `">Continue to sign in</a></p></section></main></body></html>`
	return httpapi.Response{Status: http.StatusOK, Raw: []byte(doc), ContentType: "text/html; charset=utf-8", Header: httpapi.NoStore(nil)}
}

func readFlow(r *http.Request) (signInFlow, bool) {
	c, err := r.Cookie(signInCookie)
	if err != nil {
		return signInFlow{}, false
	}
	raw, err := base64.RawURLEncoding.DecodeString(c.Value)
	var f signInFlow
	if err != nil || json.Unmarshal(raw, &f) != nil || f.State == "" || f.Nonce == "" || f.Verifier == "" {
		return signInFlow{}, false
	}
	return f, true
}

func constantEqual(a, b string) bool {
	return len(a) == len(b) && sha256.Sum256([]byte(a)) == sha256.Sum256([]byte(b))
}

// callback is where the authorization endpoint returns the person: the
// code is redeemed with the dashboard client's secret and PKCE verifier,
// the ID token verified (signature, iss, aud, exp, nonce), and a session
// started. A person with no role that may use the dashboard lands on the
// no-access page, which names the role and who grants it.
func (h *handlers) callback(w http.ResponseWriter, r *http.Request) (httpapi.Response, error) {
	q := r.URL.Query()
	f, ok := readFlow(r)
	if !ok || !constantEqual(q.Get("state"), f.State) {
		return h.dashboardPage(r, http.StatusBadRequest, "", "", "This sign-in did not start in this browser, or took longer than 10 minutes. Sign in again.")
	}
	http.SetCookie(w, h.cookie(r, signInCookie, "", -1, http.SameSiteLaxMode))
	iss := h.SignIn.IssuerURL(r)
	if e := q.Get("error"); e != "" {
		why := q.Get("error_description")
		if why == "" {
			why = e
		}
		return h.dashboardPage(r, http.StatusBadRequest, f.ReturnState, f.TenantID, "The sign-in did not finish: "+why)
	}
	if got := q.Get("iss"); got != "" && got != iss { // RFC 9207: the answer is from our own issuer
		return h.dashboardPage(r, http.StatusBadRequest, f.ReturnState, f.TenantID, "The sign-in answer names another issuer; sign in again.")
	}
	ctx := r.Context()
	dc, err := h.SignIn.Clients.DashboardClient(ctx, f.TenantID)
	if errors.Is(err, signin.ErrNotFound) || (err == nil && dc.ClientID != f.ClientID) {
		return h.dashboardPage(r, http.StatusBadRequest, f.ReturnState, f.TenantID, "The tenant's dashboard sign-in changed while you signed in; sign in again.")
	}
	if err != nil {
		return httpapi.Response{}, err
	}
	tok, err := h.oauth(r, dc).Exchange(context.WithValue(ctx, oauth2.HTTPClient, h.http()), q.Get("code"), oauth2.VerifierOption(f.Verifier))
	var refused *oauth2.RetrieveError
	if errors.As(err, &refused) && refused.Response != nil && refused.Response.StatusCode < 500 {
		httpapi.Logger(ctx).WarnContext(ctx, "dashboard code refused", "tenant", f.TenantID, "error", refused.ErrorCode)
		return h.dashboardPage(r, http.StatusBadRequest, f.ReturnState, f.TenantID, "The token endpoint refused the sign-in: "+refused.ErrorDescription+" Sign in again.")
	}
	if err != nil {
		return httpapi.Response{}, fmt.Errorf("redeem the dashboard's code: %w", err)
	}
	rawID, _ := tok.Extra("id_token").(string)
	idt, err := h.SignIn.Verifier.VerifyIDToken(ctx, rawID, iss, dc.ClientID, f.Nonce)
	if err != nil {
		return httpapi.Response{}, fmt.Errorf("the dashboard's ID token: %w", err)
	}
	p, err := h.SignIn.Verifier.Verify(ctx, tok.AccessToken, iss)
	if err != nil || p.Subject != idt.Subject || p.TenantID != f.TenantID || p.ClientID != dc.ClientID {
		return httpapi.Response{}, fmt.Errorf("the dashboard's access token does not match its ID token (%v)", err)
	}
	id, value, secretHash, err := signin.NewSessionCookie()
	if err != nil {
		return httpapi.Response{}, err
	}
	csrf, err := signin.RandomToken()
	if err != nil {
		return httpapi.Response{}, err
	}
	now := time.Now()
	expires := tok.Expiry
	if expires.IsZero() || expires.After(now.Add(auth.TokenLifetime)) {
		expires = now.Add(auth.TokenLifetime)
	}
	se := signin.DashboardSession{ID: id, SecretHash: secretHash, CSRF: csrf, ClientID: dc.ClientID, TenantID: f.TenantID,
		Subject: idt.Subject, Name: idt.Name, Email: idt.Email, Roles: p.Roles, AuthTime: idt.AuthTime, Created: now,
		Expires: expires, AccessToken: tok.AccessToken, IDToken: rawID}
	if err := h.SignIn.Sessions.CreateDashboardSession(ctx, se); err != nil {
		return httpapi.Response{}, err
	}
	http.SetCookie(w, h.cookie(r, SessionCookie, value, time.Until(expires), http.SameSiteStrictMode))
	http.SetCookie(w, h.cookie(r, tenantCookie, f.TenantID, rememberTenant, http.SameSiteLaxMode))
	httpapi.Logger(ctx).InfoContext(ctx, "dashboard session started", "tenant", f.TenantID, "subject", se.Subject)
	if !slices.ContainsFunc(p.Roles, func(r string) bool { return slices.Contains(dashboardRoles, r) }) {
		to := NoAccessPath + "?" + url.Values{"role": {identity.RoleAccountAdministrator}}.Encode()
		if f.ReturnState != "" {
			to += "&state=" + url.QueryEscape(f.ReturnState)
		}
		return seeOther(to), nil
	}
	return seeOther(withState(DashboardPath, f.ReturnState)), nil
}

// currentSession is the browser's live dashboard session, if any.
func (h *handlers) currentSession(r *http.Request) (signin.DashboardSession, bool, error) {
	c, err := r.Cookie(SessionCookie)
	if err != nil {
		return signin.DashboardSession{}, false, nil
	}
	id, secret, ok := signin.SplitSessionCookie(c.Value)
	if !ok {
		return signin.DashboardSession{}, false, nil
	}
	se, err := h.SignIn.Sessions.GetDashboardSession(r.Context(), id)
	if errors.Is(err, signin.ErrNotFound) {
		return signin.DashboardSession{}, false, nil
	}
	if err != nil {
		return signin.DashboardSession{}, false, err
	}
	if !se.Matches(secret) {
		return signin.DashboardSession{}, false, nil
	}
	return se, true, nil
}

var errSignedOut = &identity.Error{Kind: identity.KindUnauthorized, Code: httpapi.CodeSignedOut,
	Message: "Nobody is signed in to the dashboard in this browser, or the sign-in expired (it lasts as long as its access token, an hour)."}

// SessionDto is the signed-in person, as the pages show them.
type SessionDto struct {
	Subject    string
	Name       string
	Email      string
	ClientId   string // the tenant's dashboard client
	TenantId   string
	TenantName string
	Roles      []RoleDto
	SignedInAt string // when the person authenticated at the upstream (RFC 3339)
	ExpiresAt  string
	// Csrf is the token the pages send with every call (CSRFHeader) and
	// with the sign-out form.
	Csrf string
	// Grants say who gives each tenant role: the tenant's upstream
	// provider, to people with one of Values in its claim Claim.
	Grants []RoleGrantDto
	// Upstream is the issuer of the tenant's upstream provider.
	Upstream string `json:",omitempty"`
}

// RoleGrantDto says which upstream claim values give a role.
type RoleGrantDto struct {
	RoleId   string
	RoleName string
	Claim    string
	Values   []string
}

// session answers who is signed in in this browser.
func (h *handlers) session(w http.ResponseWriter, r *http.Request) (httpapi.Response, error) {
	se, ok, err := h.currentSession(r)
	if err != nil {
		return httpapi.Response{}, err
	}
	if !ok {
		return httpapi.Response{}, errSignedOut
	}
	out := SessionDto{Subject: se.Subject, Name: se.Name, Email: se.Email, ClientId: se.ClientID, TenantId: se.TenantID, Roles: roleDtos(se.Roles),
		SignedInAt: se.AuthTime.UTC().Format(time.RFC3339), ExpiresAt: se.Expires.UTC().Format(time.RFC3339), Csrf: se.CSRF, Grants: []RoleGrantDto{}}
	if t, err := h.Tenants.GetTenant(r.Context(), se.TenantID); err == nil {
		out.TenantName = t.Name
	} else if identity.KindOf(err) != identity.KindNotFound {
		return httpapi.Response{}, err
	}
	up, err := h.SignIn.Upstreams.GetUpstream(r.Context(), se.TenantID)
	if err != nil && !errors.Is(err, signin.ErrUpstreamNotFound) {
		return httpapi.Response{}, err
	}
	if err == nil {
		out.Upstream = up.Issuer
		for _, id := range dashboardRoles {
			role, _ := identity.RoleByID(id)
			g := RoleGrantDto{RoleId: role.ID, RoleName: role.Name, Claim: up.RoleClaim, Values: []string{}}
			for v, ids := range up.RoleMap {
				if slices.Contains(ids, role.ID) {
					g.Values = append(g.Values, v)
				}
			}
			slices.Sort(g.Values)
			out.Grants = append(out.Grants, g)
		}
	}
	return httpapi.Response{Status: http.StatusOK, Body: out, Header: noStore}, nil
}

func roleDtos(ids []string) []RoleDto {
	out := []RoleDto{}
	for _, id := range ids {
		role, ok := identity.RoleByID(id)
		if !ok {
			role = identity.Role{ID: id, Name: "Unknown role " + id}
		}
		out = append(out, RoleDto{Id: role.ID, Name: role.Name, Cluster: role.Cluster})
	}
	return out
}

// CallDto is one call of the API that the pages ask the dashboard to make
// with the session's access token.
type CallDto struct {
	Method string
	Path   string          // /api/..., or the portal's last-sweep or changes routes, with its query
	Body   json.RawMessage `json:",omitempty"`
}

// maxAnswer bounds an API answer passed on (a Lambda answer is at most 6 MB).
const maxAnswer = 5 << 20

var callMethods = []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodDelete}

// call makes an API call for the pages with the session's access token
// (the token never reaches the browser) and passes the answer on: its
// status, body, content type and Total-Count. Only the management API's
// routes, the last-sweep route and the changes routes may be called; the
// call must carry the session's CSRF token in CSRFHeader (a header no
// other site's page can set without the preflight this origin never
// answers).
func (h *handlers) call(w http.ResponseWriter, r *http.Request) (httpapi.Response, error) {
	se, ok, err := h.currentSession(r)
	if err != nil {
		return httpapi.Response{}, err
	}
	if !ok {
		return httpapi.Response{}, errSignedOut
	}
	if !se.CSRFMatches(r.Header.Get(CSRFHeader)) {
		return httpapi.Response{}, &identity.Error{Kind: identity.KindForbidden, Code: httpapi.CodeDashboardCSRF, Message: "The call lacks the session's CSRF token."}
	}
	var c CallDto
	if err := httpapi.DecodeJSON(w, r, &c); err != nil {
		return httpapi.Response{}, err
	}
	target, err := callTarget(c)
	if err != nil {
		return httpapi.Response{}, err
	}
	var body io.Reader
	if len(c.Body) > 0 {
		body = bytes.NewReader(c.Body)
	}
	req, err := http.NewRequestWithContext(r.Context(), c.Method, h.apiBase(r)+target, body)
	if err != nil {
		return httpapi.Response{}, identity.Internal("dashboard call", err)
	}
	req.Header.Set("Authorization", "Bearer "+se.AccessToken)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := h.http().Do(req)
	if err != nil {
		return httpapi.Response{}, &identity.Error{Kind: identity.KindUnavailable, Code: identity.CodeUnavailable, Message: "The API did not answer the dashboard.", Err: err}
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(res.Body, maxAnswer))
	if err != nil {
		return httpapi.Response{}, &identity.Error{Kind: identity.KindUnavailable, Code: identity.CodeUnavailable, Message: "The API's answer to the dashboard was cut off.", Err: err}
	}
	hd := map[string]string{"Cache-Control": "no-store"}
	if tc := res.Header.Get("Total-Count"); tc != "" {
		hd["Total-Count"] = tc
	}
	return httpapi.Response{Status: res.StatusCode, Raw: raw, ContentType: res.Header.Get("Content-Type"), Header: hd}, nil
}

// callTarget checks a call's method and path: only the management API
// (/api/...), the last-sweep route and the changes routes, a plain path
// (no scheme, host, dot segments or fragment) and its query.
func callTarget(c CallDto) (string, error) {
	bad := func(msg string) error {
		return &identity.Error{Kind: identity.KindInvalid, Code: identity.CodeInvalid, Message: msg, Hint: "The dashboard's pages make these calls; call the API directly with your own token instead."}
	}
	if !slices.Contains(callMethods, c.Method) {
		return "", bad("Method must be GET, POST, PUT or DELETE.")
	}
	u, err := url.Parse(c.Path)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Fragment != "" || strings.Contains(c.Path, "\\") {
		return "", bad("Path must be a path of this API.")
	}
	clean := path.Clean(u.Path)
	if clean != u.Path && clean+"/" != u.Path {
		return "", bad("Path must be a plain path, without dot segments or repeated slashes.")
	}
	if !strings.HasPrefix(u.Path, "/api/") && u.Path != LastSweepPath && !isChangesPath(u.Path) {
		return "", bad("Path must be a route of the management API (/api/...), " + LastSweepPath + " or a changes route (" + ClientCredentialChangesPath + ", " + HybridChangesPath + ").")
	}
	target := u.EscapedPath()
	if u.RawQuery != "" {
		target += "?" + u.RawQuery
	}
	return target, nil
}

// signOut ends the dashboard session (the form carries its CSRF token),
// then the person's sign-in session at this service: the browser goes to
// the end-session endpoint with the ID token as hint, and back to the
// dashboard (the dashboard client's post-logout redirect URI).
func (h *handlers) signOut(w http.ResponseWriter, r *http.Request) (httpapi.Response, error) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	if !strings.HasPrefix(strings.ToLower(r.Header.Get("Content-Type")), "application/x-www-form-urlencoded") || r.ParseForm() != nil {
		return h.dashboardPage(r, http.StatusBadRequest, "", "", "Sign out with the Sign out button of the dashboard's pages.")
	}
	state := r.PostForm.Get("state")
	if len(state) > MaxStateLength {
		state = ""
	}
	se, ok, err := h.currentSession(r)
	if err != nil {
		return httpapi.Response{}, err
	}
	if !ok {
		return seeOther(withState(DashboardPath, state)), nil // signed out already
	}
	if !se.CSRFMatches(r.PostForm.Get("csrf")) {
		return h.dashboardPage(r, http.StatusForbidden, state, "", "This sign-out form was not sent from the dashboard's pages (its CSRF token is missing or wrong); you are still signed in.")
	}
	if err := h.SignIn.Sessions.EndDashboardSession(r.Context(), se.ID); err != nil {
		return httpapi.Response{}, err
	}
	http.SetCookie(w, h.cookie(r, SessionCookie, "", -1, http.SameSiteStrictMode))
	httpapi.Logger(r.Context()).InfoContext(r.Context(), "dashboard session ended", "tenant", se.TenantID, "subject", se.Subject)
	v := url.Values{"id_token_hint": {se.IDToken}, "post_logout_redirect_uri": {h.apiBase(r) + DashboardPath}}
	if state != "" {
		v.Set("state", state)
	}
	return seeOther(h.SignIn.IssuerURL(r) + "/connect/endsession?" + v.Encode()), nil
}

// rememberedTenant is the tenant of this browser's last dashboard sign-in.
func rememberedTenant(r *http.Request) string {
	c, err := r.Cookie(tenantCookie)
	if err != nil {
		return ""
	}
	if _, err := identity.ParseGUID("tenant", c.Value); err != nil {
		return ""
	}
	return c.Value
}
