package identity

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"
)

// The token item (a client's registration) is a root of trust: what a
// token says of its client (tenant, kind, roles, enabled, lifetime) is
// read from it. Several functions must write that item (the secret
// functions and the sweeper keep its map of secrets, the token function
// its last-use hours), and IAM cannot tell its attributes from the secret
// records' attributes of the same names in the same partition. So the
// attributes a token is made of carry a seal: an HMAC-SHA-256 under a key
// that only the functions owning them (the client functions, which write
// them, and the token function, which checks them and holds the signing
// keys anyway) and the operator can read. Whoever writes those attributes
// without the key makes the client unable to get a token, not a token
// that says something else.

// SealKeys gives the keys of token item seals.
type SealKeys interface {
	// SealKeySet returns the keys as stored now: the key that seals and
	// every key a seal may name (at least 32 bytes each). It changes
	// only by the operator's rotation (make admin ARGS='seal rotate').
	SealKeySet(ctx context.Context) (SealKeySet, error)
}

// SealKey is one key of token item seals and its version, which a seal
// names.
type SealKey struct {
	Version uint32
	Key     []byte
}

// SealKeySet is the seal keys of one moment: Current seals; a seal made
// with Current or with any key of Others holds. Others holds, during a
// rotation, the next key (accepted before any process seals with it) or
// the previous one (until every item is sealed again with Current).
type SealKeySet struct {
	Current SealKey
	Others  []SealKey
}

// key returns the key of version v, if the set has it.
func (ks SealKeySet) key(v uint32) (SealKey, bool) {
	if ks.Current.Version == v {
		return ks.Current, true
	}
	for _, k := range ks.Others {
		if k.Version == v {
			return k, true
		}
	}
	return SealKey{}, false
}

func (ks SealKeySet) valid() error {
	for _, k := range append([]SealKey{ks.Current}, ks.Others...) {
		if len(k.Key) < 32 {
			return fmt.Errorf("token item seal key version %d shorter than 32 bytes", k.Version)
		}
	}
	return nil
}

// Seal is the seal of what a token says of c under the current key.
func (ks SealKeySet) Seal(c Client) []byte { return sealWith(ks.Current, c) }

// Holds reports whether c's seal holds under a key of the set (in
// constant time), and whether that key is the current one. A missing
// seal, or one naming a key the set does not have (retired, or never
// made), never holds.
func (ks SealKeySet) Holds(c Client) (holds, current bool) {
	v, ok := SealVersion(c.TokenSeal)
	if !ok {
		return false, false
	}
	k, ok := ks.key(v)
	if !ok {
		return false, false
	}
	return hmac.Equal(sealWith(k, c), c.TokenSeal), v == ks.Current.Version
}

// SealVersion is the version of the key a seal names: a bare
// HMAC-SHA-256 (32 bytes) is version 0, the key of the seals made before
// keys had versions; a later version's seal is its version (4 bytes, big
// endian) and then the HMAC.
func SealVersion(seal []byte) (uint32, bool) {
	switch len(seal) {
	case sha256.Size:
		return 0, true
	case 4 + sha256.Size:
		return binary.BigEndian.Uint32(seal), true
	}
	return 0, false
}

// sealWith is the seal of c under k: the HMAC (tokenSeal), after k's
// version unless it is 0.
func sealWith(k SealKey, c Client) []byte {
	mac := tokenSeal(k.Key, c)
	if k.Version == 0 {
		return mac
	}
	return append(binary.BigEndian.AppendUint32(nil, k.Version), mac...)
}

// DefaultSealKeyRefresh is how long a process keeps the seal keys it
// read before it reads them again (Service.SealKeyRefresh, SEAL_KEY_REFRESH):
// a rotation waits twice that between its steps.
const DefaultSealKeyRefresh = time.Minute

// SealKeyMaxStale is how long past its refresh a process that cannot
// read the keys again goes on checking seals with the keys it has (it
// never seals with them: a write needs keys read within the refresh).
const SealKeyMaxStale = 10 * time.Minute

