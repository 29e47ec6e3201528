package identity

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"time"
)

// Service carries out the use cases on clients and their secrets.
type Service struct {
	Stores
	Vault Vault
	// SealKeys gives the key of token item seals (seal.go); only the
	// client functions, the token function and the operator can read it.
	SealKeys SealKeys
	// SealKeyRefresh is SEAL_KEY_REFRESH, how long the seal keys read are
	// kept (zero: DefaultSealKeyRefresh).
	SealKeyRefresh     time.Duration
	Log                *slog.Logger
	Now                func() time.Time // the clock; tests control it
	DefaultClientLimit int
	// RetentionDays is RETENTION_DAYS, the days the sweeper keeps expired
	// and deleted records: the secret record limit's 400 says when they
	// leave by it. config.FromEnv defaults it to DefaultRetentionDays.
	RetentionDays int
	// AuthFailureFloor is AUTH_FAILURE_FLOOR, the least time a failed
	// client authentication takes (FailureFloor); zero: the default.
	AuthFailureFloor time.Duration
	// Pause waits d or until ctx ends; nil: a timer. Tests replace it to
	// see how long a failure is held.
	Pause func(ctx context.Context, d time.Duration)
	// CleanupTimeout bounds destroying a deleted secret's material, which
	// goes on after the request's own deadline (destroyMaterial); zero:
	// DefaultCleanupTimeout. Tests that hang store calls on purpose
	// shorten it.
	CleanupTimeout time.Duration

	cache verifierCache
	seal  sealKeyCache
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

// NewClient is the input of a client creation.
type NewClient struct {
	ID      string // optional: generated when empty
	Kind    ClientKind
	Name    string
	Enabled *bool     // nil: enabled
	RoleIDs *[]string // nil: Account Member only
	Tags    []string
	// AccessTokenLifetime in seconds; nil: DefaultAccessTokenLifetime.
	AccessTokenLifetime *int

	AllowOfflineAccess          bool
	AllowAccessTokensViaBrowser bool
	RedirectURIs                []string
	PostLogoutRedirectURIs      []string
	ClientURI                   string
	LogoURI                     string

	SecretDescription string
	SecretExpiration  *time.Time

	// OperatorRoles lets RoleIDs hold any known role, cluster roles
	// included. Only the admin CLI sets it; the tenant API never does.
	OperatorRoles bool
}

// CreatedClient is a new client with its first secret, whose plain text
// is shown once.
type CreatedClient struct {
	Client       Client
	Secret       Secret
	SecretString string
}

// CreateClient validates and stores a new client with its first secret.
// Material is written before the records, so a crash leaves at most
// unreferenced material, which is removed again if the store refused the
// records (see discardMaterial).
func (s *Service) CreateClient(ctx context.Context, tenantID string, in NewClient) (CreatedClient, error) {
	now := s.now()
	c, err := s.buildClient(tenantID, in, now)
	if err != nil {
		return CreatedClient{}, err
	}
	if err := ValidateDescription("SecretDescription", in.SecretDescription); err != nil {
		return CreatedClient{}, err
	}
	if err := ValidateExpiration("SecretExpirationDate", in.SecretExpiration, now); err != nil {
		return CreatedClient{}, err
	}
	c.LastChange = changeOf(ctx, now)
	if c, err = s.sealed(ctx, c); err != nil {
		return CreatedClient{}, err
	}
	sec := Secret{TenantID: tenantID, ClientID: c.ID, ID: NewID(), Kind: c.Kind, Description: in.SecretDescription, Expiration: in.SecretExpiration, CreatedAt: now, LastChange: c.LastChange}
	if sec.Pack, err = s.packFor(ctx, tenantID); err != nil {
		return CreatedClient{}, err
	}
	ref := sec.Ref()
	plain, verifier, err := GenerateSecret(ref)
	if err != nil {
		return CreatedClient{}, err
	}
	if err := s.putVerifier(ctx, ref, verifier); err != nil {
		return CreatedClient{}, err
	}
	if err := s.Clients.CreateClient(ctx, c, sec, s.defaultClientLimit()); err != nil {
		s.discardMaterial(ctx, ref, err)
		return CreatedClient{}, err
	}
	s.logger().InfoContext(ctx, "client created", "operation", "create client", "tenant", tenantID, "client", c.ID, "kind", c.Kind.String(), "secret", sec.ID, "actor", ActorOf(ctx))
	return CreatedClient{Client: c, Secret: sec, SecretString: plain}, nil
}

// defaultClientLimit is the limit of a tenant without its own.
func (s *Service) defaultClientLimit() int {
	if s.DefaultClientLimit > 0 {
		return s.DefaultClientLimit
	}
	return DefaultClientLimit
}

func (s *Service) buildClient(tenantID string, in NewClient, now time.Time) (Client, error) {
	id := in.ID
	if id == "" {
		id = NewID()
	} else {
		var err error
		if id, err = ParseGUID("ClientId", id); err != nil {
			return Client{}, err
		}
	}
	if err := ValidateName(in.Name); err != nil {
		return Client{}, err
	}
	tags, err := NormalizeTags(in.Tags)
	if err != nil {
		return Client{}, err
	}
	lifetime, err := accessTokenLifetime(in.AccessTokenLifetime)
	if err != nil {
		return Client{}, err
	}
	c := Client{TenantID: tenantID, ID: id, Kind: in.Kind, Name: in.Name, Enabled: true, Tags: tags, AccessTokenLifetime: lifetime, Version: 1, CreatedAt: now, UpdatedAt: now}
	if in.Enabled != nil {
		c.Enabled = *in.Enabled
	}
	if in.Kind == ClientCredential {
		c.RoleIDs = []string{RoleAccountMember}
		switch {
		case in.RoleIDs != nil && in.OperatorRoles:
			if c.RoleIDs, err = knownRoles(*in.RoleIDs); err != nil {
				return Client{}, err
			}
		case in.RoleIDs != nil:
			if c.RoleIDs, err = NormalizeRoleIDs(*in.RoleIDs); err != nil {
				return Client{}, err
			}
		}
	}
	if in.Kind == Hybrid {
		c.AllowOfflineAccess = in.AllowOfflineAccess
		c.AllowAccessTokensViaBrowser = in.AllowAccessTokensViaBrowser
		if c.RedirectURIs, err = normalizeRedirects("RedirectUris", in.RedirectURIs); err != nil {
			return Client{}, err
		}
		if c.PostLogoutRedirectURIs, err = normalizeRedirects("PostLogoutRedirectUris", in.PostLogoutRedirectURIs); err != nil {
			return Client{}, err
		}
		if c.ClientURI, err = optionalWebURI("ClientUri", in.ClientURI); err != nil {
			return Client{}, err
		}
		if c.LogoURI, err = optionalWebURI("LogoUri", in.LogoURI); err != nil {
			return Client{}, err
		}
	}
	return c, nil
}

// GetClient returns one client.
func (s *Service) GetClient(ctx context.Context, tenantID string, kind ClientKind, clientID string) (Client, error) {
	c, err := s.Clients.GetClient(ctx, tenantID, kind, clientID)
	if err != nil {
		return Client{}, s.notFound(ctx, tenantID, err)
	}
	return c, nil
}

// ClientPage is one page of a client list.
type ClientPage struct {
	Clients []Client
	Total   int         // clients that match, before paging
	Errors  []ItemError // stored items that could not be read
	// Tenant is what the store learned of the tenant while reading the
	// page: a page of every client reads the tenant's counter; a tags
	// page reads only tag entries, and leaves the question open.
	Tenant Presence
}

// Presence is what a read learned of whether something exists.
type Presence uint8

// Presences.
const (
	PresenceUnknown Presence = iota // not read
	Present
	Absent
)

// ListClients returns a page of a tenant's clients of one kind, in
// creation order (a client created while a caller pages through is at the
// end, so no page skips or repeats one).
func (s *Service) ListClients(ctx context.Context, tenantID string, kind ClientKind, opt ListOptions) (ClientPage, error) {
	opt, err := opt.Valid()
	if err != nil {
		return ClientPage{}, err
	}
	page, err := s.Clients.ListClients(ctx, tenantID, kind, opt)
	if err != nil {
		return ClientPage{}, err
	}
	if err := s.tenantOfList(ctx, tenantID, page); err != nil {
		return ClientPage{}, err
	}
	for _, e := range page.Errors {
		s.logger().ErrorContext(ctx, "stored client unreadable", "tenant", tenantID, "item", e.ID, "reason", e.Reason)
	}
	return page, nil
}

// tenantOfList decides, for every list alike, whether an empty page means
// a tenant that does not exist: the page's read says so, or, when it did
// not read the tenant and found nothing, the tenant is read.
func (s *Service) tenantOfList(ctx context.Context, tenantID string, page ClientPage) error {
	switch {
	case page.Tenant == Absent:
		return ErrTenantNotFound
	case page.Tenant == PresenceUnknown && page.Total == 0:
		_, err := s.Tenants.GetTenant(ctx, tenantID)
		return err
	}
	return nil
}

// UpdateClient applies a patch: nil properties keep their stored value.
func (s *Service) UpdateClient(ctx context.Context, tenantID string, kind ClientKind, clientID string, p ClientPatch) (Client, error) {
	if p.Name != nil {
		if err := ValidateName(*p.Name); err != nil {
			return Client{}, err
		}
	}
	if p.Tags != nil {
		tags, err := NormalizeTags(*p.Tags)
		if err != nil {
			return Client{}, err
		}
		p.Tags = &tags
	}
	if p.AccessTokenLifetime != nil {
		if err := ValidateAccessTokenLifetime(*p.AccessTokenLifetime); err != nil {
			return Client{}, err
		}
	}
	if p.RoleIDs != nil {
		if kind != ClientCredential {
			return Client{}, Invalid("RoleIds cannot be set on a %s client.", "Remove RoleIds.", kind)
		}
		ids, err := NormalizeRoleIDs(*p.RoleIDs)
		if err != nil {
			return Client{}, err
		}
		p.RoleIDs = &ids
	}
	for _, r := range []struct {
		field string
		v     **[]string
	}{{"RedirectUris", &p.RedirectURIs}, {"PostLogoutRedirectUris", &p.PostLogoutRedirectURIs}} {
		if *r.v != nil {
			uris, err := normalizeRedirects(r.field, **r.v)
			if err != nil {
				return Client{}, err
			}
			*r.v = &uris
		}
	}
	for _, u := range []struct {
		field string
		v     *string
	}{{"ClientUri", p.ClientURI}, {"LogoUri", p.LogoURI}} {
		if u.v != nil {
			if _, err := optionalWebURI(u.field, *u.v); err != nil {
				return Client{}, err
			}
		}
	}
	// Read, patch, write on the version read: a concurrent update makes
	// the write fail, and the patch is applied again to what won.
	var c Client
	for attempt := 1; ; attempt++ {
		cur, err := s.GetClient(ctx, tenantID, kind, clientID)
		if err != nil {
			return Client{}, err
		}
		if err := s.refuseOperatorClient(ctx, cur); err != nil {
			return Client{}, err
		}
		patched := cur.patched(p, s.now())
		patched.LastChange = changeOf(ctx, patched.UpdatedAt)
		if c, err = s.sealed(ctx, patched); err != nil {
			return Client{}, err
		}
		err = s.Clients.UpdateClient(ctx, cur, c)
		if errors.Is(err, ErrClientChanged) {
			if attempt < maxUpdateAttempts {
				sleep(ctx, time.Duration(rand.IntN(10*attempt+10))*time.Millisecond)
				continue
			}
			return Client{}, ErrConcurrentUpdate
		}
		if err != nil {
			return Client{}, s.notFound(ctx, tenantID, err)
		}
		break
	}
	s.logger().InfoContext(ctx, "client updated", "operation", "update client", "tenant", tenantID, "client", clientID, "kind", kind.String(), "actor", ActorOf(ctx))
	return c, nil
}

// maxUpdateAttempts bounds the retries of a client update that lost to
// another update of the same client.
const maxUpdateAttempts = 16

// patched is the client with a patch applied: nil properties keep their
// value; the version and UpdatedAt move on.
func (c Client) patched(p ClientPatch, now time.Time) Client {
	n := c
	set := func(dst *[]string, src *[]string) {
		if src != nil {
			*dst = append([]string{}, (*src)...)
		}
	}
	if p.Name != nil {
		n.Name = *p.Name
	}
	if p.Enabled != nil {
		n.Enabled = *p.Enabled
	}
	set(&n.Tags, p.Tags)
	if p.AccessTokenLifetime != nil {
		n.AccessTokenLifetime = *p.AccessTokenLifetime
	}
	if c.Kind == ClientCredential {
		set(&n.RoleIDs, p.RoleIDs)
	}
	if c.Kind == Hybrid {
		if p.AllowOfflineAccess != nil {
			n.AllowOfflineAccess = *p.AllowOfflineAccess
		}
		if p.AllowAccessTokensViaBrowser != nil {
			n.AllowAccessTokensViaBrowser = *p.AllowAccessTokensViaBrowser
		}
		set(&n.RedirectURIs, p.RedirectURIs)
		set(&n.PostLogoutRedirectURIs, p.PostLogoutRedirectURIs)
		if p.ClientURI != nil {
			n.ClientURI = *p.ClientURI
		}
		if p.LogoURI != nil {
			n.LogoURI = *p.LogoURI
		}
	}
	n.Version++
	n.UpdatedAt = now
	return n
}

// DeleteClient removes a client, then destroys its secret material. The
// records go first: once they are gone nothing can authenticate, and
// material left behind by a failure is unreferenced, for the sweeper.
func (s *Service) DeleteClient(ctx context.Context, tenantID string, kind ClientKind, clientID string) error {
	if err := s.guardOperatorClient(ctx, tenantID, kind, clientID); err != nil {
		return err
	}
	secrets, err := s.Clients.DeleteClient(ctx, tenantID, kind, clientID)
	if err != nil {
		return s.notFound(ctx, tenantID, err)
	}
	refs := make([]MaterialRef, 0, len(secrets))
	for _, sec := range secrets {
		if sec.Swept {
			// The sweeper destroyed this material when it marked the
			// record; a destruction of its that failed is retried by the
			// reconciliation (the material now has no record). Not
			// destroying it again spares a client with many retained
			// records as many calls (98 records: 105 calls, now 7).
			continue
		}
		refs = append(refs, MaterialRef{TenantID: tenantID, ClientID: clientID, SecretID: sec.ID, Pack: sec.Pack})
	}
	s.destroyMaterials(ctx, refs)
	s.logger().InfoContext(ctx, "client deleted", "operation", "delete client", "tenant", tenantID, "client", clientID, "kind", kind.String(), "secrets", len(secrets), "actor", ActorOf(ctx))
	return nil
}

// packFor hands out the pack of a new secret's verifier: the tenant's
// next verifier slot decides it (PackOf), so concurrent adds agree on
// which pack fills, and a full pack is never written to (the slot after
// its last opens the next one).
func (s *Service) packFor(ctx context.Context, tenantID string) (int, error) {
	slot, err := s.Tenants.NextVerifierSlot(ctx, tenantID)
	if err != nil {
		return 0, err
	}
	return PackOf(slot), nil
}

// putVerifier stores new material: a pack whose compare-and-swap kept
// losing is a 409 Concurrent update (nothing was written), any other
// failure a 5xx.
func (s *Service) putVerifier(ctx context.Context, ref MaterialRef, verifier []byte) error {
	err := s.Vault.PutVerifier(ctx, ref, verifier)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, ErrPackBusy):
		return ErrConcurrentUpdate
	}
	return Internal("store secret material", err)
}

