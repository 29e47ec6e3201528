package sweep_test

import (
	"testing"
	"time"

	"identityservice/shared/sweep"
)

// Each run writes one summary line: its counts as attributes and, in the
// same JSON object, the embedded-metric-format directive that makes them
// CloudWatch metrics.
func TestSummaryLineCarriesCountsAndMetrics(t *testing.T) {
	f := newFixture(t)
	exp := f.base.Add(time.Hour)
	f.client(&exp)
	soon := f.base.Add(10 * sweep.Day)
	f.client(&soon)
	c := f.sweep(f.base.Add(2 * time.Hour))
	if c.Expired != 1 || c.Warned != 1 {
		t.Fatalf("sweep: %+v, want one expired and one warned", c)
	}

	var summaries []map[string]any
	for _, l := range f.logs.Lines() {
		if l["msg"] == "sweep finished" {
			summaries = append(summaries, l)
		}
	}
	if len(summaries) != 1 {
		t.Fatalf("%d summary lines, want 1", len(summaries))
	}
	line := summaries[0]
	want := map[string]int{"Expired": 1, "ExpiredRemoved": 0, "DeletedSwept": 0, "DeletedPurged": 0, "Warned": 1,
		"OrphansDestroyed": 0, "MaterialMissing": 0, "Failed": 0, "Unfinished": 0}
	for name, v := range want {
		if got, ok := line[name].(float64); !ok || int(got) != v {
			t.Errorf("summary %s = %v, want %d", name, line[name], v)
		}
	}
	if line["Stack"] != f.prefix {
		t.Errorf("summary Stack = %v, want %s", line["Stack"], f.prefix)
	}

	aws, _ := line["_aws"].(map[string]any)
	if ts, ok := aws["Timestamp"].(float64); !ok || ts <= 0 {
		t.Fatalf("_aws.Timestamp = %v, want epoch milliseconds", aws["Timestamp"])
	}
	dirs, _ := aws["CloudWatchMetrics"].([]any)
	if len(dirs) != 1 {
		t.Fatalf("_aws.CloudWatchMetrics = %v, want one directive", aws["CloudWatchMetrics"])
	}
	dir := dirs[0].(map[string]any)
	if dir["Namespace"] != sweep.DefaultNamespace {
		t.Errorf("Namespace = %v, want %s", dir["Namespace"], sweep.DefaultNamespace)
	}
	dims, _ := dir["Dimensions"].([]any)
	if len(dims) != 1 || len(dims[0].([]any)) != 1 || dims[0].([]any)[0] != "Stack" {
		t.Errorf("Dimensions = %v, want [[Stack]]", dir["Dimensions"])
	}
	declared := map[string]bool{}
	for _, m := range dir["Metrics"].([]any) {
		m := m.(map[string]any)
		declared[m["Name"].(string)] = true
		// Every declared metric must be a number at the root, or
		// CloudWatch drops the whole record.
		if _, ok := line[m["Name"].(string)].(float64); !ok {
			t.Errorf("metric %v has no numeric value at the root of the line", m["Name"])
		}
	}
	for name := range want {
		if !declared[name] {
			t.Errorf("count %s is not declared as a metric", name)
		}
	}
}
