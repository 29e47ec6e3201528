package memstore_test

import (
	"testing"

	"identityservice/shared/identity"
	"identityservice/shared/identity/identitytest"
	"identityservice/shared/identity/memstore"
)

// The in-memory store keeps the storage contract that DynamoDB keeps
// (shared/store's TestContract runs the same suite on DynamoDB Local).
func TestContract(t *testing.T) {
	identitytest.RunContract(t, func(t *testing.T) identity.Stores { return memstore.New().Stores() })
}

func TestVaultContract(t *testing.T) {
	identitytest.RunVaultContract(t, &memstore.Vault{})
}
