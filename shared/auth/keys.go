// Package auth issues and verifies the service's access tokens: JWTs
// (RS256 by default, ES256 by configuration: SIGNING_ALG) signed with keys
// kept in Secrets Manager (only the token function can read them) whose
// public halves are published as a JWKS, each key with its "alg", for
// every function. Tokens are built and checked by golang-jwt; the JWKS is
// written and read by go-jose.
package auth

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// TokenLifetime is the lifetime of an access token.
const TokenLifetime = time.Hour

// KeyRefresh is how long a process trusts what it read of the keys: a
// token function its key set, a verifier the published JWKS. A revoked key
// is refused everywhere, and a rotated-in key signs everywhere, within it.
const KeyRefresh = time.Minute

// RetiredKeyKept is how long a retired key stays published after the
// rotation that retired it: long enough for every token it signed to
// expire (a warm token function may sign with it for up to KeyRefresh
// after the rotation, and each token lives TokenLifetime), plus a margin
// for clock skew. After that it leaves the published set by itself; no
// second rotation is needed.
const RetiredKeyKept = TokenLifetime + KeyRefresh + 5*time.Minute

// Alg is a token signing algorithm (RFC 7518 3.1).
type Alg string

// The signing algorithms of access tokens.
const (
	RS256 Alg = "RS256" // RSASSA-PKCS1-v1_5 with SHA-256, a 2048-bit RSA key: the default
	ES256 Alg = "ES256" // ECDSA on P-256 with SHA-256: a signature costs a few percent of an RS256 one
)

// DefaultAlg is the algorithm of new keys when none is configured.
const DefaultAlg = RS256

// ParseAlg reads a configured algorithm (SIGNING_ALG, keys rotate --alg);
// empty is DefaultAlg.
func ParseAlg(s string) (Alg, error) {
	switch Alg(s) {
	case "":
		return DefaultAlg, nil
	case RS256, ES256:
		return Alg(s), nil
	}
	return "", fmt.Errorf("signing algorithm %q: want RS256 or ES256", s)
}

// SigningKey is one signing key: RSA-2048 for RS256, P-256 for ES256.
type SigningKey struct {
	KID     string
	Alg     Alg
	Private crypto.Signer // *rsa.PrivateKey or *ecdsa.PrivateKey
	Created time.Time
	Retired *time.Time // when a rotation replaced it as the active key
}

// RetiresAt is when a retired key leaves the published set (zero: the key
// is not retired).
func (k SigningKey) RetiresAt() time.Time {
	if k.Retired == nil {
		return time.Time{}
	}
	return k.Retired.Add(RetiredKeyKept)
}

// KeySet is every key still published and the one that signs. Version
// grows with every change (rotation, revocation), so a process holding an
// older set cannot publish it over a newer one.
type KeySet struct {
	Version int64
	Active  string
	Keys    []SigningKey
}

// GenerateKey makes a new signing key for alg (a 2048-bit RSA key for
// RS256, a P-256 key for ES256); its kid is derived from the public key.
func GenerateKey(now time.Time, alg Alg) (SigningKey, error) {
	var k crypto.Signer
	var err error
	switch alg {
	case RS256:
		k, err = rsa.GenerateKey(rand.Reader, 2048)
	case ES256:
		k, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	default:
		_, err = ParseAlg(string(alg))
	}
	if err != nil {
		return SigningKey{}, err
	}
	der, err := x509.MarshalPKIXPublicKey(k.Public())
	if err != nil {
		return SigningKey{}, err
	}
	sum := sha256.Sum256(der)
	return SigningKey{KID: base64.RawURLEncoding.EncodeToString(sum[:12]), Alg: alg, Private: k, Created: now.UTC()}, nil
}

// keyAlg is the algorithm a private key signs with (empty: none of ours).
func keyAlg(k crypto.PrivateKey) Alg {
	switch k := k.(type) {
	case *rsa.PrivateKey:
		return RS256
	case *ecdsa.PrivateKey:
		if k.Curve == elliptic.P256() {
			return ES256
		}
	}
	return ""
}

// jwk is the public JWK of k: its kid, its "alg" (and for EC its "crv",
// which go-jose writes with the coordinates), use sig.
func (k SigningKey) jwk() jose.JSONWebKey {
	return jose.JSONWebKey{Key: k.Private.Public(), KeyID: k.KID, Algorithm: string(k.Alg), Use: "sig"}
}

// NewKeySet returns a key set with one new active key for alg.
func NewKeySet(now time.Time, alg Alg) (KeySet, error) {
	k, err := GenerateKey(now, alg)
	if err != nil {
		return KeySet{}, err
	}
	return KeySet{Version: 1, Active: k.KID, Keys: []SigningKey{k}}, nil
}

