// Package identitytest is the contract of identity's storage interfaces
// (Tenants, Clients, Secrets, Credentials, and the Vault), as one suite
// that every implementation runs: the in-memory one (memstore, in `make
// unit`) and DynamoDB Local with Secrets Manager on moto (shared/store and
// shared/vault, in `make test`), in the spirit of ory/hydra's
// client/manager_test_helpers.go. Each case names the method and the
// condition it holds; a failed condition must write nothing.
package identitytest

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"identityservice/shared/identity"
)

// RunContract runs the storage contract against the stores newStores
// returns (a fresh set per call, or one shared set: every case works in a
// tenant of its own).
func RunContract(t *testing.T, newStores func(t *testing.T) identity.Stores) {
	for _, c := range contract {
		t.Run(c.name, func(t *testing.T) {
			st := newStores(t)
			c.run(t, &fixture{Stores: st, ctx: context.Background(), t: t})
		})
	}
}

// Methods lists the storage methods the contract covers, by interface.
func Methods() map[string][]string {
	return map[string][]string{
		"Tenants":     {"CreateTenant", "GetTenant", "NextVerifierSlot"},
		"Clients":     {"CreateClient", "GetClient", "ListClients", "UpdateClient", "DeleteClient", "ClientKind"},
		"Secrets":     {"ClientSecrets", "SecretSet", "AddSecret", "GetSecret", "UpdateSecret", "DeleteSecret", "SoftDeleteSecret"},
		"Credentials": {"ClientForAuthentication", "MarkUsed"},
	}
}

// Cases names the contract's cases, each "<Method>/<condition>".
func Cases() []string {
	var names []string
	for _, c := range contract {
		names = append(names, c.name)
	}
	return names
}

type fixture struct {
	identity.Stores
	ctx context.Context
	t   *testing.T
}

// now is an instant in whole microseconds, as the table keeps them.
func now() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }

func (f *fixture) tenant(limit int) identity.Tenant {
	f.t.Helper()
	t := identity.Tenant{ID: identity.NewID(), Name: "contract", ClientLimit: limit, CreatedAt: now()}
	if err := f.Tenants.CreateTenant(f.ctx, t); err != nil {
		f.t.Fatalf("CreateTenant: %v", err)
	}
	return t
}

func newClient(tenantID string, kind identity.ClientKind, tags ...string) (identity.Client, identity.Secret) {
	at := now()
	c := identity.Client{TenantID: tenantID, ID: identity.NewID(), Kind: kind, Name: "client", Enabled: true, Tags: append([]string{}, tags...),
		Version: 1, CreatedAt: at, UpdatedAt: at}
	switch kind {
	case identity.ClientCredential:
		c.RoleIDs = []string{identity.RoleAccountMember}
	case identity.Hybrid:
		c.RedirectURIs = []string{"https://app.example.com/cb"}
		c.PostLogoutRedirectURIs = []string{}
		c.AllowOfflineAccess = true
		c.ClientURI = "https://app.example.com/"
	}
	return c, identity.Secret{TenantID: tenantID, ClientID: c.ID, ID: identity.NewID(), Kind: kind, Description: "first", CreatedAt: at}
}

// client creates a client of the kind in the tenant and returns it as
// stored, with its first secret.
func (f *fixture) client(tenantID string, kind identity.ClientKind, tags ...string) (identity.Client, identity.Secret) {
	f.t.Helper()
	c, sec := newClient(tenantID, kind, tags...)
	if err := f.Clients.CreateClient(f.ctx, c, sec, identity.DefaultClientLimit); err != nil {
		f.t.Fatalf("CreateClient: %v", err)
	}
	got, err := f.Clients.GetClient(f.ctx, tenantID, kind, c.ID)
	if err != nil {
		f.t.Fatalf("GetClient after CreateClient: %v", err)
	}
	return got, sec
}

func (f *fixture) set(c identity.Client) identity.SecretSet {
	f.t.Helper()
	set, err := f.Secrets.SecretSet(f.ctx, c.TenantID, c.Kind, c.ID)
	if err != nil {
		f.t.Fatalf("SecretSet: %v", err)
	}
	return set
}

// add adds a secret expiring at exp (nil: never) at cap max.
func (f *fixture) add(c identity.Client, exp *time.Time, max int) (identity.Secret, error) {
	f.t.Helper()
	sec := identity.Secret{TenantID: c.TenantID, ClientID: c.ID, ID: identity.NewID(), Kind: c.Kind, Description: "added", Expiration: exp, CreatedAt: now()}
	return f.Secrets.AddSecret(f.ctx, identity.SecretAdd{TenantID: c.TenantID, Kind: c.Kind, Secret: sec, Set: f.set(c), MaxRecords: max})
}

func (f *fixture) mustAdd(c identity.Client, exp *time.Time) identity.Secret {
	f.t.Helper()
	sec, err := f.add(c, exp, identity.MaxSecretRecordsPerClient)
	if err != nil {
		f.t.Fatalf("AddSecret: %v", err)
	}
	return sec
}

func (f *fixture) counts(tenantID string) (int, map[identity.ClientKind]int) {
	f.t.Helper()
	t, err := f.Tenants.GetTenant(f.ctx, tenantID)
	if err != nil {
		f.t.Fatalf("GetTenant: %v", err)
	}
	return t.ClientCount, t.KindCounts
}

func ids(secs []identity.Secret) []string {
	out := make([]string, len(secs))
	for i, s := range secs {
		out[i] = s.ID
	}
	slices.Sort(out)
	return out
}

func clientIDs(cs []identity.Client) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.ID
	}
	return out
}

func is(t *testing.T, what string, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("%s: %v, want %v", what, err, want)
	}
}

func ptr[T any](v T) *T { return &v }

type contractCase struct {
	name string
	run  func(t *testing.T, f *fixture)
}

