package identity_test

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"identityservice/shared/identity"
	"identityservice/shared/identity/memstore"
)

// packVault keeps verifiers by ref and reads them a pack at a time,
// counting its reads.
type packVault struct {
	mu          sync.Mutex
	m           map[identity.MaterialRef][]byte
	packReads   int
	secretReads int
}

func (v *packVault) PutVerifier(_ context.Context, ref identity.MaterialRef, b []byte) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.m == nil {
		v.m = map[identity.MaterialRef][]byte{}
	}
	v.m[ref] = b
	return nil
}

func (v *packVault) DeleteVerifier(_ context.Context, ref identity.MaterialRef) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	delete(v.m, ref)
	return nil
}

func (v *packVault) Verifier(_ context.Context, ref identity.MaterialRef) ([]byte, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.secretReads++
	if b, ok := v.m[ref]; ok {
		return b, nil
	}
	return nil, identity.ErrNoMaterial
}

func (v *packVault) VerifierPack(_ context.Context, tenantID string, pack int) (map[identity.MaterialRef][]byte, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.packReads++
	out := map[identity.MaterialRef][]byte{}
	for ref, b := range v.m {
		if ref.TenantID == tenantID && ref.Pack == pack {
			out[ref] = b
		}
	}
	return out, nil
}

func (v *packVault) reads() (packs, secrets int) {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.packReads, v.secretReads
}

// New secrets go to packs by the tenant's slots: PackSize to a pack, in
// the order the slots were handed out, and a full pack's next secret opens
// the next pack.
func TestSecretsFillPacksInSlotOrder(t *testing.T) {
	for _, c := range []struct {
		slot int64
		pack int
	}{{1, 1}, {identity.PackSize, 1}, {identity.PackSize + 1, 2}, {2 * identity.PackSize, 2}, {2*identity.PackSize + 1, 3}, {0, 0}} {
		if got := identity.PackOf(c.slot); got != c.pack {
			t.Errorf("PackOf(%d) = %d, want %d", c.slot, got, c.pack)
		}
	}
	w := newWorld(t)
	for i := range 3 {
		c := w.create(t, identity.ClientCredential, identity.NewClient{})
		if c.Secret.Pack != 1 || !w.vault.Has(c.Secret.Ref()) {
			t.Fatalf("client %d: secret in pack %d (material %v); want pack 1", i, c.Secret.Pack, w.vault.Has(c.Secret.Ref()))
		}
	}
	if _, err := w.svc.CreateClient(w.ctx, identity.NewID(), identity.NewClient{Kind: identity.ClientCredential, Name: "x"}); err != identity.ErrTenantNotFound {
		t.Fatalf("create in a missing tenant: %v, want ErrTenantNotFound before any material", err)
	}
}

// A token request's verifier miss reads the secret's whole pack and
// caches it: a second client of the same pack costs no read; a secret
// added to the pack since is a miss, which reads the pack again; a record
// without a pack (written before packs) reads its own material.
func TestVerifierMissReadsTheWholePack(t *testing.T) {
	st := memstore.New()
	v := &packVault{}
	now := time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)
	svc := &identity.Service{Stores: st.Stores(), Vault: v, SealKeys: &memstore.SealKey{}, Now: func() time.Time { return now },
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Pause: func(context.Context, time.Duration) {}}
	ctx := context.Background()
	ten, err := svc.CreateTenant(ctx, "", "packs", 0)
	if err != nil {
		t.Fatal(err)
	}
	create := func() identity.CreatedClient {
		c, err := svc.CreateClient(ctx, ten.ID, identity.NewClient{Kind: identity.ClientCredential, Name: "c"})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	auth := func(c identity.CreatedClient, secret string) {
		t.Helper()
		if _, err := svc.AuthenticateClient(ctx, c.Client.ID, secret); err != nil {
			t.Fatalf("authenticate %s: %v", c.Client.ID, err)
		}
	}
	a, b := create(), create()
	auth(a, a.SecretString)
	auth(b, b.SecretString)
	if packs, secrets := v.reads(); packs != 1 || secrets != 0 {
		t.Fatalf("two clients of one pack: %d pack reads, %d secret reads; want 1 pack read", packs, secrets)
	}
	c := create()
	auth(c, c.SecretString)
	auth(a, a.SecretString)
	if packs, _ := v.reads(); packs != 2 {
		t.Fatalf("a secret added since the pack was cached: %d pack reads in all, want 2", packs)
	}
	// A wrong secret of a cached client reads nothing more, and fails.
	if _, err := svc.AuthenticateClient(ctx, a.Client.ID, "wrong"); err == nil {
		t.Fatal("a wrong secret authenticated")
	}
	if packs, secrets := v.reads(); packs != 2 || secrets != 0 {
		t.Fatalf("after a wrong secret: %d pack reads, %d secret reads", packs, secrets)
	}
}
