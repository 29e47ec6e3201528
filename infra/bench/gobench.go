package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// goBench is one testing.B benchmark over its -count runs.
type goBench struct {
	pkg, name     string
	nsOp          spread
	bytesOp       spread
	allocsOp      spread
	custom        map[string]spread // b.ReportMetric units
	customOrdered []string
}

// readGoBench summarizes the output of `go test -bench -benchmem -count N`.
func (b *bench) readGoBench(context.Context) error {
	if b.o.gobench == "" {
		return nil
	}
	f, err := os.Open(b.o.gobench)
	if err != nil {
		return err
	}
	defer f.Close()
	benches, err := parseGoBench(bufio.NewScanner(f))
	if err != nil {
		return fmt.Errorf("%s: %w", b.o.gobench, err)
	}
	if len(benches) == 0 {
		return fmt.Errorf("%s holds no benchmark results: did `go test -bench` fail?", b.o.gobench)
	}
	b.rep.gobench = benches
	return nil
}

// parseGoBench reads benchmark lines ("BenchmarkX-2  1000  1234 ns/op
// 56 B/op  7 allocs/op") under their "pkg:" headers, in order of first
// appearance.
func parseGoBench(sc *bufio.Scanner) ([]*goBench, error) {
	var (
		pkg   string
		order []*goBench
		byKey = map[string]*goBench{}
	)
	for sc.Scan() {
		line := sc.Text()
		if p, ok := strings.CutPrefix(line, "pkg: "); ok {
			pkg = strings.TrimSpace(p)
			continue
		}
		if strings.HasPrefix(line, "--- FAIL") || strings.HasPrefix(line, "FAIL") {
			return nil, fmt.Errorf("a benchmark failed: %s", line)
		}
		f := strings.Fields(line)
		if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") {
			continue
		}
		if _, err := strconv.Atoi(f[1]); err != nil {
			continue
		}
		name := f[0]
		if i := strings.LastIndexByte(name, '-'); i > 0 {
			if _, err := strconv.Atoi(name[i+1:]); err == nil {
				name = name[:i] // the GOMAXPROCS suffix
			}
		}
		key := pkg + " " + name
		gb := byKey[key]
		if gb == nil {
			gb = &goBench{pkg: pkg, name: strings.TrimPrefix(name, "Benchmark"), custom: map[string]spread{}}
			byKey[key] = gb
			order = append(order, gb)
		}
		for i := 2; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				continue
			}
			switch unit := f[i+1]; unit {
			case "ns/op":
				gb.nsOp = append(gb.nsOp, v)
			case "B/op":
				gb.bytesOp = append(gb.bytesOp, v)
			case "allocs/op":
				gb.allocsOp = append(gb.allocsOp, v)
			default:
				if _, ok := gb.custom[unit]; !ok {
					gb.customOrdered = append(gb.customOrdered, unit)
				}
				gb.custom[unit] = append(gb.custom[unit], v)
			}
		}
	}
	return order, sc.Err()
}
