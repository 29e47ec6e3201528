package main

// What it costs: AWS list prices (prices.json) times what the bench
// measured of each route (AWS calls, capacity units, log bytes, CPU and
// wall time), as dollars per million requests and as monthly bills of
// reference workloads beside what Amazon Cognito's machine-to-machine
// tokens would cost. No dollar figure is typed in here: only prices (the
// file) and the model's stated assumptions (the constants below).

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"identityservice/shared/identity"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"
	"gopkg.in/yaml.v3"

	"identityservice/infra/local/server"
	"identityservice/shared/config"
	"identityservice/shared/httpapi"
)

//go:embed prices.json
var pricesFile []byte

// priceList is prices.json: each price is USD for Per units.
type priceList struct {
	Region   string                `json:"region"`
	AsOf     string                `json:"asOf"`
	Currency string                `json:"currency"`
	Note     string                `json:"note"`
	Prices   map[string]priceEntry `json:"prices"`
}

type priceEntry struct {
	USD    float64 `json:"usd"`
	Per    float64 `json:"per"`
	Unit   string  `json:"unit"`
	Source string  `json:"source"`
}

// The price keys the model uses; loadPrices refuses a file without one.
const (
	pAPIRequest     = "apigw.http.request"
	pLambdaRequest  = "lambda.request"
	pLambdaGBs      = "lambda.arm64.gbsecond"
	pRRU            = "dynamodb.ondemand.rru"
	pWRU            = "dynamodb.ondemand.wru"
	pStorage        = "dynamodb.storage.gbmonth"
	pPITR           = "dynamodb.pitr.gbmonth"
	pSecretMonth    = "secretsmanager.secret.month"
	pSecretCall     = "secretsmanager.api.call"
	pKMSRequest     = "kms.request"
	pKMSKey         = "kms.key.month"
	pLogsGB         = "logs.ingest.gb"
	pMetricMonth    = "cloudwatch.metric.month"
	pXRayTrace      = "xray.trace"
	pScheduler      = "scheduler.invocation"
	pCognitoToken   = "cognito.m2m.token"
	pCognitoClientM = "cognito.m2m.appclient.month"
)

var priceKeys = []string{pAPIRequest, pLambdaRequest, pLambdaGBs, pRRU, pWRU, pStorage, pPITR, pSecretMonth, pSecretCall,
	pKMSRequest, pKMSKey, pLogsGB, pMetricMonth, pXRayTrace, pScheduler, pCognitoToken, pCognitoClientM}

func loadPrices() (priceList, error) {
	var p priceList
	dec := json.NewDecoder(bytes.NewReader(pricesFile))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		return p, fmt.Errorf("prices.json: %w", err)
	}
	for _, k := range priceKeys {
		e, ok := p.Prices[k]
		if !ok || e.Per <= 0 || e.USD < 0 || e.Source == "" {
			return p, fmt.Errorf("prices.json: %s is missing, or lacks a positive per, a price or a source", k)
		}
	}
	return p, nil
}

// unit is the price of one unit of k.
func (p priceList) unit(k string) float64 { e := p.Prices[k]; return e.USD / e.Per }

// The model's assumptions (docs/BENCHMARKS.md states them beside the tables).
const (
	// vcpuMB: Lambda gives a function CPU in proportion to its memory, one
	// full vCPU at 1,769 MB.
	vcpuMB = 1769.0
	// platformLogBytes and platformLogEvents: what Lambda itself writes to
	// the log group per invocation in JSON log format (platform.start and
	// platform.report, with X-Ray ids), estimated from their documented
	// shape; the bench runs no Lambda to measure them.
	platformLogBytes  = 650.0
	platformLogEvents = 2.0
	// logEventOverhead: CloudWatch Logs counts 26 bytes of metadata per event.
	logEventOverhead = 26.0
	// peakFactor: the busiest hour carries this many times the average rate;
	// warm instances are sized for it (Little's law: rate × duration).
	peakFactor = 3.0
	// instanceHours: how long a warm instance serves before Lambda replaces
	// it (not published by AWS; observed lifetimes are hours).
	instanceHours = 2.0
	// verifierCacheSize is shared/identity's MaterialCacheSize: the token
	// function's verifier cache, in verifiers, emptied when full; a miss
	// reads a whole pack of packSize verifiers.
	verifierCacheSize = identity.MaterialCacheSize
	packSize          = identity.PackSize
	// xrayReservoir, xrayRate: X-Ray's default sampling rule for Lambda,
	// the first request each second and 5% of the others.
	xrayReservoirPerSecond = 1.0
	xrayRate               = 0.05
	hoursPerMonth          = 730.0
	secondsPerMonth        = hoursPerMonth * 3600
	minutesPerMonth        = hoursPerMonth * 60
)

