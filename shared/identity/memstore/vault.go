package memstore

import (
	"context"
	"crypto/rand"
	"slices"
	"sync"

	"identityservice/shared/identity"
)

// Vault keeps verifiers in memory, honest to identity.Vault's contract.
type Vault struct {
	mu sync.Mutex
	m  map[identity.MaterialRef][]byte
}

var (
	_ identity.Vault        = (*Vault)(nil)
	_ identity.BatchDeleter = (*Vault)(nil)
)

// PutVerifier stores a verifier.
func (v *Vault) PutVerifier(ctx context.Context, ref identity.MaterialRef, verifier []byte) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.m == nil {
		v.m = map[identity.MaterialRef][]byte{}
	}
	v.m[ref] = slices.Clone(verifier)
	return nil
}

// DeleteVerifier destroys a verifier; one already gone is no error.
func (v *Vault) DeleteVerifier(ctx context.Context, ref identity.MaterialRef) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	delete(v.m, ref)
	return nil
}

// DeleteVerifiers destroys several verifiers at once.
func (v *Vault) DeleteVerifiers(ctx context.Context, refs []identity.MaterialRef) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	for _, ref := range refs {
		delete(v.m, ref)
	}
	return nil
}

// Verifier returns a verifier, or identity.ErrNoMaterial.
func (v *Vault) Verifier(ctx context.Context, ref identity.MaterialRef) ([]byte, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	b, ok := v.m[ref]
	if !ok {
		return nil, identity.ErrNoMaterial
	}
	return slices.Clone(b), nil
}

// Has reports whether material exists for ref.
func (v *Vault) Has(ref identity.MaterialRef) bool {
	v.mu.Lock()
	defer v.mu.Unlock()
	_, ok := v.m[ref]
	return ok
}

// SealKey is a token item seal key held in memory, made on first use
// (version 0); Rotate replaces it.
type SealKey struct {
	mu  sync.Mutex
	set *identity.SealKeySet
}

var _ identity.SealKeys = (*SealKey)(nil)

// SealKeySet returns the keys, the first made of 32 random bytes.
func (k *SealKey) SealKeySet(ctx context.Context) (identity.SealKeySet, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.set == nil {
		key, err := randomKey()
		if err != nil {
			return identity.SealKeySet{}, err
		}
		k.set = &identity.SealKeySet{Current: identity.SealKey{Version: 0, Key: key}}
	}
	return identity.SealKeySet{Current: k.set.Current, Others: slices.Clone(k.set.Others)}, nil
}

// Set replaces the keys (tests of rotation).
func (k *SealKey) Set(set identity.SealKeySet) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.set = &set
}

func randomKey() ([]byte, error) {
	key := make([]byte, 32)
	_, err := rand.Read(key)
	return key, err
}
