package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"

	"identityservice/shared/config"
	"identityservice/shared/eventbus"
	"identityservice/shared/identity"
	"identityservice/shared/store"
	"identityservice/shared/sweep"
	"identityservice/shared/vault"
)

// sweepRow is the sweep of one table size.
type sweepRow struct {
	records   int
	expired   int // per run
	seedTime  time.Duration
	itemsRead spread
	readUnits spread
	calls     spread
	seconds   spread
	counts    sweep.Counts // of the last run
	// The last run's calls, log and metrics (cost.go).
	use                usage
	logBytes, logLines float64
	metrics            int
}

// measureSweep seeds a table per size with secret records, 99% of them
// active (half never expire, half in one to two years: no warning is due),
// and before each run adds 1% more that expired half an hour ago, with
// material. Each run must sweep exactly those.
func (b *bench) measureSweep(ctx context.Context) error {
	for _, n := range b.o.sweepSizes {
		row, err := b.sweepSize(ctx, n)
		if err != nil {
			return fmt.Errorf("%d records: %w", n, err)
		}
		b.rep.sweeps = append(b.rep.sweeps, row)
	}
	return nil
}

func (b *bench) sweepSize(ctx context.Context, n int) (sweepRow, error) {
	row := sweepRow{records: n, expired: max(n/100, 1)}
	table := fmt.Sprintf("bench-sweep-%d", n)
	if err := b.s.createTable(ctx, table); err != nil {
		return row, err
	}
	tenant := identity.NewID()
	now := time.Now().UTC()
	secret := func(i int) identity.Secret {
		return identity.Secret{TenantID: tenant, ClientID: fmt.Sprintf("%08x-0000-4000-8000-%012x", i/10, i/10), ID: identity.NewID(),
			Kind: identity.ClientCredential, CreatedAt: now.Add(-400 * sweep.Day)}
	}
	active := make([]identity.Secret, 0, n-row.expired)
	for i := range n - row.expired {
		s := secret(i)
		if i%2 == 1 {
			exp := now.Add(time.Duration(365+i%365) * sweep.Day)
			s.Expiration = &exp
		}
		active = append(active, s)
	}
	b.log("  seeding %d records", len(active))
	t0 := time.Now()
	if err := b.seedRecords(ctx, table, active); err != nil {
		return row, err
	}
	row.seedTime = time.Since(t0)

	cfg := b.s.cfg
	cfg.Table, cfg.SecretPrefix = table, table
	material := vault.New(b.s.metered.SecretsManager, cfg.SecretPrefix)
	events := eventbus.New(eventbridge.NewFromConfig(b.s.awsCfg), config.DefaultEventBus, config.DefaultEventSource)
	var logged logCapture
	quiet := slog.New(slog.NewJSONHandler(&logged, nil))
	sw := cfg.Sweeper(b.s.metered, events, sweep.DefaultSettings(), quiet, quiet)
	for run := range b.o.runs {
		past := time.Now().Add(-30 * time.Minute)
		expired := make([]identity.Secret, row.expired)
		for i := range expired {
			expired[i] = secret(n + run*row.expired + i)
			expired[i].Expiration = &past
		}
		if err := b.seedRecords(ctx, table, expired); err != nil {
			return row, err
		}
		// moto answers an occasional 500 under this load: retry a few times.
		err := parallel(len(expired), 4, func(i int) error {
			s := expired[i]
			var err error
			for attempt := 1; attempt <= 5; attempt++ {
				if err = material.PutVerifier(ctx, identity.MaterialRef{TenantID: s.TenantID, ClientID: s.ClientID, SecretID: s.ID}, identity.Verifier(identity.MaterialRef{TenantID: s.TenantID, ClientID: s.ClientID, SecretID: s.ID}, "bench")); err == nil {
					return nil
				}
				time.Sleep(time.Duration(attempt) * 200 * time.Millisecond)
			}
			return err
		})
		if err != nil {
			return row, fmt.Errorf("material: %w", err)
		}
		b.s.meter.take()
		logged.take()
		t0 := time.Now()
		c, err := sw.Run(ctx)
		took := time.Since(t0)
		u := b.s.meter.take()
		if err != nil {
			return row, err
		}
		if c.Expired != row.expired || c.Failed != 0 || c.Unfinished {
			return row, fmt.Errorf("run %d swept %+v; want Expired %d, nothing failed or left", run+1, c, row.expired)
		}
		row.counts = c
		row.use = u
		row.logBytes, row.logLines = logged.take()
		row.metrics = logged.metrics()
		row.itemsRead = append(row.itemsRead, float64(u.ItemsRead))
		row.readUnits = append(row.readUnits, u.ReadUnits)
		row.calls = append(row.calls, float64(u.total()))
		row.seconds = append(row.seconds, took.Seconds())
	}
	return row, nil
}

// seedRecords writes secret records straight to the table, 25 per
// BatchWriteItem, on 8 connections.
func (b *bench) seedRecords(ctx context.Context, table string, secs []identity.Secret) error {
	batches := (len(secs) + 24) / 25
	return parallel(batches, 8, func(i int) error {
		var reqs []types.WriteRequest
		for _, s := range secs[i*25 : min(i*25+25, len(secs))] {
			reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: store.SecretRecordItem(s)}})
		}
		req := map[string][]types.WriteRequest{table: reqs}
		for len(req) > 0 {
			out, err := b.s.raw.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: req})
			if err != nil {
				return err
			}
			req = out.UnprocessedItems
		}
		return nil
	})
}