// sealKeyCache remembers the keys read, and when.
type sealKeyCache struct {
	mu     sync.Mutex
	set    *SealKeySet
	readAt time.Time
}

// ErrNoSealKey means the Service was given no SealKeys.
var ErrNoSealKey = errors.New("no token item seal key configured")

// SealKeyRefreshInterval is SealKeyRefresh, or DefaultSealKeyRefresh.
func (s *Service) SealKeyRefreshInterval() time.Duration {
	if s.SealKeyRefresh > 0 {
		return s.SealKeyRefresh
	}
	return DefaultSealKeyRefresh
}

// sealKeys returns the seal keys, read at most once per refresh
// interval: one Secrets Manager read per process and interval, none on
// the other requests. When the read fails, the keys read before still
// check seals (not seal: forSealing) until SealKeyMaxStale past the
// interval. The lock is not held while reading: a Lambda process serves
// one request at a time, and where many wait for the first read at once
// (the local server, tests) each reads within its own deadline rather
// than queueing behind one another's.
func (s *Service) sealKeys(ctx context.Context, forSealing bool) (SealKeySet, error) {
	refresh := s.SealKeyRefreshInterval()
	s.seal.mu.Lock()
	set, readAt := s.seal.set, s.seal.readAt
	s.seal.mu.Unlock()
	if set != nil && time.Since(readAt) < refresh {
		return *set, nil
	}
	if s.SealKeys == nil {
		return SealKeySet{}, ErrNoSealKey
	}
	fresh, err := s.SealKeys.SealKeySet(ctx)
	if err == nil {
		err = fresh.valid()
	}
	if err != nil {
		if set != nil && !forSealing && time.Since(readAt) < refresh+SealKeyMaxStale {
			s.logger().WarnContext(ctx, "token item seal keys not read again; checking with the keys read before", "read", readAt, "error", err.Error())
			return *set, nil
		}
		return SealKeySet{}, err
	}
	s.seal.mu.Lock()
	if s.seal.set == nil || readAt.Equal(s.seal.readAt) {
		s.seal.set, s.seal.readAt = &fresh, time.Now()
	}
	s.seal.mu.Unlock()
	return fresh, nil
}

// TokenSeal is the seal of what a token says of c: its id, tenant, kind,
// enabled state, roles (in their stored order) and token lifetime, under
// the current key. The operator's migration uses it to seal items
// written before seals existed.
func (s *Service) TokenSeal(ctx context.Context, c Client) ([]byte, error) {
	ks, err := s.sealKeys(ctx, true)
	if err != nil {
		return nil, Internal("read the token item seal key", err)
	}
	return ks.Seal(c), nil
}

// tokenSeal encodes each field with its length first, so no two different
// clients encode alike (an id ending where a tenant begins, roles split
// differently).
func tokenSeal(key []byte, c Client) []byte {
	m := hmac.New(sha256.New, key)
	field := func(v string) {
		var n [4]byte
		binary.BigEndian.PutUint32(n[:], uint32(len(v)))
		m.Write(n[:])
		m.Write([]byte(v))
	}
	field("token-item-seal/v1")
	field(c.ID)
	field(c.TenantID)
	field(c.Kind.String())
	field(strconv.FormatBool(c.Enabled))
	field(strconv.Itoa(c.AccessTokenLifetime))
	field(strconv.Itoa(len(c.RoleIDs)))
	for _, r := range c.RoleIDs {
		field(r)
	}
	return m.Sum(nil)
}

// sealed sets c's TokenSeal.
func (s *Service) sealed(ctx context.Context, c Client) (Client, error) {
	seal, err := s.TokenSeal(ctx, c)
	if err != nil {
		return Client{}, err
	}
	c.TokenSeal = seal
	return c, nil
}

// sealHolds reports whether the token item's seal is the seal of what it
// says under a key it may name, in constant time. A missing seal never
// holds.
func (s *Service) sealHolds(ctx context.Context, c Client) (bool, error) {
	ks, err := s.sealKeys(ctx, false)
	if err != nil {
		return false, Internal("read the token item seal key", err)
	}
	holds, _ := ks.Holds(c)
	return holds, nil
}
