package config_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"identityservice/shared/config"
	"identityservice/shared/sweep"
)

func TestSweepFromEnv(t *testing.T) {
	vars := []string{"RETENTION_DAYS", "WARNING_DAYS", "EVENT_BUS", "EVENT_SOURCE", "SWEEP_BUDGET", "RECONCILE_BATCH"}
	set := func(t *testing.T, kv map[string]string) {
		for _, k := range vars {
			t.Setenv(k, kv[k])
		}
	}
	t.Run("defaults", func(t *testing.T) {
		set(t, nil)
		c, err := config.SweepFromEnv()
		if err != nil {
			t.Fatal(err)
		}
		want := sweep.DefaultSettings()
		if c.Settings.Retention != 30*sweep.Day || !slices.Equal(c.Settings.WarningDays, []int{30, 7, 1}) ||
			c.Settings.Budget != want.Budget || c.Settings.ReconcileBatch != want.ReconcileBatch ||
			c.EventBus != "default" || c.EventSource != "identity-service" {
			t.Fatalf("defaults: %+v", c)
		}
	})
	t.Run("every variable", func(t *testing.T) {
		set(t, map[string]string{"RETENTION_DAYS": "7", "WARNING_DAYS": " 1, 14 ", "EVENT_BUS": "ops", "EVENT_SOURCE": "acme.identity",
			"SWEEP_BUDGET": "90s", "RECONCILE_BATCH": "0"})
		c, err := config.SweepFromEnv()
		if err != nil {
			t.Fatal(err)
		}
		if c.Settings.Retention != 7*sweep.Day || !slices.Equal(c.Settings.WarningDays, []int{14, 1}) || c.EventBus != "ops" ||
			c.EventSource != "acme.identity" || c.Settings.Budget != 90*time.Second || c.Settings.ReconcileBatch != 0 {
			t.Fatalf("parsed: %+v", c)
		}
	})
	t.Run("no warnings", func(t *testing.T) {
		set(t, map[string]string{"WARNING_DAYS": "none"})
		c, err := config.SweepFromEnv()
		if err != nil || len(c.Settings.WarningDays) != 0 {
			t.Fatalf("WARNING_DAYS=none: %v, %v", c.Settings.WarningDays, err)
		}
	})
	for _, tc := range []struct{ k, v string }{
		{"RETENTION_DAYS", "-1"}, {"RETENTION_DAYS", "thirty"}, {"WARNING_DAYS", "30,x"}, {"WARNING_DAYS", "0"},
		{"EVENT_SOURCE", "aws.identity"}, {"SWEEP_BUDGET", "3"}, {"SWEEP_BUDGET", "-1m"}, {"RECONCILE_BATCH", "-5"},
	} {
		t.Run(tc.k+"="+tc.v, func(t *testing.T) {
			set(t, map[string]string{tc.k: tc.v})
			if _, err := config.SweepFromEnv(); err == nil || !strings.Contains(err.Error(), tc.k) {
				t.Fatalf("err %v, want one naming %s", err, tc.k)
			}
		})
	}
}
