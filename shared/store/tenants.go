package store

import (
	"context"
	"errors"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"identityservice/shared/identity"
	"identityservice/shared/store/layout"
)

// Tenants keeps tenants and their client counters: the item
// TENANT#<tenant> / #TENANT.
type Tenants struct{ base }

var _ identity.Tenants = (*Tenants)(nil)

// CreateTenant stores a new tenant.
func (d *Tenants) CreateTenant(ctx context.Context, t identity.Tenant) error {
	_, err := d.api.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:           &d.table,
		Item:                layout.TenantItem(t),
		ConditionExpression: aws.String("attribute_not_exists(PK)"),
	})
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return identity.ErrTenantExists
	}
	if err != nil {
		return storageError("put tenant", err)
	}
	return nil
}

// GetTenant reads a tenant.
func (d *Tenants) GetTenant(ctx context.Context, tenantID string) (identity.Tenant, error) {
	out, err := d.api.GetItem(ctx, &dynamodb.GetItemInput{TableName: &d.table, Key: layout.Key(layout.TenantPK(tenantID), layout.SkTenant), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return identity.Tenant{}, storageError("get tenant", err)
	}
	if out.Item == nil {
		return identity.Tenant{}, identity.ErrTenantNotFound
	}
	t, err := layout.DecodeTenant(out.Item)
	if err != nil {
		return identity.Tenant{}, identity.Internal("decode tenant "+tenantID, err)
	}
	return t, nil
}

// NextVerifierSlot adds one to the tenant's VerifierSlots (an atomic
// UpdateItem, on the condition that the tenant exists) and returns it:
// concurrent adds each get a slot of their own, hence agree on which pack
// fills (identity.PackOf).
func (d *Tenants) NextVerifierSlot(ctx context.Context, tenantID string) (int64, error) {
	out, err := d.api.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 &d.table,
		Key:                       layout.Key(layout.TenantPK(tenantID), layout.SkTenant),
		UpdateExpression:          aws.String("ADD " + layout.AttrVerifierSlots + " :one"),
		ConditionExpression:       aws.String("attribute_exists(PK)"),
		ExpressionAttributeValues: item{":one": layout.N(1)},
		ReturnValues:              types.ReturnValueUpdatedNew,
	})
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return 0, identity.ErrTenantNotFound
	}
	if err != nil {
		return 0, storageError("take a verifier slot", err)
	}
	r := layout.Reader{It: out.Attributes}
	slot := r.Num(layout.AttrVerifierSlots, true)
	if r.Err != nil {
		return 0, identity.Internal("decode verifier slot of tenant "+tenantID, r.Err)
	}
	return slot, nil
}
