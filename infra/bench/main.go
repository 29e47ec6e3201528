// Command bench measures the service on a local stack it starts itself
// (DynamoDB Local and moto on free ports, so it runs beside `make run` and
// the tests) and writes docs/BENCHMARKS.md:
//
//	go run ./infra/bench -out docs/BENCHMARKS.md [-gobench FILE] [-quick]
//
// It drives every route through the functions' real handlers as Lambda runs
// them (API Gateway v2 event JSON, the httpadapter, the routes, the
// response JSON), in this process, and counts every AWS call with an SDK
// middleware that also sets ReturnConsumedCapacity. `make bench` runs it
// after the testing.B benchmarks, whose output (-gobench) it summarizes.
//
// Profiles: -profile token|get writes a CPU profile of that load
// (concurrency 16) to -cpuprofile and exits, e.g.
//
//	go run ./infra/bench -profile token -cpuprofile .local/bench/token.pprof
//	go tool pprof -top .local/bench/token.pprof
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// options are the sizes of one bench; -quick shrinks them for the smoke test.
type options struct {
	out         string
	runs        int    // repetitions of every timed figure
	conc        [2]int // the two concurrency levels of the latency table
	n1, n16     int    // requests per route and run at the two levels
	routeTenant int    // clients of each kind in the tenant the read routes read
	tenantSizes []int  // list cost against tenant size
	retained    []int  // token cost against retained secret records
	sweepSizes  []int  // sweep cost against table size
	cpuRequests int    // requests per CPU run (concurrency 16)
	signatures  int    // RSA signatures per run of the signing baseline
	gobench     string
	coldStart   bool
	coldOnly    string // time only this function's cold start (a Go package directory)
	profile     string // token | get: profile that load and exit
	cpuprofile  string
	profileFor  time.Duration
	only        string // measure only the routes whose "METHOD path" contains this (debugging)
	oracleN     int    // failed token requests of each path, cold and warm (client-id oracle)
	oracleOnly  bool   // measure only the client-id oracle and print its section
}

func defaults() options {
	return options{
		runs: 5, conc: [2]int{1, 16}, n1: 100, n16: 160, routeTenant: 100,
		// retained 99: with the client's first secret, the cap of 100
		// secret records per client (identity.MaxSecretRecordsPerClient).
		tenantSizes: []int{100, 1000, 20000}, retained: []int{0, 10, 99}, sweepSizes: []int{1000, 10000, 100000},
		cpuRequests: 1600, signatures: 300, coldStart: true, profileFor: 20 * time.Second, oracleN: 300,
	}
}

// quick are the smallest sizes that still exercise every part.
func quick(o options) options {
	o.runs, o.conc, o.n1, o.n16, o.routeTenant = 1, [2]int{1, 2}, 2, 2, 3
	o.coldOnly = "functions/token"
	// A sweep size of 100 seeds 99 records and expires one (1%).
	o.tenantSizes, o.retained, o.sweepSizes = []int{3, 12}, []int{0, 2}, []int{100}
	o.cpuRequests, o.signatures = 32, 5
	o.oracleN = 4
	return o
}

