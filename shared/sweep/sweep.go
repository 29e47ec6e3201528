// Package sweep is the scheduled expiration sweep of client secrets. Each run
// destroys the material of secrets that expired and marks their records
// swept, removes swept and soft-deleted records after the retention period,
// puts one "Client Secret Expiring" event per warning window before a secret
// expires, and reconciles secret material with the records. Every run is
// idempotent and bounded by a time budget: what it leaves undone, the next
// run does. Runs may overlap; conditional writes keep the end state that of
// one run and every warning single.
//
// The package holds no AWS code: records, material and events are behind the
// Store, Inventory and Publisher interfaces (shared/store, shared/vault,
// shared/eventbus). The design is in docs/sweeper.md.
package sweep

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"identityservice/shared/identity"
)

// Day is the unit of retention and warning windows.
const Day = 24 * time.Hour

// MaxWarningWindows bounds the warning windows: each has its own queue in
// the index, and every run reads every queue.
const MaxWarningWindows = 5

// Settings are a sweeper's tunables.
type Settings struct {
	// Retention is how long expired and soft-deleted secrets stay listed
	// after their expiration or deletion before their records are removed.
	Retention time.Duration
	// WarningDays are the warning windows, in days before expiration.
	WarningDays []int
	// Budget is the wall time one run may spend; the Lambda handler lowers
	// it to leave a margin before the invocation's deadline.
	Budget time.Duration
	// ReconcileBatch is how many pieces of material, and how many active
	// records, a run checks; each walk continues where the previous run
	// stopped. 0 turns reconciliation off.
	ReconcileBatch int
	// MaterialMinAge protects material whose record may still be being
	// written: younger material is never destroyed as an orphan.
	MaterialMinAge time.Duration
	// ClaimTimeout is how long a warning claim holds: a claim older than
	// this belongs to a run that died between claiming and sending, and is
	// taken over. It must exceed the function's timeout.
	ClaimTimeout time.Duration
}

// DefaultSettings are the documented defaults (README, "Configuration").
func DefaultSettings() Settings {
	return Settings{
		Retention:      30 * Day,
		WarningDays:    []int{30, 7, 1},
		Budget:         3 * time.Minute,
		ReconcileBatch: 100,
		MaterialMinAge: time.Hour,
		ClaimTimeout:   15 * time.Minute,
	}
}

// Validate checks settings and returns them with the warning windows
// sorted, largest first.
func (s Settings) Validate() (Settings, error) {
	if s.Retention < 0 {
		return s, errors.New("retention must not be negative")
	}
	if s.Budget <= 0 {
		return s, errors.New("the budget must be positive")
	}
	if s.ReconcileBatch < 0 {
		return s, errors.New("the reconcile batch must not be negative")
	}
	if len(s.WarningDays) > MaxWarningWindows {
		return s, fmt.Errorf("%d warning windows; at most %d", len(s.WarningDays), MaxWarningWindows)
	}
	days := slices.Clone(s.WarningDays)
	slices.SortFunc(days, func(a, b int) int { return b - a })
	for i, d := range days {
		if d < 1 || d > 366 {
			return s, fmt.Errorf("warning window %d days: want 1 to 366", d)
		}
		if i > 0 && days[i-1] == d {
			return s, fmt.Errorf("warning window %d days is listed twice", d)
		}
	}
	s.WarningDays = days
	return s, nil
}

// Stage is the part of a secret record's life the sweeper keeps it in.
type Stage int

// Stages of a record that expires or was soft-deleted.
const (
	// Inbox: written by the API (create, add, update of the expiration,
	// soft delete) and not yet looked at by the sweeper in that state.
	Inbox Stage = iota
	// Pending: every warning due so far is sent; Queue.Pending windows are
	// still to come (0: the expiration is next).
	Pending
	// Swept: material destroyed; the record waits for the retention period.
	Swept
)

// Queue is where a record waits in the expiry index.
type Queue struct {
	Stage   Stage
	Pending int // warning windows still to come, for Stage Pending
}

func (q Queue) String() string {
	switch q.Stage {
	case Inbox:
		return "inbox"
	case Pending:
		return fmt.Sprintf("pending(%d)", q.Pending)
	default:
		return "swept"
	}
}

