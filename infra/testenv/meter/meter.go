// Package meter counts what DynamoDB requests read, for tests that hold
// read costs: it wraps the real client (the store's API), asks every read
// for its consumed capacity, and adds up requests, items and read units.
package meter

import (
	"context"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Reads is what a span of requests read.
type Reads struct {
	Requests     int     // read requests (GetItem, BatchGetItem, Query)
	Items        int     // items read: returned by GetItem and BatchGetItem, scanned by Query
	Units        float64 // read capacity units consumed
	Inconsistent int     // read requests that were not strongly consistent
	Writes       int     // write requests (Put, Update, Delete, TransactWrite)
}

// DynamoDB is a metered DynamoDB client.
type DynamoDB struct {
	*dynamodb.Client
	mu    sync.Mutex
	reads Reads
}

// New meters c.
func New(c *dynamodb.Client) *DynamoDB { return &DynamoDB{Client: c} }

// Reset returns what was read since the last Reset and starts over.
func (m *DynamoDB) Reset() Reads {
	m.mu.Lock()
	defer m.mu.Unlock()
	r := m.reads
	m.reads = Reads{}
	return r
}

func (m *DynamoDB) read(cc []types.ConsumedCapacity, items int, consistent *bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.reads.Requests++
	m.reads.Items += items
	for _, c := range cc {
		m.reads.Units += aws.ToFloat64(c.CapacityUnits)
	}
	if !aws.ToBool(consistent) {
		m.reads.Inconsistent++
	}
}

func (m *DynamoDB) wrote() {
	m.mu.Lock()
	m.reads.Writes++
	m.mu.Unlock()
}

func one(cc *types.ConsumedCapacity) []types.ConsumedCapacity {
	if cc == nil {
		return nil
	}
	return []types.ConsumedCapacity{*cc}
}

// GetItem reads and meters.
func (m *DynamoDB) GetItem(ctx context.Context, in *dynamodb.GetItemInput, o ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	in.ReturnConsumedCapacity = types.ReturnConsumedCapacityTotal
	out, err := m.Client.GetItem(ctx, in, o...)
	if err == nil {
		n := 0
		if out.Item != nil {
			n = 1
		}
		m.read(one(out.ConsumedCapacity), n, in.ConsistentRead)
	}
	return out, err
}

// BatchGetItem reads and meters.
func (m *DynamoDB) BatchGetItem(ctx context.Context, in *dynamodb.BatchGetItemInput, o ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error) {
	in.ReturnConsumedCapacity = types.ReturnConsumedCapacityTotal
	out, err := m.Client.BatchGetItem(ctx, in, o...)
	if err == nil {
		n := 0
		for _, items := range out.Responses {
			n += len(items)
		}
		consistent := true
		for _, ka := range in.RequestItems {
			consistent = consistent && aws.ToBool(ka.ConsistentRead)
		}
		m.read(out.ConsumedCapacity, n, &consistent)
	}
	return out, err
}

// Query reads and meters; items are those the query examined.
func (m *DynamoDB) Query(ctx context.Context, in *dynamodb.QueryInput, o ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	in.ReturnConsumedCapacity = types.ReturnConsumedCapacityTotal
	out, err := m.Client.Query(ctx, in, o...)
	if err == nil {
		consistent := in.ConsistentRead
		if in.IndexName != nil {
			consistent = aws.Bool(true) // an index cannot be read strongly; not counted against it
		}
		m.read(one(out.ConsumedCapacity), int(out.ScannedCount), consistent)
	}
	return out, err
}

// PutItem writes and counts.
func (m *DynamoDB) PutItem(ctx context.Context, in *dynamodb.PutItemInput, o ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	m.wrote()
	return m.Client.PutItem(ctx, in, o...)
}

// UpdateItem writes and counts.
func (m *DynamoDB) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, o ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	m.wrote()
	return m.Client.UpdateItem(ctx, in, o...)
}

// DeleteItem writes and counts.
func (m *DynamoDB) DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, o ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error) {
	m.wrote()
	return m.Client.DeleteItem(ctx, in, o...)
}

// TransactWriteItems writes and counts.
func (m *DynamoDB) TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, o ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	m.wrote()
	return m.Client.TransactWriteItems(ctx, in, o...)
}
