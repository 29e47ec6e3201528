package store

import (
	"context"
	"errors"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"identityservice/shared/identity"
)

// maxSecretAddAttempts bounds the optimistic retries of a secret add that
// lost a race with another add or delete on the same client. Each loss
// means another request succeeded, so ten losses mean ten other adds: the
// limit is reached and the next read says so.
const maxSecretAddAttempts = identity.MaxSecretsPerClient + 5

// ClientSecrets returns a client's secret records, checking that the client
// belongs to the tenant and, when kind is set, is of that kind.
func (d *Dynamo) ClientSecrets(ctx context.Context, tenantID string, kind identity.ClientKind, clientID string) (identity.ClientKind, []identity.Secret, error) {
	reg, secrets, err := d.ownedClientRecords(ctx, tenantID, kind, clientID)
	if err != nil {
		return "", nil, err
	}
	return reg.Kind, secrets, nil
}

// ownedClientRecords reads a client's registration and secrets (one
// Query) and answers the right 404 when the client is not the tenant's or
// not of the kind.
func (d *Dynamo) ownedClientRecords(ctx context.Context, tenantID string, kind identity.ClientKind, clientID string) (*registration, []identity.Secret, error) {
	reg, secrets, err := d.clientRecords(ctx, clientID)
	if err != nil {
		return nil, nil, err
	}
	if reg == nil || reg.TenantID != tenantID || (kind != "" && reg.Kind != kind) {
		if err := d.tenantExists(ctx, tenantID); err != nil {
			return nil, nil, err
		}
		return nil, nil, identity.ErrClientNotFound
	}
	return reg, secrets, nil
}

// AddSecret stores a new secret record unless the client already has
// MaxSecretsPerClient active secrets at instant now. The count is read and
// the record written under the registration's SecretsVersion, so concurrent
// adds cannot pass the limit.
func (d *Dynamo) AddSecret(ctx context.Context, tenantID string, kind identity.ClientKind, sec identity.Secret, now time.Time) (identity.Secret, error) {
	for attempt := 1; ; attempt++ {
		reg, secrets, err := d.ownedClientRecords(ctx, tenantID, kind, sec.ClientID)
		if err != nil {
			return identity.Secret{}, err
		}
		active := 0
		for _, s := range secrets {
			if s.Active(now) {
				active++
			}
		}
		if active >= identity.MaxSecretsPerClient {
			return identity.Secret{}, identity.ErrSecretLimit
		}
		sec.Kind = reg.Kind
		items := []types.TransactWriteItem{
			{Update: &types.Update{TableName: &d.table, Key: key(clientPK(sec.ClientID), skRegistration),
				UpdateExpression:          aws.String("SET SecretsVersion = SecretsVersion + :one"),
				ConditionExpression:       aws.String("SecretsVersion = :v"),
				ExpressionAttributeValues: item{":one": n(1), ":v": n(reg.SecretsVersion)}}},
			{Put: &types.Put{TableName: &d.table, Item: secretItem(sec), ConditionExpression: aws.String("attribute_not_exists(PK)")}},
		}
		reasons, err := d.transact(ctx, items)
		if err != nil {
			return identity.Secret{}, err
		}
		if reasons == nil {
			return sec, nil
		}
		if failed(reasons, 1) {
			return identity.Secret{}, identity.Internal("add secret", errors.New("secret id collision"))
		}
		if attempt == maxSecretAddAttempts {
			return identity.Secret{}, identity.ErrConcurrentUpdate
		}
		jitter(ctx, attempt)
	}
}

func jitter(ctx context.Context, attempt int) {
	d := time.Duration(rand.IntN(5*attempt+5)) * time.Millisecond
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}