// Record is a secret record as the sweeper sees it.
type Record struct {
	Secret identity.Secret
	Queue  Queue
	// DueAt is the record's time in the index: its expiration, or its soft
	// deletion once soft-deleted.
	DueAt time.Time
	// Warnings holds the claims of warnings, by window in days.
	Warnings map[int]Claim
	// Problem is set when the stored item could not be read; the other
	// fields are what could be.
	Problem error
}

// Claim is a warning a run claimed (Sent false) or sent, for one
// expiration: a secret whose expiration changes is warned again.
type Claim struct {
	Expiration time.Time
	Sent       bool
	ClaimedAt  time.Time
}

// RecordState is what reconciliation needs to know of a material's record.
type RecordState int

// Record states.
const (
	// NoRecord: no record, or one of another tenant: the material is an orphan.
	NoRecord RecordState = iota
	// Live: the record is active, or expired and not yet swept.
	Live
	// Finished: swept or soft-deleted; its material should be gone.
	Finished
)

// Store is the part of the secret records the sweeper reads and writes.
// Every write is conditional on the record being as it was read, so that
// overlapping runs, and the API, never have their writes undone.
type Store interface {
	// Due returns a page of the records in queue q whose DueAt is at or
	// before upTo, oldest first within each of the queue's index shards.
	// after is "" for the first page; next is ""
	// after the last.
	Due(ctx context.Context, q Queue, upTo time.Time, after string) (recs []Record, next string, err error)
	// ClaimWarning claims r's warning for a window: false if it is sent for
	// r's expiration, claimed since staleBefore, or r changed.
	ClaimWarning(ctx context.Context, r Record, days int, at, staleBefore time.Time) (bool, error)
	// ConfirmWarning marks the claim made at instant at as sent.
	ConfirmWarning(ctx context.Context, r Record, days int, at time.Time) error
	// ReleaseWarning withdraws the claim made at instant at.
	ReleaseWarning(ctx context.Context, r Record, days int, at time.Time) error
	// Move puts r in queue to, if r is unchanged and the warnings for the
	// windows sent are sent for its expiration; false otherwise.
	Move(ctx context.Context, r Record, to Queue, sent []int) (bool, error)
	// MarkSwept records that r's material is being destroyed and moves r to
	// the swept queue, if r is unchanged; false otherwise. From then on the
	// API refuses to change the secret.
	MarkSwept(ctx context.Context, r Record, at time.Time) (bool, error)
	// Remove deletes a swept record, if unchanged; false otherwise.
	Remove(ctx context.Context, r Record) (bool, error)

	// RecordStates reads, strongly consistent, the records of up to 100
	// pieces of material.
	RecordStates(ctx context.Context, refs []identity.MaterialRef) ([]RecordState, error)
	// ActiveRecords walks the records that may be active at instant now, a
	// page of at most limit at a time, from cursor ("": the start); next is
	// "" once the walk is complete.
	ActiveRecords(ctx context.Context, cursor string, limit int, now time.Time) (secs []identity.Secret, next string, err error)
	// StillActive reads a secret's record again, strongly consistent.
	StillActive(ctx context.Context, sec identity.Secret, now time.Time) (bool, error)
	// LoadCursors and SaveCursors keep where the reconciliation walks are.
	LoadCursors(ctx context.Context) (Cursors, error)
	SaveCursors(ctx context.Context, c Cursors) error
}

// Cursors are the positions of the two reconciliation walks.
type Cursors struct {
	Material string // in the Inventory's listing
	Records  string // in Store.ActiveRecords
}

// Material is one piece of secret material in the Inventory.
type Material struct {
	Name      string
	Ref       identity.MaterialRef
	Named     bool // a name the service gives (material of its own, or an entry of a pack), so Ref is set
	CreatedAt time.Time
}

