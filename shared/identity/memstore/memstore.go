// Package memstore keeps tenants, clients, secret records and secret
// material in memory, honest to the contract of identity's storage
// interfaces (identitytest.RunContract holds it and DynamoDB to the same
// suite): every condition the store is handed is enforced, versions and
// counters move as they do in the table, and not found is reported for
// what was looked up. It is for unit tests of the domain's rules, which
// then run in milliseconds without an emulator; the service never uses
// it.
package memstore

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"time"

	"identityservice/shared/identity"
)

// Store is an in-memory implementation of identity.Tenants, Clients,
// Secrets and Credentials. Its zero value is not usable: call New.
type Store struct {
	mu      sync.Mutex
	tenants map[string]*tenant
	regs    map[string]*registration // by client id, across tenants
	// deleted holds the ids of deleted clients: reserved for ever, as the
	// DynamoDB store's tombstones keep them.
	deleted map[string]bool
	// Reads counts the calls of each method: what a rule read, for tests
	// that a rule reads nothing it need not.
	Reads map[string]int
}

type tenant struct {
	t       identity.Tenant
	lastSeq int64
	slots   int64                       // verifier slots handed out (NextVerifierSlot)
	clients map[string]*identity.Client // by kind prefix and id (clientKey)
}

// registration is a client's reservation of its id and its token item.
type registration struct {
	tenantID       string
	kind           identity.ClientKind
	enabled        bool
	roleIDs        []string
	lifetime       int // AccessTokenLifetime, seconds (0: the default)
	seal           []byte
	secretsVersion int64
	entries        map[string]entry // the secrets that count: not deleted
	records        map[string]*identity.Secret
}

type entry struct {
	expiration *time.Time
	lastUsed   *time.Time
	pack       int
}

var (
	_ identity.Tenants     = (*Store)(nil)
	_ identity.Clients     = (*Store)(nil)
	_ identity.Secrets     = (*Store)(nil)
	_ identity.Credentials = (*Store)(nil)
)

// New returns an empty store.
func New() *Store {
	return &Store{tenants: map[string]*tenant{}, regs: map[string]*registration{}, Reads: map[string]int{}}
}

// Stores is the store as every aggregate the Service acts on.
func (m *Store) Stores() identity.Stores {
	return identity.Stores{Tenants: m, Clients: m, Secrets: m, Credentials: m}
}

// call counts a method's call and locks the store until the returned
// function runs.
func (m *Store) call(name string) func() {
	m.mu.Lock()
	m.Reads[name]++
	return m.mu.Unlock
}

// Calls is how many times the store's methods were called in all.
func (m *Store) Calls() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for _, c := range m.Reads {
		n += c
	}
	return n
}

func clientKey(kind identity.ClientKind, id string) string { return kind.String() + "/" + id }

// CreateTenant stores a new tenant.
func (m *Store) CreateTenant(ctx context.Context, t identity.Tenant) error {
	defer m.call("CreateTenant")()
	if _, ok := m.tenants[t.ID]; ok {
		return identity.ErrTenantExists
	}
	t.ClientCount, t.KindCounts = 0, map[identity.ClientKind]int{}
	for _, k := range identity.ClientKinds {
		t.KindCounts[k] = 0
	}
	t.CreatedAt = t.CreatedAt.UTC()
	m.tenants[t.ID] = &tenant{t: t, clients: map[string]*identity.Client{}}
	return nil
}

// GetTenant returns a tenant with its counters.
func (m *Store) GetTenant(ctx context.Context, tenantID string) (identity.Tenant, error) {
	defer m.call("GetTenant")()
	return m.tenant(tenantID)
}

func (m *Store) tenant(tenantID string) (identity.Tenant, error) {
	t, ok := m.tenants[tenantID]
	if !ok {
		return identity.Tenant{}, identity.ErrTenantNotFound
	}
	out := t.t
	out.KindCounts = map[identity.ClientKind]int{}
	for k, n := range t.t.KindCounts {
		out.KindCounts[k] = n
	}
	return out, nil
}