// GetSecret returns one secret record that is not soft-deleted.
func (d *Dynamo) GetSecret(ctx context.Context, tenantID string, kind identity.ClientKind, clientID, secretID string) (identity.Secret, error) {
	out, err := d.api.GetItem(ctx, &dynamodb.GetItemInput{TableName: &d.table, Key: key(clientPK(clientID), secretSK(secretID)), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return identity.Secret{}, storageError("get secret", err)
	}
	if out.Item != nil {
		sec, err := decodeSecret(out.Item)
		if err != nil {
			return identity.Secret{}, identity.Internal("decode secret "+secretID, err)
		}
		if sec.TenantID == tenantID && (kind == "" || sec.Kind == kind) && sec.DeletedAt == nil {
			return sec, nil
		}
	}
	return identity.Secret{}, d.secretNotFound(ctx, tenantID, kind, clientID)
}

// secretNotFound tells which of tenant, client or secret is missing.
func (d *Dynamo) secretNotFound(ctx context.Context, tenantID string, kind identity.ClientKind, clientID string) error {
	if _, _, err := d.ownedClientRecords(ctx, tenantID, kind, clientID); err != nil {
		return err
	}
	return identity.ErrSecretNotFound
}

// secretOwned is the condition that a secret record exists, belongs to the
// tenant (and kind), and is not soft-deleted.
func secretOwned(tenantID string, kind identity.ClientKind) (string, item) {
	cond := "attribute_exists(PK) AND TenantId = :tenant AND attribute_not_exists(DeletedAt)"
	values := item{":tenant": s(tenantID)}
	if kind != "" {
		cond += " AND Kind = :kind"
		values[":kind"] = s(string(kind))
	}
	return cond, values
}

// UpdateSecret changes a secret's description and expiration (nil keeps
// the stored value). An expired secret cannot be revived.
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
		TableName:                           &d.table,
		Key:                                 key(clientPK(clientID), secretSK(secretID)),
		UpdateExpression:                    aws.String("SET " + strings.Join(sets, ", ")),
		ConditionExpression:                 aws.String(cond),
		ExpressionAttributeValues:           values,
		ReturnValues:                        types.ReturnValueAllNew,
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		if old, derr := decodeSecret(ccf.Item); derr == nil && old.TenantID == tenantID && (kind == "" || old.Kind == kind) && old.DeletedAt == nil {
			return identity.Secret{}, identity.Invalid("Secret %s expired at %s and cannot be changed.", "Add a new secret instead.", secretID, old.Expiration.Format(time.RFC3339))
		}
		return identity.Secret{}, d.secretNotFound(ctx, tenantID, kind, clientID)
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
		return d.secretNotFound(ctx, tenantID, kind, clientID)
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
func (d *Dynamo) SoftDeleteSecret(ctx context.Context, tenantID, clientID, secretID string, now time.Time) (identity.Secret, error) {
	out, err := d.api.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:           &d.table,
		Key:                 key(clientPK(clientID), secretSK(secretID)),
		UpdateExpression:    aws.String("SET DeletedAt = if_not_exists(DeletedAt, :now), ExpiryPK = :p, ExpiresAt = if_not_exists(DeletedUnix, :nowUnix), DeletedUnix = if_not_exists(DeletedUnix, :nowUnix)"),
		ConditionExpression: aws.String("attribute_exists(PK) AND TenantId = :tenant"),
		ExpressionAttributeValues: item{
			":now": ts(now), ":nowUnix": n(now.Unix()), ":p": s(expiryPartition), ":tenant": s(tenantID),
		},
		ReturnValues: types.ReturnValueAllNew,
	})
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return identity.Secret{}, d.secretNotFound(ctx, tenantID, "", clientID)
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
		return "", storageError("get registration", err)
	}
	if out.Item != nil {
		reg, err := decodeRegistration(out.Item)
		if err != nil {
			return "", identity.Internal("decode registration "+clientID, err)
		}
		if reg.TenantID == tenantID {
			return reg.Kind, nil
		}
	}
	if err := d.tenantExists(ctx, tenantID); err != nil {
		return "", err
	}
	return "", identity.ErrClientNotFound
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