var contract = []contractCase{
	{"CreateTenant/then GetTenant reads it with zero counters", func(t *testing.T, f *fixture) {
		ten := f.tenant(7)
		got, err := f.Tenants.GetTenant(f.ctx, ten.ID)
		if err != nil || got.ID != ten.ID || got.Name != ten.Name || got.ClientLimit != 7 || got.ClientCount != 0 ||
			got.KindCounts[identity.ClientCredential] != 0 || got.KindCounts[identity.Hybrid] != 0 || !got.CreatedAt.Equal(ten.CreatedAt) {
			t.Fatalf("GetTenant: %+v, %v; want %+v with zero counters", got, err, ten)
		}
	}},
	{"CreateTenant/an existing id is ErrTenantExists", func(t *testing.T, f *fixture) {
		ten := f.tenant(0)
		is(t, "second CreateTenant", f.Tenants.CreateTenant(f.ctx, identity.Tenant{ID: ten.ID, Name: "other", CreatedAt: now()}), identity.ErrTenantExists)
		if got, _ := f.Tenants.GetTenant(f.ctx, ten.ID); got.Name != ten.Name {
			t.Fatalf("the refused create changed the tenant: %+v", got)
		}
	}},
	{"GetTenant/a missing tenant is ErrTenantNotFound", func(t *testing.T, f *fixture) {
		_, err := f.Tenants.GetTenant(f.ctx, identity.NewID())
		is(t, "GetTenant", err, identity.ErrTenantNotFound)
	}},
	{"NextVerifierSlot/hands out 1, 2, ... each once under concurrency; a missing tenant is ErrTenantNotFound", func(t *testing.T, f *fixture) {
		ten := f.tenant(0)
		const n = 20
		got := make(chan int64, n)
		var wg sync.WaitGroup
		for range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				slot, err := f.Tenants.NextVerifierSlot(f.ctx, ten.ID)
				if err != nil {
					t.Error(err)
				}
				got <- slot
			}()
		}
		wg.Wait()
		close(got)
		seen := map[int64]bool{}
		for slot := range got {
			if slot < 1 || slot > n || seen[slot] {
				t.Fatalf("slot %d handed out (seen %v): want each of 1..%d once", slot, seen, n)
			}
			seen[slot] = true
		}
		if other := f.tenant(0); true {
			if slot, err := f.Tenants.NextVerifierSlot(f.ctx, other.ID); err != nil || slot != 1 {
				t.Fatalf("another tenant's first slot: %d, %v; want 1 (slots are per tenant)", slot, err)
			}
		}
		_, err := f.Tenants.NextVerifierSlot(f.ctx, identity.NewID())
		is(t, "NextVerifierSlot of a missing tenant", err, identity.ErrTenantNotFound)
	}},

	{"CreateClient/stores the client, its first secret and the counters", func(t *testing.T, f *fixture) {
		ten := f.tenant(0)
		for _, kind := range identity.ClientKinds {
			c, first := newClient(ten.ID, kind, "a", "b")
			if err := f.Clients.CreateClient(f.ctx, c, first, 10); err != nil {
				t.Fatal(err)
			}
			got, err := f.Clients.GetClient(f.ctx, ten.ID, kind, c.ID)
			if err != nil || got.Seq <= 0 {
				t.Fatalf("GetClient: %+v, %v; want a place in the creation order", got, err)
			}
			c.Seq = got.Seq
			if !reflect.DeepEqual(got, c) {
				t.Fatalf("stored %+v\nwant   %+v", got, c)
			}
			sec, err := f.Secrets.GetSecret(f.ctx, ten.ID, kind, c.ID, first.ID)
			if err != nil || sec.Description != "first" || sec.Expiration != nil || sec.Kind != kind {
				t.Fatalf("first secret: %+v, %v", sec, err)
			}
			set := f.set(got)
			if set.Records != 1 || len(set.Secrets) != 1 || set.Secrets[0].ID != first.ID || !slices.Equal(set.RoleIDs, c.RoleIDs) && len(c.RoleIDs) > 0 {
				t.Fatalf("secret set %+v", set)
			}
		}
		total, byKind := f.counts(ten.ID)
		if total != 2 || byKind[identity.ClientCredential] != 1 || byKind[identity.Hybrid] != 1 {
			t.Fatalf("counters %d %v, want 2 (1 of each kind)", total, byKind)
		}
	}},
	{"CreateClient/an id taken in any tenant is ErrClientIDExists", func(t *testing.T, f *fixture) {
		a, b := f.tenant(0), f.tenant(0)
		taken, _ := f.client(a.ID, identity.ClientCredential)
		for _, ten := range []identity.Tenant{a, b} {
			c, sec := newClient(ten.ID, identity.Hybrid)
			c.ID, sec.ClientID = taken.ID, taken.ID
			is(t, "CreateClient", f.Clients.CreateClient(f.ctx, c, sec, 10), identity.ErrClientIDExists)
		}
		if total, _ := f.counts(b.ID); total != 0 {
			t.Fatalf("the refused create counted a client: %d", total)
		}
		if k, err := f.Clients.ClientKind(f.ctx, a.ID, taken.ID); err != nil || k != identity.ClientCredential {
			t.Fatalf("the refused create changed the registration: %v %v", k, err)
		}
	}},
	{"CreateClient/a missing tenant is ErrTenantNotFound", func(t *testing.T, f *fixture) {
		c, sec := newClient(identity.NewID(), identity.ClientCredential)
		is(t, "CreateClient", f.Clients.CreateClient(f.ctx, c, sec, 10), identity.ErrTenantNotFound)
		_, err := f.Clients.ClientKind(f.ctx, c.TenantID, c.ID)
		is(t, "ClientKind after the refused create", err, identity.ErrClientNotFound)
	}},
	{"CreateClient/the tenant's own limit is ErrClientLimit", func(t *testing.T, f *fixture) {
		ten := f.tenant(2)
		for range 2 {
			c, sec := newClient(ten.ID, identity.ClientCredential)
			if err := f.Clients.CreateClient(f.ctx, c, sec, 1); err != nil {
				t.Fatalf("create below the tenant's limit of 2 (default 1): %v", err)
			}
		}
		c, sec := newClient(ten.ID, identity.Hybrid)
		is(t, "create at the limit", f.Clients.CreateClient(f.ctx, c, sec, 100), identity.ErrClientLimit)
		if total, _ := f.counts(ten.ID); total != 2 {
			t.Fatalf("count %d after the refused create, want 2", total)
		}
		_, err := f.Clients.ClientKind(f.ctx, ten.ID, c.ID)
		is(t, "the refused client", err, identity.ErrClientNotFound)
	}},
	{"CreateClient/without its own limit the default is ErrClientLimit", func(t *testing.T, f *fixture) {
		ten := f.tenant(0)
		c, sec := newClient(ten.ID, identity.ClientCredential)
		if err := f.Clients.CreateClient(f.ctx, c, sec, 1); err != nil {
			t.Fatal(err)
		}
		c2, sec2 := newClient(ten.ID, identity.ClientCredential)
		is(t, "create past the default", f.Clients.CreateClient(f.ctx, c2, sec2, 1), identity.ErrClientLimit)
	}},
	{"GetClient/another kind, tenant or id is ErrClientNotFound", func(t *testing.T, f *fixture) {
		ten, other := f.tenant(0), f.tenant(0)
		c, _ := f.client(ten.ID, identity.ClientCredential)
		for name, err := range map[string]error{
			"other kind":   second(f.Clients.GetClient(f.ctx, ten.ID, identity.Hybrid, c.ID)),
			"other tenant": second(f.Clients.GetClient(f.ctx, other.ID, identity.ClientCredential, c.ID)),
			"missing id":   second(f.Clients.GetClient(f.ctx, ten.ID, identity.ClientCredential, identity.NewID())),
		} {
			is(t, name, err, identity.ErrClientNotFound)
		}
	}},
	{"ClientKind/the tenant's client of either kind, else ErrClientNotFound", func(t *testing.T, f *fixture) {
		ten, other := f.tenant(0), f.tenant(0)
		for _, kind := range identity.ClientKinds {
			c, _ := f.client(ten.ID, kind)
			if got, err := f.Clients.ClientKind(f.ctx, ten.ID, c.ID); err != nil || got != kind {
				t.Fatalf("ClientKind: %v %v, want %v", got, err, kind)
			}
			_, err := f.Clients.ClientKind(f.ctx, other.ID, c.ID)
			is(t, "ClientKind in another tenant", err, identity.ErrClientNotFound)
		}
		_, err := f.Clients.ClientKind(f.ctx, ten.ID, identity.NewID())
		is(t, "ClientKind of a missing client", err, identity.ErrClientNotFound)
	}},
	{"ListClients/pages in creation order with the kind's total", func(t *testing.T, f *fixture) {
		ten := f.tenant(0)
		var want []string
		for range 5 {
			c, _ := f.client(ten.ID, identity.ClientCredential)
			want = append(want, c.ID)
		}
		f.client(ten.ID, identity.Hybrid)
		page, err := f.Clients.ListClients(f.ctx, ten.ID, identity.ClientCredential, identity.ListOptions{Skip: 1, Count: 3})
		if err != nil || page.Total != 5 || page.Tenant != identity.Present || !slices.Equal(clientIDs(page.Clients), want[1:4]) {
			t.Fatalf("page %v of %d (tenant %v), %v; want %v of 5, tenant present", clientIDs(page.Clients), page.Total, page.Tenant, err, want[1:4])
		}
		all, _ := f.Clients.ListClients(f.ctx, ten.ID, identity.ClientCredential, identity.ListOptions{Count: 100})
		if !slices.Equal(clientIDs(all.Clients), want) {
			t.Fatalf("full page %v, want %v", clientIDs(all.Clients), want)
		}
	}},
	{"ListClients/skip past the total is an empty page", func(t *testing.T, f *fixture) {
		ten := f.tenant(0)
		f.client(ten.ID, identity.ClientCredential)
		for _, skip := range []int{1, identity.MaxSkip} {
			page, err := f.Clients.ListClients(f.ctx, ten.ID, identity.ClientCredential, identity.ListOptions{Skip: skip, Count: identity.MaxListCount})
			if err != nil || page.Total != 1 || len(page.Clients) != 0 || page.Tenant != identity.Present {
				t.Fatalf("skip %d: %+v, %v; want an empty page of a total of 1", skip, page, err)
			}
		}
	}},
	{"ListClients/a missing tenant reads as Absent", func(t *testing.T, f *fixture) {
		page, err := f.Clients.ListClients(f.ctx, identity.NewID(), identity.Hybrid, identity.ListOptions{Count: 10})
		if err != nil || page.Tenant != identity.Absent || page.Total != 0 || len(page.Clients) != 0 {
			t.Fatalf("list of a missing tenant: %+v, %v; want an empty page, tenant absent", page, err)
		}
	}},
	{"ListClients/tags match any, count each client once, leave the tenant unknown", func(t *testing.T, f *fixture) {
		ten := f.tenant(0)
		both, _ := f.client(ten.ID, identity.ClientCredential, "blue", "green")
		f.client(ten.ID, identity.ClientCredential, "red")
		blue, _ := f.client(ten.ID, identity.ClientCredential, "blue")
		page, err := f.Clients.ListClients(f.ctx, ten.ID, identity.ClientCredential, identity.ListOptions{Count: 10, Tags: []string{"blue", "green"}})
		if err != nil || page.Total != 2 || !slices.Equal(clientIDs(page.Clients), []string{both.ID, blue.ID}) || page.Tenant == identity.Absent {
			t.Fatalf("tags page %v of %d (tenant %v), %v", clientIDs(page.Clients), page.Total, page.Tenant, err)
		}
		none, err := f.Clients.ListClients(f.ctx, ten.ID, identity.ClientCredential, identity.ListOptions{Count: 10, Tags: []string{"purple"}})
		if err != nil || none.Total != 0 || len(none.Clients) != 0 {
			t.Fatalf("unknown tag: %+v, %v", none, err)
		}
		hy, _ := f.Clients.ListClients(f.ctx, ten.ID, identity.Hybrid, identity.ListOptions{Count: 10, Tags: []string{"blue"}})
		if hy.Total != 0 {
			t.Fatalf("a tag of the other kind matched %d", hy.Total)
		}
	}},
	{"UpdateClient/at the version read replaces the client and its token item", func(t *testing.T, f *fixture) {
		ten := f.tenant(0)
		c, _ := f.client(ten.ID, identity.ClientCredential, "old")
		next := c
		next.Name, next.Enabled, next.Tags, next.Version = "renamed", false, []string{"new"}, c.Version+1
		next.RoleIDs = []string{identity.RoleAccountAdministrator, identity.RoleAccountMember}
		next.AccessTokenLifetime = 120
		if err := f.Clients.UpdateClient(f.ctx, c, next); err != nil {
			t.Fatal(err)
		}
		got, _ := f.Clients.GetClient(f.ctx, ten.ID, identity.ClientCredential, c.ID)
		if !reflect.DeepEqual(got, next) {
			t.Fatalf("updated %+v\nwant    %+v", got, next)
		}
		auth, _, err := f.Credentials.ClientForAuthentication(f.ctx, c.ID)
		if err != nil || auth.Enabled || !slices.Equal(auth.RoleIDs, next.RoleIDs) || auth.AccessTokenLifetime != 120 {
			t.Fatalf("token item after update: %+v, %v", auth, err)
		}
		byOld, _ := f.Clients.ListClients(f.ctx, ten.ID, identity.ClientCredential, identity.ListOptions{Count: 10, Tags: []string{"old"}})
		byNew, _ := f.Clients.ListClients(f.ctx, ten.ID, identity.ClientCredential, identity.ListOptions{Count: 10, Tags: []string{"new"}})
		if byOld.Total != 0 || byNew.Total != 1 {
			t.Fatalf("tag lists after update: old %d, new %d; want 0 and 1", byOld.Total, byNew.Total)
		}
	}},
	{"UpdateClient/another version or a deleted client is ErrClientChanged", func(t *testing.T, f *fixture) {
		ten := f.tenant(0)
		c, _ := f.client(ten.ID, identity.ClientCredential)
		stale := c
		stale.Version = c.Version + 5
		next := c
		next.Name, next.Version = "lost", c.Version+6
		is(t, "update at another version", f.Clients.UpdateClient(f.ctx, stale, next), identity.ErrClientChanged)
		if got, _ := f.Clients.GetClient(f.ctx, ten.ID, identity.ClientCredential, c.ID); got.Name != c.Name || got.Version != c.Version {
			t.Fatalf("the refused update wrote %+v", got)
		}
		if _, err := f.Clients.DeleteClient(f.ctx, ten.ID, identity.ClientCredential, c.ID); err != nil {
			t.Fatal(err)
		}
		next.Version = c.Version + 1
		is(t, "update of a deleted client", f.Clients.UpdateClient(f.ctx, c, next), identity.ErrClientChanged)
	}},
	{"DeleteClient/removes the client, its records and counts, and returns every secret", func(t *testing.T, f *fixture) {
		ten := f.tenant(0)
		c, first := f.client(ten.ID, identity.Hybrid, "t")
		added := f.mustAdd(c, nil)
		soft := f.mustAdd(c, nil)
		if _, err := f.Secrets.SoftDeleteSecret(f.ctx, ten.ID, c.Kind, c.ID, soft.ID, identity.Change{At: now()}); err != nil {
			t.Fatal(err)
		}
		removed, err := f.Clients.DeleteClient(f.ctx, ten.ID, c.Kind, c.ID)
		if err != nil || !slices.Equal(ids(removed), ids([]identity.Secret{first, added, soft})) {
			t.Fatalf("DeleteClient returned %v, %v; want the 3 secrets", ids(removed), err)
		}
		_, err = f.Clients.GetClient(f.ctx, ten.ID, c.Kind, c.ID)
		is(t, "GetClient after delete", err, identity.ErrClientNotFound)
		_, _, err = f.Credentials.ClientForAuthentication(f.ctx, c.ID)
		is(t, "token item after delete", err, identity.ErrClientNotFound)
		_, err = f.Secrets.GetSecret(f.ctx, ten.ID, c.Kind, c.ID, added.ID)
		is(t, "secret after delete", err, identity.ErrSecretNotFound)
		if total, byKind := f.counts(ten.ID); total != 0 || byKind[identity.Hybrid] != 0 {
			t.Fatalf("counters after delete: %d %v", total, byKind)
		}
		if tagged, _ := f.Clients.ListClients(f.ctx, ten.ID, c.Kind, identity.ListOptions{Count: 10, Tags: []string{"t"}}); tagged.Total != 0 {
			t.Fatalf("the deleted client is still listed by its tag")
		}
		// A deleted client's id stays reserved, in every tenant: tokens of
		// the deleted client must never name another.
		for _, tid := range []string{ten.ID, f.tenant(0).ID} {
			again, sec := newClient(tid, identity.ClientCredential)
			again.ID, sec.ClientID = c.ID, c.ID
			is(t, "create naming a deleted client's id", f.Clients.CreateClient(f.ctx, again, sec, 10), identity.ErrClientIDExists)
		}
	}},
	{"DeleteClient/another kind, tenant or id is ErrClientNotFound", func(t *testing.T, f *fixture) {
		ten, other := f.tenant(0), f.tenant(0)
		c, _ := f.client(ten.ID, identity.ClientCredential)
		for name, err := range map[string]error{
			"other kind":   second(f.Clients.DeleteClient(f.ctx, ten.ID, identity.Hybrid, c.ID)),
			"other tenant": second(f.Clients.DeleteClient(f.ctx, other.ID, identity.ClientCredential, c.ID)),
			"missing id":   second(f.Clients.DeleteClient(f.ctx, ten.ID, identity.ClientCredential, identity.NewID())),
		} {
			is(t, name, err, identity.ErrClientNotFound)
		}
		if total, _ := f.counts(ten.ID); total != 1 {
			t.Fatalf("a refused delete changed the count: %d", total)
		}
	}},

	{"SecretSet/of another kind or tenant is ErrClientNotFound", func(t *testing.T, f *fixture) {
		ten, other := f.tenant(0), f.tenant(0)
		c, _ := f.client(ten.ID, identity.ClientCredential)
		_, err := f.Secrets.SecretSet(f.ctx, ten.ID, identity.Hybrid, c.ID)
		is(t, "other kind", err, identity.ErrClientNotFound)
		_, err = f.Secrets.SecretSet(f.ctx, other.ID, identity.ClientCredential, c.ID)
		is(t, "other tenant", err, identity.ErrClientNotFound)
	}},
	{"AddSecret/at the set's version stores the record and moves the set on", func(t *testing.T, f *fixture) {
		ten := f.tenant(0)
		c, first := f.client(ten.ID, identity.ClientCredential)
		before := f.set(c)
		exp := now().Add(time.Hour)
		sec := f.mustAdd(c, &exp)
		after := f.set(c)
		if after.Version == before.Version || after.Records != before.Records+1 || !slices.Equal(ids(after.Secrets), ids([]identity.Secret{first, sec})) {
			t.Fatalf("set after add: %+v (before %+v)", after, before)
		}
		got, err := f.Secrets.GetSecret(f.ctx, ten.ID, c.Kind, c.ID, sec.ID)
		if err != nil || got.Expiration == nil || !got.Expiration.Equal(exp) || got.Description != "added" {
			t.Fatalf("GetSecret: %+v, %v", got, err)
		}
	}},
	{"AddSecret/another version is ErrSecretSetChanged and writes nothing", func(t *testing.T, f *fixture) {
		ten := f.tenant(0)
		c, _ := f.client(ten.ID, identity.ClientCredential)
		set := f.set(c)
		f.mustAdd(c, nil) // the set moves on
		sec := identity.Secret{TenantID: ten.ID, ClientID: c.ID, ID: identity.NewID(), Kind: c.Kind, CreatedAt: now()}
		_, err := f.Secrets.AddSecret(f.ctx, identity.SecretAdd{TenantID: ten.ID, Kind: c.Kind, Secret: sec, Set: set, MaxRecords: 100})
		is(t, "add on a stale set", err, identity.ErrSecretSetChanged)
		_, err = f.Secrets.GetSecret(f.ctx, ten.ID, c.Kind, c.ID, sec.ID)
		is(t, "the refused record", err, identity.ErrSecretNotFound)
		if got := f.set(c); got.Records != 2 {
			t.Fatalf("records %d after the refused add, want 2", got.Records)
		}
	}},
	{"AddSecret/at the record cap is SecretRecordsFull and writes nothing", func(t *testing.T, f *fixture) {
		ten := f.tenant(0)
		c, first := f.client(ten.ID, identity.ClientCredential)
		second := f.mustAdd(c, nil)
		at := now().Add(-time.Minute)
		if _, err := f.Secrets.SoftDeleteSecret(f.ctx, ten.ID, c.Kind, c.ID, second.ID, identity.Change{At: at}); err != nil {
			t.Fatal(err)
		}
		before := f.set(c)
		_, err := f.add(c, nil, 2)
		var full *identity.SecretRecordsFull
		if !errors.As(err, &full) || full.Count != 2 || !slices.Equal(ids(full.Records), ids([]identity.Secret{first, second})) ||
			!full.RetainedSince(now()).Equal(at) {
			t.Fatalf("add at a cap of 2: %v (%+v); want 2 records, retained since %s", err, full, at)
		}
		if after := f.set(c); after.Version != before.Version || after.Records != 2 {
			t.Fatalf("the refused add moved the set: %+v", after)
		}
		if _, err := f.add(c, nil, 3); err != nil {
			t.Fatalf("the same add under a cap of 3: %v", err)
		}
	}},
	{"AddSecret/forgets the set's secrets it is told to, keeping their records", func(t *testing.T, f *fixture) {
		ten := f.tenant(0)
		c, first := f.client(ten.ID, identity.ClientCredential)
		sec := identity.Secret{TenantID: ten.ID, ClientID: c.ID, ID: identity.NewID(), Kind: c.Kind, CreatedAt: now()}
		if _, err := f.Secrets.AddSecret(f.ctx, identity.SecretAdd{TenantID: ten.ID, Kind: c.Kind, Secret: sec, Set: f.set(c), MaxRecords: 100, Forget: []string{first.ID}}); err != nil {
			t.Fatal(err)
		}
		if set := f.set(c); !slices.Equal(ids(set.Secrets), []string{sec.ID}) || set.Records != 2 {
			t.Fatalf("set %+v, want only the new secret of 2 records", set)
		}
		if _, err := f.Secrets.GetSecret(f.ctx, ten.ID, c.Kind, c.ID, first.ID); err != nil {
			t.Fatalf("the forgotten secret's record: %v", err)
		}
	}},
	{"AddSecret/a client of another tenant or kind is ErrSecretSetChanged", func(t *testing.T, f *fixture) {
		ten, other := f.tenant(0), f.tenant(0)
		c, _ := f.client(ten.ID, identity.ClientCredential)
		set := f.set(c)
		for _, target := range []struct {
			tenant string
			kind   identity.ClientKind
		}{{other.ID, identity.ClientCredential}, {ten.ID, identity.Hybrid}} {
			sec := identity.Secret{TenantID: target.tenant, ClientID: c.ID, ID: identity.NewID(), Kind: target.kind, CreatedAt: now()}
			_, err := f.Secrets.AddSecret(f.ctx, identity.SecretAdd{TenantID: target.tenant, Kind: target.kind, Secret: sec, Set: set, MaxRecords: 100})
			is(t, "add to another's client", err, identity.ErrSecretSetChanged)
		}
		if got := f.set(c); got.Version != set.Version || got.Records != 1 {
			t.Fatalf("a refused add moved the set: %+v", got)
		}
	}},
	{"GetSecret/another tenant, kind, client or id is ErrSecretNotFound", func(t *testing.T, f *fixture) {
		ten, other := f.tenant(0), f.tenant(0)
		c, first := f.client(ten.ID, identity.ClientCredential)
		for name, err := range map[string]error{
			"other tenant": second(f.Secrets.GetSecret(f.ctx, other.ID, c.Kind, c.ID, first.ID)),
			"other kind":   second(f.Secrets.GetSecret(f.ctx, ten.ID, identity.Hybrid, c.ID, first.ID)),
			"other client": second(f.Secrets.GetSecret(f.ctx, ten.ID, c.Kind, identity.NewID(), first.ID)),
			"missing id":   second(f.Secrets.GetSecret(f.ctx, ten.ID, c.Kind, c.ID, identity.NewID())),
		} {
			is(t, name, err, identity.ErrSecretNotFound)
		}
	}},
	{"ClientSecrets/every record, soft-deleted ones included; else ErrClientNotFound", func(t *testing.T, f *fixture) {
		ten := f.tenant(0)
		c, first := f.client(ten.ID, identity.Hybrid)
		soft := f.mustAdd(c, nil)
		if _, err := f.Secrets.SoftDeleteSecret(f.ctx, ten.ID, c.Kind, c.ID, soft.ID, identity.Change{At: now()}); err != nil {
			t.Fatal(err)
		}
		all, err := f.Secrets.ClientSecrets(f.ctx, ten.ID, c.Kind, c.ID)
		if err != nil || !slices.Equal(ids(all), ids([]identity.Secret{first, soft})) {
			t.Fatalf("ClientSecrets %v, %v", ids(all), err)
		}
		_, err = f.Secrets.ClientSecrets(f.ctx, ten.ID, identity.ClientCredential, c.ID)
		is(t, "ClientSecrets of another kind", err, identity.ErrClientNotFound)
	}},
	{"UpdateSecret/changes description and expiration, in the token item too", func(t *testing.T, f *fixture) {
		ten := f.tenant(0)
		c, first := f.client(ten.ID, identity.ClientCredential)
		exp := now().Add(48 * time.Hour)
		got, err := f.Secrets.UpdateSecret(f.ctx, identity.SecretChange{TenantID: ten.ID, Kind: c.Kind, ClientID: c.ID, SecretID: first.ID,
			Description: ptr("changed"), Expiration: &exp, ChangeableAt: now()})
		if err != nil || got.Description != "changed" || got.Expiration == nil || !got.Expiration.Equal(exp) {
			t.Fatalf("UpdateSecret: %+v, %v", got, err)
		}
		_, secs, _ := f.Credentials.ClientForAuthentication(f.ctx, c.ID)
		if len(secs) != 1 || secs[0].Expiration == nil || !secs[0].Expiration.Equal(exp) {
			t.Fatalf("token item after the change: %+v", secs)
		}
		kept, err := f.Secrets.UpdateSecret(f.ctx, identity.SecretChange{TenantID: ten.ID, Kind: c.Kind, ClientID: c.ID, SecretID: first.ID,
			Description: ptr("again"), ChangeableAt: now()})
		if err != nil || kept.Description != "again" || kept.Expiration == nil || !kept.Expiration.Equal(exp) {
			t.Fatalf("a nil expiration keeps the stored one: %+v, %v", kept, err)
		}
	}},
	{"UpdateSecret/expired at ChangeableAt, soft-deleted, another's or missing is ErrSecretChanged", func(t *testing.T, f *fixture) {
		ten, other := f.tenant(0), f.tenant(0)
		c, first := f.client(ten.ID, identity.ClientCredential)
		exp := now().Add(time.Hour)
		expiring := f.mustAdd(c, &exp)
		soft := f.mustAdd(c, nil)
		if _, err := f.Secrets.SoftDeleteSecret(f.ctx, ten.ID, c.Kind, c.ID, soft.ID, identity.Change{At: now()}); err != nil {
			t.Fatal(err)
		}
		change := func(tenantID string, kind identity.ClientKind, secretID string, at time.Time) error {
			_, err := f.Secrets.UpdateSecret(f.ctx, identity.SecretChange{TenantID: tenantID, Kind: kind, ClientID: c.ID, SecretID: secretID, Description: ptr("x"), ChangeableAt: at})
			return err
		}
		is(t, "expired at ChangeableAt", change(ten.ID, c.Kind, expiring.ID, exp.Add(time.Second)), identity.ErrSecretChanged)
		is(t, "soft-deleted", change(ten.ID, c.Kind, soft.ID, now()), identity.ErrSecretChanged)
		is(t, "another tenant's", change(other.ID, c.Kind, first.ID, now()), identity.ErrSecretChanged)
		is(t, "another kind's", change(ten.ID, identity.Hybrid, first.ID, now()), identity.ErrSecretChanged)
		is(t, "missing", change(ten.ID, c.Kind, identity.NewID(), now()), identity.ErrSecretChanged)
		if got, _ := f.Secrets.GetSecret(f.ctx, ten.ID, c.Kind, c.ID, expiring.ID); got.Description != "added" {
			t.Fatalf("a refused change wrote %q", got.Description)
		}
		if err := change(ten.ID, c.Kind, expiring.ID, exp.Add(-time.Minute)); err != nil {
			t.Fatalf("the same change before the expiration: %v", err)
		}
	}},
	{"DeleteSecret/removes the record, its entry and its count", func(t *testing.T, f *fixture) {
		ten := f.tenant(0)
		c, first := f.client(ten.ID, identity.ClientCredential)
		sec := f.mustAdd(c, nil)
		before := f.set(c)
		if err := f.Secrets.DeleteSecret(f.ctx, ten.ID, c.Kind, c.ID, sec.ID); err != nil {
			t.Fatal(err)
		}
		after := f.set(c)
		if after.Records != before.Records-1 || after.Version == before.Version || !slices.Equal(ids(after.Secrets), []string{first.ID}) {
			t.Fatalf("set after delete %+v (before %+v)", after, before)
		}
		_, err := f.Secrets.GetSecret(f.ctx, ten.ID, c.Kind, c.ID, sec.ID)
		is(t, "GetSecret after delete", err, identity.ErrSecretNotFound)
	}},
	{"DeleteSecret/soft-deleted, another's or missing is ErrSecretNotFound", func(t *testing.T, f *fixture) {
		ten, other := f.tenant(0), f.tenant(0)
		c, first := f.client(ten.ID, identity.ClientCredential)
		soft := f.mustAdd(c, nil)
		if _, err := f.Secrets.SoftDeleteSecret(f.ctx, ten.ID, c.Kind, c.ID, soft.ID, identity.Change{At: now()}); err != nil {
			t.Fatal(err)
		}
		is(t, "soft-deleted", f.Secrets.DeleteSecret(f.ctx, ten.ID, c.Kind, c.ID, soft.ID), identity.ErrSecretNotFound)
		is(t, "another tenant's", f.Secrets.DeleteSecret(f.ctx, other.ID, c.Kind, c.ID, first.ID), identity.ErrSecretNotFound)
		is(t, "another kind's", f.Secrets.DeleteSecret(f.ctx, ten.ID, identity.Hybrid, c.ID, first.ID), identity.ErrSecretNotFound)
		is(t, "missing", f.Secrets.DeleteSecret(f.ctx, ten.ID, c.Kind, c.ID, identity.NewID()), identity.ErrSecretNotFound)
		if set := f.set(c); set.Records != 2 || len(set.Secrets) != 1 {
			t.Fatalf("refused deletes changed the set: %+v", set)
		}
	}},
	{"SoftDeleteSecret/marks the record once and takes it out of the set", func(t *testing.T, f *fixture) {
		ten := f.tenant(0)
		c, first := f.client(ten.ID, identity.ClientCredential)
		at := now().Add(-time.Hour)
		got, err := f.Secrets.SoftDeleteSecret(f.ctx, ten.ID, c.Kind, c.ID, first.ID, identity.Change{At: at})
		if err != nil || got.DeletedAt == nil || !got.DeletedAt.Equal(at) {
			t.Fatalf("SoftDeleteSecret: %+v, %v", got, err)
		}
		again, err := f.Secrets.SoftDeleteSecret(f.ctx, ten.ID, c.Kind, c.ID, first.ID, identity.Change{At: now()})
		if err != nil || again.DeletedAt == nil || !again.DeletedAt.Equal(at) {
			t.Fatalf("again: %+v, %v; want the first deletion time kept", again, err)
		}
		if set := f.set(c); len(set.Secrets) != 0 || set.Records != 1 {
			t.Fatalf("set after soft delete: %+v; want no secret, 1 record", set)
		}
		if _, secs, _ := f.Credentials.ClientForAuthentication(f.ctx, c.ID); len(secs) != 0 {
			t.Fatalf("the token item still holds %v", ids(secs))
		}
	}},
	{"SoftDeleteSecret/another's or missing is ErrSecretNotFound", func(t *testing.T, f *fixture) {
		ten, other := f.tenant(0), f.tenant(0)
		c, first := f.client(ten.ID, identity.ClientCredential)
		for name, err := range map[string]error{
			"other tenant": second(f.Secrets.SoftDeleteSecret(f.ctx, other.ID, c.Kind, c.ID, first.ID, identity.Change{At: now()})),
			"other kind":   second(f.Secrets.SoftDeleteSecret(f.ctx, ten.ID, identity.Hybrid, c.ID, first.ID, identity.Change{At: now()})),
			"missing":      second(f.Secrets.SoftDeleteSecret(f.ctx, ten.ID, c.Kind, c.ID, identity.NewID(), identity.Change{At: now()})),
		} {
			is(t, name, err, identity.ErrSecretNotFound)
		}
		if got, _ := f.Secrets.GetSecret(f.ctx, ten.ID, c.Kind, c.ID, first.ID); got.DeletedAt != nil {
			t.Fatal("a refused soft delete marked the secret")
		}
	}},

	{"ClientForAuthentication/the token item of a client of any tenant", func(t *testing.T, f *fixture) {
		ten := f.tenant(0)
		c, first := f.client(ten.ID, identity.ClientCredential)
		exp := now().Add(time.Hour)
		sec := f.mustAdd(c, &exp)
		got, secs, err := f.Credentials.ClientForAuthentication(f.ctx, c.ID)
		if err != nil || got.TenantID != ten.ID || got.ID != c.ID || got.Kind != c.Kind || !got.Enabled || !slices.Equal(got.RoleIDs, c.RoleIDs) {
			t.Fatalf("client %+v, %v", got, err)
		}
		if !slices.Equal(ids(secs), ids([]identity.Secret{first, sec})) {
			t.Fatalf("secrets %v", ids(secs))
		}
		for _, s := range secs {
			if s.TenantID != ten.ID || s.ClientID != c.ID || (s.ID == sec.ID) != (s.Expiration != nil) || (s.Expiration != nil && !s.Expiration.Equal(exp)) {
				t.Fatalf("entry %+v", s)
			}
		}
		_, _, err = f.Credentials.ClientForAuthentication(f.ctx, identity.NewID())
		is(t, "a missing client", err, identity.ErrClientNotFound)
	}},
	{"MarkUsed/records a later hour once, never an earlier one or a gone secret", func(t *testing.T, f *fixture) {
		ten := f.tenant(0)
		c, first := f.client(ten.ID, identity.ClientCredential)
		hour := now().Truncate(time.Hour)
		lastUsed := func() *time.Time {
			_, secs, _ := f.Credentials.ClientForAuthentication(f.ctx, c.ID)
			rec, _ := f.Secrets.GetSecret(f.ctx, ten.ID, c.Kind, c.ID, first.ID)
			if len(secs) != 1 || (secs[0].LastUsed == nil) != (rec.LastUsed == nil) || (rec.LastUsed != nil && !rec.LastUsed.Equal(*secs[0].LastUsed)) {
				t.Fatalf("token item %+v and record %+v disagree", secs, rec)
			}
			return rec.LastUsed
		}
		if err := f.Credentials.MarkUsed(f.ctx, c.ID, first.ID, hour); err != nil {
			t.Fatal(err)
		}
		if got := lastUsed(); got == nil || !got.Equal(hour) {
			t.Fatalf("last used %v, want %v", got, hour)
		}
		if err := f.Credentials.MarkUsed(f.ctx, c.ID, first.ID, hour.Add(-time.Hour)); err != nil {
			t.Fatal(err)
		}
		if got := lastUsed(); !got.Equal(hour) {
			t.Fatalf("an earlier hour replaced the later one: %v", got)
		}
		sec := f.mustAdd(c, nil)
		if err := f.Secrets.DeleteSecret(f.ctx, ten.ID, c.Kind, c.ID, sec.ID); err != nil {
			t.Fatal(err)
		}
		if err := f.Credentials.MarkUsed(f.ctx, c.ID, sec.ID, hour); err != nil {
			t.Fatalf("MarkUsed of a deleted secret: %v, want nil (nothing written)", err)
		}
		if _, err := f.Secrets.GetSecret(f.ctx, ten.ID, c.Kind, c.ID, sec.ID); !errors.Is(err, identity.ErrSecretNotFound) {
			t.Fatalf("MarkUsed brought a deleted secret back: %v", err)
		}
	}},
}

