package signin

import (
	"context"
	"errors"
	"time"
)

// RefreshLifetime is how long a refresh token family lives from the
// sign-in it came from (offline access), however often it rotates.
const RefreshLifetime = 30 * 24 * time.Hour

// RefreshToken is a refresh token as stored (under its hash). Every
// refresh rotates it: the one used is spent and a new one of the same
// family is issued; a spent one used again revokes the whole family (RFC
// 9700 4.14.2). A family is named after the authorization code it came
// from (the code's hash), so that a replayed code revokes it without a
// lookup.
type RefreshToken struct {
	Hash      string
	FamilyID  string
	ClientID  string
	TenantID  string
	Subject   string
	SessionID string // the session of the sign-in: it may expire (offline access), but once ended by sign-out its families issue nothing
	Roles     []string
	Scopes    []string
	Name      string
	Email     string
	AuthTime  time.Time
	Expires   time.Time // the family's end
}

// Errors of refresh.
var (
	// ErrRefreshInvalid: unknown, expired, another client's, of a
	// revoked family, or of a session ended by sign-out.
	ErrRefreshInvalid = errors.New("the refresh token is not valid")
	// ErrRefreshReused: spent before; its family is now revoked.
	ErrRefreshReused = errors.New("the refresh token was used before; its family is revoked")
	// ErrRefreshScope: the refresh asked for a scope the token does not
	// hold (a refresh may narrow its scopes, never widen them); the token
	// is not spent and stays usable.
	ErrRefreshScope = errors.New("the refresh asked for a scope the refresh token does not hold")
	// ErrRefreshNotYours: the token exists but was issued to another
	// client, which alone may revoke it (RFC 7009 2.1).
	ErrRefreshNotYours = errors.New("the refresh token was issued to another client")
)

// RefreshTokens keeps refresh tokens and their families.
type RefreshTokens interface {
	// CreateRefresh stores a new refresh token (conditional: its hash is
	// new; one that exists is this write retried).
	CreateRefresh(ctx context.Context, t RefreshToken) error
	// UseRefresh spends a refresh token of clientID at now (conditional:
	// unspent, unexpired, the client's, holding every one of scopes) and
	// returns it, unless its family is revoked (ErrRefreshInvalid). A
	// spent one revokes its family and is ErrRefreshReused. A scope it
	// does not hold is ErrRefreshScope (with the token, for its scopes),
	// and the token is left unspent.
	UseRefresh(ctx context.Context, hash, clientID string, scopes []string, now time.Time) (RefreshToken, error)
	// RevokeFamily revokes every refresh token of a family, at once.
	RevokeFamily(ctx context.Context, familyID string) error
	// RevokeRefresh is RFC 7009 revocation by clientID of the refresh
	// token of this hash, spent or not: its whole family is revoked (a
	// conditional write: a family revoked before stays as it was) and the
	// token returned. Unknown or expired: ErrRefreshInvalid (nothing to
	// revoke); another client's: ErrRefreshNotYours, and nothing changes.
	RevokeRefresh(ctx context.Context, hash, clientID string, now time.Time) (RefreshToken, error)
}
