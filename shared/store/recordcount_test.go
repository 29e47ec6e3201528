package store_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"identityservice/shared/identity"
	"identityservice/shared/store"
)

// The store holds the record cap it is handed: at MaxRecords records an
// add is a *SecretRecordsFull with the count and the records (the
// earliest retained deletion among them), and writes nothing. A client
// delete whose records do not fit in its transaction (50 tags, 100
// records) removes them all, counting the early ones out as it goes.
func TestStoreCapsSecretRecords(t *testing.T) {
	ctx := context.Background()
	st := store.New(env.Clients.DynamoDB, env.Config.Table)
	tenant := identity.Tenant{ID: identity.NewID(), Name: "t", CreatedAt: time.Now().UTC()}
	if err := st.Tenants.CreateTenant(ctx, tenant); err != nil {
		t.Fatal(err)
	}
	c, first := newClient(tenant.ID)
	for i := range identity.MaxTags {
		c.Tags = append(c.Tags, fmt.Sprintf("tag-%02d", i))
	}
	if err := st.Clients.CreateClient(ctx, c, first, identity.DefaultClientLimit); err != nil {
		t.Fatal(err)
	}
	kind := identity.ClientCredential
	add := func() (identity.Secret, error) {
		set, err := st.Secrets.SecretSet(ctx, tenant.ID, kind, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		return st.Secrets.AddSecret(ctx, identity.SecretAdd{TenantID: tenant.ID, Kind: kind, Set: set, MaxRecords: identity.MaxSecretRecordsPerClient,
			Secret: identity.Secret{TenantID: tenant.ID, ClientID: c.ID, ID: identity.NewID(), CreatedAt: time.Now().UTC()}})
	}
	var deletedAt []time.Time
	for i := 1; i < identity.MaxSecretRecordsPerClient; i++ {
		sec, err := add()
		if err != nil {
			t.Fatalf("record %d: %v", i+1, err)
		}
		// Soft-deleted: retained, still counted, out of the token item.
		at := time.Now().UTC().Add(time.Duration(-i) * time.Minute)
		if _, err := st.Secrets.SoftDeleteSecret(ctx, tenant.ID, kind, c.ID, sec.ID, identity.Change{At: at}); err != nil {
			t.Fatal(err)
		}
		deletedAt = append(deletedAt, at)
	}
	if n, ok := env.RecordCount(t, c.ID); !ok || n != identity.MaxSecretRecordsPerClient {
		t.Fatalf("RecordCount %d (present %v), want %d", n, ok, identity.MaxSecretRecordsPerClient)
	}
	before := env.ClientItems(t, c.ID)
	_, err := add()
	var full *identity.SecretRecordsFull
	if !errors.As(err, &full) || full.Count != identity.MaxSecretRecordsPerClient || !full.RetainedSince(time.Now()).Equal(deletedAt[len(deletedAt)-1]) {
		t.Fatalf("add at the cap: %v (%+v), want a SecretRecordsFull of %d records retained since %s", err, full, identity.MaxSecretRecordsPerClient, deletedAt[len(deletedAt)-1])
	}
	if after := env.ClientItems(t, c.ID); after != before {
		t.Fatal("the refused add changed the client's items")
	}

	removed, err := st.Clients.DeleteClient(ctx, tenant.ID, kind, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	// Only the tombstone that keeps the id reserved is left.
	if left := env.ClientItems(t, c.ID); len(removed) != identity.MaxSecretRecordsPerClient || strings.Count(left, "\n") != 1 || !strings.Contains(left, `Type:"ClientTombstone"`) {
		t.Fatalf("delete removed %d secrets, left %q", len(removed), left)
	}
}
