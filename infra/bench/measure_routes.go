package main

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// routeResult is what the bench measured of one route.
type routeResult struct {
	fn, method, path, note string
	cost                   usage     // a warm request's AWS calls and units
	p50, p99               [2]spread // at the two concurrency levels, ms
	ratio                  [2]spread // p50 over the raw call's p50 in the same run
	list                   bool      // the raw call is the Query (else the GetItem)
	logBytes, logLines     float64   // what the warm request logged (cost.go)
	cpuC1                  spread    // our CPU per request at concurrency 1, ms (cost.go)
	variant                string    // the scenario's variant (scenario.variant)
}

// label is the route's row: "METHOD path", and its variant if any.
func (r *routeResult) label() string {
	if r.variant != "" {
		return r.method + " " + r.path + " " + r.variant
	}
	return r.method + " " + r.path
}

// answered is nil for a request that succeeded: a 2xx, or a redirect
// that is not an error's (sign-in answers with redirects: to the
// upstream, to the client with a code).
func answered(resp events.APIGatewayV2HTTPResponse) error {
	if resp.StatusCode >= 200 && resp.StatusCode <= 299 ||
		resp.StatusCode == http.StatusFound && resp.Headers["Location"] != "" && !strings.Contains(resp.Headers["Location"], "error=") {
		return nil
	}
	return fmt.Errorf("answered %d %s: %s", resp.StatusCode, resp.Headers["Location"], truncate(resp.Body, 300))
}

// routeScenarios returns template.yaml's routes with their scenarios, in
// the template's order, or an error naming a route without one.
// notYetMeasured are the routes the bench does not drive yet, each with
// why; the report lists them, so that a gap is said, never hidden. A
// route of template.yaml neither here nor in scenarios fails the bench.
var notYetMeasured = map[string]string{}

func init() {
	const dashboard = "the dashboard's sign-in of people (docs/dashboard.md): needs a browser session through the tenant's upstream; its scenarios are not written yet"
	for _, r := range []string{
		"GET /_/op-dashboard/signin", "GET /_/op-dashboard/callback", "POST /_/op-dashboard/signout",
		"GET /_/op-dashboard/api/session", "POST /_/op-dashboard/api/call",
	} {
		notYetMeasured[r] = dashboard
	}
	notYetMeasured["POST /identity/connect/revocation"] = "RFC 7009 revocation (docs/signin.md): its scenario, a refresh token revoked per request, is not written yet"
}

func (b *bench) routeScenarios() ([]*routeResult, []scenario, error) {
	all := b.scenarios()
	var rs []*routeResult
	var ss []scenario
	for _, r := range b.s.tpl.Routes() {
		if b.o.only != "" && !strings.Contains(r.Method+" "+r.Path, b.o.only) {
			continue
		}
		sc, ok := all[r.Method+" "+r.Path]
		if why, later := notYetMeasured[r.Method+" "+r.Path]; !ok && later {
			b.rep.unmeasured = append(b.rep.unmeasured, "`"+r.Method+" "+r.Path+"`: "+why)
			continue
		}
		if !ok {
			return nil, nil, fmt.Errorf("route %s %s has no bench scenario: add one in infra/bench/routes.go", r.Method, r.Path)
		}
		rs = append(rs, &routeResult{fn: r.Function, method: r.Method, path: r.Path, note: sc.note, list: sc.list})
		ss = append(ss, sc)
		if r.Method+" "+r.Path == tokenRoute {
			for _, v := range b.tokenVariants() {
				rs = append(rs, &routeResult{fn: r.Function, method: r.Method, path: r.Path, note: v.note, list: v.list, variant: v.variant})
				ss = append(ss, v)
			}
		}
	}
	return rs, ss, nil
}

// measureCosts sends each route two requests, one after the other, and
// keeps the second's AWS calls and capacity: the function is warm (keys
// and verifiers cached), as it is for all but the first request.
func (b *bench) measureCosts(ctx context.Context) error {
	rs, ss, err := b.routeScenarios()
	if err != nil {
		return err
	}
	for i, r := range rs {
		gen, err := ss[i].prepare(ctx, 1, 2)
		if err != nil {
			return fmt.Errorf("%s %s: fixtures: %w", r.method, r.path, err)
		}
		f := b.s.fn(ss[i].fn)
		for k := range 2 {
			b.s.meter.take()
			b.s.logBytes.take()
			resp, err := f.invoke(ctx, gen(0, k).event())
			if err == nil {
				err = answered(resp)
			}
			if err != nil {
				return fmt.Errorf("%s %s: %w", r.method, r.path, err)
			}
		}
		r.cost = b.s.meter.take()
		r.logBytes, r.logLines = b.s.logBytes.take()
	}
	b.rep.routes = rs
	return nil
}