// Rotate returns the set with a new active key for alg; the old active
// key (whatever its algorithm) is retired and stays published until its
// tokens have expired (RetiredKeyKept). Keys retired longer ago are
// dropped.
func (ks KeySet) Rotate(now time.Time, alg Alg) (KeySet, error) {
	k, err := GenerateKey(now, alg)
	if err != nil {
		return KeySet{}, err
	}
	out := KeySet{Version: ks.Version + 1, Active: k.KID, Keys: []SigningKey{k}}
	for _, old := range ks.Keys {
		if old.Retired == nil {
			t := now.UTC()
			old.Retired = &t
		}
		if now.Before(old.RetiresAt()) {
			out.Keys = append(out.Keys, old)
		}
	}
	return out, nil
}

// Errors of revocation.
var (
	ErrUnknownKey = errors.New("no signing key with this kid")
	ErrActiveKey  = errors.New("the key is the active signing key")
)

// Revoke returns the set without the key kid. The active key cannot be
// revoked (ErrActiveKey): rotate first, so that a replacement signs.
func (ks KeySet) Revoke(kid string) (KeySet, error) {
	if kid == ks.Active {
		return KeySet{}, ErrActiveKey
	}
	out := KeySet{Version: ks.Version + 1, Active: ks.Active}
	found := false
	for _, k := range ks.Keys {
		if k.KID == kid {
			found = true
			continue
		}
		out.Keys = append(out.Keys, k)
	}
	if !found {
		return KeySet{}, ErrUnknownKey
	}
	return out, nil
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

// JWKS returns the public keys published at instant now: every key but
// the retired ones whose tokens have all expired.
func (ks KeySet) JWKS(now time.Time) jose.JSONWebKeySet {
	set := jose.JSONWebKeySet{Keys: []jose.JSONWebKey{}}
	for _, k := range ks.published(now) {
		set.Keys = append(set.Keys, k.jwk())
	}
	return set
}

// Algs are the algorithms of the keys published at instant now, the
// active key's first: what tokens that verify may be signed with.
func (ks KeySet) Algs(now time.Time) []string {
	out := []string{}
	if k, err := ks.ActiveKey(); err == nil {
		out = append(out, string(k.Alg))
	}
	for _, k := range ks.published(now) {
		if !slices.Contains(out, string(k.Alg)) {
			out = append(out, string(k.Alg))
		}
	}
	return out
}

func (ks KeySet) published(now time.Time) []SigningKey {
	var out []SigningKey
	for _, k := range ks.Keys {
		if k.Retired == nil || now.Before(k.RetiresAt()) {
			out = append(out, k)
		}
	}
	return out
}

// PublishedJWKS is the JWKS document published at instant now: JWKS(now),
// each retired key with an "exp" member (unix seconds; RFC 7517 allows
// members of one's own), the instant it leaves the set. Verifiers refuse
// a key past its exp even before the set is published again.
func (ks KeySet) PublishedJWKS(now time.Time) ([]byte, error) {
	keys := []json.RawMessage{}
	for _, k := range ks.published(now) {
		raw, err := json.Marshal(k.jwk())
		if err != nil {
			return nil, err
		}
		if k.Retired != nil {
			var m map[string]any
			if err := json.Unmarshal(raw, &m); err != nil {
				return nil, err
			}
			m["exp"] = k.RetiresAt().Unix()
			if raw, err = json.Marshal(m); err != nil {
				return nil, err
			}
		}
		keys = append(keys, raw)
	}
	return json.Marshal(map[string]any{"keys": keys})
}

type storedKey struct {
	KID     string     `json:"kid"`
	Alg     Alg        `json:"alg,omitempty"` // absent in sets stored before ES256: RS256
	PKCS8   string     `json:"pkcs8"`
	Created time.Time  `json:"created"`
	Retired *time.Time `json:"retired,omitempty"`
}

type storedKeySet struct {
	Version int64       `json:"version"`
	Active  string      `json:"active"`
	Keys    []storedKey `json:"keys"`
}

// MarshalKeySet encodes a key set for Secrets Manager.
func MarshalKeySet(ks KeySet) ([]byte, error) {
	out := storedKeySet{Version: ks.Version, Active: ks.Active}
	for _, k := range ks.Keys {
		der, err := x509.MarshalPKCS8PrivateKey(k.Private)
		if err != nil {
			return nil, err
		}
		out.Keys = append(out.Keys, storedKey{KID: k.KID, Alg: k.Alg, PKCS8: base64.StdEncoding.EncodeToString(der), Created: k.Created, Retired: k.Retired})
	}
	return json.Marshal(out)
}

// UnmarshalKeySet decodes a key set stored by MarshalKeySet.
func UnmarshalKeySet(b []byte) (KeySet, error) {
	var in storedKeySet
	if err := json.Unmarshal(b, &in); err != nil {
		return KeySet{}, fmt.Errorf("decode key set: %w", err)
	}
	ks := KeySet{Version: in.Version, Active: in.Active}
	for _, k := range in.Keys {
		der, err := base64.StdEncoding.DecodeString(k.PKCS8)
		if err != nil {
			return KeySet{}, fmt.Errorf("decode key %s: %w", k.KID, err)
		}
		key, err := x509.ParsePKCS8PrivateKey(der)
		if err != nil {
			return KeySet{}, fmt.Errorf("parse key %s: %w", k.KID, err)
		}
		alg := k.Alg
		if alg == "" {
			alg = RS256
		}
		if keyAlg(key) != alg {
			return KeySet{}, fmt.Errorf("key %s is not a key for %s", k.KID, alg)
		}
		ks.Keys = append(ks.Keys, SigningKey{KID: k.KID, Alg: alg, Private: key.(crypto.Signer), Created: k.Created, Retired: k.Retired})
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
// function; only the token function (and the operator) can write it.
type PublicKeyStore interface {
	// PublishJWKS stores the JWKS of the key set of this version, unless a
	// set of a higher version is published: then it returns a
	// *NewerJWKSError with what is stored, and stores nothing.
	PublishJWKS(ctx context.Context, jwks []byte, version int64) error
	// ReplaceJWKS stores the JWKS whatever is published (the operator's
	// repair of a set this service did not write).
	ReplaceJWKS(ctx context.Context, jwks []byte, version int64) error
	JWKS(ctx context.Context) ([]byte, error) // ErrNoKeySet when none is published
}

// NewerJWKSError is PublishJWKS's answer when a set of a higher version is
// already published.
type NewerJWKSError struct {
	Version int64
	JWKS    []byte
}

func (e *NewerJWKSError) Error() string {
	return fmt.Sprintf("a JWKS of version %d is already published", e.Version)
}

// ForeignJWKSError says the published JWKS is not one of the key set's:
// it holds keys the key set does not (or claims a version the key set
// never had). This service did not write it — the table's write
// permission was misused, or the item edited by hand — and tokens signed
// by its keys would verify, so it must be replaced at once.
type ForeignJWKSError struct {
	Kids     []string // the published keys the key set does not hold
	Replaced bool     // the operator's command replaced it with the key set's JWKS
}

func (e *ForeignJWKSError) Error() string {
	what := "run `make admin ARGS='keys rotate'`, which replaces it, and find out who wrote it"
	if e.Replaced {
		what = "it was replaced with the key set's own JWKS; find out who wrote it"
	}
	return fmt.Sprintf("the published JWKS was not written by this service (keys not in the signing key set: %v): %s", e.Kids, what)
}

// Errors of the key stores.
var (
	ErrNoKeySet     = errors.New("no signing key set")
	ErrKeySetExists = errors.New("signing key set already exists")
)

// KeyManager gives the token function its signing keys: loaded on first
// use (never at init), created if none exist — two cold starts racing both
// end with the one that Secrets Manager stored first — cached for
// KeyRefresh, and published as the JWKS whenever loaded. The operator's
// Rotate and Revoke change the set.
type KeyManager struct {
	Private PrivateKeyStore
	Public  PublicKeyStore
	Now     func() time.Time
	// Alg is the algorithm of the keys it creates (the first key, and the
	// new key of a rotation); empty: DefaultAlg. Keys already in the set
	// keep theirs: a change of Alg takes effect at the next rotation.
	Alg Alg

	mu       sync.Mutex
	set      *KeySet
	loadedAt time.Time
}

func (m *KeyManager) alg() Alg {
	if m.Alg == "" {
		return DefaultAlg
	}
	return m.Alg
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
	if m.set != nil && m.now().Sub(m.loadedAt) < KeyRefresh {
		return *m.set, nil
	}
	ks, err := m.Private.LoadKeySet(ctx)
	if errors.Is(err, ErrNoKeySet) {
		if ks, err = NewKeySet(m.now(), m.alg()); err != nil {
			return KeySet{}, err
		}
		if err = m.Private.CreateKeySet(ctx, ks); errors.Is(err, ErrKeySetExists) {
			ks, err = m.Private.LoadKeySet(ctx)
		}
	}
	if err != nil {
		// Keep signing with what we have only while the published set
		// still holds its active key as active (fallback.go).
		if m.set != nil {
			if perr := stillActiveAndPublished(ctx, m.Public, *m.set); perr != nil {
				return KeySet{}, fmt.Errorf("%w (%v)", perr, err)
			}
			return *m.set, nil
		}
		return KeySet{}, err
	}
	return m.publish(ctx, ks, false)
}

// Rotate makes a new active signing key, for m.Alg. The retired key stays in the set,
// and so in the published JWKS, until every token it signed has expired
// (RetiredKeyKept); warm token functions pick the new key up within
// KeyRefresh. With no key set yet, it creates the first one.
func (m *KeyManager) Rotate(ctx context.Context) (KeySet, error) {
	return m.change(ctx, func(ks KeySet, created bool) (KeySet, error) {
		if created {
			return ks, nil
		}
		return ks.Rotate(m.now(), m.alg())
	})
}

// Revoke withdraws the key kid at once: it leaves the key set and the
// published JWKS, and every verifier refuses its tokens within KeyRefresh.
// Revoking the active key first rotates, in the same write, so that a
// replacement signs (warm token functions switch to it within KeyRefresh).
// It returns the set afterwards.
func (m *KeyManager) Revoke(ctx context.Context, kid string) (KeySet, error) {
	return m.change(ctx, func(ks KeySet, created bool) (KeySet, error) {
		if created {
			return KeySet{}, ErrUnknownKey
		}
		if kid == ks.Active {
			rotated, err := ks.Rotate(m.now(), m.alg())
			if err != nil {
				return KeySet{}, err
			}
			rotated.Version-- // rotation and revocation are one change
			ks = rotated
		}
		return ks.Revoke(kid)
	})
}

// change applies an operator's change to the stored key set (created: there
// was none, ks is a new one) and publishes the result, replacing a
// published set this service did not write.
func (m *KeyManager) change(ctx context.Context, f func(ks KeySet, created bool) (KeySet, error)) (KeySet, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	ks, err := m.Private.LoadKeySet(ctx)
	switch {
	case errors.Is(err, ErrNoKeySet):
		if ks, err = NewKeySet(m.now(), m.alg()); err != nil {
			return KeySet{}, err
		}
		if ks, err = f(ks, true); err != nil {
			return KeySet{}, err
		}
		err = m.Private.CreateKeySet(ctx, ks)
	case err == nil:
		if ks, err = f(ks, false); err != nil {
			return KeySet{}, err
		}
		err = m.Private.ReplaceKeySet(ctx, ks)
	}
	if err != nil {
		return KeySet{}, err
	}
	return m.publish(ctx, ks, true)
}

// publish makes ks this process's key set and publishes its JWKS. When a
// newer set is published, it re-reads the key set: the published one must
// be the set it meant to publish, or a newer one of this service (all its
// keys in the key set, its version not beyond the key set's), which it
// adopts; anything else is a *ForeignJWKSError, and the operator's changes
// (authoritative) replace it. The caller holds m.mu.
func (m *KeyManager) publish(ctx context.Context, ks KeySet, authoritative bool) (KeySet, error) {
	jwks, err := ks.PublishedJWKS(m.now())
	if err != nil {
		return KeySet{}, err
	}
	err = m.Public.PublishJWKS(ctx, jwks, ks.Version)
	var newer *NewerJWKSError
	if errors.As(err, &newer) {
		fresh, ferr := m.Private.LoadKeySet(ctx)
		if ferr != nil {
			return KeySet{}, fmt.Errorf("re-read the key set after a newer JWKS was published: %w", ferr)
		}
		foreign := foreignKids(newer.JWKS, fresh)
		switch {
		case bytes.Equal(newer.JWKS, jwks):
			err = nil
		case len(foreign) == 0 && fresh.Version >= newer.Version && fresh.Version > ks.Version:
			ks, err = fresh, nil // another process published a newer set of ours
		default:
			ferr := &ForeignJWKSError{Kids: foreign}
			if !authoritative {
				return KeySet{}, ferr
			}
			if err := m.Public.ReplaceJWKS(ctx, jwks, ks.Version); err != nil {
				return KeySet{}, fmt.Errorf("replace the published JWKS: %w", err)
			}
			ferr.Replaced = true
			m.set, m.loadedAt = &ks, m.now()
			return ks, ferr
		}
	}
	if err != nil {
		return KeySet{}, fmt.Errorf("publish JWKS: %w", err)
	}
	m.set, m.loadedAt = &ks, m.now()
	return ks, nil
}

// foreignKids returns the kids of the published keys that are not, with
// the same public key, in ks ("?" for a document that cannot be read).
func foreignKids(published []byte, ks KeySet) []string {
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(published, &set); err != nil {
		return []string{"?"}
	}
	out := []string{}
	for _, pk := range set.Keys {
		ok := false
		for _, k := range ks.Keys {
			if k.KID == pk.KeyID && pk.Algorithm == string(k.Alg) && equalPublic(k.Private.Public(), pk.Key) {
				ok = true
			}
		}
		if !ok {
			out = append(out, pk.KeyID)
		}
	}
	return out
}

// equalPublic says whether two public keys are the same key.
func equalPublic(a, b crypto.PublicKey) bool {
	e, ok := a.(interface{ Equal(crypto.PublicKey) bool })
	return ok && e.Equal(b)
}
