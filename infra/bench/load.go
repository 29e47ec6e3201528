package main

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// loadResult is one load run: every request's latency, the wall time, and
// the CPU time of this process (the service: the load generator only hands
// out prepared events) and of the emulators across the run.
type loadResult struct {
	lat    []time.Duration
	wall   time.Duration
	cpu    time.Duration // this process
	dynCPU time.Duration // DynamoDB Local
	smCPU  time.Duration // moto
	failed int           // answers that were not 2xx (or errors)
	first  string        // the first of them
}

func (r loadResult) n() int { return len(r.lat) }

// perSecond is the throughput.
func (r loadResult) perSecond() float64 { return float64(r.n()) / r.wall.Seconds() }

// cpuPer is this process's CPU per request.
func (r loadResult) cpuPer() time.Duration { return r.cpu / time.Duration(max(r.n(), 1)) }

// pct returns the p-th percentile latency (nearest rank).
func (r loadResult) pct(p float64) time.Duration {
	if len(r.lat) == 0 {
		return 0
	}
	s := slices.Clone(r.lat)
	slices.Sort(s)
	i := int(p/100*float64(len(s))+0.5) - 1
	return s[min(max(i, 0), len(s)-1)]
}

// load sends each worker's events, in order, through f, the workers
// concurrently. A benchmark of error answers measures nothing, so any
// answer that is not a 2xx is counted and kept out of the latencies, and
// more than 1% of them (at least 2) fails the load. A single one, on a
// loaded machine, is reported rather than ending a long run.
func (b *bench) load(ctx context.Context, f *function, perWorker [][][]byte) (loadResult, error) {
	var (
		mu  sync.Mutex
		res loadResult
		wg  sync.WaitGroup
	)
	total := 0
	for _, evs := range perWorker {
		total += len(evs)
	}
	res.lat = make([]time.Duration, 0, total)
	cpu0, dyn0, sm0 := processCPU(), emuCPU(b.s.emu.DynamoDB.Pid()), emuCPU(b.s.emu.SecretsManager.Pid())
	began := time.Now()
	for _, evs := range perWorker {
		wg.Go(func() {
			lat := make([]time.Duration, 0, len(evs))
			for _, ev := range evs {
				t0 := time.Now()
				resp, err := f.invoke(ctx, ev)
				d := time.Since(t0)
				if err == nil {
					if err = answered(resp); err != nil {
						err = fmt.Errorf("%s %w\nlast errors logged:\n%s", f.name, err, b.s.errors.last())
					}
				}
				if err != nil {
					mu.Lock()
					if res.failed++; res.first == "" {
						res.first = err.Error()
					}
					mu.Unlock()
					if ctx.Err() != nil {
						return
					}
					continue
				}
				lat = append(lat, d)
			}
			mu.Lock()
			res.lat = append(res.lat, lat...)
			mu.Unlock()
		})
	}
	wg.Wait()
	res.wall = time.Since(began)
	res.cpu = processCPU() - cpu0
	res.dynCPU = emuCPU(b.s.emu.DynamoDB.Pid()) - dyn0
	res.smCPU = emuCPU(b.s.emu.SecretsManager.Pid()) - sm0
	if res.failed > max(1, total/100) || ctx.Err() != nil {
		return res, fmt.Errorf("%d of %d requests failed; the first: %s", res.failed, total, res.first)
	}
	if res.failed > 0 {
		b.failures = append(b.failures, fmt.Sprintf("%s: %d of %d requests failed; the first: %s", f.name, res.failed, total, res.first))
	}
	return res, nil
}

// split deals n events, made by gen(worker, k) for the k-th request of a
// worker, to c workers.
func split(c, n int, gen func(w, k int) request) [][][]byte {
	out := make([][][]byte, c)
	for i := range n {
		w, k := i%c, i/c
		out[w] = append(out[w], gen(w, k).event())
	}
	return out
}

// processCPU is this process's user plus system CPU time so far.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// clockTick is the unit of /proc/<pid>/stat's times (USER_HZ, 100 on Linux).
const clockTick = 10 * time.Millisecond

// emuCPU is an emulator's user plus system CPU time so far (0 where /proc
// is missing).
func emuCPU(pid int) time.Duration {
	raw, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0
	}
	// Fields after the command name, which is in parentheses and may hold spaces.
	s := string(raw)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) < 13 {
		return 0
	}
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(utime+stime) * clockTick
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

func itoa(n int) string { return strconv.Itoa(n) }
