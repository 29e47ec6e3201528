package main

import (
	"bufio"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"identityservice/infra/emulator"
	"identityservice/infra/template"
)

// TestBenchSmoke runs the whole bench at tiny sizes, so the harness cannot
// rot: every part must run against the real stack and the document must
// hold every section and a row for every route of template.yaml. It asserts
// the document's structure, never a timing.
func TestBenchSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a local stack and runs every part of the bench")
	}
	dir := t.TempDir()
	gobench := filepath.Join(dir, "gobench.txt")
	if err := os.WriteFile(gobench, []byte(sampleGoBench), 0o644); err != nil {
		t.Fatal(err)
	}
	o := quick(defaults())
	o.out = filepath.Join(dir, "report.md")
	o.gobench = gobench
	if err := run(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(o.out)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(raw)
	for _, h := range []string{
		"## Machine and versions", "## Targets", "## AWS calls and capacity per operation", "## Latency per route",
		"## Token throughput and CPU per token", "## List cost against tenant size", "## Token cost against a client's retained records",
		"## Sweep cost against table size", "## What it costs in AWS", "## Cold start and binary sizes", "## Go benchmarks (testing.B)", "## Reproduce and profile",
	} {
		if !strings.Contains(doc, h) {
			t.Errorf("the document has no section %q", h)
		}
	}
	root, err := emulator.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	tpl, err := template.Load(filepath.Join(root, "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range tpl.Routes() {
		row := "| `" + r.Method + " " + r.Path + "` |"
		if _, later := notYetMeasured[r.Method+" "+r.Path]; later {
			// Said, not measured: listed under "Not measured yet".
			if strings.Contains(doc, row) || !strings.Contains(doc, "`"+r.Method+" "+r.Path+"`: ") {
				t.Errorf("route %s %s is not measured yet, but the document does not say so (or has rows for it)", r.Method, r.Path)
			}
			continue
		}
		// One row in the cost table, one in the latency table (the cost
		// in dollars has its own).
		for _, section := range []string{"## AWS calls and capacity per operation", "## Latency per route"} {
			_, after, _ := strings.Cut(doc, section)
			body, _, _ := strings.Cut(after, "\n## ")
			if n := strings.Count(body, row); n != 1 {
				t.Errorf("route %s %s has %d rows in %q, want 1", r.Method, r.Path, n, section)
			}
		}
	}
	// The token route's other grants have rows of their own (signin.go),
	// in the dollars table too.
	for _, v := range (&bench{}).tokenVariants() {
		row := "| `" + tokenRoute + " " + v.variant + "` |"
		for _, section := range []string{"## AWS calls and capacity per operation", "## Latency per route", "## What it costs in AWS"} {
			_, after, _ := strings.Cut(doc, section)
			body, _, _ := strings.Cut(after, "\n## ")
			if !strings.Contains(body, row) {
				t.Errorf("no row %s in %q", row, section)
			}
		}
	}
	rows := func(section string) []string {
		_, after, _ := strings.Cut(doc, section)
		body, _, _ := strings.Cut(after, "\n## ")
		var out []string
		for _, l := range strings.Split(body, "\n") {
			if strings.HasPrefix(l, "| ") && !strings.HasPrefix(l, "|---") {
				out = append(out, l)
			}
		}
		return out
	}
	// Header plus one row per measured size.
	if got, want := len(rows("## List cost against tenant size")), 1+2*len(o.tenantSizes); got != want {
		t.Errorf("list scale table has %d lines, want %d", got, want)
	}
	if got, want := len(rows("## Token cost against a client's retained records")), 1+len(o.retained); got != want {
		t.Errorf("token scale table has %d lines, want %d", got, want)
	}
	if got, want := len(rows("## Sweep cost against table size")), 1+len(o.sweepSizes); got != want {
		t.Errorf("sweep table has %d lines, want %d", got, want)
	}
	if !strings.Contains(doc, "| TokenFunction |") {
		t.Error("no cold start row for TokenFunction")
	}
	if !strings.Contains(doc, "| shared/auth | Issue |") {
		t.Error("the Go benchmarks are not summarized")
	}
	// The token endpoint reads the store on every request: its cost row
	// names at least one DynamoDB call.
	for _, l := range rows("## AWS calls and capacity per operation") {
		if strings.HasPrefix(l, "| `POST /identity/connect/token` |") && !strings.Contains(l, "DynamoDB.") {
			t.Errorf("the token row counts no DynamoDB call: %s", l)
		}
	}
}

const sampleGoBench = `goos: linux
goarch: amd64
pkg: identityservice/shared/auth
cpu: AMD EPYC
BenchmarkIssue-2   	     708	   1633913 ns/op	   12345 B/op	     120 allocs/op
BenchmarkIssue-2   	     712	   1653913 ns/op	   12345 B/op	     120 allocs/op
BenchmarkVerify-2  	   10000	     95000 ns/op	    6000 B/op	      80 allocs/op
PASS
pkg: identityservice/shared/identity
BenchmarkGenerateSecret-2 	 500000	      2400 ns/op	     128 B/op	       3 allocs/op
ok  	identityservice/shared/identity	1.2s
`

func TestParseGoBench(t *testing.T) {
	got, err := parseGoBench(bufio.NewScanner(strings.NewReader(sampleGoBench)))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 {
		t.Fatalf("%d benchmarks, want 3", len(got))
	}
	issue := got[0]
	if issue.pkg != "identityservice/shared/auth" || issue.name != "Issue" || len(issue.nsOp) != 2 || issue.nsOp.median() != 1643913 || issue.allocsOp.median() != 120 {
		t.Errorf("Issue parsed as %+v", issue)
	}
	if got[2].pkg != "identityservice/shared/identity" || got[2].name != "GenerateSecret" {
		t.Errorf("third benchmark parsed as %+v", got[2])
	}
	if _, err := parseGoBench(bufio.NewScanner(strings.NewReader("--- FAIL: BenchmarkX\nFAIL\n"))); err == nil {
		t.Error("a failed benchmark run was not reported")
	}
}
