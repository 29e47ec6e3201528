package signin

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"identityservice/shared/identity"
)

// Scopes this service knows. Any other scope is refused (invalid_scope):
// a relying party that asks for more than it can get should hear so.
const (
	ScopeOpenID        = "openid"
	ScopeProfile       = "profile"
	ScopeEmail         = "email"
	ScopeOfflineAccess = "offline_access"
)

// SupportedScopes are the scopes discovery lists.
var SupportedScopes = []string{ScopeOpenID, ScopeProfile, ScopeEmail, ScopeOfflineAccess}

// Response types (OpenID Connect Core 3 and OAuth 2.0 Multiple Response
// Type Encoding Practices), written in their canonical order.
const (
	ResponseCode             = "code"
	ResponseCodeIDToken      = "code id_token"
	ResponseCodeToken        = "code token"
	ResponseCodeIDTokenToken = "code id_token token"
	ResponseIDTokenToken     = "id_token token"
)

// SupportedResponseTypes are the response types discovery lists. The bare
// "id_token" and "token" are not served: a Hybrid client gets a code.
var SupportedResponseTypes = []string{ResponseCode, ResponseCodeIDToken, ResponseCodeToken, ResponseCodeIDTokenToken, ResponseIDTokenToken}

// Response modes.
const (
	ModeQuery    = "query"
	ModeFragment = "fragment"
	ModeFormPost = "form_post"
)

// SupportedResponseModes are the response modes discovery lists.
var SupportedResponseModes = []string{ModeQuery, ModeFragment, ModeFormPost}

// Prompt values (OpenID Connect Core 3.1.2.1); select_account is not
// served (one upstream account per browser session).
const (
	PromptNone    = "none"
	PromptLogin   = "login"
	PromptConsent = "consent"
)

// Bounds of what an authorization request may carry.
const (
	MaxStateLength     = 1024 // as the no-access page's (shared/portal)
	MaxNonceLength     = 512
	MaxLoginHintLength = 320
)

// AuthRequest is a valid authorization request of a Hybrid client.
type AuthRequest struct {
	ClientID      string
	TenantID      string
	RedirectURI   string
	ResponseType  string // canonical order: one of SupportedResponseTypes
	ResponseMode  string // query, fragment or form_post
	Scopes        []string
	State         string
	Nonce         string
	CodeChallenge string // S256; "" when not sent (allowed unless response_type=code)
	Prompt        string // "", none, login, consent or "login consent" (Prompted says)
	MaxAge        *int
	LoginHint     string
}

// Has reports whether the response type returns the part (code, id_token
// or token).
func (a AuthRequest) Has(part string) bool {
	return slices.Contains(strings.Fields(a.ResponseType), part)
}

// Prompted reports whether the request's prompt holds p.
func (a AuthRequest) Prompted(p string) bool { return slices.Contains(strings.Fields(a.Prompt), p) }

// HasScope reports whether the request asks for scope.
func (a AuthRequest) HasScope(scope string) bool { return slices.Contains(a.Scopes, scope) }

// AuthError is an error of the authorization request (OpenID Connect Core
// 3.1.2.6). When Redirect is false the redirect URI could not be trusted:
// the error is shown to the person, never sent anywhere.
type AuthError struct {
	Code        string // OAuth error code, e.g. invalid_request
	Description string // says what was wrong and how to fix it
	Redirect    bool
	// Request is what was read of the request before the error: where and
	// how to send it (RedirectURI, ResponseMode, State) when Redirect.
	Request AuthRequest
}

func (e *AuthError) Error() string { return e.Code + ": " + e.Description }

// pageError is an error shown on a page: the redirect URI is not to be
// trusted (yet).
func pageError(code, format string, args ...any) *AuthError {
	return &AuthError{Code: code, Description: fmt.Sprintf(format, args...)}
}

// ClientOfRequest is the client_id of a request, and a page error when it
// is missing or repeated.
func ClientOfRequest(q url.Values) (string, *AuthError) {
	if len(q["client_id"]) > 1 {
		return "", pageError("invalid_request", "client_id appears more than once; send it once.")
	}
	id := q.Get("client_id")
	if id == "" {
		return "", pageError("invalid_request", "client_id is missing; the application that sent you here must name itself.")
	}
	return id, nil
}