func main() {
	o := defaults()
	flag.StringVar(&o.out, "out", "", "write the report to this `file` (e.g. docs/BENCHMARKS.md); stdout if empty")
	flag.IntVar(&o.runs, "runs", o.runs, "repetitions of every timed figure")
	flag.StringVar(&o.gobench, "gobench", "", "`file` holding `go test -bench -benchmem` output to summarize")
	flag.BoolVar(&o.coldStart, "coldstart", o.coldStart, "build every function and time its cold start")
	flag.StringVar(&o.profile, "profile", "", "profile one load and exit: token or get")
	flag.StringVar(&o.cpuprofile, "cpuprofile", ".local/bench/cpu.pprof", "where -profile writes the CPU profile")
	flag.DurationVar(&o.profileFor, "profile-for", o.profileFor, "how long -profile runs the load")
	flag.StringVar(&o.only, "only", "", "measure only the routes whose \"METHOD path\" contains this `text` (a partial report, for debugging)")
	flag.IntVar(&o.oracleN, "oracle-n", o.oracleN, "failed token requests of each path, cold and warm, for the client-id oracle")
	flag.BoolVar(&o.oracleOnly, "oracle-only", false, "measure only the client-id oracle and print its section (docs/BENCHMARKS.md's) to stdout")
	q := flag.Bool("quick", false, "tiny sizes (the smoke test's)")
	sizes := flag.String("sizes", "", "override sizes: tenants=100,1000;retained=0,10;sweep=1000;route-tenant=100;n1=100;n16=320;cpu=1600")
	flag.Parse()
	if *q {
		o = quick(o)
	}
	if err := o.override(*sizes); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, o); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func (o *options) override(spec string) error {
	if spec == "" {
		return nil
	}
	for _, kv := range strings.Split(spec, ";") {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return fmt.Errorf("-sizes: %q is not key=values", kv)
		}
		var ns []int
		for _, f := range strings.Split(v, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil || n < 0 {
				return fmt.Errorf("-sizes: %s: %q is not a count", k, f)
			}
			ns = append(ns, n)
		}
		switch k {
		case "tenants":
			o.tenantSizes = ns
		case "retained":
			o.retained = ns
		case "sweep":
			o.sweepSizes = ns
		case "route-tenant":
			o.routeTenant = ns[0]
		case "n1":
			o.n1 = ns[0]
		case "n16":
			o.n16 = ns[0]
		case "cpu":
			o.cpuRequests = ns[0]
		default:
			return fmt.Errorf("-sizes: unknown key %q", k)
		}
	}
	return nil
}

// bench is one bench run: the stack, its fixtures and what was measured.
type bench struct {
	o   options
	s   *stack
	fx  fixtures
	si  *signInFixtures // signin.go
	rep report
	log func(format string, args ...any)
	// failures are loads that had a few failed requests (see load).
	failures []string
}

func run(ctx context.Context, o options) error {
	began := time.Now()
	b := &bench{o: o, log: func(format string, args ...any) {
		fmt.Fprintf(os.Stderr, "[%5.0fs] %s\n", time.Since(began).Seconds(), fmt.Sprintf(format, args...))
	}}
	b.rep.began = began.UTC()
	b.rep.opts = o
	b.log("starting the local stack")
	s, err := startStack(ctx)
	if err != nil {
		return err
	}
	defer s.stop()
	b.s = s
	if o.oracleOnly {
		if err := b.measureOracle(ctx); err != nil {
			return err
		}
		var sb strings.Builder
		b.rep.oracleTable(&sb)
		fmt.Print(sb.String())
		return nil
	}
	b.log("fixtures")
	if err := b.prepareFixtures(ctx); err != nil {
		return fmt.Errorf("fixtures: %w", err)
	}
	if o.profile != "" {
		return b.profileLoad(ctx)
	}
	b.rep.machine = machine()
	b.rep.versions = versions(s)
	b.rep.loadBefore = loadAverage()
	steps := []struct {
		name string
		f    func(context.Context) error
	}{
		{"AWS calls and capacity per route", b.measureCosts},
		{"route latency", b.measureLatency},
		{"CPU per token and per GET", b.measureCPU},
		{"list cost against tenant size", b.measureListScale},
		{"token cost against retained records", b.measureTokenScale},
		{"sweep cost against table size", b.measureSweep},
		{"dollars per route and per month", b.measureDollars},
		{"cold start and binary sizes", b.measureColdStart},
		{"client-id oracle", b.measureOracle},
		{"Go benchmarks", b.readGoBench},
	}
	for _, st := range steps {
		b.log("%s", st.name)
		t0 := time.Now()
		if err := st.f(ctx); err != nil {
			return fmt.Errorf("%s: %w", st.name, err)
		}
		b.rep.stepTimes = append(b.rep.stepTimes, stepTime{st.name, time.Since(t0)})
	}
	b.rep.loadAfter = loadAverage()
	b.rep.failures = b.failures
	b.rep.elapsed = time.Since(began)
	doc := b.rep.markdown()
	if o.out == "" {
		_, err := os.Stdout.WriteString(doc)
		return err
	}
	if err := os.MkdirAll(filepath.Dir(o.out), 0o755); err != nil {
		return err
	}
	b.log("writing %s", o.out)
	return os.WriteFile(o.out, []byte(doc), 0o644)
}
