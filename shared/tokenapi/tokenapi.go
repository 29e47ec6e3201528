// Package tokenapi serves the token endpoint (OAuth 2.0 client credentials
// grant, RFC 6749 section 4.4, and the authorization code grant of
// sign-in, codegrant.go), the OpenID discovery document and the JWKS; and
// finishes sign-in's answers that carry signed tokens through the front
// channel (signinapi.CompletePath), since only this function holds the
// signing keys.
package tokenapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"identityservice/shared/auth"
	"identityservice/shared/httpapi"
	"identityservice/shared/identity"
	"identityservice/shared/signin"
	"identityservice/shared/signinapi"
)

// Paths of the token function's routes.
const (
	TokenPath     = "/identity/connect/token"
	DiscoveryPath = "/identity/.well-known/openid-configuration"
	JWKSPath      = "/identity/.well-known/openid-configuration/jwks"
)

// Deps are what the token function's routes call.
type Deps struct {
	Clients ClientAuthenticator // checks a client's credentials (identity.Service)
	Tokens  TokenIssuer         // signs tokens and states the keys (auth.Issuer)
	// IssuerURL is the tokens' iss for a request (auth.IssuerURL).
	IssuerURL func(*http.Request) string
	// Codes is what the authorization_code and refresh_token grants need
	// beyond client authentication (NewCodeGrant).
	Codes CodeGrant
}

// CodeGrant is what the authorization_code grant needs beyond client
// authentication.
type CodeGrant struct {
	Codes    signin.Codes
	Sessions signin.Sessions // a replayed code ends the session it was issued in
	// Interactions hand over the authorization answers that carry signed
	// tokens through the front channel (signinapi.CompletePath).
	Interactions signin.Interactions
	// Refresh keeps the refresh tokens of offline access (rotated; a
	// reuse revokes the family).
	Refresh   signin.RefreshTokens
	Upstreams signin.UpstreamStore
	Tokens    *auth.PersonIssuer
	Now       func() time.Time
}

// SignInStore is the sign-in storage the code grant reads and writes.
type SignInStore interface {
	signin.Codes
	signin.Sessions
	signin.Interactions
	signin.RefreshTokens
}

// NewDeps wires the token function: client authentication, the client
// credentials grant's issuer and, over the same keys, the code grant.
func NewDeps(clients ClientAuthenticator, issuer *auth.Issuer, issuerURL func(*http.Request) string, st SignInStore, upstreams signin.UpstreamStore) Deps {
	return Deps{Clients: clients, Tokens: issuer, IssuerURL: issuerURL, Codes: NewCodeGrant(st, upstreams, issuer)}
}

// NewCodeGrant wires the code grant over the sign-in store, the tenants'
// upstreams and the token function's own signing keys (those of issuer:
// one key manager, one cache).
func NewCodeGrant(st SignInStore, upstreams signin.UpstreamStore, issuer *auth.Issuer) CodeGrant {
	return CodeGrant{Codes: st, Sessions: st, Interactions: st, Refresh: st, Upstreams: upstreams,
		Tokens: &auth.PersonIssuer{Keys: issuer.Keys, Audience: issuer.Audience}}
}

// ClientAuthenticator checks a client's id and secret: the client, or
// identity.ErrInvalidClient for every failure.
type ClientAuthenticator interface {
	AuthenticateClient(ctx context.Context, clientID, secret string) (identity.Client, error)
}

// TokenIssuer signs access tokens and states the keys that verify them.
type TokenIssuer interface {
	Issue(ctx context.Context, issuer string, c identity.Client) (string, time.Duration, error)
	// KeySet is this process's signing keys (on a fresh stack it creates
	// and publishes the first).
	KeySet(ctx context.Context) (auth.KeySet, error)
	// PublishedJWKS is the JWKS as published, which may be newer than
	// KeySet.
	PublishedJWKS(ctx context.Context) ([]byte, error)
}

// Routes returns the token function's routes; none needs a bearer token.
func Routes(d Deps) []httpapi.Route {
	h := &handlers{clients: d.Clients, tokens: d.Tokens, iss: d.IssuerURL, codes: d.Codes}
	return []httpapi.Route{
		{Method: http.MethodPost, Path: TokenPath, Family: httpapi.OAuth, Handler: h.token},
		{Method: http.MethodPost, Path: RevocationPath, Family: httpapi.OAuth, Handler: h.revoke},
		{Method: http.MethodGet, Path: DiscoveryPath, Family: httpapi.OAuth, Handler: h.discovery},
		{Method: http.MethodGet, Path: JWKSPath, Family: httpapi.OAuth, Handler: h.jwks},
		signinapi.CompletionRoute(signinapi.CompletionDeps{Interactions: d.Codes.Interactions, Sessions: d.Codes.Sessions, Codes: d.Codes.Codes,
			Tokens: d.Codes.Tokens, IssuerURL: d.IssuerURL, Now: d.Codes.Now}),
	}
}

type handlers struct {
	clients ClientAuthenticator
	tokens  TokenIssuer
	iss     func(*http.Request) string
	codes   CodeGrant
}