// rawResult is the raw SDK baseline: a GetItem of one small item and a
// Query of a partition of 10 small items, against the same DynamoDB Local.
type rawResult struct {
	get, query [2]spread // p50 at the two concurrency levels, ms
	getP99     [2]spread
	queryP99   [2]spread
}

const rawTable = "bench-raw"

func (b *bench) prepareRaw(ctx context.Context) error {
	_, err := b.s.raw.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String(rawTable),
		BillingMode:          types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("PK"), AttributeType: types.ScalarAttributeTypeS}, {AttributeName: aws.String("SK"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("PK"), KeyType: types.KeyTypeHash}, {AttributeName: aws.String("SK"), KeyType: types.KeyTypeRange}},
	})
	if err != nil {
		return err
	}
	for i := range 10 {
		_, err := b.s.raw.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(rawTable), Item: map[string]types.AttributeValue{
			"PK":   &types.AttributeValueMemberS{Value: "P"},
			"SK":   &types.AttributeValueMemberS{Value: fmt.Sprintf("S%02d", i)},
			"Name": &types.AttributeValueMemberS{Value: "a small item of about two hundred bytes, like a client's metadata"},
		}})
		if err != nil {
			return err
		}
	}
	return nil
}

// rawLoad times n raw calls on c workers.
func (b *bench) rawLoad(ctx context.Context, c, n int, call func() error) (loadResult, error) {
	var res loadResult
	lat := make([][]time.Duration, c)
	errs := make([]error, c)
	began := time.Now()
	done := make(chan int)
	for w := range c {
		go func() {
			for i := w; i < n; i += c {
				t0 := time.Now()
				if err := call(); err != nil {
					errs[w] = err
					break
				}
				lat[w] = append(lat[w], time.Since(t0))
			}
			done <- w
		}()
	}
	for range c {
		<-done
	}
	res.wall = time.Since(began)
	for w := range c {
		if errs[w] != nil {
			return res, errs[w]
		}
		res.lat = append(res.lat, lat[w]...)
	}
	return res, nil
}

// measureLatency measures every route's p50 and p99 at the two concurrency
// levels (1 and 16), each run beside the raw baseline of the same run.
func (b *bench) measureLatency(ctx context.Context) error {
	_, ss, err := b.routeScenarios()
	if err != nil {
		return err
	}
	rs := b.rep.routes
	getItem := func() error {
		_, err := b.s.raw.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(rawTable), ConsistentRead: aws.Bool(true),
			Key: map[string]types.AttributeValue{"PK": &types.AttributeValueMemberS{Value: "P"}, "SK": &types.AttributeValueMemberS{Value: "S00"}}})
		return err
	}
	query := func() error {
		_, err := b.s.raw.Query(ctx, &dynamodb.QueryInput{TableName: aws.String(rawTable), ConsistentRead: aws.Bool(true),
			KeyConditionExpression:    aws.String("PK = :p"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":p": &types.AttributeValueMemberS{Value: "P"}}})
		return err
	}
	for run := range b.o.runs {
		b.log("  run %d/%d", run+1, b.o.runs)
		for ci, c := range b.o.conc {
			n := b.o.n1
			if c > 1 {
				n = b.o.n16
			}
			g, err := b.rawLoad(ctx, c, n, getItem)
			if err != nil {
				return fmt.Errorf("raw GetItem: %w", err)
			}
			q, err := b.rawLoad(ctx, c, n, query)
			if err != nil {
				return fmt.Errorf("raw Query: %w", err)
			}
			base, qbase := toMS(g.pct(50)), toMS(q.pct(50))
			b.rep.raw.get[ci] = append(b.rep.raw.get[ci], base)
			b.rep.raw.getP99[ci] = append(b.rep.raw.getP99[ci], toMS(g.pct(99)))
			b.rep.raw.query[ci] = append(b.rep.raw.query[ci], toMS(q.pct(50)))
			b.rep.raw.queryP99[ci] = append(b.rep.raw.queryP99[ci], toMS(q.pct(99)))
			for i, r := range rs {
				per := (n + c - 1) / c
				gen, err := ss[i].prepare(ctx, c, per)
				if err != nil {
					return fmt.Errorf("%s %s: fixtures: %w", r.method, r.path, err)
				}
				res, err := b.load(ctx, b.s.fn(ss[i].fn), split(c, c*per, gen))
				if err != nil {
					return fmt.Errorf("%s %s at concurrency %d: %w", r.method, r.path, c, err)
				}
				p50 := toMS(res.pct(50))
				r.p50[ci] = append(r.p50[ci], p50)
				r.p99[ci] = append(r.p99[ci], toMS(res.pct(99)))
				if ci == 0 {
					r.cpuC1 = append(r.cpuC1, toMS(res.cpuPer()))
				}
				if r.list {
					r.ratio[ci] = append(r.ratio[ci], p50/qbase)
				} else {
					r.ratio[ci] = append(r.ratio[ci], p50/base)
				}
			}
		}
	}
	return nil
}
