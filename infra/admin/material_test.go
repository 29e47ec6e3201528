package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"identityservice/shared/identity"
	"identityservice/shared/vault"
)

// oldMaterial is the material as the code before the verifier binding
// wrote it: version 1, the bare SHA-256 of the secret, bound to nothing.
func oldMaterial(plaintext string) string {
	d := sha256.Sum256([]byte(plaintext))
	b, _ := json.Marshal(map[string]any{"v": 1, "alg": "SHA-256", "verifier": base64.StdEncoding.EncodeToString(d[:])})
	return string(b)
}

// migrationOutput is what `admin migrate` prints, as far as the material
// goes.
type migrationOutput struct {
	Material struct {
		Current, Upgraded, Refused, Foreign int
		RefusedMaterial                     []struct{ Name, Reason string }
	}
	VerifiersPacked, UnboundLeftInPlace int
}

// An upgrade keeps every client secret: material written before the
// verifier binding (version 1, a bare SHA-256) authenticates nothing on
// the new version until `admin migrate` binds it to its own record; then
// it does, through the same warm service (nothing stale cached). A
// version 1 verifier copied under another record's name (written over
// that record's material, made again in its place, or a second copy of
// one verifier) is refused, named, left as it is, and authenticates
// nothing; so is material without a live record. A second run changes
// nothing.
func TestMigrateBindsOldMaterialToItsOwnRecord(t *testing.T) {
	ctx := context.Background()
	sm := env.Clients.SecretsManager
	vlt := vault.New(sm, env.Config.SecretPrefix)
	svc := env.Service(nil)
	svc.AuthFailureFloor = time.Millisecond
	tenant, err := svc.CreateTenant(ctx, identity.NewID(), "upgraded tenant", 0)
	if err != nil {
		t.Fatal(err)
	}
	type client struct {
		id, secret, plain string
		ref               identity.MaterialRef
	}
	newClient := func() client {
		t.Helper()
		c, err := svc.CreateClient(ctx, tenant.ID, identity.NewClient{Kind: identity.ClientCredential, Name: "issued before the upgrade"})
		if err != nil {
			t.Fatal(err)
		}
		// As a client of the version before packs: its record and token
		// item entry name no pack, its material is a secret of its own
		// (version 2, as that version wrote it; remake replaces it).
		if err := vlt.DeleteVerifier(ctx, c.Secret.Ref()); err != nil {
			t.Fatal(err)
		}
		for _, u := range []struct{ sk, expr string }{{"SECRET#" + c.Secret.ID, "REMOVE Pack"}, {"#CLIENT", "REMOVE Secrets.#s.P"}} {
			in := &dynamodb.UpdateItemInput{TableName: &env.Config.Table, Key: map[string]av{"PK": sv("CLIENT#" + c.Client.ID), "SK": sv(u.sk)}, UpdateExpression: aws.String(u.expr)}
			if strings.Contains(u.expr, "#s") {
				in.ExpressionAttributeNames = map[string]string{"#s": c.Secret.ID}
			}
			if _, err := env.Clients.DynamoDB.UpdateItem(ctx, in); err != nil {
				t.Fatal(err)
			}
		}
		ref := identity.MaterialRef{TenantID: tenant.ID, ClientID: c.Client.ID, SecretID: c.Secret.ID}
		if err := vlt.PutVerifier(ctx, ref, identity.Verifier(ref, c.SecretString)); err != nil {
			t.Fatal(err)
		}
		return client{c.Client.ID, c.Secret.ID, c.SecretString, ref}
	}
	// remake writes ref's material as the old code did: CreateSecret of a
	// version 1 value (the API's own material first destroyed).
	remake := func(ref identity.MaterialRef, value string) {
		t.Helper()
		if err := vlt.DeleteVerifier(ctx, ref); err != nil {
			t.Fatal(err)
		}
		if _, err := sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String(vlt.Name(ref)), SecretString: aws.String(value)}); err != nil {
			t.Fatal(err)
		}
	}
	authenticates := func(c client, plain string) bool {
		t.Helper()
		_, err := svc.AuthenticateClient(ctx, c.id, plain)
		if err != nil && !errors.Is(err, identity.ErrInvalidClient) {
			t.Fatalf("authenticate %s: %v", c.id, err)
		}
		return err == nil
	}

	legit, attacker, overwritten, late, copied, unbacked := newClient(), newClient(), newClient(), newClient(), newClient(), newClient()
	kept := newClient() // current material, written by this version
	for _, c := range []client{legit, attacker, overwritten, late, copied} {
		remake(c.ref, oldMaterial(c.plain))
	}
	// A copy over another record's material (of a verifier held nowhere
	// else): a second version.
	overwriter := "a secret copied over another record's material"
	if _, err := sm.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String(vlt.Name(overwritten.ref)), SecretString: aws.String(oldMaterial(overwriter))}); err != nil {
		t.Fatal(err)
	}
	// A copy made in place of a record's material long after its add
	// (the record says it was created two hours ago), of a verifier held
	// nowhere else.
	stolen := "a secret whose own material is gone"
	if _, err := env.Clients.DynamoDB.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: &env.Config.Table,
		Key:                       map[string]av{"PK": sv("CLIENT#" + late.id), "SK": sv("SECRET#" + late.secret)},
		UpdateExpression:          aws.String("SET CreatedAt = :c"),
		ExpressionAttributeValues: map[string]av{":c": tv(time.Now().Add(-2 * time.Hour))}}); err != nil {
		t.Fatal(err)
	}
	remake(late.ref, oldMaterial(stolen))
	// A second copy of the attacker's verifier, made in place of another
	// record's material within its add's time.
	remake(copied.ref, oldMaterial(attacker.plain))
	// Material of no record.
	unbacked.ref.SecretID = identity.NewID()
	if _, err := sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String(vlt.Name(unbacked.ref)), SecretString: aws.String(oldMaterial("of no record"))}); err != nil {
		t.Fatal(err)
	}

	// Before the migration: no version 1 material authenticates (the
	// token path never converts it), current material does.
	if _, err := vlt.Verifier(ctx, legit.ref); !errors.Is(err, identity.ErrMaterialNotMigrated) {
		t.Fatalf("reading version 1 material: %v, want %v", err, identity.ErrMaterialNotMigrated)
	}
	if authenticates(legit, legit.plain) {
		t.Fatal("a secret of version 1 material authenticated before the migration")
	}
	if !authenticates(kept, kept.plain) {
		t.Fatal("a secret of this version does not authenticate")
	}

	migrate := func() migrationOutput {
		t.Helper()
		var out bytes.Buffer
		if err := run(ctx, []string{"migrate"}, &out); err != nil {
			t.Fatalf("admin migrate: %v", err)
		}
		var rep migrationOutput
		if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
			t.Fatalf("admin migrate printed %q: %v", out.String(), err)
		}
		return rep
	}
	first := migrate()
	t.Logf("first run: %+v", first.Material)
	reasons := map[string]string{}
	for _, r := range first.Material.RefusedMaterial {
		reasons[r.Name] = r.Reason
	}
	for name, want := range map[string]string{
		vlt.Name(attacker.ref):    "copied",
		vlt.Name(copied.ref):      "copied",
		vlt.Name(overwritten.ref): "written again",
		vlt.Name(late.ref):        "not by the add of its record",
		vlt.Name(unbacked.ref):    "no secret record",
	} {
		if !strings.Contains(reasons[name], want) {
			t.Errorf("%s: refused for %q, want a reason saying %q", name, reasons[name], want)
		}
	}
	if _, refused := reasons[vlt.Name(legit.ref)]; refused || first.Material.Upgraded < 1 || first.Material.Current < 1 {
		t.Fatalf("first run: %+v; want the legitimate material upgraded, this version's counted as current", first.Material)
	}

	// After it: the old secret authenticates as its own client; no copy
	// authenticates where it was copied; refused material is left as it
	// was (never deleted).
	if !authenticates(legit, legit.plain) {
		t.Fatal("a secret issued before the upgrade does not authenticate after the migration")
	}
	if !env.SecretWorks(t, tenant.ID, legit.id, legit.secret, legit.plain) {
		t.Fatal("the migrated material does not verify its own secret")
	}
	for name, tc := range map[string]struct {
		c     client
		plain string
	}{
		"a secret copied over another record's material":             {overwritten, overwriter},
		"the attacker's secret, copied in place of another record's": {copied, attacker.plain},
		"a secret copied long after the record's add":                {late, stolen},
	} {
		if authenticates(tc.c, tc.plain) {
			t.Errorf("%s authenticated as %s", name, tc.c.id)
		}
		if _, err := vlt.Verifier(ctx, tc.c.ref); !errors.Is(err, identity.ErrMaterialNotMigrated) {
			t.Errorf("%s: its material reads %v, want it left as version 1", name, err)
		}
	}
	if !authenticates(kept, kept.plain) {
		t.Fatal("a secret of this version stopped authenticating")
	}

	// Idempotent: nothing more to upgrade, the same refusals.
	// The bound material (upgraded, and current) moved into packs in the
	// same run; the refused stays where it is, unmoved.
	if first.VerifiersPacked != first.Material.Current+first.Material.Upgraded || first.UnboundLeftInPlace < 3 {
		t.Fatalf("first run packed %d verifiers and left %d unbound; want the %d current and upgraded ones packed, the refused ones of records left", first.VerifiersPacked, first.UnboundLeftInPlace, first.Material.Current+first.Material.Upgraded)
	}
	second := migrate()
	if second.Material.Upgraded != 0 || second.Material.Refused != first.Material.Refused || second.Material.Current != 0 || second.VerifiersPacked != 0 {
		t.Fatalf("second run: %+v after %+v; want nothing upgraded or packed, the same refusals, no bound material of its own left (packed)", second, first)
	}
	if !authenticates(legit, legit.plain) {
		t.Fatal("the migrated secret stopped authenticating after a second run")
	}
}
