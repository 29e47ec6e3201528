package signinapi

import (
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"identityservice/shared/auth"
	"identityservice/shared/httpapi"
	"identityservice/shared/signin"
)

// userinfo answers for a person's access token (OpenID Connect Core 5.3)
// while its session lives: a token of an ended session (signed out, or
// revoked by a replayed code) gets nothing more, though its signature
// still verifies until it expires.
func (h *handlers) userinfo(w http.ResponseWriter, r *http.Request) (httpapi.Response, error) {
	w.Header().Set("Cache-Control", "no-store")
	p, err := (&auth.BearerAuthenticator{Verifier: h.Verifier, Issuer: h.IssuerURL}).Authenticate(r)
	if errors.Is(err, auth.ErrInvalidToken) || (err == nil && p.SessionID == "") {
		return invalidToken(w, "Send a person's access token from this service as Authorization: Bearer <token>; a client's own token names nobody.")
	}
	if err != nil {
		return httpapi.Response{}, &httpapi.OAuthError{Status: http.StatusInternalServerError, Code: "server_error", Description: "The token could not be checked; retry.", Err: err}
	}
	se, err := h.Sessions.GetSession(r.Context(), p.SessionID)
	if errors.Is(err, signin.ErrNotFound) || (err == nil && se.Subject != p.Subject) {
		return invalidToken(w, "The session this token was issued in has ended; sign in again.")
	}
	if err != nil {
		return httpapi.Response{}, &httpapi.OAuthError{Status: http.StatusInternalServerError, Code: "server_error", Description: "The session could not be read; retry.", Err: err}
	}
	scopes := strings.Fields(p.Scope)
	out := map[string]any{"sub": se.Subject, "tid": se.TenantID}
	if slices.Contains(scopes, signin.ScopeProfile) {
		out["name"] = se.Name
	}
	if slices.Contains(scopes, signin.ScopeEmail) {
		out["email"] = se.Email
	}
	return httpapi.Response{Status: http.StatusOK, Body: out, Header: httpapi.NoStore(nil)}, nil
}

// invalidToken is RFC 6750 3.1's answer to a missing or bad token.
func invalidToken(w http.ResponseWriter, desc string) (httpapi.Response, error) {
	w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token", error_description="`+strings.ReplaceAll(desc, `"`, "'")+`"`)
	return httpapi.Response{}, &httpapi.OAuthError{Status: http.StatusUnauthorized, Code: "invalid_token", Description: desc}
}

// endSession is RP-initiated logout (OpenID Connect RP-Initiated Logout
// 1.0). A valid id_token_hint ends the session it names at once, and only
// with one may the person be sent to post_logout_redirect_uri, which must
// be one of the hint's client's PostLogoutRedirectUris. Without a hint the
// person confirms on a page whose form carries the session's CSRF token.
func (h *handlers) endSession(w http.ResponseWriter, r *http.Request) (httpapi.Response, error) {
	q, bad := params(w, r)
	if bad != nil {
		return *bad, nil
	}
	for name, vs := range q {
		if len(vs) > 1 {
			return errorPage(http.StatusBadRequest, "This sign-out request cannot be served", name+" appears more than once; send each parameter once."), nil
		}
	}
	se, hasSession, err := h.session(r, "")
	if err != nil {
		return httpapi.Response{}, err
	}
	iss := h.issuer(r)
	var hint *auth.IDTokenHint
	if raw := q.Get("id_token_hint"); raw != "" {
		got, err := h.Verifier.VerifyIDTokenHint(r.Context(), raw, iss)
		if err != nil {
			return errorPage(http.StatusBadRequest, "This sign-out request cannot be served", "id_token_hint is not an ID token this service issued."), nil
		}
		if cid := q.Get("client_id"); cid != "" && cid != got.ClientID {
			return errorPage(http.StatusBadRequest, "This sign-out request cannot be served", "client_id differs from the audience of id_token_hint."), nil
		}
		hint = &got
	}
	to := q.Get("post_logout_redirect_uri")
	if to != "" {
		if hint == nil {
			return errorPage(http.StatusBadRequest, "This sign-out request cannot be served", "post_logout_redirect_uri is honoured only with a valid id_token_hint; without one, you stay here after signing out."), nil
		}
		c, err := h.lookupClient(r.Context(), hint.ClientID)
		if err != nil {
			return httpapi.Response{}, err
		}
		if c == nil || !slices.Contains(c.PostLogoutRedirectURIs, to) {
			return errorPage(http.StatusBadRequest, "This sign-out request cannot be served", "post_logout_redirect_uri is not one of the client's PostLogoutRedirectUris (an exact match is required)."), nil
		}
	}
	confirmed := r.Method == http.MethodPost && hasSession && se.CSRFMatches(q.Get("csrf"))
	if r.Method == http.MethodPost && q.Has("csrf") && !confirmed {
		return errorPage(http.StatusForbidden, "This form was not sent from the sign-out page", "The form's CSRF token is missing or wrong; sign out on the sign-out page itself."), nil
	}
	switch {
	case hint != nil:
		// The hint's session ends, and the browser's if it is that one.
		if err := h.Sessions.EndSession(r.Context(), hint.SessionID); err != nil {
			return httpapi.Response{}, err
		}
		if hasSession && se.ID == hint.SessionID {
			http.SetCookie(w, h.cookie(r, SessionCookie, "", -1))
		}
	case confirmed:
		if err := h.Sessions.EndSession(r.Context(), se.ID); err != nil {
			return httpapi.Response{}, err
		}
		http.SetCookie(w, h.cookie(r, SessionCookie, "", -1))
	case hasSession:
		return signOutPage(se), nil
	}
	httpapi.Logger(r.Context()).InfoContext(r.Context(), "session ended")
	if to != "" {
		u, _ := url.Parse(to)
		if st := q.Get("state"); st != "" {
			v := u.Query()
			v.Set("state", st)
			u.RawQuery = v.Encode()
		}
		return redirect(u.String()), nil
	}
	return signedOutPage(), nil
}
