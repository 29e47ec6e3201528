package store

import (
	"context"
	"errors"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"identityservice/shared/identity"
	"identityservice/shared/store/layout"
)

// Secrets keeps the secret records of clients (CLIENT#<client> /
// SECRET#<secret>) and their side of the token item: the set of secrets
// that count, its version and the count of records.
type Secrets struct{ base }

var _ identity.Secrets = (*Secrets)(nil)

// ClientSecrets returns a client's secret records, checking that the client
// belongs to the tenant and is of the kind.
func (d *Secrets) ClientSecrets(ctx context.Context, tenantID string, kind identity.ClientKind, clientID string) ([]identity.Secret, error) {
	_, secrets, err := d.ownedClientRecords(ctx, tenantID, kind, clientID)
	return secrets, err
}

// SecretSet returns the secrets of the client's token item and its
// SecretsVersion: one GetItem of a small item.
func (d *Secrets) SecretSet(ctx context.Context, tenantID string, kind identity.ClientKind, clientID string) (identity.SecretSet, error) {
	reg, err := d.tokenItem(ctx, clientID)
	if err != nil {
		return identity.SecretSet{}, err
	}
	if reg == nil || reg.TenantID != tenantID || reg.Kind != kind {
		return identity.SecretSet{}, identity.ErrClientNotFound
	}
	return identity.SecretSet{Version: reg.SecretsVersion, Secrets: reg.Secrets, RoleIDs: reg.RoleIDs, Records: int(reg.RecordCount)}, nil
}

// AddSecret writes a new secret record and enters it in the token item,
// bumping SecretsVersion and RecordCount, on add's conditions: the token
// item is still at the set's version, and its RecordCount below
// add.MaxRecords. The entries named in add.Forget leave the token item.
// A token item without RecordCount (written before it existed) gets it
// here, from a count of the records.
func (d *Secrets) AddSecret(ctx context.Context, add identity.SecretAdd) (identity.Secret, error) {
	tenantID, kind, sec := add.TenantID, add.Kind, add.Secret
	sec.Kind = kind
	names := map[string]string{"#new": sec.ID}
	values := item{":one": layout.N(1), ":v": layout.N(add.Set.Version), ":tenant": layout.S(tenantID), ":kind": layout.S(kind.String()), ":entry": layout.SecretEntry(sec)}
	update := "SET SecretsVersion = SecretsVersion + :one, Secrets.#new = :entry"
	cond := "SecretsVersion = :v AND TenantId = :tenant AND Kind = :kind"
	if add.Set.Records < 0 {
		// Not counted yet: count now. The version condition holds the
		// count against the API's adds and deletes meanwhile.
		reg, secrets, err := d.ownedClientRecords(ctx, tenantID, kind, sec.ClientID)
		if err != nil {
			return identity.Secret{}, err
		}
		if reg.SecretsVersion != add.Set.Version {
			return identity.Secret{}, identity.ErrSecretSetChanged
		}
		if len(secrets) >= add.MaxRecords {
			return identity.Secret{}, &identity.SecretRecordsFull{Count: len(secrets), Records: secrets}
		}
		update += ", RecordCount = :counted"
		cond += " AND attribute_not_exists(RecordCount)"
		values[":counted"] = layout.N(int64(len(secrets)) + 1)
	} else {
		update += ", RecordCount = RecordCount + :one"
		cond += " AND RecordCount < :max"
		values[":max"] = layout.N(int64(add.MaxRecords))
	}
	var removes []string
	for i, id := range add.Forget {
		alias := "#x" + strconv.Itoa(i)
		names[alias] = id
		removes = append(removes, "Secrets."+alias)
	}
	if len(removes) > 0 {
		update += " REMOVE " + strings.Join(removes, ", ")
	}
	items := []types.TransactWriteItem{
		{Update: &types.Update{TableName: &d.table, Key: layout.Key(layout.ClientPK(sec.ClientID), layout.SkRegistration),
			UpdateExpression:          aws.String(update),
			ConditionExpression:       aws.String(cond),
			ExpressionAttributeNames:  names,
			ExpressionAttributeValues: values}},
		{Put: &types.Put{TableName: &d.table, Item: layout.SecretItem(sec), ConditionExpression: aws.String("attribute_not_exists(PK)")}},
	}
	reasons, err := d.transact(ctx, items)
	switch {
	case err != nil:
		return identity.Secret{}, err
	case reasons == nil:
		return sec, nil
	case failed(reasons, 1):
		return identity.Secret{}, identity.Internal("add secret", errors.New("secret id collision"))
	}
	// The version moved on, or the records are at the cap: one Query of
	// the client's records (on this path only) tells which.
	reg, secrets, err := d.clientRecords(ctx, sec.ClientID)
	if err != nil {
		return identity.Secret{}, err
	}
	if reg != nil && reg.RecordCount >= int64(add.MaxRecords) {
		return identity.Secret{}, &identity.SecretRecordsFull{Count: int(reg.RecordCount), Records: secrets}
	}
	return identity.Secret{}, identity.ErrSecretSetChanged
}