func second[T any](_ T, err error) error { return err }

// RunVaultContract runs the Vault's contract against v, for material in
// a pack and for a secret of its own (the layout before packs).
func RunVaultContract(t *testing.T, v identity.Vault) {
	t.Run("pack", func(t *testing.T) {
		runVaultContract(t, v, identity.MaterialRef{TenantID: identity.NewID(), ClientID: identity.NewID(), SecretID: identity.NewID(), Pack: 3})
	})
	t.Run("own secret", func(t *testing.T) {
		runVaultContract(t, v, identity.MaterialRef{TenantID: identity.NewID(), ClientID: identity.NewID(), SecretID: identity.NewID()})
	})
}

func runVaultContract(t *testing.T, v identity.Vault, ref identity.MaterialRef) {
	if b, ok := v.(identity.BatchDeleter); ok {
		t.Run("DeleteVerifiers/every ref at once, and again without error", func(t *testing.T) {
			ctx := context.Background()
			refs := []identity.MaterialRef{ref, ref, ref}
			refs[0].SecretID, refs[1].SecretID, refs[2].SecretID = identity.NewID(), identity.NewID(), identity.NewID()
			refs[2].ClientID = identity.NewID()
			for _, r := range refs {
				if err := v.PutVerifier(ctx, r, identity.Verifier(r, "s")); err != nil {
					t.Fatal(err)
				}
			}
			for range 2 {
				if err := b.DeleteVerifiers(ctx, refs[:2]); err != nil {
					t.Fatal(err)
				}
			}
			for _, r := range refs[:2] {
				_, err := v.Verifier(ctx, r)
				is(t, "Verifier after DeleteVerifiers", err, identity.ErrNoMaterial)
			}
			if got, err := v.Verifier(ctx, refs[2]); err != nil || !identity.VerifySecret(refs[2], "s", got) {
				t.Fatalf("a ref not named: %x, %v", got, err)
			}
			if err := v.DeleteVerifier(ctx, refs[2]); err != nil {
				t.Fatal(err)
			}
		})
	}
	ctx := context.Background()
	t.Run("Verifier/missing material is ErrNoMaterial", func(t *testing.T) {
		_, err := v.Verifier(ctx, ref)
		is(t, "Verifier", err, identity.ErrNoMaterial)
	})
	t.Run("PutVerifier/then Verifier reads it", func(t *testing.T) {
		if err := v.PutVerifier(ctx, ref, identity.Verifier(ref, "s")); err != nil {
			t.Fatal(err)
		}
		got, err := v.Verifier(ctx, ref)
		if err != nil || !identity.VerifySecret(ref, "s", got) {
			t.Fatalf("Verifier: %x, %v", got, err)
		}
	})
	t.Run("DeleteVerifier/at once, and again without error", func(t *testing.T) {
		for range 2 {
			if err := v.DeleteVerifier(ctx, ref); err != nil {
				t.Fatal(err)
			}
		}
		_, err := v.Verifier(ctx, ref)
		is(t, "Verifier after delete", err, identity.ErrNoMaterial)
	})
}
