package testenv

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"

	"identityservice/shared/identity"
	"identityservice/shared/vault"
)

// Material lists the live material of a tenant, or of one client of it
// when clientID is not empty: secrets of their own
// (<prefix>/clients/...) and the entries of the tenant's packs
// (<prefix>/verifiers/<tenant>/<n>, their current value).
func (e *Env) Material(t testing.TB, tenantID, clientID string) []identity.MaterialRef {
	t.Helper()
	ctx := context.Background()
	inv := vault.NewInventory(e.Clients.SecretsManager, e.Config.SecretPrefix)
	own := e.Config.SecretPrefix + "/clients/" + tenantID + "/"
	if clientID != "" {
		own += clientID + "/"
	}
	packs := inv.VerifiersPrefix() + tenantID + "/"
	p := secretsmanager.NewListSecretsPaginator(e.Clients.SecretsManager, &secretsmanager.ListSecretsInput{
		Filters: []smtypes.Filter{{Key: smtypes.FilterNameStringTypeName, Values: []string{own, packs}}},
	})
	var refs []identity.MaterialRef
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range out.SecretList {
			name := aws.ToString(s.Name)
			if strings.HasPrefix(name, own) {
				if ref, ok := inv.ParseName(name); ok {
					refs = append(refs, ref)
				}
				continue
			}
			tenant, n, ok := inv.ParsePackName(name)
			if !ok || tenant != tenantID {
				continue
			}
			pack, err := inv.ReadPack(ctx, tenant, n)
			if err != nil {
				t.Fatalf("read pack %s: %v", name, err)
			}
			for id, entry := range pack.Entries {
				if clientID == "" || entry.ClientID == clientID {
					refs = append(refs, identity.MaterialRef{TenantID: tenant, ClientID: entry.ClientID, SecretID: id, Pack: n})
				}
			}
		}
	}
	return refs
}

// MaterialOf returns where a secret's material is live (a pack, or a
// secret of its own), and whether it is.
func (e *Env) MaterialOf(t testing.TB, tenantID, clientID, secretID string) (identity.MaterialRef, bool) {
	t.Helper()
	for _, ref := range e.Material(t, tenantID, clientID) {
		if ref.SecretID == secretID {
			return ref, true
		}
	}
	return identity.MaterialRef{}, false
}

// MaterialExists reports whether a secret's material is live in Secrets
// Manager: an entry of one of its tenant's packs, or a secret of its own.
func (e *Env) MaterialExists(t testing.TB, tenantID, clientID, secretID string) bool {
	t.Helper()
	_, ok := e.MaterialOf(t, tenantID, clientID, secretID)
	return ok
}

// SecretWorks reports whether a plain-text secret matches the material
// stored for it: what the token endpoint will check.
func (e *Env) SecretWorks(t testing.TB, tenantID, clientID, secretID, secret string) bool {
	t.Helper()
	ref, ok := e.MaterialOf(t, tenantID, clientID, secretID)
	if !ok {
		t.Fatalf("read material of secret %s: %v", secretID, identity.ErrNoMaterial)
	}
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
	return len(e.Material(t, tenantID, clientID))
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
