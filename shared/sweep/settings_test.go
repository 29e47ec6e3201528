package sweep_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"identityservice/shared/sweep"
)

func TestSettingsValidate(t *testing.T) {
	ok := sweep.DefaultSettings()
	ok.WarningDays = []int{1, 30, 7}
	got, err := ok.Validate()
	if err != nil || !slices.Equal(got.WarningDays, []int{30, 7, 1}) {
		t.Fatalf("Validate(1,30,7) = %v, %v; want the windows largest first", got.WarningDays, err)
	}
	for _, tc := range []struct {
		name   string
		change func(*sweep.Settings)
		want   string
	}{
		{"window of 0 days", func(s *sweep.Settings) { s.WarningDays = []int{0} }, "1 to 366"},
		{"window listed twice", func(s *sweep.Settings) { s.WarningDays = []int{7, 30, 7} }, "twice"},
		{"too many windows", func(s *sweep.Settings) { s.WarningDays = []int{1, 2, 3, 4, 5, 6} }, "at most"},
		{"no budget", func(s *sweep.Settings) { s.Budget = 0 }, "budget"},
		{"negative retention", func(s *sweep.Settings) { s.Retention = -time.Hour }, "retention"},
		{"negative batch", func(s *sweep.Settings) { s.ReconcileBatch = -1 }, "batch"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := sweep.DefaultSettings()
			tc.change(&s)
			if _, err := s.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Validate = %v, want an error mentioning %q", err, tc.want)
			}
		})
	}
}

func TestDaysLeft(t *testing.T) {
	exp := time.Date(2030, 1, 31, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		before time.Duration
		want   int
	}{
		{30 * sweep.Day, 30},
		{30*sweep.Day - time.Second, 30},
		{29*sweep.Day + time.Hour, 30},
		{7 * sweep.Day, 7},
		{23 * time.Hour, 1},
		{time.Second, 1},
		{0, 0},
		{-time.Hour, 0},
	} {
		if got := sweep.DaysLeft(exp, exp.Add(-tc.before)); got != tc.want {
			t.Errorf("DaysLeft %s before = %d, want %d", tc.before, got, tc.want)
		}
	}
}
