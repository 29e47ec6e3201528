package identity

import (
	"context"
	"errors"
	"time"
)

// Store keeps tenants, clients and secret records. Implementations return
// *Error values for the domain outcomes (ErrTenantNotFound,
// ErrClientNotFound, ErrClientIDExists, ErrClientLimit, ...).
type Store interface {
	CreateTenant(ctx context.Context, t Tenant) error
	GetTenant(ctx context.Context, tenantID string) (Tenant, error)

	// CreateClient stores a client, its first secret record and the
	// client-id reservation, and counts the client against the tenant's
	// limit (its ClientLimit, or defaultLimit), all or nothing.
	CreateClient(ctx context.Context, c Client, first Secret, defaultLimit int) error
	GetClient(ctx context.Context, tenantID string, kind ClientKind, clientID string) (Client, error)
	// ListClients returns every client of a kind in a tenant ordered by id,
	// plus one ItemError per stored item that could not be read.
	ListClients(ctx context.Context, tenantID string, kind ClientKind) ([]Client, []ItemError, error)
	UpdateClient(ctx context.Context, tenantID string, kind ClientKind, clientID string, p ClientPatch, now time.Time) (Client, error)
	// DeleteClient removes a client and its secret records and returns the
	// secrets whose material must now be destroyed.
	DeleteClient(ctx context.Context, tenantID string, kind ClientKind, clientID string) ([]Secret, error)
	// ClientForAuthentication returns a client of any tenant with all its
	// secret records, or ErrClientNotFound.
	ClientForAuthentication(ctx context.Context, clientID string) (Client, []Secret, error)
	// ClientKind returns the kind of a tenant's client.
	ClientKind(ctx context.Context, tenantID, clientID string) (ClientKind, error)

	// Secret records. An empty kind accepts a client of either kind.
	ClientSecrets(ctx context.Context, tenantID string, kind ClientKind, clientID string) (ClientKind, []Secret, error)
	AddSecret(ctx context.Context, tenantID string, kind ClientKind, sec Secret, now time.Time) (Secret, error)
	GetSecret(ctx context.Context, tenantID string, kind ClientKind, clientID, secretID string) (Secret, error)
	UpdateSecret(ctx context.Context, tenantID string, kind ClientKind, clientID, secretID string, description *string, expiration *time.Time, now time.Time) (Secret, error)
	DeleteSecret(ctx context.Context, tenantID string, kind ClientKind, clientID, secretID string) error
	SoftDeleteSecret(ctx context.Context, tenantID, clientID, secretID string, now time.Time) (Secret, error)
}

// Vault keeps secret material: verifiers, never secrets.
type Vault interface {
	PutVerifier(ctx context.Context, ref MaterialRef, verifier []byte) error
	// DeleteVerifier destroys material at once, without a recovery window.
	// Deleting material that is already gone is not an error.
	DeleteVerifier(ctx context.Context, ref MaterialRef) error
	// Verifier returns ErrNoMaterial when the material does not exist;
	// any other error means it could not be read.
	Verifier(ctx context.Context, ref MaterialRef) ([]byte, error)
}

// ErrNoMaterial means a secret has no material (deleted, or never written).
var ErrNoMaterial = errors.New("secret material not found")

// ClientPatch holds the properties an update changes; nil keeps the stored
// value.
type ClientPatch struct {
	Name    *string
	Enabled *bool
	RoleIDs *[]string
	Tags    *[]string

	AllowOfflineAccess          *bool
	AllowAccessTokensViaBrowser *bool
	RedirectURIs                *[]string
	PostLogoutRedirectURIs      *[]string
	ClientURI                   *string
	LogoURI                     *string
}
