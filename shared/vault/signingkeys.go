package vault

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"

	"identityservice/shared/auth"
)

// SigningKeysAPI is the part of the Secrets Manager client the signing key
// store uses.
type SigningKeysAPI interface {
	CreateSecret(context.Context, *secretsmanager.CreateSecretInput, ...func(*secretsmanager.Options)) (*secretsmanager.CreateSecretOutput, error)
	GetSecretValue(context.Context, *secretsmanager.GetSecretValueInput, ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error)
	PutSecretValue(context.Context, *secretsmanager.PutSecretValueInput, ...func(*secretsmanager.Options)) (*secretsmanager.PutSecretValueOutput, error)
}

// SigningKeys keeps the token signing key set in one secret,
// <prefix>/signing-keys, which only the token function may read.
type SigningKeys struct {
	api  SigningKeysAPI
	name string
	kms  string // the customer-managed KMS key the secret is created with; "": the account's default key
}

// EncryptedWith makes the secret, when this store creates it, encrypted
// with the customer-managed KMS key keyID (SIGNING_KEYS_KMS_KEY), whose key
// policy lets only the token function and the operator decrypt it.
func (s *SigningKeys) EncryptedWith(keyID string) *SigningKeys {
	s.kms = keyID
	return s
}

// firstSetToken is the ClientRequestToken (the version id) of the first key
// set, whoever writes it: Secrets Manager refuses a second version with
// the same token and another value (ResourceExistsException), so of two
// first writes exactly one succeeds, whether they create the secret or
// fill the empty one template.yaml creates.
const firstSetToken = "first-signing-key-set-0000000000001"

var _ auth.PrivateKeyStore = (*SigningKeys)(nil)

// NewSigningKeys returns the signing key store under prefix.
func NewSigningKeys(api SigningKeysAPI, prefix string) *SigningKeys {
	return &SigningKeys{api: api, name: SigningKeysName(prefix)}
}

// SigningKeysName is the secret's name.
func SigningKeysName(prefix string) string { return prefix + "/signing-keys" }

// LoadKeySet reads the key set.
func (s *SigningKeys) LoadKeySet(ctx context.Context) (auth.KeySet, error) {
	out, err := s.api.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: &s.name})
	var nf *types.ResourceNotFoundException
	if errors.As(err, &nf) {
		return auth.KeySet{}, auth.ErrNoKeySet
	}
	if err != nil {
		return auth.KeySet{}, fmt.Errorf("read signing keys: %w", err)
	}
	return auth.UnmarshalKeySet([]byte(aws.ToString(out.SecretString)))
}

// CreateKeySet stores the first key set: it creates the secret (with the
// KMS key of EncryptedWith) or, when the secret exists without a value (as
// template.yaml creates it, with its key and resource policy), stores the
// first version. Both use firstSetToken, so of two concurrent first writes
// exactly one succeeds; the other gets auth.ErrKeySetExists.
func (s *SigningKeys) CreateKeySet(ctx context.Context, ks auth.KeySet) error {
	body, err := auth.MarshalKeySet(ks)
	if err != nil {
		return err
	}
	in := &secretsmanager.CreateSecretInput{
		Name:               &s.name,
		SecretString:       aws.String(string(body)),
		ClientRequestToken: aws.String(firstSetToken),
		Description:        aws.String("Keys that sign the identity service's access tokens."),
	}
	if s.kms != "" {
		in.KmsKeyId = aws.String(s.kms)
	}
	_, err = s.api.CreateSecret(ctx, in)
	var exists *types.ResourceExistsException
	if errors.As(err, &exists) {
		_, err = s.api.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: &s.name, SecretString: aws.String(string(body)),
			ClientRequestToken: aws.String(firstSetToken)})
		if errors.As(err, &exists) {
			return auth.ErrKeySetExists
		}
	}
	if err != nil {
		return fmt.Errorf("create signing keys: %w", err)
	}
	return nil
}

// ReplaceKeySet stores a rotated key set as the new current version.
func (s *SigningKeys) ReplaceKeySet(ctx context.Context, ks auth.KeySet) error {
	body, err := auth.MarshalKeySet(ks)
	if err != nil {
		return err
	}
	if _, err := s.api.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: &s.name, SecretString: aws.String(string(body))}); err != nil {
		return fmt.Errorf("replace signing keys: %w", err)
	}
	return nil
}
