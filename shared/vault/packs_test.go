package vault_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"

	"identityservice/shared/identity"
	"identityservice/shared/vault"
)

// A pack write is a compare-and-swap only if Secrets Manager refuses a
// second PutSecretValue with the same ClientRequestToken and other
// content, and ignores one with the same content (AWS documents both for
// PutSecretValue). moto_server does the same: this test holds it to it,
// so the emulator's answers are the ones the vault's retries are built on.
func TestSecretsManagerRefusesAReusedTokenWithOtherContent(t *testing.T) {
	ctx := context.Background()
	sm := env.Clients.SecretsManager
	v := vault.New(sm, env.Config.SecretPrefix)
	ref := identity.MaterialRef{TenantID: identity.NewID(), ClientID: identity.NewID(), SecretID: identity.NewID(), Pack: 1}
	if err := v.PutVerifier(ctx, ref, identity.Verifier(ref, "s")); err != nil {
		t.Fatal(err)
	}
	name := v.PackName(ref.TenantID, 1)
	read, err := sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: &name})
	if err != nil {
		t.Fatal(err)
	}
	token := vault.PackToken(name, aws.ToString(read.VersionId))
	put := func(body string) error {
		_, err := sm.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: &name, SecretString: &body, ClientRequestToken: &token})
		return err
	}
	first := `{"v":1,"e":{}}`
	if err := put(first); err != nil {
		t.Fatalf("first writer over the version read: %v", err)
	}
	var exists *smtypes.ResourceExistsException
	if err := put(`{"v":1,"e":{"x":"y"}}`); !errors.As(err, &exists) {
		t.Fatalf("second writer over the same version, other content: %v; want ResourceExistsException", err)
	}
	if err := put(first); err != nil {
		t.Fatalf("the first writer's retry (same token, same content): %v; want it ignored without error", err)
	}
	cur, err := sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: &name})
	if err != nil || aws.ToString(cur.SecretString) != first || aws.ToString(cur.VersionId) != token {
		t.Fatalf("current value %q at %q, %v; want the first writer's %q at %q", aws.ToString(cur.SecretString), aws.ToString(cur.VersionId), err, first, token)
	}
}

// Concurrent adds into one pack lose no entry: every add either is in the
// pack afterwards or answered ErrPackBusy (nothing written); concurrent
// removals likewise. The pack is created by whichever add comes first.
func TestConcurrentPackWritesLoseNoEntry(t *testing.T) {
	ctx := context.Background()
	v := vault.New(env.Clients.SecretsManager, env.Config.SecretPrefix)
	tenant := identity.NewID()
	const n = 12
	refs := make([]identity.MaterialRef, n)
	for i := range refs {
		refs[i] = identity.MaterialRef{TenantID: tenant, ClientID: identity.NewID(), SecretID: identity.NewID(), Pack: 2}
	}
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i, ref := range refs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = v.PutVerifier(ctx, ref, identity.Verifier(ref, "secret-"+ref.SecretID))
		}()
	}
	wg.Wait()
	pack, err := v.VerifierPack(ctx, tenant, 2)
	if err != nil {
		t.Fatal(err)
	}
	stored := 0
	for i, ref := range refs {
		got, ok := pack[ref]
		switch {
		case errs[i] == nil && (!ok || !identity.VerifySecret(ref, "secret-"+ref.SecretID, got)):
			t.Errorf("add %d succeeded but its entry is not in the pack (lost update)", i)
		case errs[i] != nil && !errors.Is(errs[i], identity.ErrPackBusy):
			t.Errorf("add %d: %v; want success or ErrPackBusy", i, errs[i])
		case errs[i] != nil && ok:
			t.Errorf("add %d answered ErrPackBusy but its entry is stored", i)
		}
		if ok {
			stored++
		}
	}
	if len(pack) != stored || stored == 0 {
		t.Fatalf("pack holds %d entries, %d of them ours", len(pack), stored)
	}
	t.Logf("%d concurrent adds: %d stored, %d busy", n, stored, n-stored)

	for i, ref := range refs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = v.DeleteVerifier(ctx, ref)
		}()
	}
	wg.Wait()
	pack, err = v.VerifierPack(ctx, tenant, 2)
	if err != nil {
		t.Fatal(err)
	}
	for i, ref := range refs {
		if _, ok := pack[ref]; ok && errs[i] == nil {
			t.Errorf("remove %d succeeded but its entry is still in the pack", i)
		}
		if errs[i] != nil && !errors.Is(errs[i], identity.ErrPackBusy) {
			t.Errorf("remove %d: %v", i, errs[i])
		}
	}
}

