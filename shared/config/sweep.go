package config

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"

	"identityservice/shared/store"
	"identityservice/shared/sweep"
	"identityservice/shared/vault"
)

// SweepConfig is the sweeper's configuration, beyond Config. Only the
// sweeper reads it, so a mistake here never stops the API's functions.
type SweepConfig struct {
	Settings    sweep.Settings
	EventBus    string // EVENT_BUS: the EventBridge bus of the warnings
	EventSource string // EVENT_SOURCE: the warnings' source
}

// Defaults of SweepConfig beyond sweep.DefaultSettings.
const (
	DefaultEventBus    = "default"
	DefaultEventSource = "identity-service"
)

// SweepFromEnv reads the sweeper's variables (README, "Configuration"):
//
//	RETENTION_DAYS   days expired and soft-deleted secrets stay listed (30)
//	WARNING_DAYS     warning windows, days before expiration ("30,7,1"; "none": no warnings)
//	EVENT_BUS        EventBridge bus of the warnings ("default")
//	EVENT_SOURCE     source of the warnings ("identity-service")
//	SWEEP_BUDGET     wall time of one run, a Go duration ("3m")
//	RECONCILE_BATCH  material and records each reconciliation walk checks per run (100; 0: off)
func SweepFromEnv() (SweepConfig, error) {
	c := SweepConfig{Settings: sweep.DefaultSettings(), EventBus: DefaultEventBus, EventSource: DefaultEventSource}
	if v := os.Getenv("RETENTION_DAYS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return c, fmt.Errorf("RETENTION_DAYS=%q: want a whole number of days, 0 or more", v)
		}
		c.Settings.Retention = time.Duration(n) * sweep.Day
	}
	if v := strings.TrimSpace(os.Getenv("WARNING_DAYS")); v != "" {
		c.Settings.WarningDays = nil
		if !strings.EqualFold(v, "none") {
			for _, f := range strings.Split(v, ",") {
				n, err := strconv.Atoi(strings.TrimSpace(f))
				if err != nil {
					return c, fmt.Errorf("WARNING_DAYS=%q: want days separated by commas, e.g. 30,7,1, or none", v)
				}
				c.Settings.WarningDays = append(c.Settings.WarningDays, n)
			}
		}
	}
	if v := os.Getenv("EVENT_BUS"); v != "" {
		c.EventBus = v
	}
	if v := os.Getenv("EVENT_SOURCE"); v != "" {
		if strings.HasPrefix(v, "aws.") {
			return c, fmt.Errorf("EVENT_SOURCE=%q: sources starting with aws. are AWS's", v)
		}
		c.EventSource = v
	}
	if v := os.Getenv("SWEEP_BUDGET"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return c, fmt.Errorf("SWEEP_BUDGET=%q: want a positive duration such as 3m", v)
		}
		c.Settings.Budget = d
	}
	if v := os.Getenv("RECONCILE_BATCH"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return c, fmt.Errorf("RECONCILE_BATCH=%q: want a whole number, 0 or more", v)
		}
		c.Settings.ReconcileBatch = n
	}
	s, err := c.Settings.Validate()
	if err != nil {
		return c, fmt.Errorf("WARNING_DAYS: %w", err)
	}
	c.Settings = s
	return c, nil
}

// SummaryLogger is the logger of the sweeper's summary line: JSON to w at
// every level, since the line carries the run's metrics.
func SummaryLogger(w io.Writer) *slog.Logger {
	return slog.New(slog.NewJSONHandler(w, nil))
}

// Sweeper wires a sweeper to the table, the material and events.
func (c Config) Sweeper(clients Clients, events sweep.Publisher, s sweep.Settings, log, summary *slog.Logger) *sweep.Sweeper {
	st := store.New(clients.DynamoDB, c.Table)
	return &sweep.Sweeper{
		Store:     st.SweepQueue,
		Runs:      st.Runs,
		Inventory: vault.NewInventory(clients.SecretsManager, c.SecretPrefix),
		Events:    events,
		Settings:  s,
		Log:       log,
		Summary:   summary,
		Metrics:   sweep.Metrics{Stack: c.SecretPrefix},
	}
}
