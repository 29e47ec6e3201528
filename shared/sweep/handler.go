package sweep

import (
	"context"
	"time"
)

// ScheduledEvent is the payload EventBridge Scheduler sends the sweeper:
// the schedule's Input in template.yaml, whose <aws.scheduler.*> keywords
// Scheduler fills in. Every field is informational: a run sweeps whatever
// is due at the time it runs.
type ScheduledEvent struct {
	ScheduleARN   string `json:"scheduleArn"`
	ScheduledTime string `json:"scheduledTime"`
	ExecutionID   string `json:"executionId"`
	AttemptNumber string `json:"attemptNumber"`
}

// maxDeadlineMargin is the most a run leaves between its budget and the
// invocation's deadline, for the summary line and the last writes: a fifth
// of the time left, at most 30 seconds.
const maxDeadlineMargin = 30 * time.Second

// Handle is the Lambda handler: one run, its budget cut to end a margin
// before the invocation's deadline. The counts are the function's result.
func (s *Sweeper) Handle(ctx context.Context, ev ScheduledEvent) (Counts, error) {
	run := *s
	if dl, ok := ctx.Deadline(); ok {
		left := time.Until(dl)
		margin := min(left/5, maxDeadlineMargin)
		if left -= margin; left < run.Settings.Budget {
			run.Settings.Budget = max(left, time.Second)
		}
		// The last writes after the budget (the run's summary record) get
		// half the margin: the run answers before the invocation's
		// deadline even when a store stalls.
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, dl.Add(-margin/2))
		defer cancel()
	}
	run.logger().InfoContext(ctx, "sweep started", "scheduledTime", ev.ScheduledTime, "executionId", ev.ExecutionID, "attempt", ev.AttemptNumber)
	return run.Run(ctx)
}