// kmsOperations are the Secrets Manager calls that make one KMS request
// (Decrypt for a read, GenerateDataKey for a write of a secret value).
var kmsOperations = map[string]bool{
	"Secrets Manager.GetSecretValue": true, "Secrets Manager.BatchGetSecretValue": true,
	"Secrets Manager.CreateSecret": true, "Secrets Manager.PutSecretValue": true,
}

func (u usage) kmsRequests() int {
	n := 0
	for k, c := range u.Calls {
		if kmsOperations[k] {
			n += c
		}
	}
	return n
}

// modelDuration is a Lambda invocation's duration in ms at memMB: the time
// spent waiting for AWS (the local wall time less our CPU, assuming
// DynamoDB Local and moto answer about as fast as the services do in
// region) plus our CPU stretched by the function's share of a vCPU
// (assuming this machine's core and a Graviton core do the work in about
// the same time).
func modelDuration(cpuMS, wallMS float64, memMB int) float64 {
	wait := math.Max(wallMS-cpuMS, 0)
	share := math.Min(float64(memMB)/vcpuMB, 1)
	return wait + cpuMS/share
}

// billedMS is Lambda's billed duration: rounded up to the millisecond.
func billedMS(ms float64) float64 { return math.Ceil(ms - 1e-9) }

// costLine is one item of a bill.
type costLine struct {
	item string
	qty  float64 // in the item's unit
	unit string
	usd  float64
}

// requestInput is what one request of a route does, as measured.
type requestInput struct {
	use       usage   // AWS calls and capacity units of a warm request
	logBytes  float64 // bytes the handler logged for it
	logEvents float64 // log lines
	cpuMS     float64 // our CPU per request
	wallMS    float64 // p50 at concurrency 1
	memoryMB  int     // the function's MemorySize
}

// requestCost is one request's bill: API Gateway, Lambda (request and
// modelled duration), DynamoDB units, Secrets Manager calls and their KMS
// requests, and the log bytes ingested.
func (p priceList) requestCost(in requestInput) (lines []costLine, durMS float64) {
	durMS = modelDuration(in.cpuMS, in.wallMS, in.memoryMB)
	gbs := billedMS(durMS) / 1000 * float64(in.memoryMB) / 1024
	sm := float64(in.use.of("Secrets Manager"))
	kms := float64(in.use.kmsRequests())
	logGB := (in.logBytes + platformLogBytes + (in.logEvents+platformLogEvents)*logEventOverhead) / 1e9
	return []costLine{
		{"API Gateway HTTP API requests", 1, "requests", p.unit(pAPIRequest)},
		{"Lambda requests", 1, "requests", p.unit(pLambdaRequest)},
		{"Lambda duration", gbs, "GB-s", gbs * p.unit(pLambdaGBs)},
		{"DynamoDB reads", in.use.ReadUnits, "RRU", in.use.ReadUnits * p.unit(pRRU)},
		{"DynamoDB writes", in.use.WriteUnits, "WRU", in.use.WriteUnits * p.unit(pWRU)},
		{"Secrets Manager API calls", sm, "calls", sm * p.unit(pSecretCall)},
		{"KMS requests (by Secrets Manager)", kms, "requests", kms * p.unit(pKMSRequest)},
		{"CloudWatch Logs ingestion", logGB, "GB", logGB * p.unit(pLogsGB)},
	}, durMS
}

func sumUSD(lines []costLine) float64 {
	t := 0.0
	for _, l := range lines {
		t += l.usd
	}
	return t
}

// byteCounter counts the bytes and lines written to it (the functions' logs).
type byteCounter struct{ n, lines atomic.Int64 }

func (c *byteCounter) Write(p []byte) (int, error) {
	c.n.Add(int64(len(p)))
	c.lines.Add(int64(bytes.Count(p, []byte{'\n'})))
	return len(p), nil
}

// take returns the bytes and lines counted since the last take.
func (c *byteCounter) take() (float64, float64) {
	return float64(c.n.Swap(0)), float64(c.lines.Swap(0))
}

