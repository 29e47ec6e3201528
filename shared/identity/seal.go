package identity

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"strconv"
	"sync"
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

// SealKeys gives the key of token item seals.
type SealKeys interface {
	// SealKey returns the key (at least 32 bytes). It never changes while
	// a process runs.
	SealKey(ctx context.Context) ([]byte, error)
}

// sealKeyCache remembers the key once read: one read per process.
type sealKeyCache struct {
	mu  sync.Mutex
	key []byte
}

// ErrNoSealKey means the Service was given no SealKeys.
var ErrNoSealKey = errors.New("no token item seal key configured")

// sealKey reads the key once per process. The lock is not held while
// reading: a Lambda process serves one request at a time, and where many
// wait for the first read at once (the local server, tests) each reads it
// within its own deadline rather than queueing behind one another's.
func (s *Service) sealKey(ctx context.Context) ([]byte, error) {
	s.seal.mu.Lock()
	k := s.seal.key
	s.seal.mu.Unlock()
	if k != nil {
		return k, nil
	}
	if s.SealKeys == nil {
		return nil, ErrNoSealKey
	}
	k, err := s.SealKeys.SealKey(ctx)
	if err != nil {
		return nil, err
	}
	if len(k) < 32 {
		return nil, errors.New("token item seal key shorter than 32 bytes")
	}
	s.seal.mu.Lock()
	if s.seal.key == nil {
		s.seal.key = k
	}
	k = s.seal.key
	s.seal.mu.Unlock()
	return k, nil
}

// TokenSeal is the seal of what a token says of c: its id, tenant, kind,
// enabled state, roles (in their stored order) and token lifetime. The
// operator's migration uses it to seal items written before seals existed.
func (s *Service) TokenSeal(ctx context.Context, c Client) ([]byte, error) {
	key, err := s.sealKey(ctx)
	if err != nil {
		return nil, Internal("read the token item seal key", err)
	}
	return tokenSeal(key, c), nil
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
// says, in constant time. A missing seal never holds.
func (s *Service) sealHolds(ctx context.Context, c Client) (bool, error) {
	key, err := s.sealKey(ctx)
	if err != nil {
		return false, Internal("read the token item seal key", err)
	}
	return hmac.Equal(tokenSeal(key, c), c.TokenSeal), nil
}
