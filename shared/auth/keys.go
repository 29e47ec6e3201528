// Package auth issues and verifies the service's access tokens: RS256 JWTs
// signed with keys kept in Secrets Manager (only the token function can read
// them) whose public halves are published as a JWKS for every function.
package auth

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// TokenLifetime is the lifetime of an access token.
const TokenLifetime = time.Hour

// retiredKeyKept is how long a retired key stays published: long enough
// for every token it signed to expire, plus the time a warm token function
// may keep signing with it before it reloads the key set.
const retiredKeyKept = TokenLifetime + keySetTTL + 5*time.Minute

// keySetTTL is how long a token function trusts its cached key set.
const keySetTTL = 5 * time.Minute

// SigningKey is one RSA key.
type SigningKey struct {
	KID     string
	Private *rsa.PrivateKey
	Created time.Time
	Retired *time.Time
}

// KeySet is every key still published and the one that signs.
type KeySet struct {
	Active string
	Keys   []SigningKey
}

// GenerateKey makes a new 2048-bit RSA signing key; its kid is derived from
// the public key.
func GenerateKey(now time.Time) (SigningKey, error) {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return SigningKey{}, err
	}
	der, err := x509.MarshalPKIXPublicKey(&k.PublicKey)
	if err != nil {
		return SigningKey{}, err
	}
	sum := sha256.Sum256(der)
	return SigningKey{KID: base64.RawURLEncoding.EncodeToString(sum[:12]), Private: k, Created: now.UTC()}, nil
}

// NewKeySet returns a key set with one new active key.
func NewKeySet(now time.Time) (KeySet, error) {
	k, err := GenerateKey(now)
	if err != nil {
		return KeySet{}, err
	}
	return KeySet{Active: k.KID, Keys: []SigningKey{k}}, nil
}

// Rotate returns the set with a new active key; the old active key is
// retired and stays published until its tokens have expired. Keys retired
// long enough ago are dropped.
func (ks KeySet) Rotate(now time.Time) (KeySet, error) {
	k, err := GenerateKey(now)
	if err != nil {
		return KeySet{}, err
	}
	out := KeySet{Active: k.KID, Keys: []SigningKey{k}}
	for _, old := range ks.Keys {
		if old.Retired == nil {
			t := now.UTC()
			old.Retired = &t
		}
		if now.Sub(*old.Retired) < retiredKeyKept {
			out.Keys = append(out.Keys, old)
		}
	}
	return out, nil
}

// Newest is when the set's newest key was created: a rotation always makes
// it later.
func (ks KeySet) Newest() time.Time {
	var t time.Time
	for _, k := range ks.Keys {
		if k.Created.After(t) {
			t = k.Created
		}
	}
	return t
}

// ActiveKey returns the key that signs.
func (ks KeySet) ActiveKey() (SigningKey, error) {
	for _, k := range ks.Keys {
		if k.KID == ks.Active {
			return k, nil
		}
	}
	return SigningKey{}, errors.New("key set has no active key")
}

// JWKS returns the public keys.
func (ks KeySet) JWKS() jose.JSONWebKeySet {
	set := jose.JSONWebKeySet{Keys: []jose.JSONWebKey{}}
	for _, k := range ks.Keys {
		set.Keys = append(set.Keys, jose.JSONWebKey{Key: &k.Private.PublicKey, KeyID: k.KID, Algorithm: string(jose.RS256), Use: "sig"})
	}
	return set
}

type storedKey struct {
	KID     string     `json:"kid"`
	PKCS8   string     `json:"pkcs8"`
	Created time.Time  `json:"created"`
	Retired *time.Time `json:"retired,omitempty"`
}

type storedKeySet struct {
	Active string      `json:"active"`
	Keys   []storedKey `json:"keys"`
}

// MarshalKeySet encodes a key set for Secrets Manager.
func MarshalKeySet(ks KeySet) ([]byte, error) {
	out := storedKeySet{Active: ks.Active}
	for _, k := range ks.Keys {
		der, err := x509.MarshalPKCS8PrivateKey(k.Private)
		if err != nil {
			return nil, err
		}
		out.Keys = append(out.Keys, storedKey{KID: k.KID, PKCS8: base64.StdEncoding.EncodeToString(der), Created: k.Created, Retired: k.Retired})
	}
	return json.Marshal(out)
}

