package sweep_test

import (
	"testing"
	"time"

	"identityservice/shared/sweep"
)

// Every run leaves its summary in the table for the operations dashboard:
// its instant, its counts and its duration; a run that finished earlier
// never replaces the summary of one that finished later.
func TestRunRecordsItsSummary(t *testing.T) {
	f := newFixture(t)
	if _, ok, err := f.store.Runs.LastRun(f.ctx); err != nil || ok {
		t.Fatalf("before any run: LastRun ok=%v err=%v, want nothing recorded", ok, err)
	}
	exp := f.base.Add(90 * time.Minute)
	f.client(&exp)

	at := f.base.Add(2 * time.Hour)
	f.clock.Set(at)
	sw := f.sweeper(settings())
	sw.Runs = f.store.Runs
	counts, err := sw.Run(f.ctx)
	if err != nil {
		t.Fatal(err)
	}
	got, ok, err := f.store.Runs.LastRun(f.ctx)
	if err != nil || !ok {
		t.Fatalf("LastRun after a run: ok=%v err=%v", ok, err)
	}
	if got.Counts != counts || got.Counts.Expired != 1 {
		t.Errorf("recorded counts %+v, want the run's %+v (Expired 1)", got.Counts, counts)
	}
	if !got.StartedAt.Equal(at) || got.FinishedAt.Before(got.StartedAt) || got.DurationMs < 0 || len(got.FailedSteps) != 0 {
		t.Errorf("recorded run %+v, want StartedAt %s, FinishedAt after it, no failed steps", got, at)
	}

	// A run that finished before the recorded one (overlapping runs) loses.
	older := sweep.LastRun{StartedAt: at.Add(-time.Hour), FinishedAt: at.Add(-time.Hour), Counts: sweep.Counts{Warned: 99}}
	if err := f.store.Runs.RecordRun(f.ctx, older); err != nil {
		t.Fatal(err)
	}
	if again, _, _ := f.store.Runs.LastRun(f.ctx); again.Counts != counts {
		t.Errorf("an older run replaced the summary: %+v", again.Counts)
	}
	newer := sweep.LastRun{StartedAt: at.Add(time.Hour), FinishedAt: at.Add(time.Hour), Counts: sweep.Counts{Warned: 3}, FailedSteps: []string{"purge"}}
	if err := f.store.Runs.RecordRun(f.ctx, newer); err != nil {
		t.Fatal(err)
	}
	if again, _, _ := f.store.Runs.LastRun(f.ctx); again.Counts.Warned != 3 || len(again.FailedSteps) != 1 || again.FailedSteps[0] != "purge" {
		t.Errorf("a later run's summary was not stored: %+v", again)
	}
}
