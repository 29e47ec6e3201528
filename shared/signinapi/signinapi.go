// Package signinapi serves sign-in, this service as the OpenID Provider of
// a tenant's Hybrid clients: the authorization endpoint, the callback from
// the tenant's upstream provider, the consent page, userinfo and end
// session (docs/signin.md). People authenticate at the tenant's own
// provider (signin.Federation); this service keeps sessions, consents and
// codes, and signs the ID tokens of the front channel. Codes are redeemed
// at the token endpoint (shared/tokenapi).
package signinapi

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"identityservice/shared/auth"
	"identityservice/shared/config"
	"identityservice/shared/httpapi"
	"identityservice/shared/identity"
	"identityservice/shared/signin"
)

// Paths of the sign-in function's routes.
const (
	AuthorizePath  = "/identity/connect/authorize"
	ConsentPath    = "/identity/connect/consent"
	UserinfoPath   = "/identity/connect/userinfo"
	EndSessionPath = "/identity/connect/endsession"
	// NoAccessPath is the page (PortalFunction's) a person the tenant does
	// not admit is sent to.
	NoAccessPath = "/no-access-callback"
)

// Cookies. Both are HttpOnly, SameSite=Lax (sent on the top-level
// redirect back from the upstream), Secure except on loopback hosts, and
// scoped to /identity/connect.
const (
	SessionCookie     = "signin_session"
	InteractionCookie = "signin_interaction"
	cookiePath        = "/identity/connect"
)

// Clients finds the Hybrid client of an authorization request by its id
// alone (the request names no tenant).
type Clients interface {
	// ClientByID returns the client of any tenant, every field, and
	// whether it has an active secret, or identity.ErrClientNotFound.
	ClientByID(ctx context.Context, clientID string) (identity.Client, bool, error)
}

// Deps are what the routes need.
type Deps struct {
	Clients      Clients
	Upstreams    signin.UpstreamStore
	Federation   signin.Federation
	People       signin.People
	Sessions     signin.Sessions
	Consents     signin.Consents
	Codes        signin.Codes
	Interactions signin.Interactions
	Verifier     *auth.Verifier             // bearer tokens (userinfo) and id_token_hint
	IssuerURL    func(*http.Request) string // the issuer of a request (auth.IssuerURL)
	Now          func() time.Time
}

// NewRoutes returns the sign-in function's routes. None needs a bearer
// token of the management API: userinfo checks its own.
func NewRoutes(d Deps) []httpapi.Route {
	h := &handlers{Deps: d}
	page := func(f httpapi.Handler) httpapi.Handler { return h.pageErrors(f) }
	return []httpapi.Route{
		{Method: http.MethodGet, Path: AuthorizePath, Family: httpapi.OAuth, Handler: page(h.authorize)},
		{Method: http.MethodPost, Path: AuthorizePath, Family: httpapi.OAuth, Handler: page(h.authorize)},
		{Method: http.MethodGet, Path: signin.CallbackPath, Family: httpapi.OAuth, Handler: page(h.callback)},
		{Method: http.MethodPost, Path: ConsentPath, Family: httpapi.OAuth, Handler: page(h.consent)},
		{Method: http.MethodGet, Path: UserinfoPath, Family: httpapi.OAuth, Handler: h.userinfo},
		{Method: http.MethodPost, Path: UserinfoPath, Family: httpapi.OAuth, Handler: h.userinfo},
		{Method: http.MethodGet, Path: EndSessionPath, Family: httpapi.OAuth, Handler: page(h.endSession)},
		{Method: http.MethodPost, Path: EndSessionPath, Family: httpapi.OAuth, Handler: page(h.endSession)},
	}
}

type handlers struct{ Deps }

func (h *handlers) now() time.Time {
	if h.Now != nil {
		return h.Now()
	}
	return time.Now()
}

func (h *handlers) issuer(r *http.Request) string { return h.IssuerURL(r) }

// pageErrors shows an error of a page route as a page: the cause is
// logged, never shown.
func (h *handlers) pageErrors(f httpapi.Handler) httpapi.Handler {
	return func(w http.ResponseWriter, r *http.Request) (httpapi.Response, error) {
		res, err := f(w, r)
		if err == nil {
			return res, nil
		}
		httpapi.Logger(r.Context()).ErrorContext(r.Context(), "sign-in failed", "path", r.URL.Path, "error", err.Error())
		status := http.StatusInternalServerError
		msg := "Something went wrong on our side; nothing was changed. Try again in a moment."
		if identity.KindOf(err) == identity.KindUnavailable {
			status = http.StatusServiceUnavailable
			msg = "The service is busy; nothing was changed. Try again in a moment."
		}
		return errorPage(status, "Sign-in is unavailable", msg), nil
	}
}

