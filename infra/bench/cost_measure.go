package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"sync"
)

// logCapture counts the bytes and lines of a log and keeps its last
// embedded-metric-format line (the sweeper's summary).
type logCapture struct {
	byteCounter
	mu  sync.Mutex
	emf []byte
}

func (c *logCapture) Write(p []byte) (int, error) {
	c.byteCounter.Write(p)
	if bytes.Contains(p, []byte(`"CloudWatchMetrics"`)) {
		c.mu.Lock()
		c.emf = bytes.Clone(p)
		c.mu.Unlock()
	}
	return len(p), nil
}

// metrics is the number of metrics the last summary line declares.
func (c *logCapture) metrics() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	var line struct {
		AWS struct {
			CloudWatchMetrics []struct {
				Metrics []json.RawMessage `json:"Metrics"`
			} `json:"CloudWatchMetrics"`
		} `json:"_aws"`
	}
	if json.Unmarshal(c.emf, &line) != nil {
		return 0
	}
	n := 0
	for _, d := range line.AWS.CloudWatchMetrics {
		n += len(d.Metrics)
	}
	return n
}

// measureDollars turns what this run measured into dollars: per route,
// and the monthly bills of the reference workloads. It runs after the
// routes' costs, latencies and the sweeps were measured, and adds what a
// new instance costs beyond a warm request and the table's bytes.
func (b *bench) measureDollars(ctx context.Context) error {
	prices, err := loadPrices()
	if err != nil {
		return err
	}
	mem, err := memorySizes(b.s.root)
	if err != nil {
		return err
	}
	m := &costModel{prices: prices, routes: map[string]*routeModel{}}
	for _, r := range b.rep.routes {
		key := r.label()
		in := requestInput{use: r.cost, logBytes: r.logBytes, logEvents: r.logLines,
			cpuMS: r.cpuC1.median(), wallMS: r.p50[0].median(), memoryMB: mem[r.fn]}
		lines, dur := prices.requestCost(in)
		m.routes[key] = &routeModel{key: key, function: r.fn, in: in, durMS: dur, lines: lines}
		m.order = append(m.order, key)
	}
	if m.storage, err = b.measureStorage(ctx); err != nil {
		return fmt.Errorf("table bytes: %w", err)
	}
	if err := b.measureInstanceCosts(ctx, m); err != nil {
		return err
	}
	if len(b.rep.sweeps) > 0 {
		last := b.rep.sweeps[len(b.rep.sweeps)-1]
		m.sweep = &sweepCost{records: last.records, use: last.use, seconds: last.seconds.median(),
			logBytes: last.logBytes, logLines: last.logLines, metrics: last.metrics, memoryMB: mem["SweeperFunction"]}
	}
	b.rep.dollars = m
	return nil
}

// measureInstanceCosts measures, on new instances of the token function
// and of a bearer-checking function, what a first request costs beyond a
// warm one: the signing key set or the published keys (read again once a
// minute), and a verifier fetched on a cache miss.
func (b *bench) measureInstanceCosts(ctx context.Context, m *costModel) error {
	tok, err := b.s.freshFunction("functions/token")
	if err != nil {
		return err
	}
	call := func(f *function, req request) (usage, error) {
		b.s.meter.take()
		resp, err := f.invoke(ctx, req.event())
		if err == nil && (resp.StatusCode < 200 || resp.StatusCode > 299) {
			err = fmt.Errorf("%s %s answered %d: %s", req.method, req.path, resp.StatusCode, truncate(resp.Body, 300))
		}
		return b.s.meter.take(), err
	}
	first, err := call(tok, tokenRequest(b.fx.read.clientID, b.fx.read.secret))
	if err != nil {
		return err
	}
	other, err := call(tok, tokenRequest(b.fx.write.clientID, b.fx.write.secret)) // a client this instance has not seen
	if err != nil {
		return err
	}
	warm, err := call(tok, tokenRequest(b.fx.read.clientID, b.fx.read.secret))
	if err != nil {
		return err
	}
	m.tokenRefresh, m.verifierFetch = first.minus(other), other.minus(warm)

	get, err := b.s.freshFunction("functions/clientcredentialclients")
	if err != nil {
		return err
	}
	req := b.get(b.fx.read, fmt.Sprintf(ocsCCC, b.fx.read.tenant)+"/"+b.fx.ccc[0].id, nil)
	first, err = call(get, req)
	if err != nil {
		return err
	}
	warm, err = call(get, req)
	if err != nil {
		return err
	}
	m.bearerRefresh = first.minus(warm)
	return nil
}
