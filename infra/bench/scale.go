package main

import (
	"context"
	"errors"
	"fmt"
	"net/url"

	"identityservice/shared/identity"
)

// scaleRow is one size of a scaling figure: a warm request's AWS calls and
// units, and its latency at concurrency 1.
type scaleRow struct {
	size int
	what string
	cost usage
	p50  spread
}

// noMaterial is the vault of bulk-seeded clients: their material is not
// written (they never authenticate), which keeps seeding 20,000 clients to
// the DynamoDB writes the data model makes.
type noMaterial struct{}

func (noMaterial) PutVerifier(context.Context, identity.MaterialRef, []byte) error { return nil }
func (noMaterial) DeleteVerifier(context.Context, identity.MaterialRef) error      { return nil }
func (noMaterial) Verifier(context.Context, identity.MaterialRef) ([]byte, error) {
	return nil, errors.New("bulk-seeded client: no material")
}

// seedTenant creates n Client Credential clients in a new tenant through
// the store (16 at a time, without material: see seeder), tagged t0..t9 in
// turn.
func (b *bench) seedTenant(ctx context.Context, n int) (string, error) {
	seeder := b.seeder()
	seeder.DefaultClientLimit = max(identity.DefaultClientLimit, n+1)
	t, err := seeder.CreateTenant(ctx, identity.NewID(), fmt.Sprintf("bench %d clients", n), 0)
	if err != nil {
		return "", err
	}
	err = parallel(n, 16, func(i int) error {
		_, err := seeder.CreateClient(ctx, t.ID, identity.NewClient{Kind: identity.ClientCredential, Name: fmt.Sprintf("seed-%d", i), Tags: []string{fmt.Sprintf("t%d", i%10)}})
		return err
	})
	return t.ID, err
}

// measureOne returns the AWS calls of a warm request and its latency over
// the runs (n requests each, concurrency 1).
func (b *bench) measureOne(ctx context.Context, f *function, req request, n int) (usage, spread, error) {
	ev := req.event()
	for range 2 {
		b.s.meter.take()
		resp, err := f.invoke(ctx, ev)
		if err == nil && (resp.StatusCode < 200 || resp.StatusCode > 299) {
			err = fmt.Errorf("%s answered %d: %s", f.name, resp.StatusCode, truncate(resp.Body, 300))
		}
		if err != nil {
			return usage{}, nil, err
		}
	}
	cost := b.s.meter.take()
	var p50 spread
	for range b.o.runs {
		res, err := b.load(ctx, f, split(1, n, func(int, int) request { return req }))
		if err != nil {
			return usage{}, nil, err
		}
		p50 = append(p50, toMS(res.pct(50)))
	}
	return cost, p50, nil
}

// measureListScale lists 10 clients, and 10 clients of one tag (a tenth of
// the tenant carries it), in tenants of each size (plus the tenant's own
// Account Administrator, the caller: a tenant role acts in its own tenant
// only).
func (b *bench) measureListScale(ctx context.Context) error {
	f := b.s.fn("functions/clientcredentialclients")
	for _, n := range b.o.tenantSizes {
		b.log("  tenant of %d clients", n)
		tenant, err := b.seedTenant(ctx, n)
		if err != nil {
			return fmt.Errorf("seed %d clients: %w", n, err)
		}
		cl, err := b.newCaller(ctx, tenant)
		if err != nil {
			return err
		}
		for _, q := range []struct {
			what  string
			query url.Values
		}{
			{"count=10", url.Values{"count": {"10"}}},
			{"count=10&tags=t3", url.Values{"count": {"10"}, "tags": {"t3"}}},
		} {
			cost, p50, err := b.measureOne(ctx, f, b.get(cl, fmt.Sprintf(ocsCCC, tenant), q.query), 20)
			if err != nil {
				return fmt.Errorf("list %s in a tenant of %d: %w", q.what, n, err)
			}
			b.rep.listScale = append(b.rep.listScale, scaleRow{size: n, what: q.what, cost: cost, p50: p50})
		}
	}
	return nil
}

// measureTokenScale requests tokens for clients with 0, 10, 100 retained
// records: secrets added and then soft-deleted (Key Rotation DELETE), which
// stay stored until the retention period has passed.
func (b *bench) measureTokenScale(ctx context.Context) error {
	f := b.s.fn("functions/token")
	tenant := b.fx.write.tenant
	for _, n := range b.o.retained {
		b.log("  client with %d retained secrets", n)
		cs, err := b.newAuthClients(ctx, tenant, identity.ClientCredential, 1)
		if err != nil {
			return err
		}
		c := cs[0]
		seeder := b.seeder()
		for i := range n {
			s, err := seeder.AddSecret(ctx, tenant, identity.ClientCredential, c.id, "retained", "Description", nil, "Expiration")
			if err != nil {
				return fmt.Errorf("retained secret %d: %w", i+1, err)
			}
			if _, err := seeder.SoftDeleteSecret(ctx, tenant, identity.ClientCredential, c.id, s.Secret.ID); err != nil {
				return fmt.Errorf("retained secret %d: %w", i+1, err)
			}
		}
		cost, p50, err := b.measureOne(ctx, f, tokenRequest(c.id, c.secret), 20)
		if err != nil {
			return fmt.Errorf("token with %d retained records: %w", n, err)
		}
		b.rep.tokenScale = append(b.rep.tokenScale, scaleRow{size: n, what: "token", cost: cost, p50: p50})
	}
	return nil
}
