package store

import (
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"identityservice/shared/identity"
)

// A deleted client's id stays reserved: its registration (CLIENT#<id> /
// #CLIENT, the item whose existence makes an id taken) is replaced in the
// delete's transaction by a tombstone, kept forever, so that a create
// naming the id, in any tenant, fails the registration's
// attribute_not_exists(PK) condition and answers 409 like any taken id.
// Ids are the sub and client_id of tokens: were one reused, a token issued
// to the deleted client (valid up to an hour after the delete) and one
// issued to the new client would name the same client with different
// tenants. A tombstone holds no secrets, roles or state: everything that
// reads a registration reads a tombstone as no client at all.
const typeTombstone = "ClientTombstone"

// tombstoneItem is the reservation a deleted client leaves: its id, the
// tenant and kind it had (for an operator's questions), and when.
func tombstoneItem(tenantID string, kind identity.ClientKind, clientID string, at time.Time) item {
	it := key(clientPK(clientID), skRegistration)
	it["Type"] = s(typeTombstone)
	it["ClientId"] = s(clientID)
	it["TenantId"] = s(tenantID)
	it["Kind"] = s(kind.String())
	it["DeletedAt"] = ts(at)
	return it
}

// isTombstone reports whether a registration item is a deleted client's
// reservation.
func isTombstone(it item) bool {
	t, ok := it["Type"].(*types.AttributeValueMemberS)
	return ok && t.Value == typeTombstone
}
