package identity

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"

	"github.com/google/uuid"
)

// secretBytes is the entropy of a client secret: 256 bits.
const secretBytes = 32

// GenerateSecret returns a new client secret, to show once, and its
// verifier, the only form in which it is kept. With 256 random bits a plain
// SHA-256 is a sufficient verifier: there is nothing to guess by brute force.
func GenerateSecret() (plaintext string, verifier []byte, err error) {
	b := make([]byte, secretBytes)
	if _, err := rand.Read(b); err != nil {
		return "", nil, Internal("generate secret", err)
	}
	plaintext = base64.RawURLEncoding.EncodeToString(b)
	return plaintext, Verifier(plaintext), nil
}

// Verifier derives the stored verifier of a secret.
func Verifier(plaintext string) []byte {
	sum := sha256.Sum256([]byte(plaintext))
	return sum[:]
}

// VerifySecret compares a presented secret with a verifier in constant time.
func VerifySecret(presented string, verifier []byte) bool {
	return subtle.ConstantTimeCompare(Verifier(presented), verifier) == 1
}

// NewID returns a new random GUID in lower case.
func NewID() string { return uuid.NewString() }