// memorySizes reads each function's MemorySize from template.yaml (its
// own, else Globals.Function's, else Lambda's 128), by logical id.
func memorySizes(root string) (map[string]int, error) {
	data, err := os.ReadFile(filepath.Join(root, "template.yaml"))
	if err != nil {
		return nil, err
	}
	var doc struct {
		Globals struct {
			Function struct {
				MemorySize int `yaml:"MemorySize"`
			} `yaml:"Function"`
		} `yaml:"Globals"`
		Resources map[string]struct {
			Type       string `yaml:"Type"`
			Properties struct {
				MemorySize int `yaml:"MemorySize"`
			} `yaml:"Properties"`
		} `yaml:"Resources"`
	}
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("template.yaml: %w", err)
	}
	out := map[string]int{}
	for id, r := range doc.Resources {
		if r.Type != "AWS::Serverless::Function" {
			continue
		}
		m := r.Properties.MemorySize
		if m == 0 {
			m = doc.Globals.Function.MemorySize
		}
		if m == 0 {
			m = 128
		}
		out[id] = m
	}
	return out, nil
}

// storageResult is the table's bytes as DynamoDB bills them, per client
// and per secret record, averaged over the bench's own table.
type storageResult struct {
	perClient, perSecret float64
	clients, secrets     int
}

// itemBytes is an item's size by DynamoDB's rules (attribute names plus
// values) plus the 100 bytes of overhead that storage is billed for.
func itemBytes(it map[string]types.AttributeValue) float64 {
	n := 100.0
	for k, v := range it {
		n += float64(len(k)) + valueBytes(v)
	}
	return n
}

func valueBytes(v types.AttributeValue) float64 {
	switch x := v.(type) {
	case *types.AttributeValueMemberS:
		return float64(len(x.Value))
	case *types.AttributeValueMemberN:
		return float64(len(strings.TrimLeft(x.Value, "-0")))/2 + 1
	case *types.AttributeValueMemberB:
		return float64(len(x.Value))
	case *types.AttributeValueMemberSS:
		n := 0.0
		for _, s := range x.Value {
			n += float64(len(s))
		}
		return n
	case *types.AttributeValueMemberL:
		n := 3.0
		for _, e := range x.Value {
			n += 1 + valueBytes(e)
		}
		return n
	case *types.AttributeValueMemberM:
		n := 3.0
		for k, e := range x.Value {
			n += 1 + float64(len(k)) + valueBytes(e)
		}
		return n
	}
	return 1 // BOOL, NULL
}

// measureStorage scans the bench's table (uncounted): registrations
// (SK #CLIENT) count clients, SECRET# items secret records, which the
// ByExpiry index (projection ALL) stores a second time.
func (b *bench) measureStorage(ctx context.Context) (storageResult, error) {
	var r storageResult
	var total, secretBytes float64
	p := dynamodb.NewScanPaginator(b.s.raw, &dynamodb.ScanInput{TableName: aws.String(b.s.cfg.Table)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return r, err
		}
		for _, it := range page.Items {
			n := itemBytes(it)
			sk, _ := it["SK"].(*types.AttributeValueMemberS)
			switch {
			case sk != nil && sk.Value == "#CLIENT":
				r.clients++
			case sk != nil && strings.HasPrefix(sk.Value, "SECRET#"):
				r.secrets++
				secretBytes += 2 * n
				continue
			}
			total += n
		}
	}
	if r.clients == 0 || r.secrets == 0 {
		return r, fmt.Errorf("the bench table holds %d clients and %d secret records", r.clients, r.secrets)
	}
	r.perClient, r.perSecret = total/float64(r.clients), secretBytes/float64(r.secrets)
	return r, nil
}

// freshFunction is the function of dir as a new Lambda instance has it:
// its own App, nothing cached.
func (s *stack) freshFunction(dir string) (*function, error) {
	app := config.NewApp(s.cfg, s.metered, s.log)
	routes, ok := server.FunctionRoutes(dir, app)
	if !ok {
		return nil, fmt.Errorf("%s is not an HTTP function", dir)
	}
	h := httpapi.NewHandler(s.log, routes, httpapi.WithAuthenticator(app.Authenticator))
	return &function{name: dir, dir: dir, app: app, proxy: httpadapter.NewV2(h)}, nil
}

