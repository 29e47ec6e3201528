package layout

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
const TypeTombstone = "ClientTombstone"

// TombstoneItem is the reservation a deleted client leaves: its id, the
// tenant and kind it had (for an operator's questions), and when.
func TombstoneItem(tenantID string, kind identity.ClientKind, clientID string, at time.Time) Item {
	it := Key(ClientPK(clientID), SkRegistration)
	it["Type"] = S(TypeTombstone)
	it["ClientId"] = S(clientID)
	it["TenantId"] = S(tenantID)
	it["Kind"] = S(kind.String())
	it["DeletedAt"] = Ts(at)
	return it
}

// IsTombstone reports whether a registration item is a deleted client's
// reservation.
func IsTombstone(it Item) bool {
	t, ok := it["Type"].(*types.AttributeValueMemberS)
	return ok && t.Value == TypeTombstone
}
