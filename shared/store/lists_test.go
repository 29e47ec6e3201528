package store_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"identityservice/infra/tableops"
	"identityservice/shared/identity"
)

// A list costs its page: in a tenant of 2,100 Client Credential clients, a
// page of 10 reads the kind's counter and the 10 clients (skip+count in
// general); a tags filter reads the small tag entries of the asked tags
// and the page's clients, never the tenant; Total-Count is exact and a
// client with two of the asked tags counts once.
func TestListsCostTheirPage(t *testing.T) {
	ctx := context.Background()
	svc, m, _ := meteredService(t)
	ten, err := svc.CreateTenant(ctx, "", "list costs", 0)
	if err != nil {
		t.Fatal(err)
	}
	const total = 2100
	now := time.Now().UTC()
	var clients []identity.Client
	blue, green := map[string]bool{}, map[string]bool{}
	for i := range total {
		c := identity.Client{TenantID: ten.ID, ID: identity.NewID(), Kind: identity.ClientCredential, Name: fmt.Sprintf("client %04d", i), Enabled: true,
			RoleIDs: []string{identity.RoleAccountMember}, Tags: []string{}, Version: 1, CreatedAt: now, UpdatedAt: now, Seq: int64(i + 1)}
		if i%7 == 0 {
			c.Tags = append(c.Tags, "blue")
			blue[c.ID] = true
		}
		if i%11 == 0 {
			c.Tags = append(c.Tags, "green")
			green[c.ID] = true
		}
		clients = append(clients, c)
	}
	hybrid := identity.Client{TenantID: ten.ID, ID: identity.NewID(), Kind: identity.Hybrid, Name: "hybrid", Enabled: true, Tags: []string{}, Version: 1, CreatedAt: now, UpdatedAt: now, Seq: total + 1}
	began := time.Now()
	if err := tableops.BulkLoadClients(ctx, env.Clients.DynamoDB, env.Config.Table, ten.ID, append(clients, hybrid)); err != nil {
		t.Fatal(err)
	}
	t.Logf("loaded %d clients in %s", total+1, time.Since(began).Round(time.Millisecond))
	either := 0
	for _, c := range clients {
		if blue[c.ID] || green[c.ID] {
			either++
		}
	}

	for _, tc := range []struct {
		name       string
		opt        identity.ListOptions
		wantTotal  int
		wantFirst  []string // ids of the page, in order
		wantPage   int
		maxItems   int
		maxUnits   float64
		maxEntries int // tag entries the filter may read
	}{
		{name: "first page of 10", opt: identity.ListOptions{Count: 10}, wantTotal: total, wantPage: 10, maxItems: 10 + 1, maxUnits: 3},
		{name: "skip 100, count 10", opt: identity.ListOptions{Skip: 100, Count: 10}, wantTotal: total, wantPage: 10, maxItems: 110 + 1, maxUnits: 12},
		{name: "tag blue", opt: identity.ListOptions{Count: 10, Tags: []string{"blue"}}, wantTotal: len(blue), wantPage: 10, maxItems: len(blue) + 10},
		{name: "tags blue or green, deduplicated", opt: identity.ListOptions{Count: 10, Skip: 5, Tags: []string{"blue", "green", "blue"}}, wantTotal: either, wantPage: 10, maxItems: len(blue) + len(green) + 10},
		{name: "unknown tag", opt: identity.ListOptions{Count: 10, Tags: []string{"red"}}, wantTotal: 0, wantPage: 0, maxItems: 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m.Reset()
			page, err := svc.ListClients(ctx, ten.ID, identity.ClientCredential, tc.opt)
			if err != nil {
				t.Fatal(err)
			}
			r := m.Reset()
			t.Logf("%s: %d items in %d requests, %.1f read units (Total-Count %d of a tenant of %d)", tc.name, r.Items, r.Requests, r.Units, page.Total, total)
			if page.Total != tc.wantTotal || len(page.Clients) != tc.wantPage || len(page.Errors) != 0 {
				t.Fatalf("total %d, page %d, errors %v; want %d and %d", page.Total, len(page.Clients), page.Errors, tc.wantTotal, tc.wantPage)
			}
			if r.Items > tc.maxItems || r.Inconsistent != 0 || (tc.maxUnits > 0 && r.Units > tc.maxUnits) {
				t.Fatalf("read %+v; want at most %d items (and %.0f units), strongly consistent", r, tc.maxItems, tc.maxUnits)
			}
			// The page is in creation order and matches the filter.
			for i, c := range page.Clients {
				if i > 0 && c.Seq <= page.Clients[i-1].Seq {
					t.Fatalf("page out of creation order at %d", i)
				}
				if len(tc.opt.Tags) > 0 && !blue[c.ID] && !green[c.ID] {
					t.Fatalf("client %s carries none of the tags", c.ID)
				}
			}
			if len(tc.opt.Tags) == 0 && page.Clients[0].ID != clients[tc.opt.Skip].ID {
				t.Fatalf("first client %s, want %s (creation order)", page.Clients[0].Name, clients[tc.opt.Skip].Name)
			}
		})
	}
	if _, err := svc.ListClients(ctx, identity.NewID(), identity.ClientCredential, identity.ListOptions{Count: 10}); !errors.Is(err, identity.ErrTenantNotFound) {
		t.Fatalf("list of a missing tenant: %v", err)
	}
	if _, err := svc.ListClients(ctx, identity.NewID(), identity.ClientCredential, identity.ListOptions{Count: 10, Tags: []string{"blue"}}); !errors.Is(err, identity.ErrTenantNotFound) {
		t.Fatalf("tags list of a missing tenant: %v", err)
	}
	hy, err := svc.ListClients(ctx, ten.ID, identity.Hybrid, identity.ListOptions{Count: 10})
	if err != nil || hy.Total != 1 || len(hy.Clients) != 1 || hy.Clients[0].ID != hybrid.ID {
		t.Fatalf("hybrid list: %+v, %v", hy, err)
	}
}