// minus is u less v, call by call (never below zero).
func (u usage) minus(v usage) usage {
	out := usage{Calls: map[string]int{}, ReadUnits: math.Max(u.ReadUnits-v.ReadUnits, 0), WriteUnits: math.Max(u.WriteUnits-v.WriteUnits, 0)}
	for k, c := range u.Calls {
		if d := c - v.Calls[k]; d > 0 {
			out.Calls[k] = d
		}
	}
	return out
}

// Routes the model refers to.
const (
	tokenRoute = "POST /identity/connect/token"
	getRoute   = "GET /api/v1-preview/Tenants/{tenantId}/ClientCredentialClients/{clientId}"
)

// managementMix is how the reference workloads' management calls divide
// among the routes: reads mostly, and the writes of secret rotation.
var managementMix = []struct {
	route string
	share float64
}{
	{getRoute, 0.30},
	{"GET /api/v1-preview/Tenants/{tenantId}/ClientCredentialClients", 0.20},
	{"GET /api/v1-preview/Tenants/{tenantId}/ClientCredentialClients/{clientId}/Secret", 0.15},
	{"POST /api/v1-preview/Tenants/{tenantId}/ClientCredentialClients/{clientId}/Secret", 0.10},
	{"DELETE /api/v1-preview/Tenants/{tenantId}/ClientCredentialClients/{clientId}/Secret/{secretId}", 0.10},
	{"PUT /api/v1-preview/Tenants/{tenantId}/ClientCredentialClients/{clientId}", 0.05},
	{"POST /api/v1-preview/Tenants/{tenantId}/ClientCredentialClients", 0.05},
	{"DELETE /api/v1-preview/Tenants/{tenantId}/ClientCredentialClients/{clientId}", 0.05},
}

// workload is a reference month.
type workload struct {
	name             string
	clients          int
	secretsPerClient int
	tokens           float64 // token requests a month
	management       float64 // management calls a month (managementMix)
}

var referenceWorkloads = []workload{
	{"(a) 1,000 clients, 2 secrets each, 10 million tokens and 100,000 management calls a month", 1000, 2, 10e6, 100e3},
	{"(b) 50,000 clients, 2 secrets each, 1 billion tokens a month", 50000, 2, 1e9, 0},
}

// routeModel is a route's measured inputs and its modelled bill.
type routeModel struct {
	key      string // "METHOD path"
	function string // logical id
	in       requestInput
	durMS    float64
	lines    []costLine
}

func (m routeModel) usd() float64 { return sumUSD(m.lines) }

// costModel is everything the bills are computed from.
type costModel struct {
	prices  priceList
	routes  map[string]*routeModel
	order   []string
	storage storageResult
	// Calls a new instance makes beyond a warm request: the token
	// function's key set load (and the verifier, taken out), and the
	// bearer-checking functions' published-key read; each repeats once a
	// minute on a busy instance (shared/auth KeyRefresh).
	tokenRefresh, bearerRefresh usage
	verifierFetch               usage // one verifier fetched on a cache miss
	sweep                       *sweepCost
}

// sweepCost is one measured sweeper run at the largest table measured.
type sweepCost struct {
	records            int
	use                usage
	seconds            float64
	logBytes, logLines float64
	metrics            int // EMF metrics in the summary line
	memoryMB           int
}

// bill is one workload's monthly bill.
type bill struct {
	name    string
	lines   []costLine
	cognito []costLine
}

func (b bill) total() float64        { return sumUSD(b.lines) }
func (b bill) cognitoTotal() float64 { return sumUSD(b.cognito) }

// instances sizes a function's warm instances for rate (requests a
// second) at durMS each: Little's law at the peak, at least one.
func instances(rate, durMS float64) float64 {
	return math.Max(1, math.Ceil(peakFactor*rate*durMS/1000))
}

// verifierMisses is the expected number of verifier cache misses of one
// instance serving r token requests spread evenly over n secrets, with a
// cache of size that empties when full.
func verifierMisses(r, n, size float64) float64 {
	if r <= 0 || n <= 0 {
		return 0
	}
	distinct := func(r float64) float64 { return n * (1 - math.Exp(-r/n)) }
	if n <= size {
		return distinct(r)
	}
	// One fill of the cache takes sum_{k<size} n/(n-k) requests.
	fill := n * math.Log(n/(n-size))
	full := math.Floor(r / fill)
	return full*size + math.Min(distinct(r-full*fill), size)
}

