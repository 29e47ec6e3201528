package sweep_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"identityservice/infra/testenv/meter"
	"identityservice/shared/identity"
	"identityservice/shared/store"
	"identityservice/shared/store/layout"
	"identityservice/shared/sweep"
)

// seed writes secret records straight to the table, 25 per BatchWriteItem,
// on a few connections.
func seed(t *testing.T, ctx context.Context, table string, secs []identity.Secret) {
	t.Helper()
	var batches [][]types.WriteRequest
	for start := 0; start < len(secs); start += 25 {
		var b []types.WriteRequest
		for _, sec := range secs[start:min(start+25, len(secs))] {
			b = append(b, types.WriteRequest{PutRequest: &types.PutRequest{Item: store.SecretRecordItem(sec)}})
		}
		batches = append(batches, b)
	}
	work := make(chan []types.WriteRequest)
	errs := make(chan error, 4)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for b := range work {
				req := map[string][]types.WriteRequest{table: b}
				for len(req) > 0 {
					out, err := env.Clients.DynamoDB.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: req})
					if err != nil {
						errs <- err
						return
					}
					req = out.UnprocessedItems
				}
			}
		})
	}
	for _, b := range batches {
		work <- b
	}
	close(work)
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		t.Fatalf("seed: %v", err)
	}
}

