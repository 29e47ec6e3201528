package signin

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strings"
	"time"

	"github.com/google/uuid"
)

// Lifetimes of what sign-in stores. Each item also carries a DynamoDB TTL
// attribute at its end, and is refused on read once past it (TTL deletes
// late, by up to days).
const (
	// SessionIdle ends a session nobody used for this long.
	SessionIdle = 2 * time.Hour
	// SessionAbsolute ends every session this long after sign-in.
	SessionAbsolute = 12 * time.Hour
	// SessionTouchEvery spaces the writes that keep a session alive: a
	// session used more often is written at most once per this period.
	SessionTouchEvery = 5 * time.Minute
	// CodeLifetime is an authorization code's lifetime (at most 60 s).
	CodeLifetime = 60 * time.Second
	// InteractionLifetime bounds the trip to the upstream and back, and
	// the time a consent page may stay open.
	InteractionLifetime = 10 * time.Minute
)

// Session is a person's sign-in at this service, in one browser. Its
// cookie holds ID and a secret; only the secret's SHA-256 is stored.
type Session struct {
	ID         string // public (the ID token's sid): a random UUID
	SecretHash string // hex SHA-256 of the cookie's secret part
	CSRF       string // the token every form POST of this session carries
	TenantID   string
	Subject    string
	Name       string
	Email      string
	Roles      []string
	Issuer     string // the upstream's issuer
	AuthTime   time.Time
	Created    time.Time
	LastSeen   time.Time
}

// ExpiresAt is when the session ends unless used again.
func (s Session) ExpiresAt() time.Time {
	idle := s.LastSeen.Add(SessionIdle)
	abs := s.Created.Add(SessionAbsolute)
	if idle.Before(abs) {
		return idle
	}
	return abs
}

// Live reports whether the session may still be used at now.
func (s Session) Live(now time.Time) bool { return now.Before(s.ExpiresAt()) }

// Sessions keeps sessions.
type Sessions interface {
	// CreateSession stores a new session (conditional: its id is new; ids
	// are random, so one that exists is this write retried, not an error).
	CreateSession(ctx context.Context, s Session) error
	// GetSession returns a session by id, or ErrNotFound.
	GetSession(ctx context.Context, id string) (Session, error)
	// TouchSession records a use at now, if the session still exists.
	TouchSession(ctx context.Context, s Session, now time.Time) error
	// EndSession ends a session (sign-out): it authorizes nothing more,
	// and its refresh token families issue nothing more; ending one that
	// is gone is not an error.
	EndSession(ctx context.Context, id string) error
}

// NewSessionCookie makes a session's id, its cookie value and the hash
// of the cookie's secret, from crypto/rand.
func NewSessionCookie() (id, cookie, secretHash string, err error) {
	secret, err := randomToken()
	if err != nil {
		return "", "", "", err
	}
	id = uuid.NewString()
	return id, id + "." + secret, hashHex(secret), nil
}

// SplitSessionCookie reads a cookie value's session id and secret.
func SplitSessionCookie(v string) (id, secret string, ok bool) {
	id, secret, ok = strings.Cut(v, ".")
	if !ok || uuid.Validate(id) != nil || secret == "" || len(secret) > 100 {
		return "", "", false
	}
	return id, secret, true
}

// Matches checks a cookie's secret against the session, in constant time.
func (s Session) Matches(secret string) bool {
	return subtle.ConstantTimeCompare([]byte(hashHex(secret)), []byte(s.SecretHash)) == 1
}

// CSRFMatches checks a form's CSRF token against the session's, in
// constant time.
func (s Session) CSRFMatches(token string) bool {
	return s.CSRF != "" && subtle.ConstantTimeCompare([]byte(token), []byte(s.CSRF)) == 1
}

// randomToken is 256 bits from crypto/rand, base64url.
func randomToken() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// RandomToken is 256 bits from crypto/rand, base64url (codes, state,
// nonces, PKCE verifiers, CSRF tokens).
func RandomToken() (string, error) { return randomToken() }

func hashHex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// HashKey is the stored key of a bearer secret (a code, an interaction
// id): its SHA-256, so that a read of the table yields nothing usable.
func HashKey(secret string) string { return hashHex(secret) }

// Consent is what a person allowed a client: its scopes, until revoked.
type Consent struct {
	TenantID string
	Subject  string
	ClientID string
	Scopes   []string
	Granted  time.Time
}

// Covers reports whether the consent includes every scope asked.
func (c Consent) Covers(scopes []string) bool {
	for _, s := range scopes {
		found := false
		for _, g := range c.Scopes {
			found = found || g == s
		}
		if !found {
			return false
		}
	}
	return true
}

// Consents keeps consents.
type Consents interface {
	// GetConsent returns the person's consent for the client, or ErrNotFound.
	GetConsent(ctx context.Context, tenantID, subject, clientID string) (Consent, error)
	// PutConsent stores (replaces) the consent.
	PutConsent(ctx context.Context, c Consent) error
	// RevokeConsent removes it; revoking one that is gone is not an error.
	RevokeConsent(ctx context.Context, tenantID, subject, clientID string) error
}

// Code is an authorization code as stored (under its hash): what its
// redemption issues tokens for.
type Code struct {
	Hash          string // HashKey of the code
	ClientID      string
	TenantID      string
	RedirectURI   string
	Scopes        []string
	Nonce         string
	CodeChallenge string
	Subject       string
	Name          string
	Email         string
	Roles         []string
	SessionID     string
	AuthTime      time.Time
	Expires       time.Time
	// Redeemed is set by the first redemption; a second one finds it.
	Redeemed *time.Time
}

// Errors of code redemption.
var (
	// ErrCodeInvalid: no such code, expired, or issued to another client.
	ErrCodeInvalid = errors.New("the authorization code is not valid")
	// ErrCodeReplayed: the code was redeemed before.
	ErrCodeReplayed = errors.New("the authorization code was already redeemed")
)

// Codes keeps authorization codes.
type Codes interface {
	// CreateCode stores a new code (conditional: its hash is new; as
	// CreateSession, one that exists is this write retried).
	CreateCode(ctx context.Context, c Code) error
	// RedeemCode marks the code redeemed at now, on the condition that it
	// was not and has not expired, and returns it. A code redeemed before
	// is returned with ErrCodeReplayed (so that what it issued can be
	// revoked); an unknown or expired one is ErrCodeInvalid.
	// A code of another client is ErrCodeInvalid, and stays redeemable by
	// its own.
	RedeemCode(ctx context.Context, hash, clientID string, now time.Time) (Code, error)
}

// Interaction is an authorization request on its way: to the upstream and
// back (with this service's own state, nonce and PKCE verifier toward the
// upstream), or waiting on the consent page. Single-use.
type Interaction struct {
	Hash     string // HashKey of the interaction's id (the upstream state, or the consent form's)
	Request  AuthRequest
	Nonce    string // toward the upstream
	Verifier string // PKCE toward the upstream
	// SessionID binds a consent interaction to the session that saw the page.
	SessionID string
	Expires   time.Time
}

// Interactions keeps interactions.
type Interactions interface {
	// CreateInteraction stores one (conditional: its hash is new; as
	// CreateSession, one that exists is this write retried).
	CreateInteraction(ctx context.Context, i Interaction) error
	// TakeInteraction removes and returns one that has not expired at now
	// (conditional delete: two takes never both get it), or ErrNotFound.
	TakeInteraction(ctx context.Context, hash string, now time.Time) (Interaction, error)
}
