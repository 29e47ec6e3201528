package identity

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"errors"

	"github.com/google/uuid"
)

// secretBytes is the entropy of a client secret: 256 bits.
const secretBytes = 32

// GenerateSecret returns a new client secret, to show once, and its
// verifier for the record ref, the only form in which it is kept.
func GenerateSecret(ref MaterialRef) (plaintext string, verifier []byte, err error) {
	b := make([]byte, secretBytes)
	if _, err := rand.Read(b); err != nil {
		return "", nil, Internal("generate secret", err)
	}
	plaintext = base64.RawURLEncoding.EncodeToString(b)
	return plaintext, Verifier(ref, plaintext), nil
}

// Verifier derives the stored verifier of a secret of the record ref:
// BoundVerifier of the secret's SHA-256.
func Verifier(ref MaterialRef, plaintext string) []byte {
	d := sha256.Sum256([]byte(plaintext))
	return BoundVerifier(ref, d[:])
}

// BoundVerifier binds the SHA-256 digest of a secret to the record ref: a
// SHA-256 over the tenant, client and secret ids and the digest, each
// with its length first. With 256 random bits a plain hash is a
// sufficient verifier (there is nothing to guess by brute force); the ids
// bind it to its one record, so a verifier copied or planted under
// another record's name (another client's, another secret id's, or the
// same client moved to another tenant) matches no secret there.
//
// It is defined over the digest, not the secret, so that material stored
// before the binding (version 1: the bare SHA-256 of the secret) can be
// bound to its own record by the operator's migration without the
// secret, which is never stored (infra/tableops MigrateMaterial).
func BoundVerifier(ref MaterialRef, digest []byte) []byte {
	h := sha256.New()
	for _, v := range [][]byte{[]byte("client-secret/v2"), []byte(ref.TenantID), []byte(ref.ClientID), []byte(ref.SecretID), digest} {
		var n [4]byte
		binary.BigEndian.PutUint32(n[:], uint32(len(v)))
		h.Write(n[:])
		h.Write(v)
	}
	return h.Sum(nil)
}

// VerifySecret compares a presented secret with the verifier stored for
// the record ref, in constant time.
func VerifySecret(ref MaterialRef, presented string, verifier []byte) bool {
	return subtle.ConstantTimeCompare(Verifier(ref, presented), verifier) == 1
}

// ErrMaterialNotMigrated is what a Vault's Verifier returns for material
// of a version before the verifier binding (a bare SHA-256 of the secret,
// bound to no record): it authenticates nothing until the operator's
// migration (make admin ARGS=migrate) rewrites it as the bound verifier of
// its own record. It is never converted when read: a verifier copied
// under another record's name would be bound to that record. Such a read
// is not cached, so the migration's rewrite is read next time.
var ErrMaterialNotMigrated = errors.New("secret material written before the verifier binding: run the operator's migration (make admin ARGS=migrate)")

// NewID returns a new random GUID in lower case.
func NewID() string { return uuid.NewString() }
