package sweep

import (
	"context"
	"time"
)

// LastRun is the summary of a finished run that the sweeper keeps for the
// operations dashboard (GET /_/op-dashboard/api/last-sweep): when it ran,
// what it did, and which steps failed (by name; causes stay in the logs).
type LastRun struct {
	StartedAt   time.Time // the instant the run swept as of (the sweeper's clock)
	FinishedAt  time.Time // StartedAt plus the run's wall time
	DurationMs  int64
	Counts      Counts
	FailedSteps []string // names of the steps that could not read what they needed
}

// RunRecorder keeps the summary of the latest run. An older run that
// finishes after a newer one must not replace the newer one's summary.
type RunRecorder interface {
	RecordRun(ctx context.Context, r LastRun) error
}

// recordRun hands the run's summary to s.Runs, if set. A failure is
// logged, not returned: the sweep itself is done and its summary line is
// written.
func (s *Sweeper) recordRun(ctx context.Context, started time.Time, took time.Duration, c Counts, failed []string) {
	if s.Runs == nil {
		return
	}
	r := LastRun{StartedAt: started, FinishedAt: started.Add(took), DurationMs: took.Milliseconds(), Counts: c, FailedSteps: failed}
	if err := s.Runs.RecordRun(ctx, r); err != nil {
		s.logger().ErrorContext(ctx, "sweep summary not recorded", "error", err.Error())
	}
}