// NextVerifierSlot hands out the tenant's next verifier slot.
func (m *Store) NextVerifierSlot(ctx context.Context, tenantID string) (int64, error) {
	defer m.call("NextVerifierSlot")()
	t, ok := m.tenants[tenantID]
	if !ok {
		return 0, identity.ErrTenantNotFound
	}
	t.slots++
	return t.slots, nil
}

// CreateClient stores a client, its registration and first secret record,
// on the conditions of identity.Clients.CreateClient.
func (m *Store) CreateClient(ctx context.Context, c identity.Client, first identity.Secret, defaultLimit int) error {
	defer m.call("CreateClient")()
	if _, ok := m.regs[c.ID]; ok || m.deleted[c.ID] {
		return identity.ErrClientIDExists
	}
	t, ok := m.tenants[c.TenantID]
	if !ok {
		return identity.ErrTenantNotFound
	}
	limit := t.t.ClientLimit
	if limit == 0 {
		limit = defaultLimit
	}
	if t.t.ClientCount >= limit {
		return identity.ErrClientLimit
	}
	t.lastSeq = max(time.Now().UnixMicro(), t.lastSeq+1)
	c.Seq = t.lastSeq
	c.StaleTags = nil
	stored := cloneClient(c)
	t.clients[clientKey(c.Kind, c.ID)] = &stored
	t.t.ClientCount++
	t.t.KindCounts[c.Kind]++
	first.Kind = c.Kind
	rec := cloneSecret(first)
	m.regs[c.ID] = &registration{tenantID: c.TenantID, kind: c.Kind, enabled: c.Enabled, roleIDs: cloneStrings(c.RoleIDs), lifetime: c.AccessTokenLifetime, seal: slices.Clone(c.TokenSeal), secretsVersion: 1,
		entries: map[string]entry{first.ID: {expiration: rec.Expiration, pack: rec.Pack}}, records: map[string]*identity.Secret{first.ID: &rec}}
	return nil
}

// GetClient returns a client of the kind in the tenant.
func (m *Store) GetClient(ctx context.Context, tenantID string, kind identity.ClientKind, clientID string) (identity.Client, error) {
	defer m.call("GetClient")()
	c := m.client(tenantID, kind, clientID)
	if c == nil {
		return identity.Client{}, identity.ErrClientNotFound
	}
	return cloneClient(*c), nil
}

func (m *Store) client(tenantID string, kind identity.ClientKind, clientID string) *identity.Client {
	t, ok := m.tenants[tenantID]
	if !ok {
		return nil
	}
	return t.clients[clientKey(kind, clientID)]
}

// ListClients pages a tenant's clients of a kind in creation order.
func (m *Store) ListClients(ctx context.Context, tenantID string, kind identity.ClientKind, q identity.ListOptions) (identity.ClientPage, error) {
	defer m.call("ListClients")()
	page := identity.ClientPage{Clients: []identity.Client{}}
	t, ok := m.tenants[tenantID]
	if len(q.Tags) == 0 {
		page.Tenant = identity.Absent
		if !ok {
			return page, nil
		}
		page.Tenant = identity.Present
	}
	var match []identity.Client
	if ok {
		for _, c := range t.clients {
			if c.Kind == kind && (len(q.Tags) == 0 || slices.ContainsFunc(q.Tags, func(tag string) bool { return slices.Contains(c.Tags, tag) })) {
				match = append(match, cloneClient(*c))
			}
		}
	}
	slices.SortFunc(match, func(a, b identity.Client) int { return int(a.Seq - b.Seq) })
	page.Total = len(match)
	if q.Skip < len(match) {
		page.Clients = match[q.Skip:min(q.Skip+q.Count, len(match))]
	}
	return page, nil
}

