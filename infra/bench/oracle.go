package main

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"identityservice/shared/identity"
)

// The client-id oracle (docs/SECURITY.md): a failed client authentication
// must take as long for an unknown id as for a known id with a wrong
// secret, with the verifier cache cold (the known id's first request in
// the process: a Secrets Manager read) and warm. The token function holds
// every failure to a floor (AUTH_FAILURE_FLOOR, identity.FailureFloor)
// above the slowest failure; this measures both paths with the floor the
// function runs with, and without it (floor 1 ns) to show what it hides.
//
// Cold is each known client's first wrong-secret request to the token
// function's process (its verifier was never read there); warm is its
// second. Requests go one at a time, the two paths interleaved, so load
// on the machine falls on both alike.

type oraclePath struct {
	name       string
	cold, warm []time.Duration
}

type oracleResult struct {
	floor   time.Duration
	n       int
	floored []oraclePath // wrong secret, unknown id
	bare    []oraclePath // the same without the floor
}

func (b *bench) measureOracle(ctx context.Context) error {
	n := b.o.oracleN
	tok := b.s.fn("functions/token")
	svc := tok.app.Service
	res := &oracleResult{floor: svc.FailureFloor(), n: n}
	tenant, err := b.newTenant(ctx, "oracle")
	if err != nil {
		return err
	}
	run := func() ([]oraclePath, error) {
		clients, err := b.newAuthClients(ctx, tenant, identity.ClientCredential, n)
		if err != nil {
			return nil, err
		}
		wrong, unknown := oraclePath{name: "known id, wrong secret"}, oraclePath{name: "unknown id"}
		for _, warm := range []bool{false, true} {
			for _, c := range clients {
				for _, p := range []*oraclePath{&wrong, &unknown} {
					id := c.id
					if p == &unknown {
						id = identity.NewID()
					}
					t0 := time.Now()
					resp, err := tok.invoke(ctx, tokenRequest(id, "not-the-secret-"+identity.NewID()).event())
					d := time.Since(t0)
					if err != nil {
						return nil, err
					}
					if resp.StatusCode != 401 {
						return nil, fmt.Errorf("%s: status %d, want 401: %s", p.name, resp.StatusCode, resp.Body)
					}
					if warm {
						p.warm = append(p.warm, d)
					} else {
						p.cold = append(p.cold, d)
					}
				}
			}
		}
		return []oraclePath{wrong, unknown}, nil
	}
	if res.floored, err = run(); err != nil {
		return err
	}
	configured := svc.AuthFailureFloor
	svc.AuthFailureFloor = time.Nanosecond
	defer func() { svc.AuthFailureFloor = configured }()
	if res.bare, err = run(); err != nil {
		return err
	}
	b.rep.oracle = res
	return nil
}

// pctOf is the p-th percentile (nearest rank) of ds in milliseconds.
func pctOf(ds []time.Duration, p float64) float64 {
	s := slices.Clone(ds)
	slices.Sort(s)
	i := int(p*float64(len(s))+0.5) - 1
	return toMS(s[min(max(i, 0), len(s)-1)])
}

func (r *report) oracleTable(b *strings.Builder) {
	o := r.oracle
	if o == nil {
		return
	}
	p := func(format string, args ...any) { fmt.Fprintf(b, format, args...) }
	p("## Client-id oracle: failed authentications, cold and warm\n\n")
	p("A failed token request must not tell an unknown client id from a known one with a wrong secret. ")
	p("%d requests of each path, cold (the known client's first request to the token function's process: its verifier is read from Secrets Manager) ", o.n)
	p("and warm (its second: the verifier is cached), one at a time, the paths interleaved. With the floor, every failure is held until ")
	p("AUTH_FAILURE_FLOOR (here %s, the default) after it began; without it (1 ns) is what the floor hides. Milliseconds.\n\n", o.floor)
	rows := [][]string{}
	add := func(label string, ps []oraclePath) {
		for _, x := range ps {
			rows = append(rows, []string{label, x.name, ms(pctOf(x.cold, 0.5)), ms(pctOf(x.cold, 0.9)), ms(pctOf(x.warm, 0.5)), ms(pctOf(x.warm, 0.9))})
		}
		d := func(f func(oraclePath) []time.Duration, q float64) string {
			return ms(pctOf(f(ps[0]), q) - pctOf(f(ps[1]), q))
		}
		cold := func(x oraclePath) []time.Duration { return x.cold }
		warm := func(x oraclePath) []time.Duration { return x.warm }
		rows = append(rows, []string{label, "**difference**", "**" + d(cold, 0.5) + "**", "**" + d(cold, 0.9) + "**", "**" + d(warm, 0.5) + "**", "**" + d(warm, 0.9) + "**"})
	}
	add(fmt.Sprintf("floor %s", o.floor), o.floored)
	add("no floor", o.bare)
	mdTable(b, []string{"", "path", "cold median", "cold p90", "warm median", "warm p90"}, rows)
	slowest := slices.Max(append(slices.Clone(o.bare[0].cold), o.bare[1].cold...))
	p("The slowest failure without the floor took %s ms (the floor must stay above it: on AWS a cold Secrets Manager read is 10–16 ms; ", ms(toMS(slowest)))
	p("the verifiers of a client's secrets are read at once, so ten secrets cost one read's time). The success path is not held (see the token rows above).\n\n")
}