// Inventory is the secret material under the service's prefix.
type Inventory interface {
	// List returns up to limit pieces of material from cursor ("": the
	// start); next is "" after the last.
	List(ctx context.Context, cursor string, limit int) (mats []Material, next string, err error)
	// Missing returns the refs that have no material.
	Missing(ctx context.Context, refs []identity.MaterialRef) ([]identity.MaterialRef, error)
	// Destroy destroys material at once; material already gone is not an error.
	Destroy(ctx context.Context, ref identity.MaterialRef) error
}

// Warning is a "Client Secret Expiring" event.
type Warning struct {
	TenantID   string
	ClientID   string
	SecretID   string
	Expiration time.Time
	DaysLeft   int // whole days left, rounded up
	WindowDays int // the warning window
}

// Publisher puts warning events.
type Publisher interface {
	SecretExpiring(ctx context.Context, w Warning) error
}

// Counts are what one run did. They are the summary log line's
// attributes and its metrics.
type Counts struct {
	Expired          int  `json:"Expired"`          // expired secrets swept: material destroyed, record marked
	ExpiredRemoved   int  `json:"ExpiredRemoved"`   // records of expired secrets removed after the retention period
	DeletedSwept     int  `json:"DeletedSwept"`     // soft-deleted secrets swept (material destroyed again)
	DeletedPurged    int  `json:"DeletedPurged"`    // records of soft-deleted secrets removed after the retention period
	Warned           int  `json:"Warned"`           // warning events put
	OrphansDestroyed int  `json:"OrphansDestroyed"` // material without a live record, destroyed
	MaterialMissing  int  `json:"MaterialMissing"`  // active records without material (logged as errors)
	Failed           int  `json:"Failed"`           // items that failed; the next run retries them
	Unfinished       bool `json:"Unfinished"`       // the budget ran out: the next run continues
}

func (c *Counts) add(o Counts) {
	c.Expired += o.Expired
	c.ExpiredRemoved += o.ExpiredRemoved
	c.DeletedSwept += o.DeletedSwept
	c.DeletedPurged += o.DeletedPurged
	c.Warned += o.Warned
	c.OrphansDestroyed += o.OrphansDestroyed
	c.MaterialMissing += o.MaterialMissing
	c.Failed += o.Failed
	c.Unfinished = c.Unfinished || o.Unfinished
}

// Sweeper runs sweeps.
type Sweeper struct {
	Store     Store
	Inventory Inventory
	Events    Publisher
	Settings  Settings
	// Now is the clock of the records' lifecycle; tests control it. The
	// budget is measured on the wall clock.
	Now func() time.Time
	// Log receives one line per problem, with the ids concerned.
	Log *slog.Logger
	// Summary receives the one summary line of each run (with its EMF
	// metrics); give it a logger that no level filters out.
	Summary *slog.Logger
	// Metrics names the summary's metrics (see report.go).
	Metrics Metrics
	// Runs keeps each run's summary for the operations dashboard; nil:
	// not kept.
	Runs RunRecorder
}

// errBudget stops a step when the budget has run out.
var errBudget = errors.New("sweep budget exhausted")

// run is one sweep in progress.
type run struct {
	*Sweeper
	set      Settings
	now      time.Time
	deadline time.Time // wall clock
	counts   Counts
}

// Run sweeps once: expired secrets, then records past the retention period
// and warnings, then reconciliation, until done or out of budget. It logs
// the summary line and returns the counts; the error says which steps could
// not read what they needed (the other steps still ran).
func (s *Sweeper) Run(ctx context.Context) (Counts, error) {
	started := time.Now()
	set, err := s.Settings.Validate()
	if err != nil {
		return Counts{}, fmt.Errorf("sweep settings: %w", err)
	}
	r := &run{Sweeper: s, set: set, now: s.now(), deadline: started.Add(set.Budget)}
	// Every call of the run ends with the budget: a stalled store cannot
	// hold the run (and its summary line) past it.
	work, cancel := context.WithDeadline(ctx, r.deadline)
	defer cancel()
	var errs []error
	var failed []string
	for _, step := range []struct {
		name string
		do   func(context.Context) error
	}{
		{"purge", r.purgeStep},
		{"expire and warn", r.dueStep},
		{"reconcile material", r.reconcileMaterial},
		{"reconcile records", r.reconcileRecords},
	} {
		err := step.do(work)
		if errors.Is(err, errBudget) || (err != nil && r.spent()) {
			r.counts.Unfinished = true
			break
		}
		if err != nil {
			s.logger().ErrorContext(ctx, "sweep step failed", "step", step.name, "error", err.Error())
			errs = append(errs, fmt.Errorf("%s: %w", step.name, err))
			failed = append(failed, step.name)
		}
	}
	took := time.Since(started)
	s.report(ctx, r.counts, took)
	s.recordRun(ctx, r.now, took, r.counts, failed)
	return r.counts, errors.Join(errs...)
}