// params reads a GET's query or a POST's form body (which must be
// application/x-www-form-urlencoded).
func params(w http.ResponseWriter, r *http.Request) (url.Values, *httpapi.Response) {
	if r.Method == http.MethodGet {
		return r.URL.Query(), nil
	}
	if !strings.HasPrefix(strings.ToLower(r.Header.Get("Content-Type")), "application/x-www-form-urlencoded") {
		res := errorPage(http.StatusUnsupportedMediaType, "This request cannot be served", "Send the form as application/x-www-form-urlencoded.")
		return nil, &res
	}
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	if err := r.ParseForm(); err != nil {
		res := errorPage(http.StatusBadRequest, "This request cannot be served", "The form is not valid, or larger than 16 KiB.")
		return nil, &res
	}
	return r.PostForm, nil
}

// lookupClient returns the client of a request, nil when there is none
// such. A client without an active secret (all deleted, soft-deleted or
// expired) is none: it could not redeem a code, so it gets none.
func (h *handlers) lookupClient(ctx context.Context, id string) (*identity.Client, error) {
	if _, err := identity.ParseGUID("client_id", id); err != nil {
		return nil, nil
	}
	c, active, err := h.Clients.ClientByID(ctx, id)
	if errors.Is(err, identity.ErrClientNotFound) || (err == nil && !active) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &c, nil
}

// authorize is the authorization endpoint (OpenID Connect Core 3.1.2 and
// 3.3.2).
func (h *handlers) authorize(w http.ResponseWriter, r *http.Request) (httpapi.Response, error) {
	q, bad := params(w, r)
	if bad != nil {
		return *bad, nil
	}
	iss := h.issuer(r)
	id, perr := signin.ClientOfRequest(q)
	if perr != nil {
		return authorizationError(perr, iss), nil
	}
	client, err := h.lookupClient(r.Context(), id)
	if err != nil {
		return httpapi.Response{}, err
	}
	req, aerr := signin.ParseAuthRequest(q, client)
	if aerr != nil {
		return authorizationError(aerr, iss), nil
	}
	up, res, err := h.upstream(r.Context(), req, iss)
	if res != nil || err != nil {
		return deref(res), err
	}
	se, ok, err := h.session(r, req.TenantID)
	if err != nil {
		return httpapi.Response{}, err
	}
	now := h.now()
	fresh := ok && !req.Prompted(signin.PromptLogin) && (req.MaxAge == nil || now.Sub(se.AuthTime) <= time.Duration(*req.MaxAge)*time.Second)
	if !fresh {
		if req.Prompted(signin.PromptNone) {
			return authError(req, iss, "login_required", "The person is not signed in (or not recently enough for max_age), and prompt=none forbids asking."), nil
		}
		return h.toUpstream(w, r, up, req, ok)
	}
	h.touch(r.Context(), se, now)
	return h.proceed(w, r, *client, se, req, false)
}

func deref(r *httpapi.Response) httpapi.Response {
	if r == nil {
		return httpapi.Response{}
	}
	return *r
}

func authError(req signin.AuthRequest, iss, code, desc string) httpapi.Response {
	return authorizationError(&signin.AuthError{Code: code, Description: desc, Redirect: true, Request: req}, iss)
}

// upstream reads the tenant's upstream; without one, nobody of the tenant
// signs in, and the client hears access_denied.
func (h *handlers) upstream(ctx context.Context, req signin.AuthRequest, iss string) (signin.Upstream, *httpapi.Response, error) {
	up, err := h.Upstreams.GetUpstream(ctx, req.TenantID)
	if errors.Is(err, signin.ErrUpstreamNotFound) {
		res := authError(req, iss, "access_denied", "The tenant of this client has no identity provider set, so nobody can sign in; its operator sets one with make admin ARGS='idp set ...'.")
		return up, &res, nil
	}
	return up, nil, err
}

// session returns the browser's live session for tenant, if any.
func (h *handlers) session(r *http.Request, tenantID string) (signin.Session, bool, error) {
	c, err := r.Cookie(SessionCookie)
	if err != nil {
		return signin.Session{}, false, nil
	}
	id, secret, ok := signin.SplitSessionCookie(c.Value)
	if !ok {
		return signin.Session{}, false, nil
	}
	se, err := h.Sessions.GetSession(r.Context(), id)
	if errors.Is(err, signin.ErrNotFound) {
		return signin.Session{}, false, nil
	}
	if err != nil {
		return signin.Session{}, false, err
	}
	if !se.Matches(secret) || !se.Live(h.now()) || (tenantID != "" && se.TenantID != tenantID) {
		return signin.Session{}, false, nil
	}
	return se, true, nil
}