// UpdateClient replaces old by next if the stored client is at old's
// version.
func (m *Store) UpdateClient(ctx context.Context, old, next identity.Client) error {
	defer m.call("UpdateClient")()
	c := m.client(old.TenantID, old.Kind, old.ID)
	if c == nil || c.Version != old.Version {
		return identity.ErrClientChanged
	}
	next.Seq, next.StaleTags = c.Seq, nil
	*c = cloneClient(next)
	if reg := m.regs[old.ID]; reg != nil {
		reg.enabled, reg.roleIDs, reg.lifetime, reg.seal = next.Enabled, cloneStrings(next.RoleIDs), next.AccessTokenLifetime, slices.Clone(next.TokenSeal)
	}
	return nil
}

// DeleteClient removes a client, its registration and its secret records.
func (m *Store) DeleteClient(ctx context.Context, tenantID string, kind identity.ClientKind, clientID string) ([]identity.Secret, error) {
	defer m.call("DeleteClient")()
	reg := m.owned(tenantID, kind, clientID)
	if reg == nil {
		return nil, identity.ErrClientNotFound
	}
	t := m.tenants[tenantID]
	if t.clients[clientKey(kind, clientID)] == nil {
		return nil, identity.ErrClientNotFound
	}
	delete(t.clients, clientKey(kind, clientID))
	t.t.ClientCount--
	t.t.KindCounts[kind]--
	delete(m.regs, clientID)
	if m.deleted == nil {
		m.deleted = map[string]bool{}
	}
	m.deleted[clientID] = true
	return recordsOf(reg), nil
}

// MarkSwept does to a secret's record what the sweeper does when it
// destroys its material: the record stays, marked swept, and no longer
// counts (the store has no sweep queue; this stands in for it in tests).
func (m *Store) MarkSwept(clientID, secretID string) bool {
	defer m.call("MarkSwept")()
	reg := m.regs[clientID]
	if reg == nil || reg.records[secretID] == nil {
		return false
	}
	reg.records[secretID].Swept = true
	delete(reg.entries, secretID)
	reg.secretsVersion++
	return true
}

// ClientKind returns the kind of a tenant's client.
func (m *Store) ClientKind(ctx context.Context, tenantID, clientID string) (identity.ClientKind, error) {
	defer m.call("ClientKind")()
	reg := m.regs[clientID]
	if reg == nil || reg.tenantID != tenantID {
		return 0, identity.ErrClientNotFound
	}
	return reg.kind, nil
}

// owned is a client's registration if it is the tenant's and of the kind.
func (m *Store) owned(tenantID string, kind identity.ClientKind, clientID string) *registration {
	reg := m.regs[clientID]
	if reg == nil || reg.tenantID != tenantID || reg.kind != kind {
		return nil
	}
	return reg
}

func recordsOf(reg *registration) []identity.Secret {
	out := make([]identity.Secret, 0, len(reg.records))
	for _, sec := range reg.records {
		out = append(out, cloneSecret(*sec))
	}
	slices.SortFunc(out, func(a, b identity.Secret) int { return strings.Compare(a.ID, b.ID) })
	return out
}

// ClientSecrets returns every secret record of a client.
func (m *Store) ClientSecrets(ctx context.Context, tenantID string, kind identity.ClientKind, clientID string) ([]identity.Secret, error) {
	defer m.call("ClientSecrets")()
	reg := m.owned(tenantID, kind, clientID)
	if reg == nil {
		return nil, identity.ErrClientNotFound
	}
	return recordsOf(reg), nil
}

// SecretSet returns the client's secrets that count, with their version.
func (m *Store) SecretSet(ctx context.Context, tenantID string, kind identity.ClientKind, clientID string) (identity.SecretSet, error) {
	defer m.call("SecretSet")()
	reg := m.owned(tenantID, kind, clientID)
	if reg == nil {
		return identity.SecretSet{}, identity.ErrClientNotFound
	}
	return identity.SecretSet{Version: reg.secretsVersion, Secrets: m.entries(clientID, reg), RoleIDs: cloneStrings(reg.roleIDs), Records: len(reg.records)}, nil
}

