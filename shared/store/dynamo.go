package store

import (
	"context"
	"errors"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"

	"identityservice/shared/identity"
)

// API is the part of the DynamoDB client the store uses.
type API interface {
	GetItem(context.Context, *dynamodb.GetItemInput, ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	BatchGetItem(context.Context, *dynamodb.BatchGetItemInput, ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error)
	PutItem(context.Context, *dynamodb.PutItemInput, ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	UpdateItem(context.Context, *dynamodb.UpdateItemInput, ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	DeleteItem(context.Context, *dynamodb.DeleteItemInput, ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error)
	Query(context.Context, *dynamodb.QueryInput, ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
	TransactWriteItems(context.Context, *dynamodb.TransactWriteItemsInput, ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error)
}

// Dynamo is the DynamoDB implementation of identity.Store.
type Dynamo struct {
	api   API
	table string
}

var _ identity.Store = (*Dynamo)(nil)

// New returns a store on the named table.
func New(api API, table string) *Dynamo {
	return &Dynamo{api: api, table: table}
}

// maxTransactAttempts bounds retries of a transaction that DynamoDB
// cancelled for a conflict with another transaction.
const maxTransactAttempts = 4

// transact runs a write transaction, retrying conflicts with jitter. It
// returns the cancellation reasons when conditions failed.
//
// Each attempt has its own ClientRequestToken (the SDK generates one when
// it is unset, and its own retries of an attempt reuse it, so a retried
// attempt whose first answer was lost is applied once). A cancelled
// attempt was not applied; the next one must not be mistaken for it.
func (d *Dynamo) transact(ctx context.Context, items []types.TransactWriteItem) ([]types.CancellationReason, error) {
	for attempt := 1; ; attempt++ {
		in := &dynamodb.TransactWriteItemsInput{TransactItems: items}
		_, err := d.api.TransactWriteItems(ctx, in)
		if err == nil {
			return nil, nil
		}
		var tce *types.TransactionCanceledException
		if !errors.As(err, &tce) {
			return nil, storageError("transact write", err)
		}
		if hasReason(tce.CancellationReasons, "ConditionalCheckFailed") {
			return tce.CancellationReasons, nil
		}
		if !hasReason(tce.CancellationReasons, "TransactionConflict") {
			return nil, storageError("transact write", err)
		}
		if attempt == maxTransactAttempts {
			return nil, identity.ErrConcurrentUpdate
		}
		backoff := time.Duration(10<<attempt)*time.Millisecond + time.Duration(rand.IntN(20))*time.Millisecond
		select {
		case <-ctx.Done():
			return nil, storageError("transact write", ctx.Err())
		case <-time.After(backoff):
		}
	}
}

func hasReason(reasons []types.CancellationReason, code string) bool {
	for _, r := range reasons {
		if aws.ToString(r.Code) == code {
			return true
		}
	}
	return false
}

func failed(reasons []types.CancellationReason, i int) bool {
	return i < len(reasons) && aws.ToString(reasons[i].Code) == "ConditionalCheckFailed"
}

// storageError turns an SDK error into a domain error: throttling and
// unavailability become ErrUnavailable, anything else is internal.
func storageError(op string, err error) error {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		switch ae.ErrorCode() {
		case "ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded", "InternalServerError", "ServiceUnavailable":
			return &identity.Error{Kind: identity.KindUnavailable, Title: identity.ErrUnavailable.Title, Reason: identity.ErrUnavailable.Reason, Resolution: identity.ErrUnavailable.Resolution, Err: err}
		}
	}
	return identity.Internal(op, err)
}

// CreateTenant stores a new tenant.
func (d *Dynamo) CreateTenant(ctx context.Context, t identity.Tenant) error {
	_, err := d.api.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:           &d.table,
		Item:                tenantItem(t),
		ConditionExpression: aws.String("attribute_not_exists(PK)"),
	})
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return &identity.Error{Kind: identity.KindConflict, Title: "Tenant already exists", Reason: "A tenant with this id exists.", Resolution: "Use another id."}
	}
	if err != nil {
		return storageError("put tenant", err)
	}
	return nil
}