// touch keeps a used session alive, writing at most once per
// SessionTouchEvery; a failure only shortens the session.
func (h *handlers) touch(ctx context.Context, se signin.Session, now time.Time) {
	if now.Sub(se.LastSeen) < signin.SessionTouchEvery {
		return
	}
	if err := h.Sessions.TouchSession(ctx, se, now); err != nil && !errors.Is(err, signin.ErrNotFound) {
		httpapi.Logger(ctx).WarnContext(ctx, "session not kept alive", "error", err.Error())
	}
}

// toUpstream sends the person to the tenant's provider, with this
// service's own state, nonce and PKCE verifier, kept in an interaction
// whose id is also in a cookie of this browser (so a callback carried to
// another browser is refused: login CSRF).
func (h *handlers) toUpstream(w http.ResponseWriter, r *http.Request, up signin.Upstream, req signin.AuthRequest, hadSession bool) (httpapi.Response, error) {
	state, err := signin.RandomToken()
	if err != nil {
		return httpapi.Response{}, err
	}
	nonce, err := signin.RandomToken()
	if err != nil {
		return httpapi.Response{}, err
	}
	verifier, err := signin.RandomToken()
	if err != nil {
		return httpapi.Response{}, err
	}
	now := h.now()
	if err := h.Interactions.CreateInteraction(r.Context(), signin.Interaction{
		Hash: signin.HashKey(state), Request: req, Nonce: nonce, Verifier: verifier, Expires: now.Add(signin.InteractionLifetime),
	}); err != nil {
		return httpapi.Response{}, err
	}
	sum := sha256.Sum256([]byte(verifier))
	prompt := ""
	if req.Prompted(signin.PromptLogin) || (hadSession && req.MaxAge != nil) {
		prompt = signin.PromptLogin // the upstream must authenticate anew
	}
	to, err := h.Federation.AuthCodeURL(r.Context(), up, signin.UpstreamRequest{
		State: state, Nonce: nonce, CodeChallenge: base64.RawURLEncoding.EncodeToString(sum[:]),
		RedirectURI: callbackURL(h.issuer(r)), Prompt: prompt, MaxAge: req.MaxAge, LoginHint: req.LoginHint,
	})
	if err != nil {
		return httpapi.Response{}, fmt.Errorf("upstream authorization URL: %w", err)
	}
	http.SetCookie(w, h.cookie(r, InteractionCookie, state, signin.InteractionLifetime))
	return redirect(to), nil
}

// callbackURL is the redirect URI this service registers at upstreams.
func callbackURL(iss string) string {
	return strings.TrimSuffix(iss, "/identity") + signin.CallbackPath
}

// cookie is one of sign-in's cookies; maxAge < 0 deletes it.
func (h *handlers) cookie(r *http.Request, name, value string, maxAge time.Duration) *http.Cookie {
	c := &http.Cookie{Name: name, Value: value, Path: cookiePath, HttpOnly: true, Secure: !loopback(r), SameSite: http.SameSiteLaxMode, MaxAge: int(maxAge.Seconds())}
	if maxAge < 0 {
		c.MaxAge, c.Value = -1, ""
	}
	return c
}

// loopback reports whether the request came to a loopback host (local
// development over http, where a Secure cookie would not be kept).
func loopback(r *http.Request) bool { return httpapi.Loopback(r) }

