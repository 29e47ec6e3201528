package config_test

import (
	"strings"
	"testing"

	"identityservice/shared/config"
)

// RETENTION_DAYS reaches the API's configuration and its service (the
// secret record limit's 400 names it), 30 when unset, 0 allowed.
func TestRetentionDaysFromEnv(t *testing.T) {
	t.Setenv("TABLE_NAME", "t")
	t.Setenv("SECRET_PREFIX", "p")
	for _, tc := range []struct {
		v    string
		want int
	}{{"", 30}, {"7", 7}, {"0", 0}} {
		t.Setenv("RETENTION_DAYS", tc.v)
		c, err := config.FromEnv()
		if err != nil {
			t.Fatalf("RETENTION_DAYS=%q: %v", tc.v, err)
		}
		if c.RetentionDays != tc.want || config.NewApp(c, config.Clients{}, nil).Service.RetentionDays != tc.want {
			t.Fatalf("RETENTION_DAYS=%q: config %d, want %d in the config and the service", tc.v, c.RetentionDays, tc.want)
		}
	}
	for _, v := range []string{"-1", "thirty"} {
		t.Setenv("RETENTION_DAYS", v)
		if _, err := config.FromEnv(); err == nil || !strings.Contains(err.Error(), "RETENTION_DAYS") {
			t.Fatalf("RETENTION_DAYS=%q: err %v, want one naming RETENTION_DAYS", v, err)
		}
	}
}