// discardMaterial cleans up the material of a record the store did not
// write. Only a refusal (a failed condition: limit, conflict, not found)
// proves the record absent; after any other failure (a timeout, a 5xx) the
// write may have been applied with its answer lost, and destroying the
// material would leave an active record without it. That material stays:
// if its record is absent, the sweeper's reconciliation destroys it once
// it is older than its grace period.
func (s *Service) discardMaterial(ctx context.Context, ref MaterialRef, storeErr error) {
	if k := KindOf(storeErr); k == KindInternal || k == KindUnavailable {
		s.logger().WarnContext(ctx, "secret material kept: the record write may have been applied; the sweeper reconciles it",
			"tenant", ref.TenantID, "client", ref.ClientID, "secret", ref.SecretID)
		return
	}
	s.destroyMaterial(ctx, ref)
}

// DefaultCleanupTimeout is how long destroying material may take, all
// tries together.
const DefaultCleanupTimeout = 5 * time.Second

// destroyMaterial deletes material even if the request was cancelled, with
// a few tries; what still fails is logged for the sweeper's reconciliation.
func (s *Service) destroyMaterial(ctx context.Context, ref MaterialRef) {
	s.destroyMaterials(ctx, []MaterialRef{ref})
}

// destroyMaterials is destroyMaterial for several refs: with a vault that
// deletes in batches (BatchDeleter), one pack write per pack rather than
// one per secret.
func (s *Service) destroyMaterials(ctx context.Context, refs []MaterialRef) {
	if len(refs) == 0 {
		return
	}
	timeout := s.CleanupTimeout
	if timeout <= 0 {
		timeout = DefaultCleanupTimeout
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), timeout)
	defer cancel()
	destroy := func() error {
		if b, ok := s.Vault.(BatchDeleter); ok && len(refs) > 1 {
			return b.DeleteVerifiers(ctx, refs)
		}
		var errs []error
		for _, ref := range refs {
			errs = append(errs, s.Vault.DeleteVerifier(ctx, ref))
		}
		return errors.Join(errs...)
	}
	var err error
	for attempt := range 3 {
		if err = destroy(); err == nil {
			return
		}
		time.Sleep(time.Duration(50*(attempt+1)) * time.Millisecond)
	}
	ids := make([]string, len(refs))
	for i, ref := range refs {
		ids[i] = ref.SecretID
	}
	// Which of a batch failed is in the error; the sweeper's reconciliation
	// destroys whatever is left of material without a live record.
	s.logger().ErrorContext(ctx, "secret material not destroyed; the sweeper will reconcile it",
		"tenant", refs[0].TenantID, "client", refs[0].ClientID, "secrets", ids, "error", err.Error())
}

func (s *Service) logger() *slog.Logger {
	if s.Log != nil {
		return s.Log
	}
	return slog.Default()
}

func normalizeRedirects(field string, uris []string) ([]string, error) {
	if len(uris) > MaxRedirectURIs {
		return nil, Invalid("%s has %d URIs; the limit is %d.", fmt.Sprintf("Send at most %d URIs.", MaxRedirectURIs), field, len(uris), MaxRedirectURIs)
	}
	out := make([]string, 0, len(uris))
	seen := map[string]bool{}
	for i, u := range uris {
		if err := ValidateRedirectURI(fmt.Sprintf("%s[%d]", field, i), u); err != nil {
			return nil, err
		}
		if !seen[u] {
			seen[u] = true
			out = append(out, u)
		}
	}
	return out, nil
}

func optionalWebURI(field, u string) (string, error) {
	if u == "" {
		return "", nil
	}
	return u, ValidateWebURI(field, u)
}
