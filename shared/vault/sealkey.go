package vault

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"

	"identityservice/shared/identity"
)

// SealKey is the key of token item seals (identity/seal.go) in Secrets
// Manager, <prefix>/token-item-seal. template.yaml creates it with a
// generated value, readable by the client functions, the token function
// and the operator only; where it does not exist (the emulators) the
// first reader makes it.
type SealKey struct {
	api  API
	name string
}

var _ identity.SealKeys = (*SealKey)(nil)

// NewSealKey returns the seal key under prefix.
func NewSealKey(api API, prefix string) *SealKey {
	return &SealKey{api: api, name: SealKeyName(prefix)}
}

// SealKeyName is the secret's name.
func SealKeyName(prefix string) string { return prefix + "/token-item-seal" }

// firstSealKeyToken makes the first value idempotent: of two processes
// that make the key at once, one creates it and the other is refused
// (ResourceExistsException) and reads the winner's.
const firstSealKeyToken = "first-token-item-seal-key-000000001"

// SealKey reads the key, making it when the secret does not exist.
func (k *SealKey) SealKey(ctx context.Context) ([]byte, error) {
	for attempt := 0; ; attempt++ {
		out, err := k.api.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: &k.name})
		var nf *types.ResourceNotFoundException
		if errors.As(err, &nf) && attempt == 0 {
			if err := k.create(ctx); err != nil {
				return nil, err
			}
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("read token item seal key: %w", err)
		}
		return []byte(aws.ToString(out.SecretString)), nil
	}
}

func (k *SealKey) create(ctx context.Context) error {
	b := make([]byte, 48)
	if _, err := rand.Read(b); err != nil {
		return err
	}
	_, err := k.api.CreateSecret(ctx, &secretsmanager.CreateSecretInput{
		Name:               &k.name,
		SecretString:       aws.String(base64.RawURLEncoding.EncodeToString(b)),
		ClientRequestToken: aws.String(firstSealKeyToken),
		Description:        aws.String("Key of the token items' seals (what a token says of its client)."),
	})
	var exists *types.ResourceExistsException
	if err != nil && !errors.As(err, &exists) {
		return fmt.Errorf("create token item seal key: %w", err)
	}
	return nil
}