// Paging through a tenant while others create clients neither skips nor
// repeats a client: new clients take places after every existing one.
// Tag changes and deletes keep Total-Count exact.
func TestListOrderStableUnderInserts(t *testing.T) {
	ctx := context.Background()
	svc, _, _ := meteredService(t)
	ten, err := svc.CreateTenant(ctx, "", "list order", 0)
	if err != nil {
		t.Fatal(err)
	}
	var existing []string
	for i := range 30 {
		tags := []string{"all"}
		if i%3 == 0 {
			tags = append(tags, "third")
		}
		c, err := svc.CreateClient(ctx, ten.ID, identity.NewClient{Kind: identity.ClientCredential, Name: fmt.Sprintf("c%02d", i), Tags: tags})
		if err != nil {
			t.Fatal(err)
		}
		existing = append(existing, c.Client.ID)
	}
	for _, tags := range [][]string{nil, {"all"}} {
		t.Run(fmt.Sprintf("tags %v", tags), func(t *testing.T) {
			var wg sync.WaitGroup
			stop := make(chan struct{})
			wg.Go(func() {
				for i := 0; ; i++ {
					select {
					case <-stop:
						return
					default:
					}
					if _, err := svc.CreateClient(ctx, ten.ID, identity.NewClient{Kind: identity.ClientCredential, Name: fmt.Sprintf("new %d", i), Tags: []string{"all"}}); err != nil {
						t.Error(err)
						return
					}
				}
			})
			var seen []string
			for skip := 0; ; skip += 4 {
				page, err := svc.ListClients(ctx, ten.ID, identity.ClientCredential, identity.ListOptions{Skip: skip, Count: 4, Tags: tags})
				if err != nil {
					t.Fatal(err)
				}
				for _, c := range page.Clients {
					seen = append(seen, c.ID)
				}
				if skip >= len(existing) {
					break
				}
			}
			close(stop)
			wg.Wait()
			for i, id := range existing {
				if n := count(seen, id); n != 1 {
					t.Fatalf("client %d seen %d times while paging", i, n)
				}
			}
			for i := 1; i < len(seen); i++ {
				if slices.Contains(seen[:i], seen[i]) {
					t.Fatalf("client %s repeated", seen[i])
				}
			}
		})
	}

	// Tag changes and deletes keep the counts exact.
	third := func() int {
		p, err := svc.ListClients(ctx, ten.ID, identity.ClientCredential, identity.ListOptions{Count: 100, Tags: []string{"third"}})
		if err != nil {
			t.Fatal(err)
		}
		return p.Total
	}
	if n := third(); n != 10 {
		t.Fatalf("tag third: %d, want 10", n)
	}
	none := []string{"other"}
	if _, err := svc.UpdateClient(ctx, ten.ID, identity.ClientCredential, existing[0], identity.ClientPatch{Tags: &none}); err != nil {
		t.Fatal(err)
	}
	if err := svc.DeleteClient(ctx, ten.ID, identity.ClientCredential, existing[3]); err != nil {
		t.Fatal(err)
	}
	if n := third(); n != 8 {
		t.Fatalf("tag third after a tag change and a delete: %d, want 8", n)
	}
	all, err := svc.ListClients(ctx, ten.ID, identity.ClientCredential, identity.ListOptions{Count: 1})
	if err != nil {
		t.Fatal(err)
	}
	tn, err := svc.Tenants.GetTenant(ctx, ten.ID)
	if err != nil {
		t.Fatal(err)
	}
	if all.Total != tn.ClientCount || tn.KindCounts[identity.ClientCredential] != tn.ClientCount || all.Clients[0].ID != existing[0] {
		t.Fatalf("Total-Count %d, tenant counts %d / %v; first %s", all.Total, tn.ClientCount, tn.KindCounts, all.Clients[0].ID)
	}
	other, err := svc.ListClients(ctx, ten.ID, identity.ClientCredential, identity.ListOptions{Count: 10, Tags: []string{"other"}})
	if err != nil || other.Total != 1 || other.Clients[0].ID != existing[0] {
		t.Fatalf("tag other: %+v, %v", other, err)
	}
}

func count(ids []string, id string) int {
	n := 0
	for _, x := range ids {
		if x == id {
			n++
		}
	}
	return n
}
