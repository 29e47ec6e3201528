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
			case sk == skRegistration && isTombstone(it):
				// A deleted client: no registration.
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
