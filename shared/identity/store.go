package identity

import (
	"context"
	"errors"
	"time"
)

// Store keeps tenants, clients and secret records. It reports facts and
// enforces them with conditions; the Service owns the rules and what they
// mean for the caller. Not found is reported for what was looked up (a
// client of the kind in the tenant, a secret record of the client): whether
// the tenant exists is the Service's question (GetTenant).
type Store interface {
	CreateTenant(ctx context.Context, t Tenant) error
	GetTenant(ctx context.Context, tenantID string) (Tenant, error)

	// CreateClient stores a client, its first secret record and the
	// client-id reservation, and counts the client against the tenant's
	// limit (its ClientLimit, or defaultLimit), all or nothing:
	// ErrClientIDExists, ErrTenantNotFound or ErrClientLimit when the
	// condition that failed says so.
	CreateClient(ctx context.Context, c Client, first Secret, defaultLimit int) error
	// GetClient returns a client of the kind in the tenant, or
	// ErrClientNotFound.
	GetClient(ctx context.Context, tenantID string, kind ClientKind, clientID string) (Client, error)
	// ListClients returns a page of the clients of a kind in a tenant, in
	// creation order, with the total that match (at least one of q.Tags,
	// when given) and one ItemError per stored item of the page that could
	// not be read. Without tags it answers ErrTenantNotFound for a tenant
	// that does not exist; with tags, an empty page.
	ListClients(ctx context.Context, tenantID string, kind ClientKind, q ClientQuery) (ClientPage, error)
	// UpdateClient replaces client old (as read) by next, on the condition
	// that it is still at old's version: ErrClientChanged otherwise.
	UpdateClient(ctx context.Context, old, next Client) error
	// DeleteClient removes a client and its secret records and returns the
	// secrets whose material must now be destroyed, or ErrClientNotFound.
	DeleteClient(ctx context.Context, tenantID string, kind ClientKind, clientID string) ([]Secret, error)
	// ClientForAuthentication returns what a token request decides on, from
	// one small item: the client of any tenant (TenantID, ID, Kind,
	// Enabled, RoleIDs only) and its secrets that are not deleted (ID,
	// Expiration, LastUsed only), or ErrClientNotFound.
	ClientForAuthentication(ctx context.Context, clientID string) (Client, []Secret, error)
	// MarkUsed records hour as the last use of a secret, on its record and
	// in the token item, unless an hour as late is already recorded (then
	// nothing is written) or the secret is gone.
	MarkUsed(ctx context.Context, clientID, secretID string, hour time.Time) error
	// ClientKind returns the kind of a tenant's client, or
	// ErrClientNotFound: the lookup of the routes that serve either kind.
	ClientKind(ctx context.Context, tenantID, clientID string) (ClientKind, error)

	// ClientSecrets returns every secret record of a client of the kind in
	// the tenant (soft-deleted ones included), or ErrClientNotFound.
	ClientSecrets(ctx context.Context, tenantID string, kind ClientKind, clientID string) ([]Secret, error)
	// SecretSet returns the secrets of a client that may count against the
	// secret limit (not deleted; expired or not: ID and Expiration only),
	// with the set's version, or ErrClientNotFound.
	SecretSet(ctx context.Context, tenantID string, kind ClientKind, clientID string) (SecretSet, error)
	// AddSecret stores a new secret record if the client's secret set is
	// still as read (its version); ErrSecretSetChanged otherwise. Secrets
	// of the set that had expired when sec was created are forgotten by
	// the set (their records stay). A client at MaxSecretRecordsPerClient
	// records is a *SecretRecordsFull.
	AddSecret(ctx context.Context, tenantID string, kind ClientKind, sec Secret, set SecretSet) (Secret, error)
	// GetSecret returns a secret record of a client of the kind in the
	// tenant, soft-deleted or not, or ErrSecretNotFound.
	GetSecret(ctx context.Context, tenantID string, kind ClientKind, clientID, secretID string) (Secret, error)
	// UpdateSecret changes a secret's description and expiration (nil keeps
	// the stored value) if the record is the tenant's and kind's and still
	// changeable at now (Secret.Changeable); ErrSecretChanged otherwise.
	UpdateSecret(ctx context.Context, tenantID string, kind ClientKind, clientID, secretID string, description *string, expiration *time.Time, now time.Time) (Secret, error)
	// DeleteSecret removes a secret record that is not soft-deleted, or
	// answers ErrSecretNotFound.
	DeleteSecret(ctx context.Context, tenantID string, kind ClientKind, clientID, secretID string) error
	// SoftDeleteSecret marks a secret record deleted at now (again: no
	// change), or answers ErrSecretNotFound.
	SoftDeleteSecret(ctx context.Context, tenantID string, kind ClientKind, clientID, secretID string, now time.Time) (Secret, error)
}

// SecretSet is what the secret limit is decided on: a client's secrets
// that are not deleted, and the version that a write of the set is
// conditional on.
type SecretSet struct {
	Version int64
	Secrets []Secret
	// RoleIDs are the client's roles, as its token item holds them: what
	// the cluster-role guard of a secret add decides on, without another
	// read.
	RoleIDs []string
	// Records is the client's count of secret records, retained ones
	// included (MaxSecretRecordsPerClient bounds it); -1 when the stored
	// client predates the count (the store then counts the records).
	Records int
}

// ActiveCount is how many of the set's secrets are active at instant now.
func (s SecretSet) ActiveCount(now time.Time) int {
	n := 0
	for _, sec := range s.Secrets {
		if sec.Active(now) {
			n++
		}
	}
	return n
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
	// AccessTokenLifetime in seconds, either kind.
	AccessTokenLifetime *int

	AllowOfflineAccess          *bool
	AllowAccessTokensViaBrowser *bool
	RedirectURIs                *[]string
	PostLogoutRedirectURIs      *[]string
	ClientURI                   *string
	LogoURI                     *string
}