// oauthError is an RFC 6749 section 5.2 error answer; the route family's
// error format (httpapi.OAuth) writes it.
func oauthError(status int, code, description string) *httpapi.OAuthError {
	return &httpapi.OAuthError{Status: status, Code: code, Description: description}
}

// serverError is a 500 whose cause is logged, never sent.
func serverError(description string, cause error) *httpapi.OAuthError {
	return &httpapi.OAuthError{Status: http.StatusInternalServerError, Code: "server_error", Description: description, Err: cause}
}

var errBadAuthorization = errors.New("the Authorization header is not valid Basic")

// credentials reads client_secret_basic or client_secret_post
// credentials; using both at once is an invalid request.
// An Authorization header that is present but not valid Basic is an
// authentication failure (RFC 6749 2.3.1: the client tried and failed), not
// an absent one: errBadAuthorization, answered 401 invalid_client.
func credentials(r *http.Request) (id, secret string, ok bool, err error) {
	basicID, basicSecret, hasBasic := r.BasicAuth()
	if !hasBasic && len(r.Header.Values("Authorization")) > 0 {
		return "", "", false, errBadAuthorization
	}
	formID, formSecret := r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	switch {
	case hasBasic && formSecret != "":
		return "", "", false, errors.New("Use one client authentication method: HTTP Basic or client_secret in the body, not both.")
	case hasBasic:
		// RFC 6749 2.3.1: id and secret are form-encoded before Basic.
		if id, err = url.QueryUnescape(basicID); err != nil {
			return "", "", false, errors.New("The Basic credentials are not form-encoded correctly.")
		}
		if secret, err = url.QueryUnescape(basicSecret); err != nil {
			return "", "", false, errors.New("The Basic credentials are not form-encoded correctly.")
		}
		if formID != "" && formID != id {
			return "", "", false, errors.New("client_id in the body differs from the one in the Authorization header.")
		}
		return id, secret, true, nil
	case formID != "" || formSecret != "":
		return formID, formSecret, true, nil
	}
	return "", "", false, nil
}

// parseForm reads the form body of a token or revocation request (RFC
// 6749 3.2, RFC 7009 2.1): form-encoded, at most 16 KiB, each parameter
// once. Every answer of these routes, errors included, is no-store.
func parseForm(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	ct := r.Header.Get("Content-Type")
	if !strings.HasPrefix(strings.ToLower(ct), "application/x-www-form-urlencoded") {
		return oauthError(http.StatusBadRequest, "invalid_request", "Send the request as application/x-www-form-urlencoded.")
	}
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	if err := r.ParseForm(); err != nil {
		return oauthError(http.StatusBadRequest, "invalid_request", "The request body is not a valid form.")
	}
	// RFC 6749 3.2: request parameters must not be included more than once.
	for name, values := range r.PostForm {
		if len(values) > 1 {
			return oauthError(http.StatusBadRequest, "invalid_request", fmt.Sprintf("The parameter %s appears %d times in the body; send each parameter once.", name, len(values)))
		}
	}
	return nil
}

// authenticate checks the client credentials of a parsed token or
// revocation request (client_secret_basic or client_secret_post): the
// client, or the OAuth error to answer (401 invalid_client, one answer for
// every failed authentication).
func (h *handlers) authenticate(r *http.Request) (identity.Client, error) {
	id, secret, ok, err := credentials(r)
	if errors.Is(err, errBadAuthorization) {
		return identity.Client{}, oauthError(http.StatusUnauthorized, "invalid_client", "The Authorization header is not valid HTTP Basic client authentication; send Basic base64(client_id:client_secret), or no Authorization header and the credentials in the body.")
	}
	if err != nil {
		return identity.Client{}, oauthError(http.StatusBadRequest, "invalid_request", err.Error())
	}
	if !ok {
		return identity.Client{}, oauthError(http.StatusUnauthorized, "invalid_client", identity.ErrInvalidClient.Message)
	}
	client, err := h.clients.AuthenticateClient(r.Context(), id, secret)
	if errors.Is(err, identity.ErrInvalidClient) {
		return identity.Client{}, oauthError(http.StatusUnauthorized, "invalid_client", identity.ErrInvalidClient.Message)
	}
	if err != nil {
		return identity.Client{}, serverError("The request could not be authenticated; retry.", fmt.Errorf("client authentication: %w", err))
	}
	return client, nil
}

