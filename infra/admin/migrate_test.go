package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"identityservice/infra/tableops"
	"identityservice/infra/testenv"
	"identityservice/shared/identity"
	sweeppkg "identityservice/shared/sweep"
	"identityservice/shared/vault"
)

var env *testenv.Env

func TestMain(m *testing.M) { testenv.Main(m, &env) }

type av = types.AttributeValue

func sv(v string) av { return &types.AttributeValueMemberS{Value: v} }
func nv(v int64) av  { return &types.AttributeValueMemberN{Value: itoa(v)} }
func bv(v bool) av   { return &types.AttributeValueMemberBOOL{Value: v} }
func lv(vs ...string) av {
	l := []av{}
	for _, v := range vs {
		l = append(l, sv(v))
	}
	return &types.AttributeValueMemberL{Value: l}
}
func itoa(v int64) string { b, _ := json.Marshal(v); return string(b) }
func tv(t time.Time) av   { return sv(t.UTC().Format(time.RFC3339Nano)) }

// oldClient is a client as the store wrote it before the list copies, tag
// entries, counters, token item and shards: the client item and its
// registration.
func oldClient(tenantID, clientID, kind string, created time.Time, tags ...string) []map[string]av {
	prefix := map[string]string{"ClientCredential": "CCC#", "Hybrid": "HYB#"}[kind]
	c := map[string]av{"PK": sv("TENANT#" + tenantID), "SK": sv(prefix + clientID), "Type": sv("Client"), "TenantId": sv(tenantID),
		"ClientId": sv(clientID), "Kind": sv(kind), "Name": sv("old " + kind), "Enabled": bv(true), "Tags": lv(tags...),
		"Version": nv(1), "CreatedAt": tv(created), "UpdatedAt": tv(created)}
	if kind == "ClientCredential" {
		c["RoleIds"] = lv(identity.RoleAccountMember)
	} else {
		c["RedirectUris"], c["PostLogoutRedirectUris"] = lv("https://app.example.com/cb"), lv()
		c["AllowOfflineAccess"], c["AllowAccessTokensViaBrowser"] = bv(false), bv(false)
		c["ClientUri"], c["LogoUri"] = sv(""), sv("")
	}
	reg := map[string]av{"PK": sv("CLIENT#" + clientID), "SK": sv("#CLIENT"), "Type": sv("ClientRegistration"), "TenantId": sv(tenantID),
		"ClientId": sv(clientID), "Kind": sv(kind), "SecretsVersion": nv(1)}
	return []map[string]av{c, reg}
}

// oldSecret is a secret record with the unsharded expiry index key.
func oldSecret(tenantID, clientID, kind, secretID string, created time.Time, exp, deleted *time.Time) map[string]av {
	it := map[string]av{"PK": sv("CLIENT#" + clientID), "SK": sv("SECRET#" + secretID), "Type": sv("Secret"), "TenantId": sv(tenantID),
		"ClientId": sv(clientID), "SecretId": sv(secretID), "Kind": sv(kind), "Description": sv("old"), "CreatedAt": tv(created),
		"ExpiryPK": sv("NOEXPIRY"), "ExpiresAt": nv(253402300799)}
	if exp != nil {
		it["Expiration"], it["ExpiryPK"], it["ExpiresAt"] = tv(*exp), sv("EXPIRY"), nv(exp.Unix())
	}
	if deleted != nil {
		it["DeletedAt"], it["ExpiryPK"], it["ExpiresAt"], it["DeletedUnix"] = tv(*deleted), sv("EXPIRY"), nv(deleted.Unix()), nv(deleted.Unix())
	}
	return it
}

type noEvents struct{}

func (noEvents) SecretExpiring(context.Context, sweeppkg.Warning) error { return nil }

