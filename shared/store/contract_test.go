package store_test

import (
	"testing"

	"identityservice/shared/identity"
	"identityservice/shared/identity/identitytest"
	"identityservice/shared/store"
	"identityservice/shared/vault"
)

// DynamoDB keeps the storage contract the domain's rules are tested on
// (shared/identity/memstore runs the same suite in memory), and Secrets
// Manager the Vault's.
func TestContract(t *testing.T) {
	st := store.New(env.Clients.DynamoDB, env.Config.Table).Identity()
	identitytest.RunContract(t, func(t *testing.T) identity.Stores { return st })
}

func TestVaultContract(t *testing.T) {
	identitytest.RunVaultContract(t, vault.New(env.Clients.SecretsManager, env.Config.SecretPrefix))
}