// ParseAuthRequest checks an authorization request of client (looked up
// by its client_id; nil when there is none such) against the rules of
// docs/signin.md. Errors before the redirect URI is known to be the
// client's are page errors; every later one goes to the redirect URI.
func ParseAuthRequest(q url.Values, client *identity.Client) (AuthRequest, *AuthError) {
	if _, err := ClientOfRequest(q); err != nil {
		return AuthRequest{}, err
	}
	if client == nil || client.Kind != identity.Hybrid || !client.Enabled {
		// One answer for unknown, disabled and non-Hybrid clients: which
		// one it is is not the browser's business.
		return AuthRequest{}, pageError("unauthorized_client", "No enabled Hybrid client has the client_id %q; the application that sent you here is not registered, is disabled, or has no active secret.", q.Get("client_id"))
	}
	for name, values := range q {
		if len(values) > 1 {
			if name == "redirect_uri" {
				return AuthRequest{}, pageError("invalid_request", "redirect_uri appears more than once; send it once.")
			}
			req := AuthRequest{ClientID: client.ID, TenantID: client.TenantID}
			return firstRedirect(q, client, req, "invalid_request", fmt.Sprintf("%s appears %d times; send each parameter once.", name, len(values)))
		}
	}
	redirect := q.Get("redirect_uri")
	if redirect == "" {
		return AuthRequest{}, pageError("invalid_request", "redirect_uri is missing; it is required and must be one of the client's RedirectUris.")
	}
	if !slices.Contains(client.RedirectURIs, redirect) {
		return AuthRequest{}, pageError("invalid_request", "redirect_uri %q is not one of this client's RedirectUris (an exact match is required); register it on the Hybrid client first.", redirect)
	}
	req := AuthRequest{ClientID: client.ID, TenantID: client.TenantID, RedirectURI: redirect, State: q.Get("state")}
	if len(req.State) > MaxStateLength {
		req.State = "" // not returned: it is not what the client sent
		return req, redirectErr(req, "invalid_request", fmt.Sprintf("state is longer than %d characters.", MaxStateLength))
	}
	// Where errors go from here: the default mode of the response type,
	// or the one asked for when it is valid for it.
	rt, rtOK := canonicalResponseType(q.Get("response_type"))
	req.ResponseType = rt
	req.ResponseMode = ModeFragment
	if rt == ResponseCode {
		req.ResponseMode = ModeQuery
	}
	switch mode := q.Get("response_mode"); mode {
	case "":
	case ModeQuery, ModeFragment, ModeFormPost:
		if mode == ModeQuery && rtOK && rt != ResponseCode {
			return req, redirectErr(req, "invalid_request", "response_mode=query is only for response_type=code: tokens never travel in a query string. Use fragment or form_post.")
		}
		req.ResponseMode = mode
	default:
		return req, redirectErr(req, "invalid_request", fmt.Sprintf("response_mode %q is not supported; use query (code only), fragment or form_post.", mode))
	}
	switch {
	case q.Get("response_type") == "":
		return req, redirectErr(req, "invalid_request", "response_type is missing; use code or code id_token.")
	case !rtOK:
		return req, redirectErr(req, "unsupported_response_type", fmt.Sprintf("response_type %q is not supported; use one of: %s.", q.Get("response_type"), strings.Join(SupportedResponseTypes, ", ")))
	case req.Has("token") && !client.AllowAccessTokensViaBrowser:
		return req, redirectErr(req, "unauthorized_client", fmt.Sprintf("response_type %q returns an access token through the browser, which this client does not allow (AllowAccessTokensViaBrowser is false); use code or code id_token.", rt))
	}
	if q.Has("request") {
		return req, redirectErr(req, "request_not_supported", "Request objects (the request parameter) are not supported; send the parameters themselves.")
	}
	if q.Has("request_uri") {
		return req, redirectErr(req, "request_uri_not_supported", "request_uri is not supported; send the parameters themselves.")
	}
	if q.Has("registration") {
		return req, redirectErr(req, "registration_not_supported", "The registration parameter is not supported; clients are registered through the Hybrid Clients API.")
	}
	scopes := strings.Fields(q.Get("scope"))
	if !slices.Contains(scopes, ScopeOpenID) {
		return req, redirectErr(req, "invalid_scope", "scope must contain openid: this is an OpenID Connect provider.")
	}
	for _, sc := range scopes {
		if !slices.Contains(SupportedScopes, sc) {
			return req, redirectErr(req, "invalid_scope", fmt.Sprintf("scope %q is not supported; use openid with any of profile, email, offline_access.", sc))
		}
		if sc == ScopeOfflineAccess && !client.AllowOfflineAccess {
			return req, redirectErr(req, "invalid_scope", "offline_access is not allowed for this client (AllowOfflineAccess is false); ask without it.")
		}
		if !slices.Contains(req.Scopes, sc) {
			req.Scopes = append(req.Scopes, sc)
		}
	}
	req.Nonce = q.Get("nonce")
	if len(req.Nonce) > MaxNonceLength {
		return req, redirectErr(req, "invalid_request", fmt.Sprintf("nonce is longer than %d characters.", MaxNonceLength))
	}
	if req.Has("id_token") && req.Nonce == "" {
		return req, redirectErr(req, "invalid_request", fmt.Sprintf("nonce is required with response_type %q: an ID token travels through the browser, and the nonce is what ties it to your session.", rt))
	}
	challenge, method := q.Get("code_challenge"), q.Get("code_challenge_method")
	switch {
	case challenge == "" && method != "":
		return req, redirectErr(req, "invalid_request", "code_challenge_method was sent without code_challenge.")
	case challenge == "" && rt == ResponseCode:
		return req, redirectErr(req, "invalid_request", "PKCE is required with response_type=code: send code_challenge (S256 of your code_verifier) and code_challenge_method=S256.")
	case challenge != "" && method != "S256":
		return req, redirectErr(req, "invalid_request", "code_challenge_method must be S256; plain (the default when it is absent) is refused.")
	case challenge != "" && !validChallenge(challenge):
		return req, redirectErr(req, "invalid_request", "code_challenge must be the base64url (no padding) SHA-256 of the code_verifier: 43 characters.")
	}
	req.CodeChallenge = challenge
	if challenge != "" && !req.Has("code") {
		return req, redirectErr(req, "invalid_request", "code_challenge was sent with a response type that returns no code.")
	}
	prompts := strings.Fields(q.Get("prompt"))
	for _, p := range prompts {
		switch p {
		case PromptNone, PromptLogin, PromptConsent:
		default:
			return req, redirectErr(req, "invalid_request", fmt.Sprintf("prompt %q is not supported; use none, login or consent.", p))
		}
	}
	if slices.Contains(prompts, PromptNone) && len(prompts) > 1 {
		return req, redirectErr(req, "invalid_request", "prompt=none cannot be combined with other prompt values.")
	}
	req.Prompt = strings.Join(prompts, " ")
	if ma := q.Get("max_age"); ma != "" {
		n, err := strconv.Atoi(ma)
		if err != nil || n < 0 {
			return req, redirectErr(req, "invalid_request", fmt.Sprintf("max_age %q must be a whole number of seconds, 0 or more.", ma))
		}
		req.MaxAge = &n
	}
	req.LoginHint = q.Get("login_hint")
	if len(req.LoginHint) > MaxLoginHintLength {
		return req, redirectErr(req, "invalid_request", fmt.Sprintf("login_hint is longer than %d characters.", MaxLoginHintLength))
	}
	return req, nil
}