// GetTenant reads a tenant.
func (d *Dynamo) GetTenant(ctx context.Context, tenantID string) (identity.Tenant, error) {
	out, err := d.api.GetItem(ctx, &dynamodb.GetItemInput{TableName: &d.table, Key: key(tenantPK(tenantID), skTenant), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return identity.Tenant{}, storageError("get tenant", err)
	}
	if out.Item == nil {
		return identity.Tenant{}, identity.ErrTenantNotFound
	}
	t, err := decodeTenant(out.Item)
	if err != nil {
		return identity.Tenant{}, identity.Internal("decode tenant "+tenantID, err)
	}
	return t, nil
}

// CreateClient writes, in one transaction: the client, its registration
// (unique across tenants), the tenant's client counter (the limit is checked
// there, so concurrent creates cannot pass it) and the first secret record.
func (d *Dynamo) CreateClient(ctx context.Context, c identity.Client, first identity.Secret, defaultLimit int) error {
	first.Kind = c.Kind
	items := []types.TransactWriteItem{
		{Put: &types.Put{TableName: &d.table, Item: registrationItem(c, first), ConditionExpression: aws.String("attribute_not_exists(PK)")}},
		{Update: &types.Update{
			TableName:           &d.table,
			Key:                 key(tenantPK(c.TenantID), skTenant),
			UpdateExpression:    aws.String("SET ClientCount = ClientCount + :one"),
			ConditionExpression: aws.String("attribute_exists(PK) AND ((attribute_not_exists(ClientLimit) AND ClientCount < :default) OR ClientCount < ClientLimit)"),
			ExpressionAttributeValues: item{
				":one":     n(1),
				":default": n(int64(defaultLimit)),
			},
			ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
		}},
		{Put: &types.Put{TableName: &d.table, Item: clientItem(c), ConditionExpression: aws.String("attribute_not_exists(PK)")}},
		{Put: &types.Put{TableName: &d.table, Item: secretItem(first), ConditionExpression: aws.String("attribute_not_exists(PK)")}},
	}
	reasons, err := d.transact(ctx, items)
	if err != nil {
		return err
	}
	switch {
	case reasons == nil:
		return nil
	case failed(reasons, 0) || failed(reasons, 2):
		return identity.ErrClientIDExists
	case failed(reasons, 1):
		if reasons[1].Item == nil {
			return identity.ErrTenantNotFound
		}
		return identity.ErrClientLimit
	default:
		return identity.Internal("create client", errors.New("transaction cancelled: "+reasonCodes(reasons)))
	}
}

func reasonCodes(reasons []types.CancellationReason) string {
	codes := make([]string, len(reasons))
	for i, r := range reasons {
		codes[i] = aws.ToString(r.Code)
	}
	return strings.Join(codes, ",")
}

// GetClient reads a client of a kind in a tenant: one strongly consistent
// GetItem.
func (d *Dynamo) GetClient(ctx context.Context, tenantID string, kind identity.ClientKind, clientID string) (identity.Client, error) {
	out, err := d.api.GetItem(ctx, &dynamodb.GetItemInput{TableName: &d.table, Key: key(tenantPK(tenantID), clientSK(kind, clientID)), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return identity.Client{}, storageError("get client", err)
	}
	if out.Item == nil {
		return identity.Client{}, identity.ErrClientNotFound
	}
	c, err := decodeClient(out.Item)
	if err != nil {
		return identity.Client{}, identity.Internal("decode client "+clientID, err)
	}
	return c, nil
}

// batchGet reads up to 100 keys with strong consistency, retrying
// unprocessed keys.
func (d *Dynamo) batchGet(ctx context.Context, keys []item) ([]item, error) {
	req := map[string]types.KeysAndAttributes{d.table: {Keys: keys, ConsistentRead: aws.Bool(true)}}
	var found []item
	for attempt := 0; len(req) > 0; attempt++ {
		if attempt == 5 {
			return nil, identity.ErrUnavailable
		}
		if attempt > 0 {
			time.Sleep(time.Duration(20<<attempt) * time.Millisecond)
		}
		out, err := d.api.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: req})
		if err != nil {
			return nil, storageError("batch get", err)
		}
		found = append(found, out.Responses[d.table]...)
		req = out.UnprocessedKeys
	}
	return found, nil
}