func (s *Sweeper) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

func (s *Sweeper) logger() *slog.Logger {
	if s.Log != nil {
		return s.Log
	}
	return slog.Default()
}

// spent reports whether the budget has run out.
func (r *run) spent() bool { return !time.Now().Before(r.deadline) }

// each calls f on every record due in q, page by page, until the budget
// runs out.
func (r *run) each(ctx context.Context, q Queue, upTo time.Time, f func(context.Context, Record)) error {
	after := ""
	for {
		if r.spent() {
			return errBudget
		}
		recs, next, err := r.Store.Due(ctx, q, upTo, after)
		if err != nil {
			return fmt.Errorf("read queue %s: %w", q, err)
		}
		for _, rec := range recs {
			if r.spent() {
				return errBudget
			}
			if rec.Problem != nil {
				r.counts.Failed++
				r.logger().ErrorContext(ctx, "secret record unreadable", ids(rec.Secret, "error", rec.Problem.Error())...)
				continue
			}
			f(ctx, rec)
		}
		if next == "" {
			return nil
		}
		after = next
	}
}

// purgeStep removes swept records whose retention period has passed.
func (r *run) purgeStep(ctx context.Context) error {
	return r.each(ctx, Queue{Stage: Swept}, r.now.Add(-r.set.Retention), r.purge)
}

// dueStep takes every record whose next event has come: a warning
// window reached, the expiration passed, a soft deletion.
func (r *run) dueStep(ctx context.Context) error {
	lead := time.Duration(0)
	if len(r.set.WarningDays) > 0 {
		lead = time.Duration(r.set.WarningDays[0]) * Day
	}
	if err := r.each(ctx, Queue{Stage: Inbox}, r.now.Add(lead), r.take); err != nil {
		return err
	}
	// Every pending queue up to MaxWarningWindows, not only those of the
	// current windows: records queued under an earlier configuration must
	// not be stranded.
	for k := 0; k <= MaxWarningWindows; k++ {
		if err := r.each(ctx, Queue{Stage: Pending, Pending: k}, r.now.Add(r.nextLead(k)), r.take); err != nil {
			return err
		}
	}
	return nil
}

// nextLead is how long before the expiration a record with k windows to
// come is next due: the largest of those k windows, or 0 for the expiration.
func (r *run) nextLead(k int) time.Duration {
	n := len(r.set.WarningDays)
	switch {
	case k == 0 || n == 0:
		return 0
	case k > n:
		return time.Duration(r.set.WarningDays[0]) * Day
	default:
		return time.Duration(r.set.WarningDays[n-k]) * Day
	}
}

// take handles a record of the inbox or a pending queue.
func (r *run) take(ctx context.Context, rec Record) {
	sec := rec.Secret
	switch {
	case sec.DeletedAt != nil:
		r.sweep(ctx, rec, &r.counts.DeletedSwept)
	case sec.Expiration == nil:
		// Not due: a stale index entry of a record since changed.
	case !r.now.Before(*sec.Expiration):
		r.sweep(ctx, rec, &r.counts.Expired)
	default:
		r.warn(ctx, rec)
	}
}

// sweep marks a record swept, then destroys its material. Marked first, the
// API can no longer extend the secret (its condition refuses swept
// records), so destroyed material never belongs to an active secret; if
// the destruction fails, the purge and the reconciliation retry it.
func (r *run) sweep(ctx context.Context, rec Record, count *int) {
	ok, err := r.Store.MarkSwept(ctx, rec, r.now)
	if err != nil {
		r.fail(ctx, "mark secret swept", rec.Secret, err)
		return
	}
	if !ok {
		return // changed meanwhile, or another run swept it
	}
	*count++
	if err := r.Inventory.Destroy(ctx, ref(rec.Secret)); err != nil {
		r.fail(ctx, "destroy material of a swept secret", rec.Secret, err)
	}
}

