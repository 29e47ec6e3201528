package identity

import (
	"fmt"
	"strconv"
	"time"
)

// ClientKind tells the two kinds of client apart. Its zero value is no
// kind (not "either kind"): an operation that serves both kinds looks the
// kind up first (Service.ClientKindOf) and says so.
type ClientKind uint8

// Client kinds.
const (
	ClientCredential ClientKind = iota + 1 // machine-to-machine, client credentials grant
	Hybrid                                 // interactive application, OIDC hybrid flow
)

// ClientKinds lists every kind.
var ClientKinds = []ClientKind{ClientCredential, Hybrid}

// String is the kind's stored and wire name.
func (k ClientKind) String() string {
	switch k {
	case ClientCredential:
		return "ClientCredential"
	case Hybrid:
		return "Hybrid"
	}
	return "ClientKind(" + strconv.Itoa(int(k)) + ")"
}

// MarshalText writes the kind's name, so that JSON and logs show it.
func (k ClientKind) MarshalText() ([]byte, error) {
	if !k.Valid() {
		return nil, fmt.Errorf("no client kind %d", int(k))
	}
	return []byte(k.String()), nil
}

// UnmarshalText reads a kind's name.
func (k *ClientKind) UnmarshalText(b []byte) error {
	got, ok := ParseClientKind(string(b))
	if !ok {
		return fmt.Errorf("unknown client kind %q", b)
	}
	*k = got
	return nil
}

// Valid reports whether k is one of the kinds.
func (k ClientKind) Valid() bool { return k == ClientCredential || k == Hybrid }

// ParseClientKind reads a kind's name.
func ParseClientKind(name string) (ClientKind, bool) {
	for _, k := range ClientKinds {
		if k.String() == name {
			return k, true
		}
	}
	return 0, false
}

// Limits of the data model. They are documented in docs/api.md ("Limits").
const (
	MaxNameLength        = 200
	MaxTags              = 50
	MaxTagLength         = 128
	MaxRoleIDs           = 20
	MaxDescriptionLength = 256
	MaxSecretsPerClient  = 10 // secrets that are neither deleted nor expired
	// MaxSecretRecordsPerClient bounds a client's secret records, retained
	// ones (expired or soft-deleted, not yet purged by the sweeper)
	// included, so that what a client's secret list and delete read
	// cannot grow without bound.
	MaxSecretRecordsPerClient = 100
	// DefaultRetentionDays is how long the sweeper keeps expired and
	// soft-deleted records (RETENTION_DAYS).
	DefaultRetentionDays = 30
	MaxRedirectURIs      = 10
	MaxURILength         = 2000
	DefaultClientLimit   = 50000
)

// Tenant is an account that owns clients.
type Tenant struct {
	ID          string
	Name        string
	ClientLimit int                // 0: the service's default
	ClientCount int                // clients of both kinds: what the limit counts
	KindCounts  map[ClientKind]int // clients of each kind: a list's Total-Count
	CreatedAt   time.Time
	// LastChange is who created the tenant, and when (nil for a tenant
	// written before it was recorded).
	LastChange *Change
}

// Client is an OAuth 2.0 client of either kind. Hybrid-only fields are zero
// for Client Credential clients.
type Client struct {
	TenantID string
	ID       string
	Kind     ClientKind
	Name     string
	Enabled  bool
	RoleIDs  []string
	Tags     []string
	// AccessTokenLifetime is the lifetime of the client's access tokens in
	// seconds (MinAccessTokenLifetime to MaxAccessTokenLifetime); 0 for a
	// client stored before it existed, whose tokens live the default
	// (TokenLifetime).
	AccessTokenLifetime int
	// TokenSeal is the seal of the token item (seal.go): set by the
	// Service on what it writes, read back by ClientForAuthentication.
	TokenSeal []byte

	AllowOfflineAccess          bool
	AllowAccessTokensViaBrowser bool
	RedirectURIs                []string
	PostLogoutRedirectURIs      []string
	ClientURI                   string
	LogoURI                     string

	Version   int64
	CreatedAt time.Time
	UpdatedAt time.Time
	// Seq is the client's place in its tenant's creation order (lists
	// page in it), set by the store at creation.
	Seq int64
	// StaleTags is the store's bookkeeping, never shown: tags the client
	// no longer carries whose tag entries an update could not remove in
	// its transaction (too many changes), removed right after or, should
	// that fail, by the next update or the delete.
	StaleTags []string
	// LastChange is who created or last updated the client, and when
	// (nil for a client written before it was recorded).
	LastChange *Change
}

// Secret is the record of one client secret. The secret itself is never
// stored; its verifier lives in the Vault under MaterialName.
type Secret struct {
	TenantID    string
	ClientID    string
	ID          string
	Kind        ClientKind // the client's kind
	Description string
	Expiration  *time.Time // nil: never expires
	CreatedAt   time.Time
	DeletedAt   *time.Time // set when soft-deleted through the Key Rotation API
	// LastUsed is the start of the hour of the latest successful token
	// request with this secret; nil: never used.
	LastUsed *time.Time
	// Swept: the sweeper destroyed the material of this expired or
	// soft-deleted secret; the record stays listed until it is purged.
	Swept bool
	// LastChange is who added, last updated or soft-deleted the secret,
	// and when (nil for a record written before it was recorded).
	LastChange *Change
	// Pack is the verifier pack that holds the secret's material (1 and
	// up; see PackOf); 0: a record written before packs, whose material
	// is a secret of its own.
	Pack int
}

// Ref names the secret's material in the Vault.
func (s Secret) Ref() MaterialRef {
	return MaterialRef{TenantID: s.TenantID, ClientID: s.ClientID, SecretID: s.ID, Pack: s.Pack}
}

// Active reports whether the secret can authenticate at instant now.
func (s Secret) Active(now time.Time) bool {
	if s.DeletedAt != nil {
		return false
	}
	return s.Expiration == nil || now.Before(*s.Expiration)
}

// Changeable reports whether the secret's description and expiration may
// still change at instant now: an expired (or swept) secret cannot be
// revived, and a soft-deleted one is gone.
func (s Secret) Changeable(now time.Time) bool {
	return !s.Swept && s.Active(now)
}

// MaterialRef names a secret's material in the Vault: the secret's ids
// and the pack that holds its verifier (0: the material is a secret of its
// own, the layout before packs).
type MaterialRef struct {
	TenantID, ClientID, SecretID string
	Pack                         int
}

// PackSize is the most verifiers a pack holds: a pack's value stays well
// under Secrets Manager's 64 KB (shared/vault, docs/storage.md).
const PackSize = 400

// PackOf is the pack of a tenant's verifier slot n (1, 2, ...: the
// tenant's counter, Tenants.NextVerifierSlot): slots 1 to PackSize go to
// pack 1, and so on. Every slot is handed out once, so a pack never holds
// more than PackSize verifiers; a slot whose add failed is a gap.
func PackOf(slot int64) int {
	if slot < 1 {
		return 0
	}
	return int((slot-1)/PackSize) + 1
}

// ItemError is one stored item that could not be read while listing.
type ItemError struct {
	ID     string // the item's id, when it could be recovered
	Reason string
}