// A pack entry belongs to its client: the same secret id under another
// client reads as missing, and its removal leaves the entry alone.
func TestPackEntryBelongsToItsClient(t *testing.T) {
	ctx := context.Background()
	v := vault.New(env.Clients.SecretsManager, env.Config.SecretPrefix)
	ref := identity.MaterialRef{TenantID: identity.NewID(), ClientID: identity.NewID(), SecretID: identity.NewID(), Pack: 1}
	if err := v.PutVerifier(ctx, ref, identity.Verifier(ref, "s")); err != nil {
		t.Fatal(err)
	}
	other := ref
	other.ClientID = identity.NewID()
	if _, err := v.Verifier(ctx, other); !errors.Is(err, identity.ErrNoMaterial) {
		t.Fatalf("another client's read of the entry: %v; want ErrNoMaterial", err)
	}
	if err := v.DeleteVerifier(ctx, other); err != nil {
		t.Fatal(err)
	}
	if got, err := v.Verifier(ctx, ref); err != nil || !identity.VerifySecret(ref, "s", got) {
		t.Fatalf("the entry after another client's delete: %v", err)
	}
	otherPack := ref
	otherPack.Pack = 2
	if _, err := v.Verifier(ctx, otherPack); !errors.Is(err, identity.ErrNoMaterial) {
		t.Fatalf("read in a pack that does not exist: %v; want ErrNoMaterial", err)
	}
}

// A full pack (identity.PackSize entries, every field at its longest) is
// well under the 64 KB a secret value may hold.
func TestFullPackFitsASecretValue(t *testing.T) {
	entries := map[string]vault.PackEntry{}
	for range identity.PackSize {
		entries[identity.NewID()] = vault.PackEntry{ClientID: identity.NewID(), Verifier: make([]byte, 32), Added: time.Date(2286, 1, 1, 0, 0, 0, 0, time.UTC)}
	}
	body, err := vault.EncodePack(entries)
	if err != nil {
		t.Fatal(err)
	}
	if len(body) > 56*1024 {
		t.Fatalf("a full pack is %d bytes; want at most 56 KB (the limit is 64 KB)", len(body))
	}
	t.Logf("a full pack of %d entries: %d bytes", identity.PackSize, len(body))
	entries[identity.NewID()] = vault.PackEntry{ClientID: strings.Repeat("x", 30000), Verifier: make([]byte, 32)}
	if _, err := vault.EncodePack(entries); err == nil {
		t.Fatal("a pack over 64 KB encoded without error")
	}
}

// Deleting several verifiers writes each pack once: a client's delete
// with its secrets in one pack is one pack write, not one per secret.
// Another client's entry in the pack stays; a secret of its own (the
// layout before packs) goes too; a second call finds nothing to write.
func TestDeleteVerifiersWritesEachPackOnce(t *testing.T) {
	ctx := context.Background()
	sm := env.Clients.SecretsManager
	v := vault.New(sm, env.Config.SecretPrefix)
	tenant, client := identity.NewID(), identity.NewID()
	ref := func(clientID string, pack int) identity.MaterialRef {
		return identity.MaterialRef{TenantID: tenant, ClientID: clientID, SecretID: identity.NewID(), Pack: pack}
	}
	mine := []identity.MaterialRef{ref(client, 1), ref(client, 1), ref(client, 1), ref(client, 2), ref(client, 0)}
	other := ref(identity.NewID(), 1)
	for _, r := range append(mine, other) {
		if err := v.PutVerifier(ctx, r, identity.Verifier(r, "s")); err != nil {
			t.Fatal(err)
		}
	}
	versions := func(pack int) int {
		t.Helper()
		name := v.PackName(tenant, pack)
		out, err := sm.ListSecretVersionIds(ctx, &secretsmanager.ListSecretVersionIdsInput{SecretId: &name, IncludeDeprecated: aws.Bool(true)})
		if err != nil {
			t.Fatal(err)
		}
		return len(out.Versions)
	}
	before1, before2 := versions(1), versions(2)
	if err := v.DeleteVerifiers(ctx, mine); err != nil {
		t.Fatal(err)
	}
	if w1, w2 := versions(1)-before1, versions(2)-before2; w1 != 1 || w2 != 1 {
		t.Fatalf("pack writes: %d to pack 1 (3 entries removed), %d to pack 2 (1 removed); want 1 each", w1, w2)
	}
	for _, r := range mine {
		if _, err := v.Verifier(ctx, r); !errors.Is(err, identity.ErrNoMaterial) {
			t.Fatalf("%+v after DeleteVerifiers: %v; want ErrNoMaterial", r, err)
		}
	}
	if got, err := v.Verifier(ctx, other); err != nil || !identity.VerifySecret(other, "s", got) {
		t.Fatalf("another client's entry in the pack: %v", err)
	}
	if err := v.DeleteVerifiers(ctx, mine); err != nil {
		t.Fatalf("again: %v", err)
	}
	if w1 := versions(1) - before1; w1 != 1 {
		t.Fatalf("a second DeleteVerifiers wrote pack 1 again (%d writes in all)", w1)
	}
}
