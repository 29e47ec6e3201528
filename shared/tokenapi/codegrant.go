package tokenapi

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
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
		// RFC 6749 4.1.2: revoke what the code issued (its session, and
		// the refresh token family named after it).
		if err := h.codes.Sessions.EndSession(ctx, c.SessionID); err != nil {
			return httpapi.Response{}, serverError("The code was refused; retry.", fmt.Errorf("end the session of a replayed code: %w", err))
		}
		if err := h.codes.Refresh.RevokeFamily(ctx, c.Hash); err != nil {
			return httpapi.Response{}, serverError("The code was refused; retry.", fmt.Errorf("revoke the refresh tokens of a replayed code: %w", err))
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
	grant := auth.PersonGrant{
		Issuer: h.iss(r), ClientID: client.ID, TenantID: c.TenantID, Subject: c.Subject, SessionID: c.SessionID,
		Roles: c.Roles, Scopes: c.Scopes, Nonce: c.Nonce, AuthTime: c.AuthTime, Name: c.Name, Email: c.Email,
	}
	var refresh *signin.RefreshToken
	if slices.Contains(c.Scopes, signin.ScopeOfflineAccess) {
		refresh = &signin.RefreshToken{FamilyID: c.Hash, ClientID: client.ID, TenantID: c.TenantID, Subject: c.Subject, SessionID: c.SessionID,
			Roles: c.Roles, Scopes: c.Scopes, Name: c.Name, Email: c.Email, AuthTime: c.AuthTime, Expires: now.Add(signin.RefreshLifetime)}
	}
	httpapi.Logger(ctx).InfoContext(ctx, "code redeemed", "tenant", c.TenantID, "client", client.ID, "sid", c.SessionID)
	return h.personTokens(r, grant, refresh)
}

// personTokens signs a person's access and ID tokens and, for offline
// access, stores and returns the next refresh token of its family.
func (h *handlers) personTokens(r *http.Request, grant auth.PersonGrant, refresh *signin.RefreshToken) (httpapi.Response, error) {
	toks, err := h.codes.Tokens.Issue(r.Context(), grant, true, true)
	if err != nil {
		return httpapi.Response{}, serverError("The tokens could not be issued; retry.", fmt.Errorf("token signing: %w", err))
	}
	body := map[string]any{
		"access_token": toks.AccessToken,
		"token_type":   "Bearer",
		"expires_in":   toks.ExpiresIn,
		"id_token":     toks.IDToken,
		"scope":        strings.Join(grant.Scopes, " "),
	}
	if refresh != nil {
		rt, err := signin.RandomToken()
		if err != nil {
			return httpapi.Response{}, serverError("The tokens could not be issued; retry.", err)
		}
		refresh.Hash = signin.HashKey(rt)
		if err := h.codes.Refresh.CreateRefresh(r.Context(), *refresh); err != nil {
			return httpapi.Response{}, serverError("The tokens could not be issued; retry.", fmt.Errorf("store refresh token: %w", err))
		}
		body["refresh_token"] = rt
	}
	return httpapi.Response{Status: http.StatusOK, Header: httpapi.NoStore(nil), Body: body}, nil
}

// refreshGrant rotates a refresh token (RFC 6749 6): the Hybrid client
// authenticated as for any grant; the token spent once (a conditional
// write; a spent one used again revokes its family); the tenant's
// upstream still set. scope may narrow what the family holds, never widen
// it; the spend's condition holds it to the token's scopes, so a refused
// widening spends nothing and the token stays usable.
func (h *handlers) refreshGrant(r *http.Request, client identity.Client) (httpapi.Response, error) {
	if client.Kind != identity.Hybrid {
		return httpapi.Response{}, oauthError(http.StatusBadRequest, "unauthorized_client", "Only Hybrid clients may use the refresh_token grant.")
	}
	raw := r.PostForm.Get("refresh_token")
	if raw == "" {
		return httpapi.Response{}, oauthError(http.StatusBadRequest, "invalid_request", "refresh_token is required with grant_type=refresh_token.")
	}
	now := time.Now()
	if h.codes.Now != nil {
		now = h.codes.Now()
	}
	ctx := r.Context()
	var asked []string
	if sc := r.PostForm.Get("scope"); sc != "" {
		asked = strings.Fields(sc)
	}
	t, err := h.codes.Refresh.UseRefresh(ctx, signin.HashKey(raw), client.ID, asked, now)
	switch {
	case errors.Is(err, signin.ErrRefreshScope):
		for _, s := range asked {
			if !slices.Contains(t.Scopes, s) {
				return httpapi.Response{}, oauthError(http.StatusBadRequest, "invalid_scope", fmt.Sprintf("scope %q was not granted at sign-in; a refresh can only narrow the scopes (this one holds %q). The refresh token was not used: send it again with a scope it holds, or without scope.", s, strings.Join(t.Scopes, " ")))
			}
		}
		return httpapi.Response{}, oauthError(http.StatusBadRequest, "invalid_scope", fmt.Sprintf("a refresh can only narrow the scopes, and this refresh token holds %q. The refresh token was not used: send it again without scope.", strings.Join(t.Scopes, " ")))
	case errors.Is(err, signin.ErrRefreshReused):
		httpapi.Logger(ctx).WarnContext(ctx, "refresh token reused; its family revoked", "tenant", t.TenantID, "client", client.ID)
		return httpapi.Response{}, invalidGrant("The refresh token was used before; every refresh token of its sign-in is revoked. Sign the person in again.")
	case errors.Is(err, signin.ErrRefreshInvalid):
		return httpapi.Response{}, invalidGrant("The refresh token is unknown, expired, revoked, or was issued to another client.")
	case err != nil:
		return httpapi.Response{}, serverError("The token could not be refreshed; retry.", fmt.Errorf("use refresh token: %w", err))
	}
	scopes := t.Scopes
	if len(asked) > 0 {
		scopes = asked
	}
	if _, err := h.codes.Upstreams.GetUpstream(ctx, t.TenantID); errors.Is(err, signin.ErrUpstreamNotFound) {
		return httpapi.Response{}, invalidGrant("The tenant's identity provider was removed; nobody of the tenant can sign in.")
	} else if err != nil {
		return httpapi.Response{}, serverError("The token could not be refreshed; retry.", fmt.Errorf("read upstream: %w", err))
	}
	next := t
	httpapi.Logger(ctx).InfoContext(ctx, "refresh token rotated", "tenant", t.TenantID, "client", client.ID)
	return h.personTokens(r, auth.PersonGrant{
		Issuer: h.iss(r), ClientID: client.ID, TenantID: t.TenantID, Subject: t.Subject, SessionID: t.SessionID,
		Roles: t.Roles, Scopes: scopes, AuthTime: t.AuthTime, Name: t.Name, Email: t.Email,
	}, &next)
}

func invalidGrant(desc string) *httpapi.OAuthError {
	return oauthError(http.StatusBadRequest, "invalid_grant", desc)
}
