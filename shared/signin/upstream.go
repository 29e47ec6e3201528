// Package signin is the domain of people signing in to a tenant's Hybrid
// clients: each tenant's own upstream OpenID Provider (where people
// authenticate), the people this service knows as stable subjects, their
// sessions, consents, authorization codes and the rules of the
// authorization request. It imports no AWS package: storage and the
// upstream protocol sit behind the interfaces below.
package signin

import (
	"context"
	"errors"
	"time"
)

// CallbackPath is where a tenant's upstream sends the browser back to this
// service after a person authenticated there (the redirect_uri this
// service registers at every upstream), below the issuer's host.
const CallbackPath = "/identity/connect/upstream/callback"

// Upstream is a tenant's own OpenID Provider, as an operator set it
// (`make admin ARGS='idp set ...'`). Its client secret is not here: it
// lives in Secrets Manager (UpstreamSecrets).
type Upstream struct {
	TenantID string
	// Issuer is the upstream's issuer URL; its discovery document is
	// Issuer + "/.well-known/openid-configuration".
	Issuer string
	// ClientID is this service's client id at the upstream.
	ClientID string
	// AllowedDomains, when not empty, are the only email domains whose
	// people may sign in (exact, case-insensitive match of the part after
	// the last "@").
	AllowedDomains []string
	// RoleClaim names the upstream ID token (or userinfo) claim whose
	// values RoleMap maps to this service's role ids; empty: nobody gets a
	// role from the upstream.
	RoleClaim string
	// RoleMap maps a value of RoleClaim to role ids (tenant roles only).
	RoleMap map[string][]string
	// RoleRequired: a person none of whose claim values maps to a role may
	// not sign in (they land on the no-access page).
	RoleRequired bool
	// Version rises with every change (optimistic locking).
	Version int64
	// Updated is when the upstream was last set.
	Updated time.Time
}

// ErrUpstreamNotFound means the tenant has no upstream provider: nobody of
// that tenant can sign in.
var ErrUpstreamNotFound = errors.New("the tenant has no upstream identity provider")

// ErrOwnStorage marks a Federation failure on this service's side (its
// stores: the upstream's client secret could not be read), as opposed to
// an upstream answer refused: the person sees this service's error page,
// and the client is not told the person was denied.
var ErrOwnStorage = errors.New("this service's storage failed")

// UpstreamStore keeps each tenant's upstream provider (one per tenant).
type UpstreamStore interface {
	// PutUpstream creates or replaces the tenant's upstream.
	PutUpstream(ctx context.Context, u Upstream) error
	// GetUpstream returns the tenant's upstream, or ErrUpstreamNotFound.
	GetUpstream(ctx context.Context, tenantID string) (Upstream, error)
	// DeleteUpstream removes it; removing one that is gone is not an error.
	DeleteUpstream(ctx context.Context, tenantID string) error
}

// UpstreamSecrets keeps the client secret this service uses at each
// tenant's upstream (Secrets Manager, `<prefix>/upstreams/<tenantId>`):
// unlike client secrets it is kept as it is, since it must be sent.
type UpstreamSecrets interface {
	PutUpstreamSecret(ctx context.Context, tenantID, secret string) error
	// UpstreamSecret returns ErrUpstreamNotFound when there is none.
	UpstreamSecret(ctx context.Context, tenantID string) (string, error)
	DeleteUpstreamSecret(ctx context.Context, tenantID string) error
}

// UpstreamRequest is what this service asks of the upstream when it sends
// a person there: its own state, nonce and PKCE (S256) challenge, never the
// relying party's, plus the prompt, max_age and login_hint it was given.
type UpstreamRequest struct {
	State         string
	Nonce         string
	CodeChallenge string // S256 of the verifier this service keeps
	RedirectURI   string // the issuer's host + CallbackPath
	Prompt        string // "", "login", "consent", "none"
	MaxAge        *int   // seconds, nil when not asked
	LoginHint     string
}

// UpstreamIdentity is what a verified upstream ID token (and userinfo,
// where the token lacks them) says of a person. The Federation has
// checked issuer, audience, expiry, nonce and signature; the domain
// applies the tenant's rules (AllowedDomains, RoleMap) to it.
type UpstreamIdentity struct {
	Issuer        string
	Subject       string
	Name          string
	Email         string
	EmailVerified bool
	// RoleClaimValues are the values of the upstream's RoleClaim (a string
	// or an array of strings in the token); nil when absent.
	RoleClaimValues []string
	// AuthTime is the upstream's auth_time, or the token's iat without it.
	AuthTime time.Time
}

// Federation talks to a tenant's upstream: where to send a person, and
// what they came back as. Discovery documents and JWKS are cached.
type Federation interface {
	// AuthCodeURL is the upstream's authorization endpoint with the
	// request's parameters (response_type=code, scope "openid email
	// profile", code_challenge_method=S256), or ErrUpstreamNotFound.
	AuthCodeURL(ctx context.Context, u Upstream, req UpstreamRequest) (string, error)
	// Finish redeems the upstream's code with the verifier (and the
	// upstream client secret), verifies the ID token against the
	// upstream's JWKS (iss, aud, exp, nonce, signature) and returns who it
	// names. Any failure is an error that says which check failed, never
	// the upstream's secret.
	Finish(ctx context.Context, u Upstream, code, codeVerifier, nonce, redirectURI string) (UpstreamIdentity, error)
}