// A sweep reads what it has to do, not the table: among 2,000 secret
// records of which 20 have expired, the expiry steps read the 20 (and the
// queues' empty pages); the reconciliation walks read at most their batch
// (100), however large the table. 2,000 is ten times what the bounds
// below allow, and enough to spread each queue over all its shards; the
// sizes of make bench measure the cost at 100,000.
func TestSweepReadsProportionalToTheWork(t *testing.T) {
	if testing.Short() {
		t.Skip("seeds 2,000 records")
	}
	const total, expired = 2000, 20
	f := newFixture(t)
	now := f.base.Add(time.Hour)
	past := now.Add(-30 * time.Minute)
	secs := make([]identity.Secret, 0, total)
	for i := range total {
		sec := identity.Secret{TenantID: f.tenant, ClientID: fmt.Sprintf("%08x-0000-4000-8000-%012x", i/10, i/10), ID: identity.NewID(),
			Kind: identity.ClientCredential, CreatedAt: f.base.Add(-400 * sweep.Day)}
		switch {
		case i%100 == 0: // 1% expired half an hour ago
			sec.Expiration = &past
		case i%2 == 0: // half of the rest never expire
		default: // the other half expire in one to two years
			sec.Expiration = at(now.Add(time.Duration(365+i%365) * sweep.Day))
		}
		secs = append(secs, sec)
	}
	began := time.Now()
	seed(t, f.ctx, f.table, secs)
	var expiredSecs []identity.Secret
	for _, sec := range secs {
		if sec.Expiration != nil && sec.Expiration.Equal(past) {
			expiredSecs = append(expiredSecs, sec)
			if err := f.vault.PutVerifier(f.ctx, sec.Ref(), identity.Verifier(sec.Ref(), "x")); err != nil {
				t.Fatal(err)
			}
		}
	}
	t.Logf("seeded %d records (%d expired, with material) in %s", total, len(expiredSecs), time.Since(began).Round(time.Millisecond))

	api := meter.New(env.Clients.DynamoDB)
	f.clock.Set(now)

	// The expiry steps alone: purge, expire and warn.
	s := settings()
	s.ReconcileBatch = 0
	c, err := f.sweeperOn(s, "default", store.New(api, f.table).SweepQueue).Run(f.ctx)
	if err != nil {
		t.Fatal(err)
	}
	r := api.Reset()
	units, items, reads := r.Units, r.Items, r.Requests
	t.Logf("expiry steps: %d items read in %d requests, %.1f read capacity units, for %d expired secrets among %d records (Expired %d)",
		items, reads, units, expired, total, c.Expired)
	if c.Expired != expired || c.Failed != 0 {
		t.Fatalf("sweep: %+v, want Expired %d", c, expired)
	}
	// For scale: what reading the table would have cost (a test-only Scan).
	var scanUnits float64
	var scanned int32
	scan := &dynamodb.ScanInput{TableName: aws.String(f.table), Select: types.SelectCount, ReturnConsumedCapacity: types.ReturnConsumedCapacityTotal}
	for {
		out, err := env.Clients.DynamoDB.Scan(f.ctx, scan)
		if err != nil {
			t.Fatal(err)
		}
		scanned += out.ScannedCount
		scanUnits += aws.ToFloat64(out.ConsumedCapacity.CapacityUnits)
		if out.LastEvaluatedKey == nil {
			break
		}
		scan.ExclusiveStartKey = out.LastEvaluatedKey
	}
	t.Logf("for comparison, a Scan of the table reads %d items, %.1f read capacity units", scanned, scanUnits)
	if items > 2*expired {
		t.Fatalf("the expiry steps read %d items for %d expired secrets: not proportional to the work", items, expired)
	}
	// Every queue's shards are queried (one request each, reading nothing
	// when nothing is due), plus a page per shard with work.
	queues := 2 + sweep.MaxWarningWindows + 1 // swept, inbox, pending 0..5
	if limit := queues*layout.ExpiryShards + layout.ExpiryShards; reads > limit {
		t.Fatalf("the expiry steps made %d read requests; want at most %d (%d queues of %d shards, and a page per shard with work)", reads, limit, queues, layout.ExpiryShards)
	}
	// The records are spread over the shards: no index partition key
	// value takes every write.
	perPK := map[string]int{}
	spread := &dynamodb.ScanInput{TableName: aws.String(f.table), IndexName: aws.String(layout.ExpiryIndex), ProjectionExpression: aws.String("ExpiryPK")}
	for {
		out, err := env.Clients.DynamoDB.Scan(f.ctx, spread)
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range out.Items {
			perPK[it["ExpiryPK"].(*types.AttributeValueMemberS).Value]++
		}
		if out.LastEvaluatedKey == nil {
			break
		}
		spread.ExclusiveStartKey = out.LastEvaluatedKey
	}
	for _, queue := range []string{"NOEXPIRY", "EXPIRY"} {
		shards, most, sum := 0, 0, 0
		for shard := range layout.ExpiryShards {
			if c := perPK[fmt.Sprintf("%s#%02d", queue, shard)]; c > 0 {
				shards++
				most = max(most, c)
				sum += c
			}
		}
		t.Logf("queue %s: %d records over %d index partition key values, at most %d in one", queue, sum, shards, most)
		if shards < layout.ExpiryShards || most > 2*sum/layout.ExpiryShards+5 {
			t.Fatalf("queue %s: %d records on %d of %d shards, %d in the fullest: not spread", queue, sum, shards, layout.ExpiryShards, most)
		}
	}
	for _, sec := range expiredSecs[:5] {
		if f.materialExists(sec) {
			t.Fatalf("expired secret %s: material survived", sec.ID)
		}
	}

	// A whole run with reconciliation at its default batch: the walks read
	// a batch of records (plus a strongly consistent re-read of each
	// record that has no material: these seeded records have none), not
	// the table.
	s = settings()
	c, err = f.sweeperOn(s, "default", store.New(api, f.table).SweepQueue).Run(f.ctx)
	if err != nil {
		t.Fatal(err)
	}
	r = api.Reset()
	units, items, reads = r.Units, r.Items, r.Requests
	t.Logf("next run with reconciliation (batch %d): %d items read in %d requests, %.1f read capacity units (Expired %d, MaterialMissing %d)",
		s.ReconcileBatch, items, reads, units, c.Expired, c.MaterialMissing)
	if c.Expired != 0 {
		t.Fatalf("second run: %+v, want nothing expired again", c)
	}
	if limit := 2*s.ReconcileBatch + 10; items > limit {
		t.Fatalf("the run read %d items; want at most %d (twice the reconcile batch, plus the cursors)", items, limit)
	}
}