// callback is where the upstream sends the person back.
func (h *handlers) callback(w http.ResponseWriter, r *http.Request) (httpapi.Response, error) {
	q := r.URL.Query()
	state := q.Get("state")
	c, cerr := r.Cookie(InteractionCookie)
	if state == "" || cerr != nil || !constantEqual(c.Value, state) {
		return errorPage(http.StatusBadRequest, "This sign-in cannot continue", "The answer of the identity provider does not belong to a sign-in started in this browser (or the browser did not keep its cookie)."), nil
	}
	http.SetCookie(w, h.cookie(r, InteractionCookie, "", -1))
	now := h.now()
	it, err := h.Interactions.TakeInteraction(r.Context(), signin.HashKey(state), now)
	if errors.Is(err, signin.ErrNotFound) {
		return errorPage(http.StatusBadRequest, "This sign-in has expired", "The sign-in took longer than 10 minutes, or this answer was used already."), nil
	}
	if err != nil {
		return httpapi.Response{}, err
	}
	req, iss := it.Request, h.issuer(r)
	client, res, err := h.stillValid(r.Context(), req)
	if res != nil || err != nil {
		return deref(res), err
	}
	if e := q.Get("error"); e != "" {
		code := "access_denied"
		if e == "login_required" || e == "interaction_required" || e == "consent_required" {
			code = e
		}
		// The upstream's own words are not passed on: only its code, mapped.
		return authError(req, iss, code, "The identity provider did not sign the person in."), nil
	}
	up, res2, err := h.upstream(r.Context(), req, iss)
	if res2 != nil || err != nil {
		return deref(res2), err
	}
	who, err := h.Federation.Finish(r.Context(), up, q.Get("code"), it.Verifier, it.Nonce, callbackURL(iss))
	if errors.Is(err, signin.ErrOwnStorage) {
		return httpapi.Response{}, err // ours, not the upstream's refusal: an error page
	}
	if err != nil {
		httpapi.Logger(r.Context()).WarnContext(r.Context(), "upstream answer refused", "tenant", req.TenantID, "error", err.Error())
		return authError(req, iss, "access_denied", "The identity provider's answer could not be verified."), nil
	}
	roles, err := signin.Admit(up, who)
	var denied *signin.DeniedError
	if errors.As(err, &denied) {
		httpapi.Logger(r.Context()).InfoContext(r.Context(), "person not admitted", "tenant", req.TenantID, "reason", denied.Reason)
		to := NoAccessPath
		if req.State != "" {
			to += "?state=" + url.QueryEscape(req.State)
		}
		return redirect(to), nil
	}
	newSub, err := signin.RandomToken()
	if err != nil {
		return httpapi.Response{}, err
	}
	person, err := h.People.SavePerson(r.Context(), signin.Person{
		TenantID: req.TenantID, Issuer: who.Issuer, UpstreamSubject: who.Subject,
		Name: who.Name, Email: who.Email, EmailVerified: who.EmailVerified, Updated: now,
	}, newSub)
	if err != nil {
		return httpapi.Response{}, err
	}
	if old, ok, _ := h.session(r, ""); ok {
		_ = h.Sessions.EndSession(r.Context(), old.ID) // one session per browser
	}
	id, value, secretHash, err := signin.NewSessionCookie()
	if err != nil {
		return httpapi.Response{}, err
	}
	csrf, err := signin.RandomToken()
	if err != nil {
		return httpapi.Response{}, err
	}
	authTime := who.AuthTime
	if authTime.IsZero() {
		authTime = now
	}
	se := signin.Session{ID: id, SecretHash: secretHash, CSRF: csrf, TenantID: req.TenantID, Subject: person.Subject,
		Name: person.Name, Email: person.Email, Roles: roles, Issuer: who.Issuer, AuthTime: authTime, Created: now, LastSeen: now}
	if err := h.Sessions.CreateSession(r.Context(), se); err != nil {
		return httpapi.Response{}, err
	}
	http.SetCookie(w, h.cookie(r, SessionCookie, value, signin.SessionAbsolute))
	httpapi.Logger(r.Context()).InfoContext(r.Context(), "session started", "tenant", req.TenantID, "client", req.ClientID, "sid", se.ID)
	return h.proceed(w, r, client, se, req, true)
}

func constantEqual(a, b string) bool {
	return len(a) == len(b) && sha256.Sum256([]byte(a)) == sha256.Sum256([]byte(b))
}

// stillValid reads the client again (revocation follows the records on
// the very next request): still enabled, the redirect URI still its own.
// Otherwise the person sees a page; nothing is sent anywhere.
func (h *handlers) stillValid(ctx context.Context, req signin.AuthRequest) (identity.Client, *httpapi.Response, error) {
	c, err := h.lookupClient(ctx, req.ClientID)
	if err != nil {
		return identity.Client{}, nil, err
	}
	if c == nil || !c.Enabled || c.Kind != identity.Hybrid || c.TenantID != req.TenantID || !slices.Contains(c.RedirectURIs, req.RedirectURI) {
		res := errorPage(http.StatusBadRequest, "This application can no longer sign you in", "The application was disabled or removed, or its redirect URI was changed, while you were signing in.")
		return identity.Client{}, &res, nil
	}
	return *c, nil, nil
}