// Data written before the change (old layout, below the API) is migrated
// by `admin migrate`, twice without change, and then serves the API: lists
// with counters, order and tags, tokens from the token item, adds under
// the limit, deletes, and sweeps of the sharded index.
func TestMigrateOldLayout(t *testing.T) {
	ctx := context.Background()
	now := time.Now().UTC()
	t0 := now.Add(-72 * time.Hour)
	tenantID := identity.NewID()
	a, b, c, h := identity.NewID(), identity.NewID(), identity.NewID(), identity.NewID()
	sA, sADeleted, sB, sC, sH := identity.NewID(), identity.NewID(), identity.NewID(), identity.NewID(), identity.NewID()
	later, expired, deleted := now.Add(400*24*time.Hour), now.Add(-time.Hour), now.Add(-2*time.Hour)
	items := []map[string]av{{"PK": sv("TENANT#" + tenantID), "SK": sv("#TENANT"), "Type": sv("Tenant"), "TenantId": sv(tenantID),
		"Name": sv("old tenant"), "ClientCount": nv(4), "CreatedAt": tv(t0)}}
	items = append(items, oldClient(tenantID, b, "ClientCredential", t0.Add(time.Minute), "blue", "green")...)
	items = append(items, oldClient(tenantID, a, "ClientCredential", t0, "blue")...)
	items = append(items, oldClient(tenantID, c, "ClientCredential", t0.Add(2*time.Minute))...)
	items = append(items, oldClient(tenantID, h, "Hybrid", t0.Add(3*time.Minute))...)
	items = append(items,
		oldSecret(tenantID, a, "ClientCredential", sA, t0, nil, nil),
		oldSecret(tenantID, a, "ClientCredential", sADeleted, t0, nil, &deleted),
		oldSecret(tenantID, b, "ClientCredential", sB, t0, &later, nil),
		oldSecret(tenantID, c, "ClientCredential", sC, t0, &expired, nil),
		oldSecret(tenantID, h, "Hybrid", sH, t0, nil, nil))
	for _, it := range items {
		if _, err := env.Clients.DynamoDB.PutItem(ctx, &dynamodb.PutItemInput{TableName: &env.Config.Table, Item: it}); err != nil {
			t.Fatal(err)
		}
	}
	vlt := vault.New(env.Clients.SecretsManager, env.Config.SecretPrefix)
	plain := map[string]string{sA: "secret of a", sADeleted: "deleted secret of a", sB: "secret of b", sC: "secret of c"}
	owner := map[string]string{sA: a, sADeleted: a, sB: b, sC: c}
	for id, p := range plain {
		ref := identity.MaterialRef{TenantID: tenantID, ClientID: owner[id], SecretID: id}
		if err := vlt.PutVerifier(ctx, ref, identity.Verifier(ref, p)); err != nil {
			t.Fatal(err)
		}
	}

	var packs tableops.PackMigrationReport
	migrate := func() tableops.MigrationReport {
		t.Helper()
		var out bytes.Buffer
		if err := run(ctx, []string{"migrate"}, &out); err != nil {
			t.Fatalf("admin migrate: %v", err)
		}
		var rep tableops.MigrationReport
		packs = tableops.PackMigrationReport{}
		if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
			t.Fatalf("admin migrate printed %q: %v", out.String(), err)
		}
		if err := json.Unmarshal(out.Bytes(), &packs); err != nil {
			t.Fatalf("admin migrate printed %q: %v", out.String(), err)
		}
		return rep
	}
	first := migrate()
	t.Logf("first run: %+v, %+v", first, packs)
	// The verifiers of the active and the expired records move into the
	// tenant's pack, their own secrets destroyed; the soft-deleted one's
	// stays for the sweeper; the Hybrid client's secret has none to move.
	if packs.Moved != 3 || packs.OldDestroyed != 3 || packs.MaterialMissing != 1 || packs.Raced != 0 {
		t.Fatalf("first run moved %+v; want 3 verifiers packed and their old ones destroyed, 1 active record without material", packs)
	}
	for _, id := range []string{sA, sB, sC} {
		ref, ok := env.MaterialOf(t, tenantID, owner[id], id)
		if !ok || ref.Pack == 0 {
			t.Fatalf("secret %s: material %+v (live %v); want an entry of a pack, the old verifier gone", id, ref, ok)
		}
		if env.MaterialCount(t, tenantID, owner[id]) != map[string]int{a: 2, b: 1, c: 1}[owner[id]] {
			t.Fatalf("client %s: %d pieces of material after the move", owner[id], env.MaterialCount(t, tenantID, owner[id]))
		}
		rec, err := env.Service(nil).Secrets.GetSecret(ctx, tenantID, identity.ClientCredential, owner[id], id)
		if err != nil || rec.Pack != ref.Pack {
			t.Fatalf("secret %s: record %+v, %v; want it to point at pack %d", id, rec, err, ref.Pack)
		}
	}
	if first.Tenants < 1 || first.Clients < 4 || first.TokenItems < 4 || first.SecretsResorted < 5 || first.TagEntries < 3 {
		t.Fatalf("first run wrote %+v; want at least the 1 tenant, 4 clients, 4 token items, 5 records and 3 tag entries", first)
	}
	// Every token item now counts its client's records (a: one live, one
	// soft-deleted; the others one each).
	for client, want := range map[string]int{a: 2, b: 1, c: 1, h: 1} {
		if n, ok := env.RecordCount(t, client); !ok || n != want || env.SecretItems(t, client) != want {
			t.Fatalf("client %s: RecordCount %d (present %v), %d records; want %d", client, n, ok, env.SecretItems(t, client), want)
		}
	}
	svc := env.Service(nil)
	list := func(kind identity.ClientKind, tags ...string) identity.ClientPage {
		t.Helper()
		p, err := svc.ListClients(ctx, tenantID, kind, identity.ListOptions{Count: 10, Tags: tags})
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	ids := func(p identity.ClientPage) []string {
		var out []string
		for _, c := range p.Clients {
			out = append(out, c.ID)
		}
		return out
	}
	before := ids(list(identity.ClientCredential))
	second := migrate()
	if second.SecretsResorted != 0 || second.StaleRemoved != 0 || packs.Moved != 0 || packs.OldDestroyed != 0 {
		t.Fatalf("second run: %+v, %+v; want nothing re-sorted, removed or moved (idempotent)", second, packs)
	}
	if after := ids(list(identity.ClientCredential)); !equal(before, after) {
		t.Fatalf("the list changed on the second run: %v, then %v", before, after)
	}

	// Lists: counters, creation order, tags.
	cc := list(identity.ClientCredential)
	if cc.Total != 3 || !equal(ids(cc), []string{a, b, c}) {
		t.Fatalf("Client Credential list: Total %d, %v; want 3 in creation order %v", cc.Total, ids(cc), []string{a, b, c})
	}
	if blue := list(identity.ClientCredential, "blue", "green"); blue.Total != 2 || !equal(ids(blue), []string{a, b}) {
		t.Fatalf("tags blue, green: Total %d, %v", blue.Total, ids(blue))
	}
	if hy := list(identity.Hybrid); hy.Total != 1 || hy.Clients[0].ID != h {
		t.Fatalf("Hybrid list: %+v", hy)
	}
	// Tokens from the token item: live secrets authenticate, the
	// soft-deleted and the expired one do not.
	for _, tc := range []struct {
		client, secret string
		ok             bool
	}{{a, plain[sA], true}, {b, plain[sB], true}, {a, plain[sADeleted], false}, {c, plain[sC], false}} {
		_, err := svc.AuthenticateClient(ctx, tc.client, tc.secret)
		if tc.ok != (err == nil) || (err != nil && !errors.Is(err, identity.ErrInvalidClient)) {
			t.Fatalf("authenticate %s: %v, want ok %v", tc.client, err, tc.ok)
		}
	}
	// Writes keep working on migrated items.
	if _, err := svc.AddSecret(ctx, tenantID, identity.ClientCredential, a, "new", "Description", nil, "Expiration"); err != nil {
		t.Fatalf("add a secret to a migrated client: %v", err)
	}
	if err := svc.DeleteClient(ctx, tenantID, identity.ClientCredential, b); err != nil {
		t.Fatalf("delete a migrated client: %v", err)
	}
	if cc := list(identity.ClientCredential); cc.Total != 2 || !equal(ids(cc), []string{a, c}) {
		t.Fatalf("after the delete: Total %d, %v", cc.Total, ids(cc))
	}
	if blue := list(identity.ClientCredential, "blue"); blue.Total != 1 {
		t.Fatalf("tag blue after the delete: %d", blue.Total)
	}
	// The deleted client's id stays reserved, through another migration
	// too (its tombstone is left as it is), in any tenant.
	if third := migrate(); third.Tombstones < 1 {
		t.Fatalf("migrate after a delete: %+v; want the deleted client's tombstone counted", third)
	}
	otherTenant, err := svc.CreateTenant(ctx, identity.NewID(), "another tenant", 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, ten := range []string{otherTenant.ID, tenantID} {
		if _, err := svc.CreateClient(ctx, ten, identity.NewClient{Kind: identity.ClientCredential, Name: "reborn", ID: b}); !errors.Is(err, identity.ErrClientIDExists) {
			t.Fatalf("a create naming the deleted client's id in tenant %s: %v, want %v", ten, err, identity.ErrClientIDExists)
		}
	}
	created, err := svc.CreateClient(ctx, tenantID, identity.NewClient{Kind: identity.ClientCredential, Name: "new"})
	if err != nil {
		t.Fatal(err)
	}
	if cc := list(identity.ClientCredential); cc.Total != 3 || cc.Clients[2].ID != created.Client.ID {
		t.Fatalf("a new client goes after the migrated ones: %v", ids(cc))
	}
	// The sweeper finds the migrated records in their shards: the expired
	// secret is swept, the soft-deleted one too.
	sw := env.Config.Sweeper(env.Clients, noEvents{}, sweeppkg.DefaultSettings(), slog.New(slog.NewTextHandler(io.Discard, nil)), slog.New(slog.NewTextHandler(io.Discard, nil)))
	counts, err := sw.Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if counts.Expired < 1 || counts.DeletedSwept < 1 {
		t.Fatalf("sweep after the migration: %+v; want the expired and the soft-deleted secret swept", counts)
	}
	if env.MaterialExists(t, tenantID, c, sC) || env.MaterialExists(t, tenantID, a, sADeleted) {
		t.Fatal("the expired or the soft-deleted secret's material is still there; want it destroyed by the sweep")
	}
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
