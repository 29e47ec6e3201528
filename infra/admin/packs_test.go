package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"identityservice/infra/tableops"
	"identityservice/infra/testenv/faults"
	"identityservice/shared/identity"
	"identityservice/shared/store"
	"identityservice/shared/store/layout"
	sweeppkg "identityservice/shared/sweep"
	"identityservice/shared/vault"
)

// The move of verifiers into packs, with each of its DynamoDB and Secrets
// Manager calls failed in turn (refused, and applied with the answer lost):
// after every failure no active record points at missing material, its
// token item entry names the record's pack, and a second run (the
// operator's retry) moves the rest; a reconciliation then leaves exactly
// one verifier per record, where the record points.
func TestMigrationIntoPacksUnderFaults(t *testing.T) {
	ctx := context.Background()
	inj := &faults.Injector{}
	clients := env.ClientsWith(inj.Middleware)
	setup := func(name string) (table, prefix, tenant string, secrets map[string]string) {
		t.Helper()
		table, prefix, tenant = "packfaults-"+name, "packfaults-"+name, identity.NewID()
		if err := env.CreateTable(ctx, table); err != nil {
			t.Fatal(err)
		}
		t0 := time.Now().Add(-time.Hour).UTC()
		items := []map[string]av{{"PK": sv("TENANT#" + tenant), "SK": sv("#TENANT"), "Type": sv("Tenant"), "TenantId": sv(tenant),
			"Name": sv("packs"), "ClientCount": nv(2), "CreatedAt": tv(t0)}}
		secrets = map[string]string{} // secret -> client
		v := vault.New(env.Clients.SecretsManager, prefix)
		for range 2 {
			c, s := identity.NewID(), identity.NewID()
			items = append(items, oldClient(tenant, c, "ClientCredential", t0)...)
			items = append(items, oldSecret(tenant, c, "ClientCredential", s, t0, nil, nil))
			secrets[s] = c
			ref := identity.MaterialRef{TenantID: tenant, ClientID: c, SecretID: s}
			if err := v.PutVerifier(ctx, ref, identity.Verifier(ref, "plain "+s)); err != nil {
				t.Fatal(err)
			}
		}
		for _, it := range items {
			if _, err := env.Clients.DynamoDB.PutItem(ctx, &dynamodb.PutItemInput{TableName: &table, Item: it}); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := tableops.Migrate(ctx, env.Clients.DynamoDB, table, env.Service(nil).TokenSeal); err != nil {
			t.Fatal(err)
		}
		return table, prefix, tenant, secrets
	}
	move := func(ctx context.Context, table, prefix string) (tableops.PackMigrationReport, error) {
		return tableops.MigrateVerifiersIntoPacks(ctx, clients.DynamoDB, table, store.New(clients.DynamoDB, table).Tenants, vault.New(clients.SecretsManager, prefix))
	}
	// check: every record's material is where it points, with its
	// plain text, and its token item entry names the same pack.
	check := func(what, table, prefix, tenant string, secrets map[string]string) (packed int) {
		t.Helper()
		v := vault.New(env.Clients.SecretsManager, prefix)
		st := store.New(env.Clients.DynamoDB, table)
		for s, c := range secrets {
			rec, err := st.Secrets.GetSecret(ctx, tenant, identity.ClientCredential, c, s)
			if err != nil {
				t.Fatalf("%s: record %s: %v", what, s, err)
			}
			got, err := v.Verifier(ctx, rec.Ref())
			if err != nil || !identity.VerifySecret(rec.Ref(), "plain "+s, got) {
				t.Fatalf("%s: secret %s points at pack %d, where its material is %v", what, s, rec.Pack, err)
			}
			out, err := env.Clients.DynamoDB.GetItem(ctx, &dynamodb.GetItemInput{TableName: &table, Key: layout.Key(layout.ClientPK(c), layout.SkRegistration), ConsistentRead: aws.Bool(true)})
			if err != nil {
				t.Fatal(err)
			}
			reg, err := layout.DecodeRegistration(out.Item)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range reg.Secrets {
				if e.ID == s && e.Pack != rec.Pack {
					t.Fatalf("%s: secret %s: token item entry in pack %d, record in %d", what, s, e.Pack, rec.Pack)
				}
			}
			if rec.Pack > 0 {
				packed++
			}
		}
		return packed
	}

	table, prefix, _, _ := setup("dry")
	inj.Reset()
	if _, err := move(ctx, table, prefix); err != nil {
		t.Fatal(err)
	}
	calls := inj.Calls()
	var names []string
	for _, c := range calls {
		names = append(names, c.String())
	}
	t.Logf("the move of 2 verifiers: %d calls: %s", len(calls), strings.Join(names, ", "))
	points := 0
	for n := 1; n <= len(calls); n++ {
		for _, mode := range []faults.Mode{faults.Error, faults.Timeout} {
			name := fmt.Sprintf("%d-%s", n, mode)
			table, prefix, tenant, secrets := setup(name)
			runCtx, cancel := context.WithCancel(ctx)
			inj.FailNth(n, mode, cancel)
			_, err := move(runCtx, table, prefix)
			cancel()
			injected := inj.Injected()
			inj.Reset()
			if injected == 0 {
				continue // fewer calls this time (a fault earlier ended the run)
			}
			points++
			what := fmt.Sprintf("fault at call %d (%s, %s)", n, calls[n-1], mode)
			if err == nil {
				t.Fatalf("%s: the run reported no error", what)
			}
			check(what, table, prefix, tenant, secrets)
			// The operator runs it again: everything moves.
			if _, err := move(ctx, table, prefix); err != nil {
				t.Fatalf("%s: the second run: %v", what, err)
			}
			if packed := check(what+", then again", table, prefix, tenant, secrets); packed != len(secrets) {
				t.Fatalf("%s: after a second run %d of %d records point at a pack", what, packed, len(secrets))
			}
			// Reconciliation removes what the failure left: one verifier
			// per record, in its pack.
			cfg := env.Config
			cfg.Table, cfg.SecretPrefix = table, prefix
			set := sweeppkg.DefaultSettings()
			set.WarningDays, set.ReconcileBatch = nil, 1000
			log := slog.New(slog.NewJSONHandler(io.Discard, nil))
			sw := cfg.Sweeper(env.Clients, noEvents{}, set, log, log)
			sw.Now = func() time.Time { return time.Now().Add(2 * time.Hour) }
			if _, err := sw.Run(ctx); err != nil {
				t.Fatalf("%s: reconcile: %v", what, err)
			}
			inv := vault.NewInventory(env.Clients.SecretsManager, prefix)
			mats, _, err := inv.List(ctx, "", 100)
			if err != nil {
				t.Fatal(err)
			}
			if len(mats) != len(secrets) {
				t.Fatalf("%s: %d pieces of material after reconciliation, want %d: %+v", what, len(mats), len(secrets), mats)
			}
			for _, m := range mats {
				if m.Ref.Pack == 0 {
					t.Fatalf("%s: an old verifier survived reconciliation: %s", what, m.Name)
				}
			}
		}
	}
	t.Logf("%d fault points", points)
	if points < len(calls) {
		t.Fatalf("%d fault points for %d calls", points, len(calls))
	}
}