// GetSecret returns one secret record of the tenant's client of the kind.
func (d *Secrets) GetSecret(ctx context.Context, tenantID string, kind identity.ClientKind, clientID, secretID string) (identity.Secret, error) {
	out, err := d.api.GetItem(ctx, &dynamodb.GetItemInput{TableName: &d.table, Key: layout.Key(layout.ClientPK(clientID), layout.SecretSK(secretID)), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return identity.Secret{}, storageError("get secret", err)
	}
	if out.Item == nil {
		return identity.Secret{}, identity.ErrSecretNotFound
	}
	sec, err := layout.DecodeSecret(out.Item)
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
		item{":tenant": layout.S(tenantID), ":kind": layout.S(kind.String())}
}

// UpdateSecret changes a secret's description and expiration (nil keeps
// the stored value), on the condition that it is still changeable at
// ch.ChangeableAt: not expired then, not soft-deleted, not swept.
func (d *Secrets) UpdateSecret(ctx context.Context, ch identity.SecretChange) (identity.Secret, error) {
	tenantID, kind, clientID, secretID, description, expiration := ch.TenantID, ch.Kind, ch.ClientID, ch.SecretID, ch.Description, ch.Expiration
	cond, values := secretOwned(tenantID, kind)
	// SweptAt: the sweeper destroyed the material, whatever ExpiresAt says.
	cond += " AND (attribute_not_exists(ExpiresAt) OR ExpiresAt > :at) AND attribute_not_exists(SweptAt)"
	values[":at"] = layout.N(ch.ChangeableAt.Unix())
	var sets []string
	if description != nil {
		sets = append(sets, "Description = :d")
		values[":d"] = layout.S(*description)
	}
	if expiration != nil {
		sets = append(sets, "Expiration = :e", "ExpiryPK = :p", "ExpiresAt = :eu")
		values[":e"] = layout.Ts(*expiration)
		values[":p"] = layout.S(layout.ExpiryPK(layout.ExpiryPartition, secretID))
		values[":eu"] = layout.N(expiration.Unix())
	}
	if len(sets) == 0 {
		return d.GetSecret(ctx, tenantID, kind, clientID, secretID)
	}
	if ch.Change != nil {
		sets = append(sets, layout.AttrChangedBy+" = :cb", layout.AttrChangedAt+" = :ca")
		values[":cb"], values[":ca"] = layout.ChangeAttrs(*ch.Change)
	}
	upd := &types.Update{
		TableName:                 &d.table,
		Key:                       layout.Key(layout.ClientPK(clientID), layout.SecretSK(secretID)),
		UpdateExpression:          aws.String("SET " + strings.Join(sets, ", ")),
		ConditionExpression:       aws.String(cond),
		ExpressionAttributeValues: values,
	}
	if expiration == nil {
		out, err := d.api.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: upd.TableName, Key: upd.Key, UpdateExpression: upd.UpdateExpression,
			ConditionExpression: upd.ConditionExpression, ExpressionAttributeValues: upd.ExpressionAttributeValues, ReturnValues: types.ReturnValueAllNew})
		var ccf *types.ConditionalCheckFailedException
		if errors.As(err, &ccf) {
			return identity.Secret{}, identity.ErrSecretChanged
		}
		if err != nil {
			return identity.Secret{}, storageError("update secret", err)
		}
		sec, err := layout.DecodeSecret(out.Attributes)
		if err != nil {
			return identity.Secret{}, identity.Internal("decode secret "+secretID, err)
		}
		return sec, nil
	}
	// A new expiration is what the token item decides on: both change
	// together.
	reasons, err := d.transact(ctx, []types.TransactWriteItem{
		{Update: upd},
		{Update: &types.Update{TableName: &d.table, Key: layout.Key(layout.ClientPK(clientID), layout.SkRegistration),
			UpdateExpression:          aws.String("SET Secrets.#s.E = :en"),
			ConditionExpression:       aws.String("attribute_exists(Secrets.#s)"),
			ExpressionAttributeNames:  map[string]string{"#s": secretID},
			ExpressionAttributeValues: item{":en": layout.N(expiration.UnixNano())}}},
	})
	if err != nil {
		return identity.Secret{}, err
	}
	if reasons != nil {
		return identity.Secret{}, identity.ErrSecretChanged
	}
	return d.GetSecret(ctx, tenantID, kind, clientID, secretID)
}

