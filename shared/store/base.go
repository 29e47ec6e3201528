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
	"identityservice/shared/store/layout"
)

// base is what every aggregate's type shares: the DynamoDB client and
// the table's name, and the writes and reads more than one aggregate
// makes (transactions, batch reads, a client's records). A new aggregate
// embeds it (see docs/storage.md).
type base struct {
	api   API
	table string
}

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

// maxTransactAttempts bounds retries of a transaction that DynamoDB
// cancelled for a conflict with another transaction.
const maxTransactAttempts = 4

// maxTransactItems is DynamoDB's limit on items in one transaction.
const maxTransactItems = 100

// transact runs a write transaction, retrying conflicts with jitter. It
// returns the cancellation reasons when conditions failed.
//
// Each attempt has its own ClientRequestToken (the SDK generates one when
// it is unset, and its own retries of an attempt reuse it, so a retried
// attempt whose first answer was lost is applied once). A cancelled
// attempt was not applied; the next one must not be mistaken for it.
func (d *base) transact(ctx context.Context, items []types.TransactWriteItem) ([]types.CancellationReason, error) {
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

func reasonCodes(reasons []types.CancellationReason) string {
	codes := make([]string, len(reasons))
	for i, r := range reasons {
		codes[i] = aws.ToString(r.Code)
	}
	return strings.Join(codes, ",")
}

// storageError turns an SDK error into a domain error: throttling and
// unavailability become ErrUnavailable, anything else is internal.
func storageError(op string, err error) error {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		switch ae.ErrorCode() {
		case "ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded", "InternalServerError", "ServiceUnavailable":
			return identity.Unavailable(err)
		}
	}
	return identity.Internal(op, err)
}

// conditional runs a conditional write and reports whether its condition
// held.
func conditional(op string, err error) (bool, error) {
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return false, nil
	}
	if err != nil {
		return false, storageError(op, err)
	}
	return true, nil
}

// batchGet reads up to 100 keys with strong consistency, retrying
// unprocessed keys.
func (d *base) batchGet(ctx context.Context, keys []item) ([]item, error) {
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
func (d *base) clientRecords(ctx context.Context, clientID string) (*layout.Registration, []identity.Secret, error) {
	in := &dynamodb.QueryInput{
		TableName:                 &d.table,
		KeyConditionExpression:    aws.String("PK = :pk"),
		ExpressionAttributeValues: item{":pk": layout.S(layout.ClientPK(clientID))},
		ConsistentRead:            aws.Bool(true),
	}
	var reg *layout.Registration
	var secrets []identity.Secret
	for {
		out, err := d.api.Query(ctx, in)
		if err != nil {
			return nil, nil, storageError("read client records", err)
		}
		for _, it := range out.Items {
			sk := it[layout.AttrSK].(*types.AttributeValueMemberS).Value
			switch {
			case sk == layout.SkRegistration && layout.IsTombstone(it):
				// A deleted client: no registration.
			case sk == layout.SkRegistration:
				r, err := layout.DecodeRegistration(it)
				if err != nil {
					return nil, nil, identity.Internal("decode registration "+clientID, err)
				}
				reg = &r
			case strings.HasPrefix(sk, layout.PrefixSecret):
				sec, err := layout.DecodeSecret(it)
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

// ownedClientRecords reads a client's registration and secrets (one
// Query); ErrClientNotFound when the client is not the tenant's or not of
// the kind.
func (d *base) ownedClientRecords(ctx context.Context, tenantID string, kind identity.ClientKind, clientID string) (*layout.Registration, []identity.Secret, error) {
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
func (d *base) tokenItem(ctx context.Context, clientID string) (*layout.Registration, error) {
	out, err := d.api.GetItem(ctx, &dynamodb.GetItemInput{TableName: &d.table, Key: layout.Key(layout.ClientPK(clientID), layout.SkRegistration), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return nil, storageError("get registration", err)
	}
	if out.Item == nil || layout.IsTombstone(out.Item) {
		return nil, nil
	}
	reg, err := layout.DecodeRegistration(out.Item)
	if err != nil {
		return nil, identity.Internal("decode registration "+clientID, err)
	}
	if !reg.TokenItem {
		return nil, identity.Internal("read registration "+clientID, errors.New("the registration predates the token item: run the migration (admin migrate)"))
	}
	return &reg, nil
}

// forget is the token item's side of a secret leaving it (delete, soft
// delete, the sweeper's purge): its entry goes, and SecretsVersion moves on; with removed, its
// record goes too, and RecordCount goes down by one (on the condition that
// the item has it: see uncounted).
func (d *base) forget(clientID, secretID string, removed bool) types.TransactWriteItem {
	update, cond := "REMOVE Secrets.#s SET SecretsVersion = SecretsVersion + :one", "attribute_exists(PK)"
	values := item{":one": layout.N(1)}
	if removed {
		update += ", RecordCount = RecordCount - :one"
		cond += " AND RecordCount > :zero"
		values[":zero"] = layout.N(0)
	}
	return types.TransactWriteItem{Update: &types.Update{TableName: &d.table, Key: layout.Key(layout.ClientPK(clientID), layout.SkRegistration),
		UpdateExpression:          aws.String(update),
		ConditionExpression:       aws.String(cond),
		ExpressionAttributeNames:  map[string]string{"#s": secretID},
		ExpressionAttributeValues: values}}
}

// uncounted is the decrement of RecordCount that a removal of n records
// carries in its transaction, on the condition that the count is there
// (and covers them); a transaction that fails on it alone is repeated
// without it (transactCounted).
func (d *base) uncounted(clientID string, records int) types.TransactWriteItem {
	return types.TransactWriteItem{Update: &types.Update{TableName: &d.table, Key: layout.Key(layout.ClientPK(clientID), layout.SkRegistration),
		UpdateExpression:          aws.String("SET RecordCount = RecordCount - :n"),
		ConditionExpression:       aws.String("RecordCount >= :n"),
		ExpressionAttributeValues: item{":n": layout.N(int64(records))}}}
}

// transactCounted runs a transaction whose item at counter decrements
// RecordCount. If only that item's condition failed (the token item has
// no count: written before it existed, so the next add counts the records
// anyway; or none at all: the client is gone), it runs again with alt at
// that place, or without it when alt is nil.
func (d *base) transactCounted(ctx context.Context, items []types.TransactWriteItem, counter int, alt *types.TransactWriteItem) ([]types.CancellationReason, error) {
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

// item is a stored item (the layout package encodes and decodes them).
type item = layout.Item
