package identity_test

import (
	"bytes"
	"testing"
	"time"

	"identityservice/shared/identity"
	"identityservice/shared/identity/memstore"
)

func sealKey(v uint32, b byte) identity.SealKey {
	return identity.SealKey{Version: v, Key: bytes.Repeat([]byte{b}, 32)}
}

// A seal names the key that made it (version 0: a bare HMAC, as made
// before keys had versions); it holds under that key only, and only while
// the set has it: a retired key's seal, a seal whose version was changed
// to another key's, and one naming a key never made hold nowhere.
func TestSealNamesItsKey(t *testing.T) {
	c := identity.Client{ID: identity.NewID(), TenantID: identity.NewID(), Kind: identity.ClientCredential, Enabled: true, RoleIDs: []string{identity.RoleAccountMember}}
	v0, v1, v2 := sealKey(0, 1), sealKey(1, 2), sealKey(2, 3)
	old := identity.SealKeySet{Current: v0}
	c.TokenSeal = old.Seal(c)
	if v, ok := identity.SealVersion(c.TokenSeal); !ok || v != 0 || len(c.TokenSeal) != 32 {
		t.Fatalf("a version 0 seal: %d bytes, version %d", len(c.TokenSeal), v)
	}
	rotating := identity.SealKeySet{Current: v1, Others: []identity.SealKey{v0}}
	if holds, current := rotating.Holds(c); !holds || current {
		t.Fatalf("the previous key's seal during a rotation: holds %v, current %v; want held, not current", holds, current)
	}
	resealed := c
	resealed.TokenSeal = rotating.Seal(c)
	if v, _ := identity.SealVersion(resealed.TokenSeal); v != 1 {
		t.Fatalf("sealed with key version %d, want 1", v)
	}
	retired := identity.SealKeySet{Current: v1}
	if holds, current := retired.Holds(resealed); !holds || !current {
		t.Fatal("the current key's seal does not hold")
	}
	if holds, _ := retired.Holds(c); holds {
		t.Fatal("a retired key's seal holds")
	}
	swapped := resealed
	swapped.TokenSeal = append([]byte{0, 0, 0, 2}, resealed.TokenSeal[4:]...)
	if holds, _ := (identity.SealKeySet{Current: v1, Others: []identity.SealKey{v2}}).Holds(swapped); holds {
		t.Fatal("a seal holds under a key other than the one that made it")
	}
	unknown := resealed
	unknown.TokenSeal = append([]byte{0, 0, 0, 9}, resealed.TokenSeal[4:]...)
	if holds, _ := retired.Holds(unknown); holds {
		t.Fatal("a seal naming a key never made holds")
	}
}

// A process reads the seal keys again once its refresh has passed: a
// rotation's new key is accepted, then seals, and a retired key's seal
// stops holding, in the same warm service.
func TestWarmServiceFollowsTheSealKeys(t *testing.T) {
	w := newWorld(t)
	keys := &memstore.SealKey{}
	w.svc.SealKeys = keys
	w.svc.SealKeyRefresh = time.Nanosecond
	v0, v1 := sealKey(0, 1), sealKey(1, 2)
	keys.Set(identity.SealKeySet{Current: v0})
	c := w.create(t, identity.ClientCredential, identity.NewClient{})
	auth := func() error { _, err := w.svc.AuthenticateClient(w.ctx, c.Client.ID, c.SecretString); return err }
	if err := auth(); err != nil {
		t.Fatal(err)
	}
	keys.Set(identity.SealKeySet{Current: v1, Others: []identity.SealKey{v0}})
	if err := auth(); err != nil {
		t.Fatalf("the previous key's seal during a rotation: %v", err)
	}
	keys.Set(identity.SealKeySet{Current: v1})
	if err := auth(); err == nil {
		t.Fatal("a retired key's seal still holds in a warm service")
	}
	seal, err := w.svc.TokenSeal(w.ctx, c.Client)
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := identity.SealVersion(seal); v != 1 {
		t.Fatalf("the warm service seals with key version %d, want 1", v)
	}
}
