package testenv

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"

	"identityservice/shared/identity"
	"identityservice/shared/vault"
)

// MaterialExists reports whether a secret's material is live in Secrets Manager.
func (e *Env) MaterialExists(t testing.TB, tenantID, clientID, secretID string) bool {
	t.Helper()
	name := vault.New(e.Clients.SecretsManager, e.Config.SecretPrefix).Name(identity.MaterialRef{TenantID: tenantID, ClientID: clientID, SecretID: secretID})
	_, err := e.Clients.SecretsManager.DescribeSecret(context.Background(), &secretsmanager.DescribeSecretInput{SecretId: &name})
	var nf *smtypes.ResourceNotFoundException
	if errors.As(err, &nf) {
		return false
	}
	if err != nil {
		t.Fatal(err)
	}
	return true
}

// SecretWorks reports whether a plain-text secret matches the material
// stored for it: what the token endpoint will check.
func (e *Env) SecretWorks(t testing.TB, tenantID, clientID, secretID, secret string) bool {
	t.Helper()
	ref := identity.MaterialRef{TenantID: tenantID, ClientID: clientID, SecretID: secretID}
	v, err := vault.New(e.Clients.SecretsManager, e.Config.SecretPrefix).Verifier(context.Background(), ref)
	if err != nil {
		t.Fatalf("read material of secret %s: %v", secretID, err)
	}
	return identity.VerifySecret(ref, secret, v)
}

// MaterialCount counts live material of one client, or of a whole tenant
// when clientID is empty.
func (e *Env) MaterialCount(t testing.TB, tenantID, clientID string) int {
	t.Helper()
	prefix := e.Config.SecretPrefix + "/clients/" + tenantID + "/"
	if clientID != "" {
		prefix += clientID + "/"
	}
	p := secretsmanager.NewListSecretsPaginator(e.Clients.SecretsManager, &secretsmanager.ListSecretsInput{
		Filters: []smtypes.Filter{{Key: smtypes.FilterNameStringTypeName, Values: []string{prefix}}},
	})
	n := 0
	for p.HasMorePages() {
		out, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range out.SecretList {
			if strings.HasPrefix(aws.ToString(s.Name), prefix) {
				n++
			}
		}
	}
	return n
}

// TestSigningKeysKMSKey is the customer-managed KMS key the test stack's
// signing keys secret is created with (SIGNING_KEYS_KMS_KEY), as
// template.yaml's SigningKeysKey would be named in AWS.
const TestSigningKeysKMSKey = "arn:aws:kms:us-east-1:123456789012:key/0f3c8e52-5a1b-4e0d-9c6a-2b7d4e8f1a30"

// SigningKeysKMSKey returns the KMS key the environment's configuration
// names for the signing keys' secret.
func (e *Env) SigningKeysKMSKey(t testing.TB) string {
	t.Helper()
	if e.Config.SigningKeysKMSKey == "" {
		t.Fatal("the test configuration names no SIGNING_KEYS_KMS_KEY")
	}
	return e.Config.SigningKeysKMSKey
}
