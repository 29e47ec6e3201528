// Package tableops is the operator's tooling on the table, beside the
// admin CLI (infra/admin): the migration of items written by earlier
// versions of the store, and bulk loads of test and benchmark data. Both
// write items below the store's aggregates (shared/store), through the
// table's layout (shared/store/layout), with operator credentials.
package tableops

import (
	"context"
	"fmt"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"identityservice/shared/identity"
	"identityservice/shared/store/layout"
)

// BatchWriter is the part of the DynamoDB client a bulk load uses.
type BatchWriter interface {
	BatchWriteItem(context.Context, *dynamodb.BatchWriteItemInput, ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error)
	UpdateItem(context.Context, *dynamodb.UpdateItemInput, ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
}

// BulkLoadClients writes clients (without secrets) of one existing tenant
// straight to the table, with BatchWriteItem on a few connections, then
// adds them to the tenant's counters: the items CreateClient writes, for
// test and benchmark data sets of thousands of clients. It is not
// transactional and ignores the client limit: use it only on a tenant
// nothing else writes meanwhile. Each client's Seq must be set, unique in
// the tenant and above the tenant's LastSeq.
func BulkLoadClients(ctx context.Context, api BatchWriter, table, tenantID string, clients []identity.Client) error {
	var items []item
	counts := map[identity.ClientKind]int64{}
	var last int64
	for _, c := range clients {
		if c.TenantID != tenantID || c.Seq <= 0 {
			return fmt.Errorf("bulk load: client %s: want tenant %s and a positive Seq", c.ID, tenantID)
		}
		items = append(items, layout.ClientItem(c), layout.OrderItem(c))
		for _, tag := range c.Tags {
			items = append(items, layout.TagItem(c, tag))
		}
		reg := layout.RegistrationItem(c, identity.Secret{})
		reg[layout.AttrSecrets] = &types.AttributeValueMemberM{Value: item{}}
		reg[layout.AttrRecordCount] = layout.N(0)
		items = append(items, reg)
		counts[c.Kind]++
		last = max(last, c.Seq)
	}
	if err := batchWrite(ctx, api, table, items); err != nil {
		return err
	}
	names := map[string]string{}
	values := item{":last": layout.N(last), ":total": layout.N(int64(len(clients)))}
	update := "SET LastSeq = :last, ClientCount = ClientCount + :total"
	for kind, c := range counts {
		alias := "#k" + fmt.Sprint(int(kind))
		names[alias] = layout.KindCountAttr(kind)
		values[":k"+fmt.Sprint(int(kind))] = layout.N(c)
		update += ", " + alias + " = " + alias + " + :k" + fmt.Sprint(int(kind))
	}
	_, err := api.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: &table, Key: layout.Key(layout.TenantPK(tenantID), layout.SkTenant),
		UpdateExpression: aws.String(update), ConditionExpression: aws.String("attribute_exists(PK) AND LastSeq < :last"),
		ExpressionAttributeNames: names, ExpressionAttributeValues: values})
	if err != nil {
		return fmt.Errorf("bulk load: tenant counters: %w", err)
	}
	return nil
}

// item is a stored item.
type item = layout.Item

// batchWrite puts items, 25 per BatchWriteItem, on four connections.
func batchWrite(ctx context.Context, api BatchWriter, table string, items []item) error {
	work := make(chan []types.WriteRequest)
	errs := make(chan error, 4)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for b := range work {
				req := map[string][]types.WriteRequest{table: b}
				for len(req) > 0 {
					out, err := api.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: req})
					if err != nil {
						errs <- err
						return
					}
					req = out.UnprocessedItems
				}
			}
		})
	}
	for start := 0; start < len(items); start += 25 {
		var b []types.WriteRequest
		for _, it := range items[start:min(start+25, len(items))] {
			b = append(b, types.WriteRequest{PutRequest: &types.PutRequest{Item: it}})
		}
		select {
		case work <- b:
		case err := <-errs:
			close(work)
			wg.Wait()
			return fmt.Errorf("bulk load: %w", err)
		}
	}
	close(work)
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return fmt.Errorf("bulk load: %w", err)
	}
	return nil
}