// packsOf is how many verifier packs a workload's secrets fill: its
// clients are one tenant's, packSize verifiers to a pack (a tenant's last
// pack is partly filled; every further tenant adds at most one).
func packsOf(w workload) float64 {
	return math.Ceil(float64(w.clients*w.secretsPerClient) / packSize)
}

// xrayTraces is X-Ray's default sampling of n requests a month.
func xrayTraces(n float64) float64 {
	first := math.Min(n, xrayReservoirPerSecond*secondsPerMonth)
	return first + xrayRate*(n-first)
}

// monthly computes a workload's bill.
func (m *costModel) monthly(w workload) (bill, error) {
	p := m.prices
	b := bill{name: w.name}
	counts := map[string]float64{tokenRoute: w.tokens}
	for _, x := range managementMix {
		counts[x.route] += w.management * x.share
	}
	agg := map[string]*costLine{}
	var order []string
	add := func(l costLine) {
		if a, ok := agg[l.item]; ok {
			a.qty += l.qty
			a.usd += l.usd
			return
		}
		c := l
		agg[l.item] = &c
		order = append(order, l.item)
	}
	requests, traced := 0.0, 0.0
	perFunction := map[string]float64{} // requests
	busy := map[string]float64{}        // request-seconds at the average rate
	keys := make([]string, 0, len(counts))
	for k := range counts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		n := counts[k]
		if n == 0 {
			continue
		}
		r, ok := m.routes[k]
		if !ok {
			return b, fmt.Errorf("workload route %s was not measured", k)
		}
		for _, l := range r.lines {
			add(costLine{l.item, l.qty * n, l.unit, l.usd * n})
		}
		requests += n
		perFunction[r.function] += n
		busy[r.function] += n * r.durMS / 1000
	}
	fns := make([]string, 0, len(perFunction))
	for f := range perFunction {
		fns = append(fns, f)
	}
	sort.Strings(fns)
	// Warm instances: the key refresh (once a minute while busy) and, for
	// the token function, the verifier cache misses.
	var refreshSM, refreshKMS, refreshRRU, refreshWRU, misses float64
	for _, f := range fns {
		n := perFunction[f]
		traced += xrayTraces(n)
		inst := instances(n/secondsPerMonth, 1000*busy[f]/n)
		refresh := m.bearerRefresh
		if f == m.routes[tokenRoute].function {
			refresh = m.tokenRefresh
			lifetimes := inst * hoursPerMonth / instanceHours
			// A miss reads the pack of the secret asked for and caches it
			// whole: the units of the cache are packs.
			misses += lifetimes * verifierMisses(n/lifetimes, packsOf(w), float64(verifierCacheSize/packSize))
		}
		times := math.Min(n, inst*minutesPerMonth)
		refreshSM += times * float64(refresh.of("Secrets Manager"))
		refreshKMS += times * float64(refresh.kmsRequests())
		refreshRRU += times * refresh.ReadUnits
		refreshWRU += times * refresh.WriteUnits
	}
	missSM, missKMS := misses*float64(m.verifierFetch.of("Secrets Manager")), misses*float64(m.verifierFetch.kmsRequests())
	add(costLine{"Secrets Manager calls: verifier cache misses", missSM, "calls", missSM * p.unit(pSecretCall)})
	add(costLine{"KMS requests: verifier cache misses", missKMS, "requests", missKMS * p.unit(pKMSRequest)})
	add(costLine{"Secrets Manager calls: signing-key refresh (1 a minute per busy token instance)", refreshSM, "calls", refreshSM * p.unit(pSecretCall)})
	add(costLine{"KMS requests: signing-key refresh", refreshKMS, "requests", refreshKMS * p.unit(pKMSRequest)})
	add(costLine{"DynamoDB units: published-key refresh (1 a minute per busy instance)", refreshRRU + refreshWRU, "RRU+WRU", refreshRRU*p.unit(pRRU) + refreshWRU*p.unit(pWRU)})
	add(costLine{"X-Ray traces (default sampling: 1 a second + 5%)", traced, "traces", traced * p.unit(pXRayTrace)})
	secrets := float64(w.clients * w.secretsPerClient)
	stored := packsOf(w) + 1 // + the signing key set
	add(costLine{"Secrets Manager secrets stored (verifier packs of 400, + the signing key set)", stored, "secrets", stored * p.unit(pSecretMonth)})
	gb := (float64(w.clients)*m.storage.perClient + secrets*m.storage.perSecret) / 1e9
	add(costLine{"DynamoDB storage + point-in-time recovery", gb, "GB-month", gb * (p.unit(pStorage) + p.unit(pPITR))})
	for _, k := range order {
		b.lines = append(b.lines, *agg[k])
	}
	b.cognito = []costLine{
		{"Cognito M2M token requests", w.tokens, "requests", w.tokens * p.unit(pCognitoToken)},
		{"Cognito M2M app clients", float64(w.clients), "clients", float64(w.clients) * p.unit(pCognitoClientM)},
	}
	return b, nil
}

