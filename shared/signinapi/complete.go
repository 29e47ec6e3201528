package signinapi

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"identityservice/shared/auth"
	"identityservice/shared/httpapi"
	"identityservice/shared/signin"
)

// CompletePath finishes an authorization answer that carries signed
// tokens through the front channel. The token function serves it: only
// it may read the signing keys (template.yaml), so SignInFunction never
// holds them.
const CompletePath = "/identity/connect/authorize/complete"

// CompletionDeps are what CompletePath needs.
type CompletionDeps struct {
	Interactions signin.Interactions
	Sessions     signin.Sessions
	Codes        signin.Codes
	Tokens       *auth.PersonIssuer
	IssuerURL    func(*http.Request) string // the issuer of a request (auth.IssuerURL)
	Now          func() time.Time
}

// CompletionRoute is the route of CompletePath, for the token function.
func CompletionRoute(d CompletionDeps) httpapi.Route {
	return httpapi.Route{Method: http.MethodGet, Path: CompletePath, Family: httpapi.OAuth, Handler: (&completion{d}).serve}
}

type completion struct{ CompletionDeps }

// serve takes the interaction (single-use, CodeLifetime) that
// SignInFunction made for this browser's session, and answers the
// authorization request with its code and tokens.
func (c *completion) serve(w http.ResponseWriter, r *http.Request) (httpapi.Response, error) {
	now := time.Now()
	if c.Now != nil {
		now = c.Now()
	}
	expired := errorPage(http.StatusBadRequest, "This sign-in has expired", "The answer was not collected in time, or was collected already; start again from the application.")
	id := r.URL.Query().Get("interaction")
	ck, err := r.Cookie(SessionCookie)
	if id == "" || err != nil {
		return expired, nil
	}
	sid, secret, ok := signin.SplitSessionCookie(ck.Value)
	if !ok {
		return expired, nil
	}
	it, err := c.Interactions.TakeInteraction(r.Context(), signin.HashKey(id), now)
	if errors.Is(err, signin.ErrNotFound) || (err == nil && it.SessionID != sid) {
		return expired, nil
	}
	if err != nil {
		return pageError(r, err), nil
	}
	se, err := c.Sessions.GetSession(r.Context(), sid)
	if errors.Is(err, signin.ErrNotFound) || (err == nil && !se.Matches(secret)) {
		return expired, nil
	}
	if err != nil {
		return pageError(r, err), nil
	}
	res, err := answer(r, answerDeps{Codes: c.Codes, Tokens: c.Tokens, IssuerURL: c.IssuerURL, Now: c.Now}, se, it.Request)
	if err != nil {
		return pageError(r, err), nil
	}
	return res, nil
}

func pageError(r *http.Request, err error) httpapi.Response {
	httpapi.Logger(r.Context()).ErrorContext(r.Context(), "sign-in failed", "path", r.URL.Path, "error", err.Error())
	return errorPage(http.StatusInternalServerError, "Sign-in is unavailable", "Something went wrong on our side; nothing was changed. Try again in a moment.")
}

// answerDeps are what issuing an authorization answer needs; Tokens is
// nil where no token is signed (SignInFunction).
type answerDeps struct {
	Codes     signin.Codes
	Tokens    *auth.PersonIssuer
	IssuerURL func(*http.Request) string
	Now       func() time.Time
}

// answer issues what the response type asks for: a code (stored under its
// hash, single-use, CodeLifetime), and in the front channel an ID token
// (with c_hash beside a code, at_hash beside an access token) and an
// access token.
func answer(r *http.Request, d answerDeps, se signin.Session, req signin.AuthRequest) (httpapi.Response, error) {
	iss := d.IssuerURL(r)
	now := time.Now()
	if d.Now != nil {
		now = d.Now()
	}
	out := url.Values{}
	grant := auth.PersonGrant{Issuer: iss, ClientID: req.ClientID, TenantID: req.TenantID, Subject: se.Subject, SessionID: se.ID,
		Roles: se.Roles, Scopes: req.Scopes, Nonce: req.Nonce, AuthTime: se.AuthTime, Name: se.Name, Email: se.Email}
	if req.Has("code") {
		code, err := signin.RandomToken()
		if err != nil {
			return httpapi.Response{}, err
		}
		if err := d.Codes.CreateCode(r.Context(), signin.Code{Hash: signin.HashKey(code), ClientID: req.ClientID, TenantID: req.TenantID,
			RedirectURI: req.RedirectURI, Scopes: req.Scopes, Nonce: req.Nonce, CodeChallenge: req.CodeChallenge, Subject: se.Subject,
			Name: se.Name, Email: se.Email, Roles: se.Roles, SessionID: se.ID, AuthTime: se.AuthTime, Expires: now.Add(signin.CodeLifetime)}); err != nil {
			return httpapi.Response{}, err
		}
		out.Set("code", code)
		grant.Code = code
	}
	if req.Has("token") || req.Has("id_token") {
		if d.Tokens == nil {
			return httpapi.Response{}, errors.New("front-channel tokens asked of a function that does not sign")
		}
		toks, err := d.Tokens.Issue(r.Context(), grant, req.Has("token"), req.Has("id_token"))
		if err != nil {
			return httpapi.Response{}, fmt.Errorf("sign front-channel tokens: %w", err)
		}
		if toks.IDToken != "" {
			out.Set("id_token", toks.IDToken)
		}
		if toks.AccessToken != "" {
			out.Set("access_token", toks.AccessToken)
			out.Set("token_type", "Bearer")
			out.Set("expires_in", fmt.Sprint(toks.ExpiresIn))
			out.Set("scope", strings.Join(req.Scopes, " "))
		}
	}
	httpapi.Logger(r.Context()).InfoContext(r.Context(), "authorization answered", "tenant", req.TenantID, "client", req.ClientID, "response_type", req.ResponseType)
	return authorizationResponse(req, iss, out), nil
}
