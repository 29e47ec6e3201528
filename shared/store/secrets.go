package store

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"identityservice/shared/identity"
)

// ClientSecrets returns a client's secret records, checking that the client
// belongs to the tenant and is of the kind.
func (d *Dynamo) ClientSecrets(ctx context.Context, tenantID string, kind identity.ClientKind, clientID string) ([]identity.Secret, error) {
	_, secrets, err := d.ownedClientRecords(ctx, tenantID, kind, clientID)
	return secrets, err
}

// ownedClientRecords reads a client's registration and secrets (one
// Query); ErrClientNotFound when the client is not the tenant's or not of
// the kind.
func (d *Dynamo) ownedClientRecords(ctx context.Context, tenantID string, kind identity.ClientKind, clientID string) (*registration, []identity.Secret, error) {
	reg, secrets, err := d.clientRecords(ctx, clientID)
	if err != nil {
		return nil, nil, err
	}
	if reg == nil || reg.TenantID != tenantID || reg.Kind != kind {
		return nil, nil, identity.ErrClientNotFound
	}
	return reg, secrets, nil
}

// SecretSet returns the client's secrets that are not deleted and the
// registration's SecretsVersion.
func (d *Dynamo) SecretSet(ctx context.Context, tenantID string, kind identity.ClientKind, clientID string) (identity.SecretSet, error) {
	reg, secrets, err := d.ownedClientRecords(ctx, tenantID, kind, clientID)
	if err != nil {
		return identity.SecretSet{}, err
	}
	set := identity.SecretSet{Version: reg.SecretsVersion}
	for _, sec := range secrets {
		if sec.DeletedAt == nil {
			set.Secrets = append(set.Secrets, sec)
		}
	}
	return set, nil
}

// AddSecret writes a new secret record and bumps the registration's
// SecretsVersion, on the condition that it is still version.
func (d *Dynamo) AddSecret(ctx context.Context, tenantID string, kind identity.ClientKind, sec identity.Secret, version int64) (identity.Secret, error) {
	sec.Kind = kind
	items := []types.TransactWriteItem{
		{Update: &types.Update{TableName: &d.table, Key: key(clientPK(sec.ClientID), skRegistration),
			UpdateExpression:          aws.String("SET SecretsVersion = SecretsVersion + :one"),
			ConditionExpression:       aws.String("SecretsVersion = :v AND TenantId = :tenant AND Kind = :kind"),
			ExpressionAttributeValues: item{":one": n(1), ":v": n(version), ":tenant": s(tenantID), ":kind": s(kind.String())}}},
		{Put: &types.Put{TableName: &d.table, Item: secretItem(sec), ConditionExpression: aws.String("attribute_not_exists(PK)")}},
	}
	reasons, err := d.transact(ctx, items)
	switch {
	case err != nil:
		return identity.Secret{}, err
	case reasons == nil:
		return sec, nil
	case failed(reasons, 1):
		return identity.Secret{}, identity.Internal("add secret", errors.New("secret id collision"))
	default:
		return identity.Secret{}, identity.ErrSecretSetChanged
	}
}

// GetSecret returns one secret record of the tenant's client of the kind.
func (d *Dynamo) GetSecret(ctx context.Context, tenantID string, kind identity.ClientKind, clientID, secretID string) (identity.Secret, error) {
	out, err := d.api.GetItem(ctx, &dynamodb.GetItemInput{TableName: &d.table, Key: key(clientPK(clientID), secretSK(secretID)), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return identity.Secret{}, storageError("get secret", err)
	}
	if out.Item == nil {
		return identity.Secret{}, identity.ErrSecretNotFound
	}
	sec, err := decodeSecret(out.Item)
	if err != nil {
		return identity.Secret{}, identity.Internal("decode secret "+secretID, err)
	}
	if sec.TenantID != tenantID || sec.Kind != kind {
		return identity.Secret{}, identity.ErrSecretNotFound
	}
	return sec, nil
}

// secretOwned is the condition that a secret record exists, belongs to the
// tenant and kind, and is not soft-deleted.
func secretOwned(tenantID string, kind identity.ClientKind) (string, item) {
	return "attribute_exists(PK) AND TenantId = :tenant AND Kind = :kind AND attribute_not_exists(DeletedAt)",
		item{":tenant": s(tenantID), ":kind": s(kind.String())}
}

// UpdateSecret changes a secret's description and expiration (nil keeps
// the stored value), on the condition that it is still changeable: not
// expired at now, not soft-deleted, not swept.
func (d *Dynamo) UpdateSecret(ctx context.Context, tenantID string, kind identity.ClientKind, clientID, secretID string, description *string, expiration *time.Time, now time.Time) (identity.Secret, error) {
	cond, values := secretOwned(tenantID, kind)
	// SweptAt: the sweeper destroyed the material, whatever ExpiresAt says.
	cond += " AND (attribute_not_exists(ExpiresAt) OR ExpiresAt > :now) AND attribute_not_exists(SweptAt)"
	values[":now"] = n(now.Unix())
	var sets []string
	if description != nil {
		sets = append(sets, "Description = :d")
		values[":d"] = s(*description)
	}
	if expiration != nil {
		sets = append(sets, "Expiration = :e", "ExpiryPK = :p", "ExpiresAt = :eu")
		values[":e"] = ts(*expiration)
		values[":p"] = s(expiryPartition)
		values[":eu"] = n(expiration.Unix())
	}
	if len(sets) == 0 {
		return d.GetSecret(ctx, tenantID, kind, clientID, secretID)
	}
	out, err := d.api.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 &d.table,
		Key:                       key(clientPK(clientID), secretSK(secretID)),
		UpdateExpression:          aws.String("SET " + strings.Join(sets, ", ")),
		ConditionExpression:       aws.String(cond),
		ExpressionAttributeValues: values,
		ReturnValues:              types.ReturnValueAllNew,
	})
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return identity.Secret{}, identity.ErrSecretChanged
	}
	if err != nil {
		return identity.Secret{}, storageError("update secret", err)
	}
	sec, err := decodeSecret(out.Attributes)
	if err != nil {
		return identity.Secret{}, identity.Internal("decode secret "+secretID, err)
	}
	return sec, nil
}