// housekeeping is workload (c): the sweeper at its schedule (hourly) and
// the signing key set, rotated once a month by the operator.
func (m *costModel) housekeeping(schedulePerMonth float64) bill {
	p := m.prices
	b := bill{name: fmt.Sprintf("(c) the sweeper %.0f times a month (rate(1 hour)) on a table of %d secret records, and the signing key set", schedulePerMonth, m.sweep.records)}
	s := m.sweep
	gbs := billedMS(s.seconds*1000) / 1000 * float64(s.memoryMB) / 1024
	sm, kms := float64(s.use.of("Secrets Manager")), float64(s.use.kmsRequests())
	logGB := (s.logBytes + platformLogBytes + (s.logLines+platformLogEvents)*logEventOverhead) / 1e9
	n := schedulePerMonth
	b.lines = []costLine{
		{"EventBridge Scheduler invocations", n, "invocations", n * p.unit(pScheduler)},
		{"Lambda requests", n, "requests", n * p.unit(pLambdaRequest)},
		{"Lambda duration (measured wall time of a run)", n * gbs, "GB-s", n * gbs * p.unit(pLambdaGBs)},
		{"DynamoDB reads", n * s.use.ReadUnits, "RRU", n * s.use.ReadUnits * p.unit(pRRU)},
		{"DynamoDB writes", n * s.use.WriteUnits, "WRU", n * s.use.WriteUnits * p.unit(pWRU)},
		{"Secrets Manager API calls (reconciliation, destroyed material)", n * sm, "calls", n * sm * p.unit(pSecretCall)},
		{"KMS requests (by Secrets Manager)", n * kms, "requests", n * kms * p.unit(pKMSRequest)},
		{"CloudWatch Logs ingestion", n * logGB, "GB", n * logGB * p.unit(pLogsGB)},
		{"CloudWatch custom metrics (the summary's embedded metrics)", float64(s.metrics), "metrics", float64(s.metrics) * p.unit(pMetricMonth)},
		{"X-Ray traces", n, "traces", n * p.unit(pXRayTrace)},
		{"Secrets Manager: the signing key set stored", 1, "secrets", p.unit(pSecretMonth)},
		{"Secrets Manager + KMS: one keys rotate a month (a read and a write of the key set)", 2, "calls", 2 * (p.unit(pSecretCall) + p.unit(pKMSRequest))},
	}
	return b
}

// memoryCandidates are the MemorySizes the choice table compares.
var memoryCandidates = []int{128, 256, 512, 1024, 1769}

// chooseMemory is the smallest candidate whose modelled duration is within
// 2 ms or 25% of the duration at one full vCPU: past it, more memory buys
// little latency for more money (in this model a request's CPU costs the
// same GB-seconds at any size below 1,769 MB; the waiting costs more the
// larger the function).
func chooseMemory(cpuMS, wallMS float64) int {
	best := modelDuration(cpuMS, wallMS, int(vcpuMB))
	for _, m := range memoryCandidates {
		d := modelDuration(cpuMS, wallMS, m)
		if d-best <= math.Max(2, 0.25*best) {
			return m
		}
	}
	return int(vcpuMB)
}

// usdf renders dollars: cents below $100, whole dollars above.
func usdf(v float64) string {
	switch {
	case v >= 100:
		return "$" + groupDigits(int64(math.Round(v)))
	case v >= 0.01 || v == 0:
		return fmt.Sprintf("$%.2f", v)
	default:
		return fmt.Sprintf("$%.4f", v)
	}
}

// qtyf renders a quantity with 3 significant digits and thousands grouped.
func qtyf(v float64) string {
	switch {
	case v == 0:
		return "0"
	case v >= 1000:
		return groupDigits(int64(math.Round(v)))
	case v >= 1:
		return strconv.FormatFloat(v, 'f', 2, 64)
	default:
		return strconv.FormatFloat(v, 'g', 3, 64)
	}
}