// DeleteSecret removes a secret record and its entry in the token item
// (OCS delete), and counts the record out, in one transaction.
func (d *Secrets) DeleteSecret(ctx context.Context, tenantID string, kind identity.ClientKind, clientID, secretID string) error {
	cond, values := secretOwned(tenantID, kind)
	plain := d.forget(clientID, secretID, false)
	reasons, err := d.transactCounted(ctx, []types.TransactWriteItem{
		{Delete: &types.Delete{TableName: &d.table, Key: layout.Key(layout.ClientPK(clientID), layout.SecretSK(secretID)),
			ConditionExpression: aws.String(cond), ExpressionAttributeValues: values}},
		d.forget(clientID, secretID, true),
	}, 1, &plain)
	if err != nil {
		return err
	}
	if reasons != nil {
		return identity.ErrSecretNotFound
	}
	return nil
}

// SoftDeleteSecret marks a secret deleted at now (Key Rotation API) and
// removes it from the token item, in one transaction: it stops
// authenticating, stays listed there, and enters the expiry index at its
// deletion time so the sweeper purges the record after the retention
// period. Soft-deleting it again changes nothing but ChangedBy and
// ChangedAt, which every call records (ch: who, and ch.At the instant).
func (d *Secrets) SoftDeleteSecret(ctx context.Context, tenantID string, kind identity.ClientKind, clientID, secretID string, ch identity.Change) (identity.Secret, error) {
	now := ch.At
	by, at := layout.ChangeAttrs(ch)
	reasons, err := d.transact(ctx, []types.TransactWriteItem{
		{Update: &types.Update{
			TableName:           &d.table,
			Key:                 layout.Key(layout.ClientPK(clientID), layout.SecretSK(secretID)),
			UpdateExpression:    aws.String("SET DeletedAt = if_not_exists(DeletedAt, :now), ExpiryPK = :p, ExpiresAt = if_not_exists(DeletedUnix, :nowUnix), DeletedUnix = if_not_exists(DeletedUnix, :nowUnix), ChangedBy = :cb, ChangedAt = :ca"),
			ConditionExpression: aws.String("attribute_exists(PK) AND TenantId = :tenant AND Kind = :kind"),
			ExpressionAttributeValues: item{
				":now": layout.Ts(now), ":nowUnix": layout.N(now.Unix()), ":p": layout.S(layout.ExpiryPK(layout.ExpiryPartition, secretID)), ":tenant": layout.S(tenantID), ":kind": layout.S(kind.String()),
				":cb": by, ":ca": at,
			},
		}},
		d.forget(clientID, secretID, false),
	})
	if err != nil {
		return identity.Secret{}, err
	}
	if reasons != nil {
		return identity.Secret{}, identity.ErrSecretNotFound
	}
	return d.GetSecret(ctx, tenantID, kind, clientID, secretID)
}