func (h *handlers) token(w http.ResponseWriter, r *http.Request) (httpapi.Response, error) {
	if err := parseForm(w, r); err != nil {
		return httpapi.Response{}, err
	}
	gt := r.PostForm.Get("grant_type")
	switch gt {
	case "":
		return httpapi.Response{}, oauthError(http.StatusBadRequest, "invalid_request", "grant_type is required; use client_credentials, authorization_code or refresh_token.")
	case "client_credentials", "authorization_code", "refresh_token":
	default:
		return httpapi.Response{}, oauthError(http.StatusBadRequest, "unsupported_grant_type", "Only the client_credentials, authorization_code and refresh_token grants are supported.")
	}
	client, err := h.authenticate(r)
	if err != nil {
		return httpapi.Response{}, err
	}
	switch gt {
	case "authorization_code":
		return h.codeGrant(r, client)
	case "refresh_token":
		return h.refreshGrant(r, client)
	}
	if client.Kind != identity.ClientCredential {
		return httpapi.Response{}, oauthError(http.StatusBadRequest, "unauthorized_client", "This client may not use the client_credentials grant.")
	}
	token, lifetime, err := h.tokens.Issue(r.Context(), h.iss(r), client)
	if err != nil {
		return httpapi.Response{}, serverError("The token could not be issued; retry.", fmt.Errorf("token signing: %w", err))
	}
	httpapi.Logger(r.Context()).InfoContext(r.Context(), "token issued", "tenant", client.TenantID, "client", client.ID)
	return httpapi.Response{Status: http.StatusOK, Header: httpapi.NoStore(nil), Body: map[string]any{
		"access_token": token,
		"token_type":   "Bearer",
		"expires_in":   int(lifetime.Seconds()),
	}}, nil
}

// AccessTokenAlgsMember is the discovery document's member that lists the
// algorithms of the published signing keys, the active key's first. RFC
// 8414 has no member for the algorithm of access tokens, so it is an
// extension of this service (docs/api.md); the JWKS states each key's
// "alg" too, and that is what verifiers hold a token to.
const AccessTokenAlgsMember = "access_token_signing_alg_values_supported"

func (h *handlers) discovery(w http.ResponseWriter, r *http.Request) (httpapi.Response, error) {
	// The key set (cached per process for KeyRefresh; on a fresh stack this
	// creates the first key) says which algorithms tokens are signed with.
	ks, err := h.tokens.KeySet(r.Context())
	if err != nil {
		return httpapi.Response{}, serverError("The signing keys could not be read; retry.", fmt.Errorf("signing keys unavailable: %w", err))
	}
	algs := ks.Algs(time.Now())
	iss := h.iss(r)
	base := strings.TrimSuffix(iss, "/identity")
	return httpapi.Response{Status: http.StatusOK, Header: map[string]string{"Cache-Control": "public, max-age=300"}, Body: map[string]any{
		"issuer":                 iss,
		"jwks_uri":               base + JWKSPath,
		"token_endpoint":         base + TokenPath,
		"authorization_endpoint": base + signinapi.AuthorizePath,
		"userinfo_endpoint":      base + signinapi.UserinfoPath,
		"end_session_endpoint":   base + signinapi.EndSessionPath,
		"revocation_endpoint":    base + RevocationPath,
		// RFC 8414 2: the same client authentication as the token endpoint.
		"revocation_endpoint_auth_methods_supported": []string{"client_secret_basic", "client_secret_post"},
		"grant_types_supported":                      []string{"client_credentials", "authorization_code", "refresh_token", "implicit"},
		"token_endpoint_auth_methods_supported":      []string{"client_secret_basic", "client_secret_post"},
		"response_types_supported":                   signin.SupportedResponseTypes,
		"response_modes_supported":                   signin.SupportedResponseModes,
		"scopes_supported":                           signin.SupportedScopes,
		"code_challenge_methods_supported":           []string{"S256"},
		"prompt_values_supported":                    []string{signin.PromptNone, signin.PromptLogin, signin.PromptConsent},
		"subject_types_supported":                    []string{"public"},
		AccessTokenAlgsMember:                        algs,
		// ID tokens are signed by the same keys as access tokens.
		"id_token_signing_alg_values_supported": algs,
		"claims_supported": []string{"iss", "sub", "aud", "exp", "iat", "nbf", "jti", "client_id", "tid", "role",
			"auth_time", "nonce", "sid", "at_hash", "c_hash", "name", "email", "scope"},
		"claims_parameter_supported":                     false,
		"request_parameter_supported":                    false,
		"request_uri_parameter_supported":                false,
		"authorization_response_iss_parameter_supported": true,
	}}, nil
}

// jwksCacheControl lets a verifier or a cache in between keep the JWKS no
// longer than this service's own verifiers do (auth.KeyRefresh, 60 s): a
// revoked key then leaves every honest verifier's trust within that
// interval, not within a cache lifetime longer than it.
var jwksCacheControl = fmt.Sprintf("public, max-age=%d", int(auth.KeyRefresh.Seconds()))

func (h *handlers) jwks(w http.ResponseWriter, r *http.Request) (httpapi.Response, error) {
	// Load the key set first: on a fresh stack that creates and publishes
	// the first key. Then serve what is published, not this process's
	// cached set, so that a key rotated in by another process (or by the
	// operator) is visible at once.
	if _, err := h.tokens.KeySet(r.Context()); err != nil {
		return httpapi.Response{}, serverError("The signing keys could not be read; retry.", fmt.Errorf("signing keys unavailable: %w", err))
	}
	body, err := h.tokens.PublishedJWKS(r.Context())
	if err != nil {
		return httpapi.Response{}, serverError("The signing keys could not be read; retry.", fmt.Errorf("published JWKS unreadable: %w", err))
	}
	return httpapi.Response{Status: http.StatusOK, Header: map[string]string{"Cache-Control": jwksCacheControl}, Raw: body, ContentType: "application/json"}, nil
}
