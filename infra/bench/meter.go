package main

import (
	"context"
	"sort"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go/middleware"
)

// meter is an SDK middleware that counts every AWS call the service makes
// and, for DynamoDB, asks for (ReturnConsumedCapacity TOTAL) and adds up
// the capacity units each call consumed. The bench reads it around one
// operation at a time.
type meter struct {
	mu    sync.Mutex
	calls map[string]int // "DynamoDB.GetItem" -> calls
	read  float64        // read capacity units
	write float64        // write capacity units
	items int            // items returned by reads
}

// register adds the meter to a client's middleware stack (aws.Config.APIOptions).
func (m *meter) register(s *middleware.Stack) error {
	return s.Initialize.Add(middleware.InitializeMiddlewareFunc("BenchMeter",
		func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
			askCapacity(in.Parameters)
			out, md, err := next.HandleInitialize(ctx, in)
			units, items, isRead := consumed(out.Result)
			m.mu.Lock()
			m.calls[awsmiddleware.GetServiceID(ctx)+"."+awsmiddleware.GetOperationName(ctx)]++
			if isRead {
				m.read += units
				m.items += items
			} else {
				m.write += units
			}
			m.mu.Unlock()
			return out, md, err
		}), middleware.After)
}

// askCapacity sets ReturnConsumedCapacity on every DynamoDB input that has it.
func askCapacity(params any) {
	const total = types.ReturnConsumedCapacityTotal
	switch in := params.(type) {
	case *dynamodb.GetItemInput:
		in.ReturnConsumedCapacity = total
	case *dynamodb.BatchGetItemInput:
		in.ReturnConsumedCapacity = total
	case *dynamodb.QueryInput:
		in.ReturnConsumedCapacity = total
	case *dynamodb.ScanInput:
		in.ReturnConsumedCapacity = total
	case *dynamodb.TransactGetItemsInput:
		in.ReturnConsumedCapacity = total
	case *dynamodb.PutItemInput:
		in.ReturnConsumedCapacity = total
	case *dynamodb.UpdateItemInput:
		in.ReturnConsumedCapacity = total
	case *dynamodb.DeleteItemInput:
		in.ReturnConsumedCapacity = total
	case *dynamodb.BatchWriteItemInput:
		in.ReturnConsumedCapacity = total
	case *dynamodb.TransactWriteItemsInput:
		in.ReturnConsumedCapacity = total
	}
}

// consumed returns the capacity units of a DynamoDB result, the items a read
// returned, and whether it was a read.
func consumed(result any) (units float64, items int, isRead bool) {
	sum := func(cs []types.ConsumedCapacity) float64 {
		var u float64
		for _, c := range cs {
			u += aws.ToFloat64(c.CapacityUnits)
		}
		return u
	}
	one := func(c *types.ConsumedCapacity) float64 {
		if c == nil {
			return 0
		}
		return aws.ToFloat64(c.CapacityUnits)
	}
	switch out := result.(type) {
	case *dynamodb.GetItemOutput:
		if out.Item != nil {
			items = 1
		}
		return one(out.ConsumedCapacity), items, true
	case *dynamodb.BatchGetItemOutput:
		for _, its := range out.Responses {
			items += len(its)
		}
		return sum(out.ConsumedCapacity), items, true
	case *dynamodb.QueryOutput:
		return one(out.ConsumedCapacity), int(out.ScannedCount), true
	case *dynamodb.ScanOutput:
		return one(out.ConsumedCapacity), int(out.ScannedCount), true
	case *dynamodb.TransactGetItemsOutput:
		return sum(out.ConsumedCapacity), len(out.Responses), true
	case *dynamodb.PutItemOutput:
		return one(out.ConsumedCapacity), 0, false
	case *dynamodb.UpdateItemOutput:
		return one(out.ConsumedCapacity), 0, false
	case *dynamodb.DeleteItemOutput:
		return one(out.ConsumedCapacity), 0, false
	case *dynamodb.BatchWriteItemOutput:
		return sum(out.ConsumedCapacity), 0, false
	case *dynamodb.TransactWriteItemsOutput:
		return sum(out.ConsumedCapacity), 0, false
	}
	return 0, 0, false
}

// usage is what one operation cost.
type usage struct {
	Calls      map[string]int
	ReadUnits  float64
	WriteUnits float64
	ItemsRead  int
}

// total is the number of AWS calls.
func (u usage) total() int {
	n := 0
	for _, c := range u.Calls {
		n += c
	}
	return n
}

// of returns the calls to one service ("DynamoDB", "Secrets Manager").
func (u usage) of(service string) int {
	n := 0
	for k, c := range u.Calls {
		if strings.HasPrefix(k, service+".") {
			n += c
		}
	}
	return n
}

// String lists the calls, e.g. "DynamoDB.Query ×1, Secrets Manager.CreateSecret ×1".
func (u usage) String() string {
	keys := make([]string, 0, len(u.Calls))
	for k := range u.Calls {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + " ×" + itoa(u.Calls[k])
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}

// take returns what was counted since the last take and starts again.
func (m *meter) take() usage {
	m.mu.Lock()
	defer m.mu.Unlock()
	u := usage{Calls: m.calls, ReadUnits: m.read, WriteUnits: m.write, ItemsRead: m.items}
	m.calls, m.read, m.write, m.items = map[string]int{}, 0, 0, 0
	return u
}

func newMeter() *meter { return &meter{calls: map[string]int{}} }