// purge removes a swept record after its retention period, destroying its
// material again first in case an earlier destruction failed.
func (r *run) purge(ctx context.Context, rec Record) {
	if rec.DueAt.Add(r.set.Retention).After(r.now) {
		return
	}
	if err := r.Inventory.Destroy(ctx, ref(rec.Secret)); err != nil {
		r.fail(ctx, "destroy material before removing the record", rec.Secret, err)
		return
	}
	ok, err := r.Store.Remove(ctx, rec)
	if err != nil {
		r.fail(ctx, "remove secret record", rec.Secret, err)
		return
	}
	if !ok {
		return
	}
	if rec.Secret.DeletedAt != nil {
		r.counts.DeletedPurged++
	} else {
		r.counts.ExpiredRemoved++
	}
}

// warn sends the warnings of every window the secret has reached, each
// once: a claim (a conditional write) before PutEvents, released if
// PutEvents fails. Then the record moves on to wait for its next window,
// a move that only succeeds once every reached window's warning is sent.
func (r *run) warn(ctx context.Context, rec Record) {
	exp := *rec.Secret.Expiration
	var reached []int
	for _, d := range r.set.WarningDays {
		if !r.now.Before(exp.Add(-time.Duration(d) * Day)) {
			reached = append(reached, d)
		}
	}
	for _, d := range reached {
		if c, ok := rec.Warnings[d]; ok && c.Sent && c.Expiration.Unix() == exp.Unix() {
			continue
		}
		claimed, err := r.Store.ClaimWarning(ctx, rec, d, r.now, r.now.Add(-r.set.ClaimTimeout))
		if err != nil {
			r.fail(ctx, "claim warning", rec.Secret, err, "windowDays", d)
			continue
		}
		if !claimed {
			continue // sent or being sent by another run
		}
		w := Warning{TenantID: rec.Secret.TenantID, ClientID: rec.Secret.ClientID, SecretID: rec.Secret.ID,
			Expiration: exp, DaysLeft: DaysLeft(exp, r.now), WindowDays: d}
		if err := r.Events.SecretExpiring(ctx, w); err != nil {
			r.fail(ctx, "put warning event", rec.Secret, err, "windowDays", d)
			if err := r.Store.ReleaseWarning(ctx, rec, d, r.now); err != nil {
				// The claim stays until ClaimTimeout, then a run takes it over.
				r.fail(ctx, "release warning claim", rec.Secret, err, "windowDays", d)
			}
			continue
		}
		r.counts.Warned++
		if err := r.Store.ConfirmWarning(ctx, rec, d, r.now); err != nil {
			// Sent but not marked: after ClaimTimeout a run sends it again.
			r.fail(ctx, "confirm warning", rec.Secret, err, "windowDays", d)
		}
	}
	to := Queue{Stage: Pending, Pending: len(r.set.WarningDays) - len(reached)}
	if to == rec.Queue {
		return
	}
	if _, err := r.Store.Move(ctx, rec, to, reached); err != nil {
		r.fail(ctx, "queue secret for its next warning", rec.Secret, err)
	}
}

// DaysLeft is the time from now to exp in days, rounded up: "expires
// within n days".
func DaysLeft(exp, now time.Time) int {
	left := exp.Sub(now)
	if left <= 0 {
		return 0
	}
	return int((left + Day - 1) / Day)
}

func (r *run) fail(ctx context.Context, what string, sec identity.Secret, err error, extra ...any) {
	r.counts.Failed++
	r.logger().ErrorContext(ctx, "sweep: "+what+" failed", ids(sec, append(extra, "error", err.Error())...)...)
}

func ids(sec identity.Secret, extra ...any) []any {
	return append([]any{"tenant", sec.TenantID, "client", sec.ClientID, "secret", sec.ID}, extra...)
}

func ref(sec identity.Secret) identity.MaterialRef { return sec.Ref() }
