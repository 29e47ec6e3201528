package signin

import (
	"context"
	"crypto/subtle"
	"time"
)

// DashboardSession is a person's sign-in at the operations dashboard
// (PortalFunction, a backend-for-frontend: docs/dashboard.md). The
// dashboard is a confidential client of this service's own authorization
// and token endpoints; the tokens it got for the person stay here,
// server-side, and the browser holds only a cookie naming the session
// (its id and a secret, of which only the SHA-256 is stored).
type DashboardSession struct {
	ID         string // a random UUID
	SecretHash string // hex SHA-256 of the cookie's secret part
	// CSRF is the token every state-changing request of the dashboard
	// carries (a header of its API calls, a field of its sign-out form).
	CSRF     string
	ClientID string // the tenant's dashboard client
	TenantID string
	Subject  string
	Name     string
	Email    string
	Roles    []string
	AuthTime time.Time // when the person authenticated at the upstream
	Created  time.Time
	// Expires is the access token's expiry: the session ends with it (a
	// new sign-in then reuses the sign-in session, without a login form).
	Expires     time.Time
	AccessToken string
	IDToken     string // the id_token_hint of sign-out
}

// Live reports whether the session may still be used at now.
func (s DashboardSession) Live(now time.Time) bool { return now.Before(s.Expires) }

// Matches checks a cookie's secret against the session, in constant time.
func (s DashboardSession) Matches(secret string) bool {
	return subtle.ConstantTimeCompare([]byte(hashHex(secret)), []byte(s.SecretHash)) == 1
}

// CSRFMatches checks a request's CSRF token, in constant time.
func (s DashboardSession) CSRFMatches(token string) bool {
	return s.CSRF != "" && subtle.ConstantTimeCompare([]byte(token), []byte(s.CSRF)) == 1
}

// DashboardSessions keeps the dashboard's sessions.
type DashboardSessions interface {
	// CreateDashboardSession stores a new session (conditional: its id is
	// new; as CreateSession, one that exists is this write retried).
	CreateDashboardSession(ctx context.Context, s DashboardSession) error
	// GetDashboardSession returns a live session by id, or ErrNotFound.
	GetDashboardSession(ctx context.Context, id string) (DashboardSession, error)
	// EndDashboardSession removes a session; one that is gone is not an
	// error.
	EndDashboardSession(ctx context.Context, id string) error
}

// DashboardClient is a tenant's dashboard client: a Hybrid client of the
// tenant whose redirect URI is the dashboard's callback, with the secret
// the dashboard authenticates with at the token endpoint.
type DashboardClient struct {
	ClientID     string
	ClientSecret string
}

// DashboardClients keeps each tenant's dashboard client (Secrets Manager:
// the secret must be sent, so it is kept as it is, like an upstream's).
type DashboardClients interface {
	PutDashboardClient(ctx context.Context, tenantID string, c DashboardClient) error
	// DashboardClient returns ErrNotFound when the tenant has none.
	DashboardClient(ctx context.Context, tenantID string) (DashboardClient, error)
}
