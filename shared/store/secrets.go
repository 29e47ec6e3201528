package store

import (
	"context"
	"errors"
	"strconv"
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

// registration reads a client's registration (its token item), strongly
// consistent; nil when there is none.
func (d *Dynamo) registration(ctx context.Context, clientID string) (*registration, error) {
	out, err := d.api.GetItem(ctx, &dynamodb.GetItemInput{TableName: &d.table, Key: key(clientPK(clientID), skRegistration), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return nil, storageError("get registration", err)
	}
	if out.Item == nil {
		return nil, nil
	}
	reg, err := decodeRegistration(out.Item)
	if err != nil {
		return nil, identity.Internal("decode registration "+clientID, err)
	}
	if !reg.TokenItem {
		return nil, identity.Internal("read registration "+clientID, errors.New("the registration predates the token item: run the migration (admin migrate)"))
	}
	return &reg, nil
}

// SecretSet returns the secrets of the client's token item and its
// SecretsVersion: one GetItem of a small item.
func (d *Dynamo) SecretSet(ctx context.Context, tenantID string, kind identity.ClientKind, clientID string) (identity.SecretSet, error) {
	reg, err := d.registration(ctx, clientID)
	if err != nil {
		return identity.SecretSet{}, err
	}
	if reg == nil || reg.TenantID != tenantID || reg.Kind != kind {
		return identity.SecretSet{}, identity.ErrClientNotFound
	}
	return identity.SecretSet{Version: reg.SecretsVersion, Secrets: reg.Secrets, RoleIDs: reg.RoleIDs, Records: int(reg.RecordCount)}, nil
}

// AddSecret writes a new secret record and enters it in the token item,
// bumping SecretsVersion and RecordCount, on the condition that it is still
// the set's version and that RecordCount is below
// identity.MaxSecretRecordsPerClient. Entries of the set expired at
// sec.CreatedAt leave the token item, so that it holds at most the secret
// limit's worth of entries. A token item without RecordCount (written
// before it existed) gets it here, from a count of the records.
func (d *Dynamo) AddSecret(ctx context.Context, tenantID string, kind identity.ClientKind, sec identity.Secret, set identity.SecretSet) (identity.Secret, error) {
	sec.Kind = kind
	names := map[string]string{"#new": sec.ID}
	values := item{":one": n(1), ":v": n(set.Version), ":tenant": s(tenantID), ":kind": s(kind.String()), ":entry": secretEntry(sec)}
	update := "SET SecretsVersion = SecretsVersion + :one, Secrets.#new = :entry"
	cond := "SecretsVersion = :v AND TenantId = :tenant AND Kind = :kind"
	if set.Records < 0 {
		// Not counted yet: count now. The version condition holds the
		// count against the API's adds and deletes meanwhile.
		reg, secrets, err := d.ownedClientRecords(ctx, tenantID, kind, sec.ClientID)
		if err != nil {
			return identity.Secret{}, err
		}
		if reg.SecretsVersion != set.Version {
			return identity.Secret{}, identity.ErrSecretSetChanged
		}
		if len(secrets) >= identity.MaxSecretRecordsPerClient {
			return identity.Secret{}, recordsFull(len(secrets), secrets, sec.CreatedAt)
		}
		update += ", RecordCount = :counted"
		cond += " AND attribute_not_exists(RecordCount)"
		values[":counted"] = n(int64(len(secrets)) + 1)
	} else {
		update += ", RecordCount = RecordCount + :one"
		cond += " AND RecordCount < :max"
		values[":max"] = n(identity.MaxSecretRecordsPerClient)
	}
	var removes []string
	for i, old := range set.Secrets {
		if !old.Active(sec.CreatedAt) {
			alias := "#x" + strconv.Itoa(i)
			names[alias] = old.ID
			removes = append(removes, "Secrets."+alias)
		}
	}
	if len(removes) > 0 {
		update += " REMOVE " + strings.Join(removes, ", ")
	}
	items := []types.TransactWriteItem{
		{Update: &types.Update{TableName: &d.table, Key: key(clientPK(sec.ClientID), skRegistration),
			UpdateExpression:          aws.String(update),
			ConditionExpression:       aws.String(cond),
			ExpressionAttributeNames:  names,
			ExpressionAttributeValues: values}},
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
	}
	// The version moved on, or the records are at the limit: one Query of
	// the client's records (on this path only) tells which.
	reg, secrets, err := d.clientRecords(ctx, sec.ClientID)
	if err != nil {
		return identity.Secret{}, err
	}
	if reg != nil && reg.RecordCount >= identity.MaxSecretRecordsPerClient {
		return identity.Secret{}, recordsFull(int(reg.RecordCount), secrets, sec.CreatedAt)
	}
	return identity.Secret{}, identity.ErrSecretSetChanged
}

// recordsFull reports a client's records at the limit: the count, and
// when the earliest retained record entered retention (its deletion, or
// its expiration: what the sweeper purges it by).
func recordsFull(count int, secrets []identity.Secret, now time.Time) *identity.SecretRecordsFull {
	full := &identity.SecretRecordsFull{Count: count}
	for _, sec := range secrets {
		var since *time.Time
		switch {
		case sec.DeletedAt != nil:
			since = sec.DeletedAt
		case sec.Expiration != nil && !sec.Expiration.After(now):
			since = sec.Expiration
		}
		if since != nil && (full.RetainedSince.IsZero() || since.Before(full.RetainedSince)) {
			full.RetainedSince = *since
		}
	}
	return full
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
		values[":p"] = s(expiryPK(expiryPartition, secretID))
		values[":eu"] = n(expiration.Unix())
	}
	if len(sets) == 0 {
		return d.GetSecret(ctx, tenantID, kind, clientID, secretID)
	}
	upd := &types.Update{
		TableName:                 &d.table,
		Key:                       key(clientPK(clientID), secretSK(secretID)),
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
		sec, err := decodeSecret(out.Attributes)
		if err != nil {
			return identity.Secret{}, identity.Internal("decode secret "+secretID, err)
		}
		return sec, nil
	}
	// A new expiration is what the token item decides on: both change
	// together.
	reasons, err := d.transact(ctx, []types.TransactWriteItem{
		{Update: upd},
		{Update: &types.Update{TableName: &d.table, Key: key(clientPK(clientID), skRegistration),
			UpdateExpression:          aws.String("SET Secrets.#s.E = :en"),
			ConditionExpression:       aws.String("attribute_exists(Secrets.#s)"),
			ExpressionAttributeNames:  map[string]string{"#s": secretID},
			ExpressionAttributeValues: item{":en": n(expiration.UnixNano())}}},
	})
	if err != nil {
		return identity.Secret{}, err
	}
	if reasons != nil {
		return identity.Secret{}, identity.ErrSecretChanged
	}
	return d.GetSecret(ctx, tenantID, kind, clientID, secretID)
}

// forget is the token item's side of a secret leaving it (delete, soft
// delete, the sweeper's purge): its entry goes, and SecretsVersion moves on; with removed, its
// record goes too, and RecordCount goes down by one (on the condition that
// the item has it: see uncounted).
func (d *Dynamo) forget(clientID, secretID string, removed bool) types.TransactWriteItem {
	update, cond := "REMOVE Secrets.#s SET SecretsVersion = SecretsVersion + :one", "attribute_exists(PK)"
	values := item{":one": n(1)}
	if removed {
		update += ", RecordCount = RecordCount - :one"
		cond += " AND RecordCount > :zero"
		values[":zero"] = n(0)
	}
	return types.TransactWriteItem{Update: &types.Update{TableName: &d.table, Key: key(clientPK(clientID), skRegistration),
		UpdateExpression:          aws.String(update),
		ConditionExpression:       aws.String(cond),
		ExpressionAttributeNames:  map[string]string{"#s": secretID},
		ExpressionAttributeValues: values}}
}

// uncounted is the decrement of RecordCount that a removal of n records
// carries in its transaction, on the condition that the count is there
// (and covers them); a transaction that fails on it alone is repeated
// without it (transactCounted).
func (d *Dynamo) uncounted(clientID string, records int) types.TransactWriteItem {
	return types.TransactWriteItem{Update: &types.Update{TableName: &d.table, Key: key(clientPK(clientID), skRegistration),
		UpdateExpression:          aws.String("SET RecordCount = RecordCount - :n"),
		ConditionExpression:       aws.String("RecordCount >= :n"),
		ExpressionAttributeValues: item{":n": n(int64(records))}}}
}

// transactCounted runs a transaction whose item at counter decrements
// RecordCount. If only that item's condition failed (the token item has
// no count: written before it existed, so the next add counts the records
// anyway; or none at all: the client is gone), it runs again with alt at
// that place, or without it when alt is nil.
func (d *Dynamo) transactCounted(ctx context.Context, items []types.TransactWriteItem, counter int, alt *types.TransactWriteItem) ([]types.CancellationReason, error) {
	reasons, err := d.transact(ctx, items)
	if err != nil || reasons == nil || !failed(reasons, counter) {
		return reasons, err
	}
	for i := range reasons {
		if i != counter && failed(reasons, i) {
			return reasons, nil
		}
	}
	again := append([]types.TransactWriteItem(nil), items[:counter]...)
	if alt != nil {
		again = append(again, *alt)
	}
	again = append(again, items[counter+1:]...)
	return d.transact(ctx, again)
}

// DeleteSecret removes a secret record and its entry in the token item
// (OCS delete), and counts the record out, in one transaction.
func (d *Dynamo) DeleteSecret(ctx context.Context, tenantID string, kind identity.ClientKind, clientID, secretID string) error {
	cond, values := secretOwned(tenantID, kind)
	plain := d.forget(clientID, secretID, false)
	reasons, err := d.transactCounted(ctx, []types.TransactWriteItem{
		{Delete: &types.Delete{TableName: &d.table, Key: key(clientPK(clientID), secretSK(secretID)),
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
// period. Soft-deleting it again changes nothing.
func (d *Dynamo) SoftDeleteSecret(ctx context.Context, tenantID string, kind identity.ClientKind, clientID, secretID string, now time.Time) (identity.Secret, error) {
	reasons, err := d.transact(ctx, []types.TransactWriteItem{
		{Update: &types.Update{
			TableName:           &d.table,
			Key:                 key(clientPK(clientID), secretSK(secretID)),
			UpdateExpression:    aws.String("SET DeletedAt = if_not_exists(DeletedAt, :now), ExpiryPK = :p, ExpiresAt = if_not_exists(DeletedUnix, :nowUnix), DeletedUnix = if_not_exists(DeletedUnix, :nowUnix)"),
			ConditionExpression: aws.String("attribute_exists(PK) AND TenantId = :tenant AND Kind = :kind"),
			ExpressionAttributeValues: item{
				":now": ts(now), ":nowUnix": n(now.Unix()), ":p": s(expiryPK(expiryPartition, secretID)), ":tenant": s(tenantID), ":kind": s(kind.String()),
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

// ClientForAuthentication reads the client's token item: one strongly
// consistent GetItem of a small item (the registration), whatever the
// number of the client's retained secret records.
func (d *Dynamo) ClientForAuthentication(ctx context.Context, clientID string) (identity.Client, []identity.Secret, error) {
	reg, err := d.registration(ctx, clientID)
	if err != nil {
		return identity.Client{}, nil, err
	}
	if reg == nil {
		return identity.Client{}, nil, identity.ErrClientNotFound
	}
	c := identity.Client{TenantID: reg.TenantID, ID: reg.ClientID, Kind: reg.Kind, Enabled: reg.Enabled, RoleIDs: reg.RoleIDs, AccessTokenLifetime: reg.AccessTokenLifetime}
	return c, reg.Secrets, nil
}

// MarkUsed sets a secret's LastUsed (record) and U (token item entry) to
// hour in one transaction, conditional on the entry's U being earlier (or
// absent): at most one write per secret per hour, however many processes
// see the old value. A secret deleted meanwhile, or an hour already
// recorded, cancels it, which is not an error.
func (d *Dynamo) MarkUsed(ctx context.Context, clientID, secretID string, hour time.Time) error {
	h := hour.UTC().Unix()
	_, err := d.transact(ctx, []types.TransactWriteItem{
		{Update: &types.Update{TableName: &d.table, Key: key(clientPK(clientID), skRegistration),
			UpdateExpression:          aws.String("SET Secrets.#s.U = :h"),
			ConditionExpression:       aws.String("attribute_exists(Secrets.#s) AND (attribute_not_exists(Secrets.#s.U) OR Secrets.#s.U < :h)"),
			ExpressionAttributeNames:  map[string]string{"#s": secretID},
			ExpressionAttributeValues: item{":h": n(h)}}},
		{Update: &types.Update{TableName: &d.table, Key: key(clientPK(clientID), secretSK(secretID)),
			UpdateExpression:          aws.String("SET LastUsed = :t"),
			ConditionExpression:       aws.String("attribute_exists(PK)"),
			ExpressionAttributeValues: item{":t": ts(hour)}}},
	})
	return err
}
