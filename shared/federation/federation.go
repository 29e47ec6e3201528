// Package federation is signin.Federation on the OpenID Connect libraries
// github.com/coreos/go-oidc/v3 (discovery, the JWKS cache, ID token
// verification, userinfo) and golang.org/x/oauth2 (the authorization URL,
// the code exchange with PKCE): it sends a person to their tenant's
// upstream provider and verifies who came back. The one thing it holds is
// a cache of discovered providers, per issuer, each with its JWKS.
package federation

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"identityservice/shared/signin"
)

// Scopes are what this service asks every upstream for.
var Scopes = []string{oidc.ScopeOpenID, "email", "profile"}

// DiscoveryTTL is how long a discovered provider is kept before its
// discovery document is read again. Its JWKS is go-oidc's RemoteKeySet:
// kept until a token names a key it lacks, then read again.
const DiscoveryTTL = time.Hour

// Error is a failed step of a sign-in at an upstream. Step says which:
// "discovery", "client secret", "code exchange", "ID token" (its
// signature, issuer, audience or expiry, as Err says), "nonce",
// "userinfo". It never holds the upstream client secret.
type Error struct {
	Issuer string
	Step   string
	Err    error
}

func (e *Error) Error() string {
	return fmt.Sprintf("upstream %s: %s: %v", e.Issuer, e.Step, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

// Federation is signin.Federation. Safe for concurrent use; build one per
// process and keep it (its cache is the point).
type Federation struct {
	secrets signin.UpstreamSecrets
	client  *http.Client
	now     func() time.Time

	mu        sync.Mutex
	providers map[string]cachedProvider
}

var _ signin.Federation = (*Federation)(nil)

type cachedProvider struct {
	p       *oidc.Provider
	style   oauth2.AuthStyle
	fetched time.Time
}

// HTTPClient is the client this package uses toward upstreams when none
// is given: bounded connect, TLS and whole-request times, since a
// person's browser waits on every call (each is also bound by the
// request's context).
func HTTPClient() *http.Client {
	return &http.Client{
		Timeout: 10 * time.Second,
		Transport: &http.Transport{
			Proxy:                 http.ProxyFromEnvironment,
			DialContext:           (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			TLSHandshakeTimeout:   5 * time.Second,
			ResponseHeaderTimeout: 8 * time.Second,
			MaxIdleConnsPerHost:   4,
			IdleConnTimeout:       90 * time.Second,
		},
	}
}

// New returns a Federation that reads upstream client secrets from
// secrets and talks to upstreams with client (nil: HTTPClient()).
func New(secrets signin.UpstreamSecrets, client *http.Client) *Federation {
	if client == nil {
		client = HTTPClient()
	}
	return &Federation{secrets: secrets, client: client, now: time.Now, providers: map[string]cachedProvider{}}
}

// WithClock makes the Federation check ID token expiry against now
// (tests).
func (f *Federation) WithClock(now func() time.Time) *Federation {
	f.now = now
	return f
}

func (f *Federation) ctx(ctx context.Context) context.Context {
	return oidc.ClientContext(ctx, f.client)
}

// provider returns the issuer's discovered provider, from the cache when
// it is younger than DiscoveryTTL. A failed discovery is not cached.
func (f *Federation) provider(ctx context.Context, issuer string) (cachedProvider, error) {
	f.mu.Lock()
	c, ok := f.providers[issuer]
	f.mu.Unlock()
	if ok && f.now().Sub(c.fetched) < DiscoveryTTL {
		return c, nil
	}
	p, err := oidc.NewProvider(f.ctx(ctx), issuer)
	if err != nil {
		return cachedProvider{}, &Error{Issuer: issuer, Step: "discovery", Err: err}
	}
	c = cachedProvider{p: p, style: authStyle(p), fetched: f.now()}
	f.mu.Lock()
	f.providers[issuer] = c
	f.mu.Unlock()
	return c, nil
}

// authStyle is how the client secret goes to the token endpoint: HTTP
// Basic unless the provider only lists client_secret_post (Basic is the
// default of OpenID Connect Discovery).
func authStyle(p *oidc.Provider) oauth2.AuthStyle {
	var meta struct {
		Methods []string `json:"token_endpoint_auth_methods_supported"`
	}
	if p.Claims(&meta) == nil && len(meta.Methods) > 0 &&
		!slices.Contains(meta.Methods, "client_secret_basic") && slices.Contains(meta.Methods, "client_secret_post") {
		return oauth2.AuthStyleInParams
	}
	return oauth2.AuthStyleInHeader
}

// Check reads the issuer's discovery document (not from the cache) and
// its JWKS: what `idp set` checks before it stores an upstream.
func (f *Federation) Check(ctx context.Context, issuer string) error {
	p, err := oidc.NewProvider(f.ctx(ctx), issuer)
	if err != nil {
		return &Error{Issuer: issuer, Step: "discovery", Err: err}
	}
	var meta struct {
		JWKS string `json:"jwks_uri"`
	}
	if err := p.Claims(&meta); err != nil || meta.JWKS == "" || p.Endpoint().AuthURL == "" || p.Endpoint().TokenURL == "" {
		return &Error{Issuer: issuer, Step: "discovery", Err: errors.New("the discovery document lacks authorization_endpoint, token_endpoint or jwks_uri")}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, meta.JWKS, nil)
	if err != nil {
		return &Error{Issuer: issuer, Step: "JWKS", Err: err}
	}
	res, err := f.client.Do(req)
	if err != nil {
		return &Error{Issuer: issuer, Step: "JWKS", Err: err}
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return &Error{Issuer: issuer, Step: "JWKS", Err: fmt.Errorf("%s answered HTTP %d", meta.JWKS, res.StatusCode)}
	}
	return nil
}

func (f *Federation) config(c cachedProvider, u signin.Upstream, secret, redirectURI string) *oauth2.Config {
	ep := c.p.Endpoint()
	ep.AuthStyle = c.style
	return &oauth2.Config{ClientID: u.ClientID, ClientSecret: secret, Endpoint: ep, RedirectURL: redirectURI, Scopes: Scopes}
}

// AuthCodeURL is the upstream's authorization endpoint with the request.
func (f *Federation) AuthCodeURL(ctx context.Context, u signin.Upstream, req signin.UpstreamRequest) (string, error) {
	if u.Issuer == "" {
		return "", signin.ErrUpstreamNotFound
	}
	if req.State == "" || req.Nonce == "" || req.CodeChallenge == "" || req.RedirectURI == "" {
		return "", errors.New("an upstream request needs a state, a nonce, a code challenge and a redirect URI")
	}
	c, err := f.provider(ctx, u.Issuer)
	if err != nil {
		return "", err
	}
	opts := []oauth2.AuthCodeOption{
		oauth2.SetAuthURLParam("nonce", req.Nonce),
		oauth2.SetAuthURLParam("code_challenge", req.CodeChallenge),
		oauth2.SetAuthURLParam("code_challenge_method", "S256"),
	}
	if req.Prompt != "" {
		opts = append(opts, oauth2.SetAuthURLParam("prompt", req.Prompt))
	}
	if req.MaxAge != nil {
		opts = append(opts, oauth2.SetAuthURLParam("max_age", strconv.Itoa(*req.MaxAge)))
	}
	if req.LoginHint != "" {
		opts = append(opts, oauth2.SetAuthURLParam("login_hint", req.LoginHint))
	}
	return f.config(c, u, "", req.RedirectURI).AuthCodeURL(req.State, opts...), nil
}

// Finish redeems the code and verifies the ID token; see
// signin.Federation.
func (f *Federation) Finish(ctx context.Context, u signin.Upstream, code, codeVerifier, nonce, redirectURI string) (signin.UpstreamIdentity, error) {
	fail := func(step string, err error) (signin.UpstreamIdentity, error) {
		return signin.UpstreamIdentity{}, &Error{Issuer: u.Issuer, Step: step, Err: err}
	}
	if u.Issuer == "" {
		return signin.UpstreamIdentity{}, signin.ErrUpstreamNotFound
	}
	c, err := f.provider(ctx, u.Issuer)
	if err != nil {
		return signin.UpstreamIdentity{}, err
	}
	secret, err := f.secrets.UpstreamSecret(ctx, u.TenantID)
	if errors.Is(err, signin.ErrUpstreamNotFound) {
		return signin.UpstreamIdentity{}, err
	}
	if err != nil {
		return fail("client secret", fmt.Errorf("%w: %w", signin.ErrOwnStorage, err))
	}
	tok, err := f.config(c, u, secret, redirectURI).Exchange(f.ctx(ctx), code, oauth2.VerifierOption(codeVerifier))
	if err != nil {
		return fail("code exchange", exchangeError(err))
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return fail("code exchange", errors.New("the token response has no id_token"))
	}
	idToken, err := c.p.Verifier(&oidc.Config{ClientID: u.ClientID, Now: f.now}).Verify(f.ctx(ctx), raw)
	if err != nil {
		return fail("ID token", err)
	}
	var claims map[string]any
	if err := idToken.Claims(&claims); err != nil {
		return fail("ID token", err)
	}
	// OpenID Connect Core 3.1.3.7 (5): an azp names the party the token
	// was issued to, which must be this service (go-oidc leaves it).
	if azp, ok := claims["azp"]; ok && azp != u.ClientID {
		return fail("ID token", fmt.Errorf("the ID token's azp %v is not this service's client id %q", azp, u.ClientID))
	}
	if subtle.ConstantTimeCompare([]byte(idToken.Nonce), []byte(nonce)) != 1 || nonce == "" {
		return fail("nonce", errors.New("the ID token's nonce is not the one this sign-in sent"))
	}
	if idToken.AccessTokenHash != "" {
		if err := idToken.VerifyAccessToken(tok.AccessToken); err != nil {
			return fail("ID token", err)
		}
	}
	id := signin.UpstreamIdentity{Issuer: idToken.Issuer, Subject: idToken.Subject, AuthTime: idToken.IssuedAt}
	if at, ok := claims["auth_time"].(float64); ok && at > 0 {
		id.AuthTime = time.Unix(int64(at), 0)
	}
	roleClaimPresent := readProfile(&id, claims, u.RoleClaim)
	if id.Email == "" || id.Name == "" || (u.RoleClaim != "" && !roleClaimPresent) {
		if err := f.userinfo(ctx, c.p, tok, u.RoleClaim, &id); err != nil {
			return fail("userinfo", err)
		}
	}
	return id, nil
}

// userinfo fills what the ID token lacked from the userinfo endpoint,
// whose sub must be the ID token's (OpenID Connect Core 5.3.2). A
// provider without one leaves it lacking.
func (f *Federation) userinfo(ctx context.Context, p *oidc.Provider, tok *oauth2.Token, roleClaim string, id *signin.UpstreamIdentity) error {
	if p.UserInfoEndpoint() == "" {
		return nil
	}
	info, err := p.UserInfo(f.ctx(ctx), oauth2.StaticTokenSource(tok))
	if err != nil {
		return err
	}
	if info.Subject != id.Subject {
		return fmt.Errorf("userinfo names sub %q, the ID token %q", info.Subject, id.Subject)
	}
	var claims map[string]any
	if err := info.Claims(&claims); err != nil {
		return err
	}
	from := signin.UpstreamIdentity{}
	readProfile(&from, claims, roleClaim)
	if id.Email == "" {
		id.Email, id.EmailVerified = from.Email, from.EmailVerified
	}
	if id.Name == "" {
		id.Name = from.Name
	}
	if id.RoleClaimValues == nil {
		id.RoleClaimValues = from.RoleClaimValues
	}
	return nil
}

// readProfile reads name, email, email_verified and the role claim from
// claims; it says whether the role claim was there.
func readProfile(id *signin.UpstreamIdentity, claims map[string]any, roleClaim string) bool {
	id.Email, _ = claims["email"].(string)
	id.EmailVerified, _ = claims["email_verified"].(bool)
	id.Name, _ = claims["name"].(string)
	if roleClaim == "" {
		return false
	}
	v, ok := claims[roleClaim]
	if ok {
		id.RoleClaimValues = RoleClaimValues(v)
	}
	return ok
}

// RoleClaimValues are the values of a role claim: a string is one value,
// an array its string elements (others are ignored); anything else none.
func RoleClaimValues(v any) []string {
	switch v := v.(type) {
	case string:
		return []string{v}
	case []any:
		out := []string{}
		for _, e := range v {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out
	case []string:
		return v
	}
	return nil
}

// exchangeError says what the token endpoint answered, without its whole
// body: an OAuth error code and description, or the status.
func exchangeError(err error) error {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		switch {
		case re.ErrorCode != "":
			return fmt.Errorf("the token endpoint answered HTTP %d %s %s", re.Response.StatusCode, re.ErrorCode, re.ErrorDescription)
		default:
			return fmt.Errorf("the token endpoint answered HTTP %d", re.Response.StatusCode)
		}
	}
	return err
}
