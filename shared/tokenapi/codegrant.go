package tokenapi

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"identityservice/shared/auth"
	"identityservice/shared/httpapi"
	"identityservice/shared/identity"
	"identityservice/shared/signin"
)

// codeGrant redeems an authorization code (RFC 6749 4.1.3, OpenID Connect
// Core 3.1.3) for a Hybrid client that has authenticated (as a client
// credentials request does, and with the same checks). The code is
// single-use (a conditional write) and lives at most signin.CodeLifetime;
// a second redemption fails and ends the session the code was issued in,
// so the tokens of the first stop at userinfo. PKCE is verified when the
// code was asked with a challenge (always for response_type=code), and a
// verifier without a challenge is refused (a downgrade). The tenant's
// upstream is read: removing it stops code exchanges at once.
func (h *handlers) codeGrant(r *http.Request, client identity.Client) (httpapi.Response, error) {
	if client.Kind != identity.Hybrid {
		return httpapi.Response{}, oauthError(http.StatusBadRequest, "unauthorized_client", "Only Hybrid clients may use the authorization_code grant.")
	}
	code, redirectURI, verifier := r.PostForm.Get("code"), r.PostForm.Get("redirect_uri"), r.PostForm.Get("code_verifier")
	if code == "" {
		return httpapi.Response{}, oauthError(http.StatusBadRequest, "invalid_request", "code is required with grant_type=authorization_code.")
	}
	if redirectURI == "" {
		return httpapi.Response{}, oauthError(http.StatusBadRequest, "invalid_request", "redirect_uri is required: the one the authorization request named.")
	}
	now := time.Now()
	if h.codes.Now != nil {
		now = h.codes.Now()
	}
	ctx := r.Context()
	c, err := h.codes.Codes.RedeemCode(ctx, signin.HashKey(code), client.ID, now)
	if errors.Is(err, signin.ErrCodeReplayed) {
		// RFC 6749 4.1.2: revoke what the code issued.
		if err := h.codes.Sessions.EndSession(ctx, c.SessionID); err != nil {
			return httpapi.Response{}, serverError("The code was refused; retry.", fmt.Errorf("end the session of a replayed code: %w", err))
		}
		httpapi.Logger(ctx).WarnContext(ctx, "authorization code replayed; its session ended", "tenant", c.TenantID, "client", client.ID, "sid", c.SessionID)
		return httpapi.Response{}, invalidGrant("The code was already redeemed; the tokens it issued are revoked. Start a new sign-in.")
	}
	if errors.Is(err, signin.ErrCodeInvalid) {
		return httpapi.Response{}, invalidGrant("The code is unknown, expired (codes live 60 seconds), or was issued to another client.")
	}
	if err != nil {
		return httpapi.Response{}, serverError("The code could not be redeemed; retry with a new sign-in.", fmt.Errorf("redeem code: %w", err))
	}
	if c.RedirectURI != redirectURI {
		return httpapi.Response{}, invalidGrant("redirect_uri differs from the one of the authorization request.")
	}
	switch {
	case c.CodeChallenge != "" && !signin.VerifyPKCE(c.CodeChallenge, verifier):
		return httpapi.Response{}, invalidGrant("code_verifier is missing or does not match the code_challenge (S256) of the authorization request.")
	case c.CodeChallenge == "" && verifier != "":
		return httpapi.Response{}, invalidGrant("code_verifier was sent, but the authorization request had no code_challenge.")
	}
	if _, err := h.codes.Upstreams.GetUpstream(ctx, c.TenantID); errors.Is(err, signin.ErrUpstreamNotFound) {
		return httpapi.Response{}, invalidGrant("The tenant's identity provider was removed; nobody of the tenant can sign in.")
	} else if err != nil {
		return httpapi.Response{}, serverError("The code could not be redeemed; retry with a new sign-in.", fmt.Errorf("read upstream: %w", err))
	}
	toks, err := h.codes.Tokens.Issue(ctx, auth.PersonGrant{
		Issuer: auth.IssuerURL(h.iss, r), ClientID: client.ID, TenantID: c.TenantID, Subject: c.Subject, SessionID: c.SessionID,
		Roles: c.Roles, Scopes: c.Scopes, Nonce: c.Nonce, AuthTime: c.AuthTime, Name: c.Name, Email: c.Email,
	}, true, true)
	if err != nil {
		return httpapi.Response{}, serverError("The tokens could not be issued; retry with a new sign-in.", fmt.Errorf("token signing: %w", err))
	}
	httpapi.Logger(ctx).InfoContext(ctx, "code redeemed", "tenant", c.TenantID, "client", client.ID, "sid", c.SessionID)
	return httpapi.Response{Status: http.StatusOK, Header: httpapi.NoStore(nil), Body: map[string]any{
		"access_token": toks.AccessToken,
		"token_type":   "Bearer",
		"expires_in":   toks.ExpiresIn,
		"id_token":     toks.IDToken,
		"scope":        strings.Join(c.Scopes, " "),
	}}, nil
}

func invalidGrant(desc string) *httpapi.OAuthError {
	return oauthError(http.StatusBadRequest, "invalid_grant", desc)
}