func (m *Store) entries(clientID string, reg *registration) []identity.Secret {
	out := []identity.Secret{}
	for id, e := range reg.entries {
		out = append(out, identity.Secret{TenantID: reg.tenantID, ClientID: clientID, ID: id, Kind: reg.kind, Expiration: cloneTime(e.expiration), LastUsed: cloneTime(e.lastUsed), Pack: e.pack})
	}
	slices.SortFunc(out, func(a, b identity.Secret) int { return strings.Compare(a.ID, b.ID) })
	return out
}

// AddSecret stores a secret record on add's conditions.
func (m *Store) AddSecret(ctx context.Context, add identity.SecretAdd) (identity.Secret, error) {
	defer m.call("AddSecret")()
	sec := add.Secret
	sec.Kind = add.Kind
	reg := m.regs[sec.ClientID]
	if reg != nil && len(reg.records) >= add.MaxRecords {
		return identity.Secret{}, &identity.SecretRecordsFull{Count: len(reg.records), Records: recordsOf(reg)}
	}
	if reg == nil || reg.tenantID != add.TenantID || reg.kind != add.Kind || reg.secretsVersion != add.Set.Version {
		return identity.Secret{}, identity.ErrSecretSetChanged
	}
	if _, ok := reg.records[sec.ID]; ok {
		return identity.Secret{}, identity.Internal("add secret", errors.New("secret id collision"))
	}
	for _, id := range add.Forget {
		delete(reg.entries, id)
	}
	rec := cloneSecret(sec)
	reg.records[sec.ID] = &rec
	reg.entries[sec.ID] = entry{expiration: cloneTime(sec.Expiration), pack: sec.Pack}
	reg.secretsVersion++
	return cloneSecret(sec), nil
}

// GetSecret returns a secret record of the tenant's client of the kind.
func (m *Store) GetSecret(ctx context.Context, tenantID string, kind identity.ClientKind, clientID, secretID string) (identity.Secret, error) {
	defer m.call("GetSecret")()
	sec := m.record(tenantID, kind, clientID, secretID)
	if sec == nil {
		return identity.Secret{}, identity.ErrSecretNotFound
	}
	return cloneSecret(*sec), nil
}

func (m *Store) record(tenantID string, kind identity.ClientKind, clientID, secretID string) *identity.Secret {
	reg := m.regs[clientID]
	if reg == nil {
		return nil
	}
	sec := reg.records[secretID]
	if sec == nil || sec.TenantID != tenantID || sec.Kind != kind {
		return nil
	}
	return sec
}

// UpdateSecret applies ch if the record is still changeable at
// ch.ChangeableAt.
func (m *Store) UpdateSecret(ctx context.Context, ch identity.SecretChange) (identity.Secret, error) {
	defer m.call("UpdateSecret")()
	sec := m.record(ch.TenantID, ch.Kind, ch.ClientID, ch.SecretID)
	if sec != nil && ch.Description == nil && ch.Expiration == nil {
		return cloneSecret(*sec), nil
	}
	// The table keeps instants to the second in its conditions.
	if sec == nil || sec.DeletedAt != nil || sec.Swept || (sec.Expiration != nil && sec.Expiration.Unix() <= ch.ChangeableAt.Unix()) {
		return identity.Secret{}, identity.ErrSecretChanged
	}
	reg := m.regs[ch.ClientID]
	if ch.Expiration != nil {
		e, ok := reg.entries[ch.SecretID]
		if !ok {
			return identity.Secret{}, identity.ErrSecretChanged
		}
		e.expiration = cloneTime(ch.Expiration)
		reg.entries[ch.SecretID] = e
		sec.Expiration = cloneTime(ch.Expiration)
	}
	if ch.Change != nil {
		c := *ch.Change
		sec.LastChange = &c
	}
	if ch.Description != nil {
		sec.Description = *ch.Description
	}
	return cloneSecret(*sec), nil
}