// proceed asks for consent unless it is remembered, then answers.
// signedIn: the person has just authenticated at the upstream.
func (h *handlers) proceed(w http.ResponseWriter, r *http.Request, c identity.Client, se signin.Session, req signin.AuthRequest, signedIn bool) (httpapi.Response, error) {
	consent, err := h.Consents.GetConsent(r.Context(), se.TenantID, se.Subject, c.ID)
	if err != nil && !errors.Is(err, signin.ErrNotFound) {
		return httpapi.Response{}, err
	}
	if err == nil && consent.Covers(req.Scopes) && !req.Prompted(signin.PromptConsent) {
		return h.respond(r, se, req)
	}
	if req.Prompted(signin.PromptNone) {
		return authError(req, h.issuer(r), "consent_required", "The person has not allowed this client these scopes, and prompt=none forbids asking."), nil
	}
	id, err := signin.RandomToken()
	if err != nil {
		return httpapi.Response{}, err
	}
	if err := h.Interactions.CreateInteraction(r.Context(), signin.Interaction{
		Hash: signin.HashKey(id), Request: req, SessionID: se.ID, Expires: h.now().Add(signin.InteractionLifetime),
	}); err != nil {
		return httpapi.Response{}, err
	}
	return consentPage(c, se, req, id), nil
}

// consent is the consent form's POST.
func (h *handlers) consent(w http.ResponseWriter, r *http.Request) (httpapi.Response, error) {
	q, bad := params(w, r)
	if bad != nil {
		return *bad, nil
	}
	se, ok, err := h.session(r, "")
	if err != nil {
		return httpapi.Response{}, err
	}
	if !ok {
		return errorPage(http.StatusBadRequest, "You are not signed in", "Your sign-in ended before you answered; start again from the application."), nil
	}
	if !se.CSRFMatches(q.Get("csrf")) {
		return errorPage(http.StatusForbidden, "This form was not sent from the consent page", "The form's CSRF token is missing or wrong; answer on the consent page itself."), nil
	}
	it, err := h.Interactions.TakeInteraction(r.Context(), signin.HashKey(q.Get("interaction")), h.now())
	if errors.Is(err, signin.ErrNotFound) || (err == nil && it.SessionID != se.ID) {
		return errorPage(http.StatusBadRequest, "This consent page has expired", "It was open longer than 10 minutes, or answered already; start again from the application."), nil
	}
	if err != nil {
		return httpapi.Response{}, err
	}
	req, iss := it.Request, h.issuer(r)
	if _, res, err := h.stillValid(r.Context(), req); res != nil || err != nil {
		return deref(res), err
	}
	if _, res, err := h.upstream(r.Context(), req, iss); res != nil || err != nil {
		return deref(res), err
	}
	switch q.Get("decision") {
	case "allow":
	case "deny":
		return authError(req, iss, "access_denied", "The person did not allow the application to sign them in."), nil
	default:
		return errorPage(http.StatusBadRequest, "No answer", "Press Allow or Deny."), nil
	}
	if err := h.Consents.PutConsent(r.Context(), signin.Consent{TenantID: se.TenantID, Subject: se.Subject, ClientID: req.ClientID, Scopes: req.Scopes, Granted: h.now()}); err != nil {
		return httpapi.Response{}, err
	}
	return h.respond(r, se, req)
}

// respond answers an authorization request whose person is signed in and
// has consented. A code alone is issued here. An answer that carries a
// signed token through the front channel (an ID token, an access token)
// is finished by the token function, the only one that holds the signing
// keys: the browser goes on to CompletePath with a single-use interaction
// bound to its session.
func (h *handlers) respond(r *http.Request, se signin.Session, req signin.AuthRequest) (httpapi.Response, error) {
	if !req.Has("id_token") && !req.Has("token") {
		return answer(r, answerDeps{Codes: h.Codes, IssuerURL: h.IssuerURL, Now: h.Now}, se, req)
	}
	id, err := signin.RandomToken()
	if err != nil {
		return httpapi.Response{}, err
	}
	if err := h.Interactions.CreateInteraction(r.Context(), signin.Interaction{
		Hash: signin.HashKey(id), Request: req, SessionID: se.ID, Expires: h.now().Add(signin.CodeLifetime),
	}); err != nil {
		return httpapi.Response{}, err
	}
	return redirect(CompletePath + "?" + url.Values{"interaction": {id}}.Encode()), nil
}

// Routes returns the sign-in function's routes, wired from the app.
func Routes(app *config.App) []httpapi.Route {
	st := app.SignIn()
	return NewRoutes(Deps{
		Clients: app, Upstreams: app.Upstreams(), Federation: app.Federation(),
		People: st, Sessions: st, Consents: st, Codes: st, Interactions: st,
		Verifier:  app.Authenticator.Verifier,
		IssuerURL: app.IssuerURL,
	})
}
