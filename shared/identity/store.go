package identity

import (
	"context"
	"errors"
	"time"
)

// Storage sits behind one narrow interface per aggregate: Tenants,
// Clients, Secrets and Credentials (the token item). Each reports facts
// and enforces the conditions it is handed; the Service owns the rules
// (every limit, every state rule, every clock) and what a failed condition
// means for the caller. Not found is reported for what was looked up (a
// client of the kind in the tenant, a secret record of the client):
// whether the tenant exists is the Service's question (Tenants.GetTenant).
// The contract every implementation keeps is one suite,
// RunContract of shared/identity/identitytest, run against the in-memory
// implementation (shared/identity/memstore) and DynamoDB Local.

// Tenants keeps tenants and their client counters.
type Tenants interface {
	// CreateTenant stores a new tenant, or answers ErrTenantExists.
	CreateTenant(ctx context.Context, t Tenant) error
	// GetTenant returns a tenant, or ErrTenantNotFound.
	GetTenant(ctx context.Context, tenantID string) (Tenant, error)
	// NextVerifierSlot hands out the tenant's next verifier slot (1, 2,
	// ...), each once, whatever the concurrency: PackOf(slot) is the pack
	// a new secret's verifier goes to. ErrTenantNotFound when the tenant
	// does not exist.
	NextVerifierSlot(ctx context.Context, tenantID string) (int64, error)
}

// Clients keeps clients: their metadata, their place in the tenant's
// creation order and tags, and their registration (the client id's
// reservation across tenants).
type Clients interface {
	// CreateClient stores a client, its first secret record and the
	// client-id reservation, and counts the client against the tenant's
	// limit, all or nothing, on the condition that the tenant's count is
	// below its own ClientLimit or, when it has none, below defaultLimit:
	// ErrClientIDExists, ErrTenantNotFound or ErrClientLimit when the
	// condition that failed says so.
	CreateClient(ctx context.Context, c Client, first Secret, defaultLimit int) error
	// GetClient returns a client of the kind in the tenant, or
	// ErrClientNotFound.
	GetClient(ctx context.Context, tenantID string, kind ClientKind, clientID string) (Client, error)
	// ListClients returns a page of the clients of a kind in a tenant, in
	// creation order, with the total that match (at least one of q.Tags,
	// when given), one ItemError per stored item of the page that could
	// not be read, and what the read learned of the tenant (ClientPage.Tenant).
	// A q.Skip at or past the total reads no client.
	ListClients(ctx context.Context, tenantID string, kind ClientKind, q ListOptions) (ClientPage, error)
	// UpdateClient replaces client old (as read) by next, on the condition
	// that it is still at old's version: ErrClientChanged otherwise.
	UpdateClient(ctx context.Context, old, next Client) error
	// DeleteClient removes a client and its secret records and returns the
	// secrets whose material must now be destroyed, or ErrClientNotFound.
	DeleteClient(ctx context.Context, tenantID string, kind ClientKind, clientID string) ([]Secret, error)
	// ClientKind returns the kind of a tenant's client, or
	// ErrClientNotFound: the lookup of the routes that serve either kind.
	ClientKind(ctx context.Context, tenantID, clientID string) (ClientKind, error)
}

// Secrets keeps the secret records of clients.
type Secrets interface {
	// ClientSecrets returns every secret record of a client of the kind in
	// the tenant (soft-deleted ones included), or ErrClientNotFound.
	ClientSecrets(ctx context.Context, tenantID string, kind ClientKind, clientID string) ([]Secret, error)
	// SecretSet returns the secrets of a client that may count against the
	// secret limit (not deleted; expired or not: ID and Expiration only),
	// with the set's version, or ErrClientNotFound.
	SecretSet(ctx context.Context, tenantID string, kind ClientKind, clientID string) (SecretSet, error)
	// AddSecret stores a new secret record on add's conditions: the
	// client's secret set is still at add.Set's version
	// (ErrSecretSetChanged otherwise) and the client holds fewer than
	// add.MaxRecords secret records (*SecretRecordsFull otherwise). The
	// set's secrets named in add.Forget leave it (their records stay).
	AddSecret(ctx context.Context, add SecretAdd) (Secret, error)
	// GetSecret returns a secret record of a client of the kind in the
	// tenant, soft-deleted or not, or ErrSecretNotFound.
	GetSecret(ctx context.Context, tenantID string, kind ClientKind, clientID, secretID string) (Secret, error)
	// UpdateSecret applies ch if the record is the tenant's and kind's and
	// still changeable at ch.ChangeableAt (Secret.Changeable: neither
	// soft-deleted, nor swept, nor expired at that instant);
	// ErrSecretChanged otherwise.
	UpdateSecret(ctx context.Context, ch SecretChange) (Secret, error)
	// DeleteSecret removes a secret record that is not soft-deleted, or
	// answers ErrSecretNotFound.
	DeleteSecret(ctx context.Context, tenantID string, kind ClientKind, clientID, secretID string) error
	// SoftDeleteSecret marks a secret record deleted at now (again: no
	// change), or answers ErrSecretNotFound.
	// ch is who deletes it and when (ch.At is the deletion's instant).
	SoftDeleteSecret(ctx context.Context, tenantID string, kind ClientKind, clientID, secretID string, ch Change) (Secret, error)
}