// DeleteSecret removes a secret record that is not soft-deleted.
func (m *Store) DeleteSecret(ctx context.Context, tenantID string, kind identity.ClientKind, clientID, secretID string) error {
	defer m.call("DeleteSecret")()
	sec := m.record(tenantID, kind, clientID, secretID)
	if sec == nil || sec.DeletedAt != nil {
		return identity.ErrSecretNotFound
	}
	reg := m.regs[clientID]
	delete(reg.records, secretID)
	delete(reg.entries, secretID)
	reg.secretsVersion++
	return nil
}

// SoftDeleteSecret marks a secret record deleted at ch.At, once; ch is
// recorded as its latest change by every call.
func (m *Store) SoftDeleteSecret(ctx context.Context, tenantID string, kind identity.ClientKind, clientID, secretID string, ch identity.Change) (identity.Secret, error) {
	defer m.call("SoftDeleteSecret")()
	sec := m.record(tenantID, kind, clientID, secretID)
	if sec == nil {
		return identity.Secret{}, identity.ErrSecretNotFound
	}
	if sec.DeletedAt == nil {
		at := ch.At.UTC()
		sec.DeletedAt = &at
	}
	sec.LastChange = &ch
	reg := m.regs[clientID]
	delete(reg.entries, secretID)
	reg.secretsVersion++
	return cloneSecret(*sec), nil
}

// ClientForAuthentication returns a client's token item.
func (m *Store) ClientForAuthentication(ctx context.Context, clientID string) (identity.Client, []identity.Secret, error) {
	defer m.call("ClientForAuthentication")()
	reg := m.regs[clientID]
	if reg == nil {
		return identity.Client{}, nil, identity.ErrClientNotFound
	}
	c := identity.Client{TenantID: reg.tenantID, ID: clientID, Kind: reg.kind, Enabled: reg.enabled, RoleIDs: cloneStrings(reg.roleIDs), AccessTokenLifetime: reg.lifetime, TokenSeal: slices.Clone(reg.seal)}
	return c, m.entries(clientID, reg), nil
}

// MarkUsed records hour as a secret's last use unless an hour as late is
// recorded or the secret is gone.
func (m *Store) MarkUsed(ctx context.Context, clientID, secretID string, hour time.Time) error {
	defer m.call("MarkUsed")()
	reg := m.regs[clientID]
	if reg == nil {
		return nil
	}
	e, ok := reg.entries[secretID]
	sec := reg.records[secretID]
	h := time.Unix(hour.Unix(), 0).UTC()
	if !ok || sec == nil || (e.lastUsed != nil && !e.lastUsed.Before(h)) {
		return nil
	}
	e.lastUsed = &h
	reg.entries[secretID] = e
	sec.LastUsed = cloneTime(&h)
	return nil
}

// cloneClient copies a client as the table keeps it: the properties of
// its kind only.
func cloneClient(c identity.Client) identity.Client {
	c.Tags = cloneStrings(c.Tags)
	c.StaleTags = nil
	switch c.Kind {
	case identity.ClientCredential:
		c.RoleIDs = cloneStrings(c.RoleIDs)
		c.AllowOfflineAccess, c.AllowAccessTokensViaBrowser = false, false
		c.RedirectURIs, c.PostLogoutRedirectURIs, c.ClientURI, c.LogoURI = nil, nil, "", ""
	case identity.Hybrid:
		c.RoleIDs = nil
		c.RedirectURIs = cloneStrings(c.RedirectURIs)
		c.PostLogoutRedirectURIs = cloneStrings(c.PostLogoutRedirectURIs)
	}
	c.CreatedAt, c.UpdatedAt = c.CreatedAt.UTC(), c.UpdatedAt.UTC()
	return c
}

// cloneStrings copies a list; the table reads a missing list as empty.
func cloneStrings(s []string) []string {
	if s == nil {
		return []string{}
	}
	return slices.Clone(s)
}

func cloneSecret(s identity.Secret) identity.Secret {
	s.Expiration, s.DeletedAt, s.LastUsed = cloneTime(s.Expiration), cloneTime(s.DeletedAt), cloneTime(s.LastUsed)
	s.CreatedAt = s.CreatedAt.UTC()
	return s
}

func cloneTime(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}