// DeleteSecret removes a secret record (OCS delete).
func (d *Dynamo) DeleteSecret(ctx context.Context, tenantID string, kind identity.ClientKind, clientID, secretID string) error {
	cond, values := secretOwned(tenantID, kind)
	_, err := d.api.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName:                 &d.table,
		Key:                       key(clientPK(clientID), secretSK(secretID)),
		ConditionExpression:       aws.String(cond),
		ExpressionAttributeValues: values,
	})
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return identity.ErrSecretNotFound
	}
	if err != nil {
		return storageError("delete secret", err)
	}
	return nil
}

// SoftDeleteSecret marks a secret deleted at now (Key Rotation API): it
// stops authenticating, stays listed there, and enters the expiry index at
// its deletion time so the sweeper purges the record after the retention
// period. Soft-deleting it again changes nothing.
func (d *Dynamo) SoftDeleteSecret(ctx context.Context, tenantID string, kind identity.ClientKind, clientID, secretID string, now time.Time) (identity.Secret, error) {
	out, err := d.api.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:           &d.table,
		Key:                 key(clientPK(clientID), secretSK(secretID)),
		UpdateExpression:    aws.String("SET DeletedAt = if_not_exists(DeletedAt, :now), ExpiryPK = :p, ExpiresAt = if_not_exists(DeletedUnix, :nowUnix), DeletedUnix = if_not_exists(DeletedUnix, :nowUnix)"),
		ConditionExpression: aws.String("attribute_exists(PK) AND TenantId = :tenant AND Kind = :kind"),
		ExpressionAttributeValues: item{
			":now": ts(now), ":nowUnix": n(now.Unix()), ":p": s(expiryPartition), ":tenant": s(tenantID), ":kind": s(kind.String()),
		},
		ReturnValues: types.ReturnValueAllNew,
	})
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return identity.Secret{}, identity.ErrSecretNotFound
	}
	if err != nil {
		return identity.Secret{}, storageError("soft-delete secret", err)
	}
	sec, err := decodeSecret(out.Attributes)
	if err != nil {
		return identity.Secret{}, identity.Internal("decode secret "+secretID, err)
	}
	return sec, nil
}

// ClientKind returns the kind of a tenant's client from its registration.
func (d *Dynamo) ClientKind(ctx context.Context, tenantID, clientID string) (identity.ClientKind, error) {
	out, err := d.api.GetItem(ctx, &dynamodb.GetItemInput{TableName: &d.table, Key: key(clientPK(clientID), skRegistration), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return 0, storageError("get registration", err)
	}
	if out.Item != nil {
		reg, err := decodeRegistration(out.Item)
		if err != nil {
			return 0, identity.Internal("decode registration "+clientID, err)
		}
		if reg.TenantID == tenantID {
			return reg.Kind, nil
		}
	}
	return 0, identity.ErrClientNotFound
}

// ClientForAuthentication reads a client's registration and secrets (one
// Query), then the client itself (one GetItem): the token endpoint's two
// reads.
func (d *Dynamo) ClientForAuthentication(ctx context.Context, clientID string) (identity.Client, []identity.Secret, error) {
	reg, secrets, err := d.clientRecords(ctx, clientID)
	if err != nil {
		return identity.Client{}, nil, err
	}
	if reg == nil {
		return identity.Client{}, nil, identity.ErrClientNotFound
	}
	out, err := d.api.GetItem(ctx, &dynamodb.GetItemInput{TableName: &d.table, Key: key(tenantPK(reg.TenantID), clientSK(reg.Kind, clientID)), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return identity.Client{}, nil, storageError("get client", err)
	}
	if out.Item == nil {
		return identity.Client{}, nil, identity.ErrClientNotFound
	}
	c, err := decodeClient(out.Item)
	if err != nil {
		return identity.Client{}, nil, identity.Internal("decode client "+clientID, err)
	}
	return c, secrets, nil
}