// firstRedirect answers a repeated parameter: to the redirect URI when it
// is sent once and is the client's, on a page otherwise.
func firstRedirect(q url.Values, client *identity.Client, req AuthRequest, code, desc string) (AuthRequest, *AuthError) {
	uri := q.Get("redirect_uri")
	if len(q["redirect_uri"]) != 1 || !slices.Contains(client.RedirectURIs, uri) {
		return AuthRequest{}, pageError(code, "%s", desc)
	}
	req.RedirectURI, req.ResponseMode = uri, ModeFragment
	if len(q["state"]) == 1 && len(q.Get("state")) <= MaxStateLength {
		req.State = q.Get("state")
	}
	return req, redirectErr(req, code, desc)
}

func redirectErr(req AuthRequest, code, desc string) *AuthError {
	return &AuthError{Code: code, Description: desc, Redirect: true, Request: req}
}

// canonicalResponseType orders a response_type's parts (they may come in
// any order) and says whether it is supported.
func canonicalResponseType(rt string) (string, bool) {
	parts := strings.Fields(rt)
	rank := map[string]int{"code": 0, "id_token": 1, "token": 2}
	for _, p := range parts {
		if _, ok := rank[p]; !ok {
			return rt, false
		}
	}
	slices.SortFunc(parts, func(a, b string) int { return rank[a] - rank[b] })
	parts = slices.Compact(parts)
	canon := strings.Join(parts, " ")
	return canon, slices.Contains(SupportedResponseTypes, canon)
}

// validChallenge: an S256 challenge is 32 bytes in base64url, no padding.
func validChallenge(c string) bool {
	b, err := base64.RawURLEncoding.DecodeString(c)
	return err == nil && len(b) == sha256.Size
}

// VerifyPKCE checks a code_verifier (RFC 7636 4.1: 43 to 128 unreserved
// characters) against an S256 challenge, in constant time.
func VerifyPKCE(challenge, verifier string) bool {
	if len(verifier) < 43 || len(verifier) > 128 {
		return false
	}
	for _, r := range verifier {
		if !(r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || strings.ContainsRune("-._~", r)) {
			return false
		}
	}
	sum := sha256.Sum256([]byte(verifier))
	return subtle.ConstantTimeCompare([]byte(base64.RawURLEncoding.EncodeToString(sum[:])), []byte(challenge)) == 1
}
