package sweep

import (
	"context"
	"log/slog"
	"time"
)

// Metrics names the CloudWatch metrics of the summary line.
type Metrics struct {
	Namespace string // e.g. "IdentityService"; empty: DefaultNamespace
	Stack     string // value of the "Stack" dimension; empty: no dimension
}

// DefaultNamespace is the metrics' namespace unless Metrics says otherwise.
const DefaultNamespace = "IdentityService/Sweeper"

// emfDirective is one entry of _aws.CloudWatchMetrics in the embedded
// metric format.
type emfDirective struct {
	Namespace  string      `json:"Namespace"`
	Dimensions [][]string  `json:"Dimensions"`
	Metrics    []emfMetric `json:"Metrics"`
}

type emfMetric struct {
	Name string `json:"Name"`
	Unit string `json:"Unit"`
}

// report writes the run's one summary line: the counts as attributes and,
// in the same JSON object, the CloudWatch embedded metric format
// directive that turns them into metrics (the line is written to stdout,
// which Lambda sends to CloudWatch Logs, which extracts the metrics).
func (s *Sweeper) report(ctx context.Context, c Counts, took time.Duration) {
	log := s.Summary
	if log == nil {
		log = s.logger()
	}
	unfinished := 0
	if c.Unfinished {
		unfinished = 1
	}
	values := []struct {
		name string
		v    int
	}{
		{"Expired", c.Expired},
		{"ExpiredRemoved", c.ExpiredRemoved},
		{"DeletedSwept", c.DeletedSwept},
		{"DeletedPurged", c.DeletedPurged},
		{"Warned", c.Warned},
		{"OrphansDestroyed", c.OrphansDestroyed},
		{"MaterialMissing", c.MaterialMissing},
		{"Failed", c.Failed},
		{"Unfinished", unfinished},
	}
	dir := emfDirective{Namespace: s.Metrics.Namespace, Dimensions: [][]string{{}}}
	if dir.Namespace == "" {
		dir.Namespace = DefaultNamespace
	}
	attrs := make([]any, 0, len(values)+4)
	if s.Metrics.Stack != "" {
		dir.Dimensions = [][]string{{"Stack"}}
		attrs = append(attrs, slog.String("Stack", s.Metrics.Stack))
	}
	for _, v := range values {
		dir.Metrics = append(dir.Metrics, emfMetric{Name: v.name, Unit: "Count"})
		attrs = append(attrs, slog.Int(v.name, v.v))
	}
	dir.Metrics = append(dir.Metrics, emfMetric{Name: "DurationMs", Unit: "Milliseconds"})
	attrs = append(attrs,
		slog.Int64("DurationMs", took.Milliseconds()),
		slog.Group("_aws",
			slog.Int64("Timestamp", time.Now().UnixMilli()),
			slog.Any("CloudWatchMetrics", []emfDirective{dir}),
		),
	)
	log.InfoContext(ctx, "sweep finished", attrs...)
}
