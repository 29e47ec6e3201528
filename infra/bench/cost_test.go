package main

import (
	"math"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// testPrices are round prices, so that the expected figures below can be
// worked out by hand.
func testPrices() priceList {
	e := func(usd, per float64) priceEntry { return priceEntry{USD: usd, Per: per, Source: "test"} }
	return priceList{Prices: map[string]priceEntry{
		pAPIRequest: e(1, 1e6), pLambdaRequest: e(0.2, 1e6), pLambdaGBs: e(0.00001, 1),
		pRRU: e(0.25, 1e6), pWRU: e(1.25, 1e6), pStorage: e(0.25, 1), pPITR: e(0.2, 1),
		pSecretMonth: e(0.4, 1), pSecretCall: e(0.05, 1e4), pKMSRequest: e(0.03, 1e4), pKMSKey: e(1, 1),
		pLogsGB: e(0.5, 1), pMetricMonth: e(0.3, 1), pXRayTrace: e(5, 1e6), pScheduler: e(1, 1e6),
		pCognitoToken: e(2.25, 1000), pCognitoClientM: e(6, 1),
	}}
}

func near(got, want float64) bool { return math.Abs(got-want) <= 1e-9*math.Max(1, math.Abs(want)) }

func TestPricesFile(t *testing.T) {
	p, err := loadPrices()
	if err != nil {
		t.Fatal(err)
	}
	if p.Region != "us-east-1" || p.AsOf == "" {
		t.Errorf("region %q, as of %q", p.Region, p.AsOf)
	}
	for _, k := range priceKeys {
		if !strings.HasPrefix(p.Prices[k].Source, "https://aws.amazon.com/") {
			t.Errorf("%s: source %q is not an AWS pricing page", k, p.Prices[k].Source)
		}
	}
	// Cognito's published M2M prices, which the comparison rests on.
	if !near(p.unit(pCognitoToken)*1000, 2.25) || !near(p.unit(pCognitoClientM), 6) {
		t.Errorf("Cognito M2M: %v per 1,000 tokens, %v per app client", p.unit(pCognitoToken)*1000, p.unit(pCognitoClientM))
	}
}

// TestRequestCost works one request out by hand: 1 ms of CPU and a p50 of
// 3 ms at 1,024 MB, one strongly consistent read and one verifier read,
// 400 bytes in 2 log lines.
func TestRequestCost(t *testing.T) {
	in := requestInput{
		use:      usage{Calls: map[string]int{"DynamoDB.GetItem": 1, "Secrets Manager.GetSecretValue": 1}, ReadUnits: 1},
		logBytes: 400, logEvents: 2, cpuMS: 1, wallMS: 3, memoryMB: 1024,
	}
	lines, dur := testPrices().requestCost(in)
	// wait 2 ms + 1 ms of CPU at 1024/1769 of a vCPU = 2 + 1.727539 ms.
	if want := 2 + 1769.0/1024; !near(dur, want) {
		t.Errorf("duration %v ms, want %v", dur, want)
	}
	want := map[string]float64{
		"API Gateway HTTP API requests":     1e-6,
		"Lambda requests":                   2e-7,
		"Lambda duration":                   0.004 * 1 * 0.00001, // 4 billed ms × 1 GB
		"DynamoDB reads":                    2.5e-7,
		"DynamoDB writes":                   0,
		"Secrets Manager API calls":         5e-6,
		"KMS requests (by Secrets Manager)": 3e-6,
		"CloudWatch Logs ingestion":         (400 + 650 + 4*26) / 1e9 * 0.5,
	}
	if len(lines) != len(want) {
		t.Fatalf("%d lines, want %d: %+v", len(lines), len(want), lines)
	}
	for _, l := range lines {
		if w, ok := want[l.item]; !ok || !near(l.usd, w) {
			t.Errorf("%s: $%g, want $%g", l.item, l.usd, w)
		}
	}
	if got := sumUSD(lines) * 1e6; !near(got, 10.067) {
		t.Errorf("total $%v per million, want $10.067", got)
	}
}

func TestModelHelpers(t *testing.T) {
	if got := billedMS(3.0001); got != 4 {
		t.Errorf("billedMS(3.0001) = %v", got)
	}
	if got := billedMS(3); got != 3 {
		t.Errorf("billedMS(3) = %v", got)
	}
	// Above 1,769 MB there is no more than one vCPU for one request.
	if got := modelDuration(1, 3, 3538); got != 3 {
		t.Errorf("modelDuration at 2 vCPUs = %v, want 3", got)
	}
	if got := instances(100, 10); got != 3 { // 3 × 100/s × 0.01 s
		t.Errorf("instances(100/s, 10 ms) = %v, want 3", got)
	}
	if got := instances(0.001, 10); got != 1 {
		t.Errorf("instances of an idle function = %v, want 1", got)
	}
	// 1,000 requests over 1,000 secrets, all cached: 1000 (1 - 1/e).
	if got := verifierMisses(1000, 1000, 10000); !near(got, 1000*(1-math.Exp(-1))) {
		t.Errorf("verifierMisses(1000, 1000) = %v", got)
	}
	// 50,000 secrets, a cache of 10,000 emptied when full: one fill takes
	// 50000 ln(1.25) = 11,157 requests, of which 10,000 miss.
	if got := verifierMisses(1e7, 50000, 10000) / 1e7; math.Abs(got-10000/(50000*math.Log(1.25))) > 0.001 {
		t.Errorf("miss rate %v, want %v", got, 10000/(50000*math.Log(1.25)))
	}
	if got := xrayTraces(1e9); !near(got, 2628000+0.05*(1e9-2628000)) {
		t.Errorf("xrayTraces(1e9) = %v", got)
	}
	// cpu 1 ms, wait 2 ms: 3 ms at 1,769 MB; 5.46 ms at 512 (2.46 over,
	// more than 2 ms and 25%); 3.73 ms at 1,024.
	if got := chooseMemory(1, 3); got != 1024 {
		t.Errorf("chooseMemory(1, 3) = %d, want 1024", got)
	}
	it := map[string]types.AttributeValue{"PK": &types.AttributeValueMemberS{Value: "abc"}, "N": &types.AttributeValueMemberN{Value: "123"}}
	if got := itemBytes(it); got != 100+2+3+1+2.5 {
		t.Errorf("itemBytes = %v, want 108.5", got)
	}
}

// TestMonthlyBill computes workload (a) on a fixed model: every token and
// management route costs $1 per million, nothing is refreshed or missed.
func TestMonthlyBill(t *testing.T) {
	m := &costModel{prices: testPrices(), routes: map[string]*routeModel{}, storage: storageResult{perClient: 1000, perSecret: 500}}
	line := func(usd float64) []costLine { return []costLine{{"API Gateway HTTP API requests", 1, "requests", usd}} }
	m.routes[tokenRoute] = &routeModel{key: tokenRoute, function: "TokenFunction", durMS: 5, lines: line(1e-6)}
	for _, x := range managementMix {
		m.routes[x.route] = &routeModel{key: x.route, function: "ClientCredentialClientsFunction", durMS: 10, lines: line(1e-6)}
	}
	b, err := m.monthly(workload{"a", 1000, 2, 10e6, 100e3})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, l := range b.lines {
		got[l.item] = l.usd
	}
	want := map[string]float64{
		"API Gateway HTTP API requests": 10.1, // 10.1 million requests at $1 per million
		"Secrets Manager secrets stored (verifier packs of 400, + the signing key set)": (5 + 1) * 0.4, // 2,000 verifiers in 5 packs
		"DynamoDB storage + point-in-time recovery":                                     (1000*1000 + 2000*500) / 1e9 * 0.45,
		// token: 10M requests = 3.8 a second, instances ceil(3 × 3.8 × 0.005) = 1;
		// the management function: 1 instance. Traces per function: the
		// reservoir of 2,628,000 a month, then 5% of the rest.
		"X-Ray traces (default sampling: 1 a second + 5%)": (2628000 + 0.05*(10e6-2628000) + 100e3) * 5e-6,
	}
	for k, w := range want {
		if !near(got[k], w) {
			t.Errorf("%s: $%v, want $%v", k, got[k], w)
		}
	}
	if !near(b.cognitoTotal(), 22500+6000) {
		t.Errorf("Cognito: $%v, want $28,500 (10M tokens at $2.25 per 1,000 + 1,000 app clients at $6)", b.cognitoTotal())
	}
	if sum := sumUSD(b.lines); !near(b.total(), sum) || b.total() < 10.1+2.4 {
		t.Errorf("total $%v", b.total())
	}
}

// The stored secrets are packs of 400 verifiers, and a verifier cache miss
// reads a pack: the misses are counted in packs, the cache holds
// verifierCacheSize/400 of them. Workload (b)'s 100,000 secrets fill 250
// packs, which the cache holds all at once: each instance reads each pack
// about once, not a verifier on nine requests in ten.
func TestPacksAndTheirMisses(t *testing.T) {
	for _, c := range []struct {
		w    workload
		want float64
	}{{workload{"a", 1000, 2, 0, 0}, 5}, {workload{"b", 50000, 2, 0, 0}, 250}, {workload{"c", 1, 1, 0, 0}, 1}, {workload{"d", 401, 1, 0, 0}, 2}} {
		if got := packsOf(c.w); got != c.want {
			t.Errorf("packsOf(%d clients × %d) = %v, want %v", c.w.clients, c.w.secretsPerClient, got, c.want)
		}
	}
	if verifierCacheSize/packSize != 250 {
		t.Fatalf("the cache holds %d packs; this test's figures assume 250", verifierCacheSize/packSize)
	}
	// 1e7 requests of one instance over 250 packs, all cached: each pack
	// is read once.
	if got := verifierMisses(1e7, 250, 250); !near(got, 250) {
		t.Errorf("misses over 250 packs with room for 250: %v, want 250", got)
	}
}