// Credentials is what a token request reads and writes: one small item
// per client (its token item), whatever the client's history.
type Credentials interface {
	// ClientForAuthentication returns what a token request decides on:
	// the client of any tenant (TenantID, ID, Kind, Enabled, RoleIDs
	// only) and its secrets that are not deleted (ID, Expiration,
	// LastUsed only), or ErrClientNotFound.
	ClientForAuthentication(ctx context.Context, clientID string) (Client, []Secret, error)
	// MarkUsed records hour as the last use of a secret, on its record and
	// in the token item, unless an hour as late is already recorded (then
	// nothing is written) or the secret is gone.
	MarkUsed(ctx context.Context, clientID, secretID string, hour time.Time) error
}

// Stores are the aggregates the Service acts on, each behind its own
// interface; one implementation may serve them all.
type Stores struct {
	Tenants     Tenants
	Clients     Clients
	Secrets     Secrets
	Credentials Credentials
}

// SecretAdd is a secret add as the Service decided it: the record, and
// the conditions the store writes it on.
type SecretAdd struct {
	TenantID string
	Kind     ClientKind
	Secret   Secret
	// Set is the secret set as read: the add is conditional on its
	// Version (and Set.Records, when known, is what MaxRecords bounds).
	Set SecretSet
	// MaxRecords: the add is conditional on the client holding fewer
	// secret records than this, retained ones included.
	MaxRecords int
	// Forget are the set's secrets that no longer count against the
	// limit (expired when Secret was created): they leave the set.
	Forget []string
}

// SecretChange is a change of a secret's description and expiration (nil
// keeps the stored value), on the condition that the record is still
// changeable at ChangeableAt.
type SecretChange struct {
	TenantID     string
	Kind         ClientKind
	ClientID     string
	SecretID     string
	Description  *string
	Expiration   *time.Time
	ChangeableAt time.Time
	// Change is who makes it and when, recorded on the record.
	Change *Change
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

// Vault keeps secret material: verifiers, never secrets. A ref with a
// Pack names an entry of that pack; without, a secret of its own (the
// layout before packs), which the vault still reads and destroys.
type Vault interface {
	PutVerifier(ctx context.Context, ref MaterialRef, verifier []byte) error
	// DeleteVerifier destroys material at once, without a recovery window.
	// Deleting material that is already gone is not an error.
	DeleteVerifier(ctx context.Context, ref MaterialRef) error
	// Verifier returns ErrNoMaterial when the material does not exist;
	// any other error means it could not be read.
	Verifier(ctx context.Context, ref MaterialRef) ([]byte, error)
}

// PackReader is a Vault that reads a whole pack at once: the token
// function's cache takes every verifier of a pack on a miss.
type PackReader interface {
	// VerifierPack returns the verifiers a tenant's pack holds, by ref
	// (an empty map when the pack does not exist).
	VerifierPack(ctx context.Context, tenantID string, pack int) (map[MaterialRef][]byte, error)
}

// BatchDeleter is a Vault that destroys several pieces of material at
// once: a client's secrets share their tenant's packs, so deleting the
// client writes each pack once rather than once per secret.
type BatchDeleter interface {
	// DeleteVerifiers is DeleteVerifier for every ref: material already
	// gone is not an error; what could not be destroyed is the error.
	DeleteVerifiers(ctx context.Context, refs []MaterialRef) error
}

// ErrNoMaterial means a secret has no material (deleted, or never written).
var ErrNoMaterial = errors.New("secret material not found")

// ErrPackBusy means a pack's compare-and-swap lost to other writers every
// time it was tried: the caller answers ErrConcurrentUpdate.
var ErrPackBusy = errors.New("verifier pack changed by concurrent writers")

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
