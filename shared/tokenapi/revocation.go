package tokenapi

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"identityservice/shared/httpapi"
	"identityservice/shared/signin"
)

// RevocationPath is the token revocation endpoint (RFC 7009).
const RevocationPath = "/identity/connect/revocation"

// revoke is RFC 7009 token revocation. The client authenticates exactly as
// at the token endpoint (credentials, AuthenticateClient: Basic or post,
// one answer for every failure, constant-time checks). Then:
//
//   - a refresh token of this client (spent or not) revokes its whole
//     family, so no token of that sign-in refreshes again: 200;
//   - a refresh token of another client changes nothing and is refused
//     (2.1: the server verifies that the token was issued to the client):
//     400 unauthorized_client;
//   - an unknown, expired or malformed token: 200 (2.2: the client can do
//     nothing about it);
//   - an access token: 400 unsupported_token_type (2.2.1). Access tokens
//     are self-contained JWTs that every function verifies on its own for
//     their lifetime (at most an hour); nothing could stop one early, so
//     the client is told that it was not revoked rather than answered 200.
//     A refresh token (43 base64url characters) never has the JWT's three
//     dot-separated parts, so the shape alone tells them apart, without a
//     store read or a signature check.
//
// token_type_hint is accepted with any value (2.1: an unknown hint is not
// an error; "the server MAY ignore it"); it would only order the search,
// and the two kinds are told apart by their shape.
func (h *handlers) revoke(w http.ResponseWriter, r *http.Request) (httpapi.Response, error) {
	if err := parseForm(w, r); err != nil {
		return httpapi.Response{}, err
	}
	client, err := h.authenticate(r)
	if err != nil {
		return httpapi.Response{}, err
	}
	raw := r.PostForm.Get("token")
	if raw == "" {
		return httpapi.Response{}, oauthError(http.StatusBadRequest, "invalid_request", "token is required: the refresh token to revoke.")
	}
	ctx := r.Context()
	log := httpapi.Logger(ctx)
	if looksLikeJWT(raw) {
		return httpapi.Response{}, oauthError(http.StatusBadRequest, "unsupported_token_type",
			"Access tokens cannot be revoked: they are self-contained and expire by themselves (within an hour). Revoke the refresh token instead.")
	}
	now := time.Now()
	if h.codes.Now != nil {
		now = h.codes.Now()
	}
	t, err := h.codes.Refresh.RevokeRefresh(ctx, signin.HashKey(raw), client.ID, now)
	switch {
	case errors.Is(err, signin.ErrRefreshInvalid):
		log.InfoContext(ctx, "revocation of an unknown or expired token", "tenant", client.TenantID, "client", client.ID)
	case errors.Is(err, signin.ErrRefreshNotYours):
		log.WarnContext(ctx, "revocation of another client's refresh token refused", "tenant", client.TenantID, "client", client.ID)
		return httpapi.Response{}, oauthError(http.StatusBadRequest, "unauthorized_client", "The token was not issued to this client; only the client it was issued to may revoke it.")
	case err != nil:
		return httpapi.Response{}, serverError("The token could not be revoked; retry.", fmt.Errorf("revoke refresh token: %w", err))
	default:
		log.InfoContext(ctx, "refresh token family revoked", "tenant", t.TenantID, "client", client.ID, "sid", t.SessionID)
	}
	return httpapi.Response{Status: http.StatusOK, Header: httpapi.NoStore(nil)}, nil
}

// looksLikeJWT reports whether s has a JWS compact serialization's shape:
// three non-empty dot-separated parts.
func looksLikeJWT(s string) bool {
	parts := strings.Split(s, ".")
	return len(parts) == 3 && parts[0] != "" && parts[1] != "" && parts[2] != ""
}