// UnmarshalKeySet decodes a key set stored by MarshalKeySet.
func UnmarshalKeySet(b []byte) (KeySet, error) {
	var in storedKeySet
	if err := json.Unmarshal(b, &in); err != nil {
		return KeySet{}, fmt.Errorf("decode key set: %w", err)
	}
	ks := KeySet{Active: in.Active}
	for _, k := range in.Keys {
		der, err := base64.StdEncoding.DecodeString(k.PKCS8)
		if err != nil {
			return KeySet{}, fmt.Errorf("decode key %s: %w", k.KID, err)
		}
		key, err := x509.ParsePKCS8PrivateKey(der)
		if err != nil {
			return KeySet{}, fmt.Errorf("parse key %s: %w", k.KID, err)
		}
		rk, ok := key.(*rsa.PrivateKey)
		if !ok {
			return KeySet{}, fmt.Errorf("key %s is not RSA", k.KID)
		}
		ks.Keys = append(ks.Keys, SigningKey{KID: k.KID, Private: rk, Created: k.Created, Retired: k.Retired})
	}
	if _, err := ks.ActiveKey(); err != nil {
		return KeySet{}, err
	}
	return ks, nil
}

// PrivateKeyStore keeps the key set (Secrets Manager).
type PrivateKeyStore interface {
	// LoadKeySet returns the stored set, or ErrNoKeySet.
	LoadKeySet(ctx context.Context) (KeySet, error)
	// CreateKeySet stores a first set; it returns ErrKeySetExists when
	// another process created one first.
	CreateKeySet(ctx context.Context, ks KeySet) error
	// ReplaceKeySet stores a rotated set.
	ReplaceKeySet(ctx context.Context, ks KeySet) error
}

// PublicKeyStore keeps the published JWKS (DynamoDB), readable by every
// function.
type PublicKeyStore interface {
	// PublishJWKS stores the public keys of a key set whose newest key was
	// created at newest, unless a set with a newer key is already
	// published: a process that loaded the set just before a rotation must
	// not hide the new key.
	PublishJWKS(ctx context.Context, jwks []byte, newest time.Time) error
	JWKS(ctx context.Context) ([]byte, error) // ErrNoKeySet when none is published
}

// Errors of the key stores.
var (
	ErrNoKeySet     = errors.New("no signing key set")
	ErrKeySetExists = errors.New("signing key set already exists")
)

// KeyManager gives the token function its signing keys: loaded on first
// use (never at init), created if none exist — two cold starts racing both
// end with the one that Secrets Manager stored first — cached for a few
// minutes, and published as the JWKS whenever loaded.
type KeyManager struct {
	Private PrivateKeyStore
	Public  PublicKeyStore
	Now     func() time.Time

	mu       sync.Mutex
	set      *KeySet
	loadedAt time.Time
}

func (m *KeyManager) now() time.Time {
	if m.Now != nil {
		return m.Now()
	}
	return time.Now()
}

// KeySet returns the current key set.
func (m *KeyManager) KeySet(ctx context.Context) (KeySet, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.set != nil && m.now().Sub(m.loadedAt) < keySetTTL {
		return *m.set, nil
	}
	ks, err := m.Private.LoadKeySet(ctx)
	if errors.Is(err, ErrNoKeySet) {
		if ks, err = NewKeySet(m.now()); err != nil {
			return KeySet{}, err
		}
		if err = m.Private.CreateKeySet(ctx, ks); errors.Is(err, ErrKeySetExists) {
			ks, err = m.Private.LoadKeySet(ctx)
		}
	}
	if err != nil {
		if m.set != nil {
			return *m.set, nil // keep signing with what we have
		}
		return KeySet{}, err
	}
	return m.publish(ctx, ks)
}

// Rotate makes a new active signing key. The retired key stays in the set,
// and so in the published JWKS, until every token it signed has expired;
// warm token functions pick the new key up within keySetTTL. With no key
// set yet, it creates the first one.
func (m *KeyManager) Rotate(ctx context.Context) (KeySet, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	ks, err := m.Private.LoadKeySet(ctx)
	switch {
	case errors.Is(err, ErrNoKeySet):
		if ks, err = NewKeySet(m.now()); err != nil {
			return KeySet{}, err
		}
		err = m.Private.CreateKeySet(ctx, ks)
	case err == nil:
		if ks, err = ks.Rotate(m.now()); err != nil {
			return KeySet{}, err
		}
		err = m.Private.ReplaceKeySet(ctx, ks)
	}
	if err != nil {
		return KeySet{}, err
	}
	return m.publish(ctx, ks)
}

// publish makes ks this process's key set and publishes its public keys.
// The caller holds m.mu.
func (m *KeyManager) publish(ctx context.Context, ks KeySet) (KeySet, error) {
	jwks, err := json.Marshal(ks.JWKS())
	if err != nil {
		return KeySet{}, err
	}
	if err := m.Public.PublishJWKS(ctx, jwks, ks.Newest()); err != nil {
		return KeySet{}, fmt.Errorf("publish JWKS: %w", err)
	}
	m.set, m.loadedAt = &ks, m.now()
	return ks, nil
}