// ListClients reads every client of a kind in a tenant, in id order.
func (d *Dynamo) ListClients(ctx context.Context, tenantID string, kind identity.ClientKind) ([]identity.Client, []identity.ItemError, error) {
	in := &dynamodb.QueryInput{
		TableName:              &d.table,
		KeyConditionExpression: aws.String("PK = :pk AND begins_with(SK, :prefix)"),
		ExpressionAttributeValues: item{
			":pk":     s(tenantPK(tenantID)),
			":prefix": s(kindPrefix(kind)),
		},
		ConsistentRead: aws.Bool(true),
	}
	var clients []identity.Client
	var bad []identity.ItemError
	for {
		out, err := d.api.Query(ctx, in)
		if err != nil {
			return nil, nil, storageError("list clients", err)
		}
		for _, it := range out.Items {
			c, err := decodeClient(it)
			if err != nil || c.Kind != kind {
				id := strings.TrimPrefix(it[attrSK].(*types.AttributeValueMemberS).Value, kindPrefix(kind))
				reason := "stored client is malformed"
				if err != nil {
					reason += ": " + err.Error()
				}
				bad = append(bad, identity.ItemError{ID: id, Reason: reason})
				continue
			}
			clients = append(clients, c)
		}
		if out.LastEvaluatedKey == nil {
			break
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
	return clients, bad, nil
}

// UpdateClient writes next over old, conditional on old's version. When
// what a token request decides on changes (Enabled, RoleIds), the
// registration changes in the same transaction.
func (d *Dynamo) UpdateClient(ctx context.Context, old, next identity.Client) error {
	put := &types.Put{TableName: &d.table, Item: clientItem(next),
		ConditionExpression:       aws.String("Version = :v"),
		ExpressionAttributeValues: item{":v": n(old.Version)}}
	items := []types.TransactWriteItem{{Put: put}}
	if next.Enabled != old.Enabled || !slices.Equal(next.RoleIDs, old.RoleIDs) {
		items = append(items, types.TransactWriteItem{Update: &types.Update{TableName: &d.table, Key: key(clientPK(next.ID), skRegistration),
			UpdateExpression:          aws.String("SET Enabled = :en, RoleIds = :roles"),
			ConditionExpression:       aws.String("TenantId = :tenant"),
			ExpressionAttributeValues: item{":en": b(next.Enabled), ":roles": list(next.RoleIDs), ":tenant": s(next.TenantID)}}})
	}
	if len(items) == 1 {
		_, err := d.api.PutItem(ctx, &dynamodb.PutItemInput{TableName: put.TableName, Item: put.Item,
			ConditionExpression: put.ConditionExpression, ExpressionAttributeValues: put.ExpressionAttributeValues})
		var ccf *types.ConditionalCheckFailedException
		if errors.As(err, &ccf) {
			return identity.ErrClientChanged
		}
		if err != nil {
			return storageError("update client", err)
		}
		return nil
	}
	reasons, err := d.transact(ctx, items)
	switch {
	case err != nil:
		return err
	case reasons == nil:
		return nil
	case failed(reasons, 0):
		return identity.ErrClientChanged
	default:
		return identity.Internal("update client", errors.New("registration missing: "+reasonCodes(reasons)))
	}
}

// clientRecords reads a client's registration and every secret record in
// one query.
func (d *Dynamo) clientRecords(ctx context.Context, clientID string) (*registration, []identity.Secret, error) {
	in := &dynamodb.QueryInput{
		TableName:                 &d.table,
		KeyConditionExpression:    aws.String("PK = :pk"),
		ExpressionAttributeValues: item{":pk": s(clientPK(clientID))},
		ConsistentRead:            aws.Bool(true),
	}
	var reg *registration
	var secrets []identity.Secret
	for {
		out, err := d.api.Query(ctx, in)
		if err != nil {
			return nil, nil, storageError("read client records", err)
		}
		for _, it := range out.Items {
			sk := it[attrSK].(*types.AttributeValueMemberS).Value
			switch {
			case sk == skRegistration:
				r, err := decodeRegistration(it)
				if err != nil {
					return nil, nil, identity.Internal("decode registration "+clientID, err)
				}
				reg = &r
			case strings.HasPrefix(sk, prefixSecret):
				sec, err := decodeSecret(it)
				if err != nil {
					return nil, nil, identity.Internal("decode secret "+sk, err)
				}
				secrets = append(secrets, sec)
			}
		}
		if out.LastEvaluatedKey == nil {
			return reg, secrets, nil
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
}

// maxTransactItems is DynamoDB's limit on items in one transaction.
const maxTransactItems = 100

// DeleteClient removes the client, its registration, its secret records and
// its count in the tenant in one transaction. The registration's
// SecretsVersion guards against a secret added meanwhile.
func (d *Dynamo) DeleteClient(ctx context.Context, tenantID string, kind identity.ClientKind, clientID string) ([]identity.Secret, error) {
	for attempt := 0; attempt < maxTransactAttempts; attempt++ {
		reg, secrets, err := d.clientRecords(ctx, clientID)
		if err != nil {
			return nil, err
		}
		if reg == nil || reg.TenantID != tenantID || reg.Kind != kind {
			return nil, identity.ErrClientNotFound
		}
		// Secret records beyond what fits in the transaction go first; a
		// removed record can no longer authenticate, so this is safe.
		inTx := secrets
		if room := maxTransactItems - 3; len(secrets) > room {
			if err := d.deleteSecretRecords(ctx, secrets[room:]); err != nil {
				return nil, err
			}
			inTx = secrets[:room]
		}
		items := []types.TransactWriteItem{
			{Delete: &types.Delete{TableName: &d.table, Key: key(clientPK(clientID), skRegistration),
				ConditionExpression:       aws.String("SecretsVersion = :v"),
				ExpressionAttributeValues: item{":v": n(reg.SecretsVersion)}}},
			{Delete: &types.Delete{TableName: &d.table, Key: key(tenantPK(tenantID), clientSK(kind, clientID)),
				ConditionExpression: aws.String("attribute_exists(PK)")}},
			{Update: &types.Update{TableName: &d.table, Key: key(tenantPK(tenantID), skTenant),
				UpdateExpression:          aws.String("SET ClientCount = ClientCount - :one"),
				ConditionExpression:       aws.String("attribute_exists(PK) AND ClientCount > :zero"),
				ExpressionAttributeValues: item{":one": n(1), ":zero": n(0)}}},
		}
		for _, sec := range inTx {
			items = append(items, types.TransactWriteItem{Delete: &types.Delete{TableName: &d.table, Key: key(clientPK(clientID), secretSK(sec.ID))}})
		}
		reasons, err := d.transact(ctx, items)
		if err != nil {
			return nil, err
		}
		if reasons == nil {
			return secrets, nil
		}
		if failed(reasons, 1) {
			return nil, identity.ErrClientNotFound
		}
		if failed(reasons, 2) {
			return nil, identity.Internal("delete client", errors.New("tenant client counter already at zero"))
		}
		// The registration changed (a secret was added or removed): read again.
	}
	return nil, identity.ErrConcurrentUpdate
}

func (d *Dynamo) deleteSecretRecords(ctx context.Context, secrets []identity.Secret) error {
	for start := 0; start < len(secrets); start += maxTransactItems {
		end := min(start+maxTransactItems, len(secrets))
		var items []types.TransactWriteItem
		for _, sec := range secrets[start:end] {
			items = append(items, types.TransactWriteItem{Delete: &types.Delete{TableName: &d.table, Key: key(clientPK(sec.ClientID), secretSK(sec.ID))}})
		}
		if _, err := d.transact(ctx, items); err != nil {
			return err
		}
	}
	return nil
}
