package sweep_test

import (
	"sort"
	"sync"
	"testing"
	"time"

	"identityservice/shared/eventbus"
	"identityservice/shared/identity"
	"identityservice/shared/sweep"
)

// wantEvent checks one received warning.
func wantEvent(t *testing.T, f *fixture, ev event, sec identity.Secret, exp time.Time, window, daysLeft int) {
	t.Helper()
	want := eventbus.SecretExpiringDetail{TenantID: f.tenant, ClientID: sec.ClientID, SecretID: sec.ID,
		Expiration: exp.UTC().Format(time.RFC3339), DaysLeft: daysLeft, WindowDays: window}
	if ev.Source != f.source || ev.DetailType != "Client Secret Expiring" || ev.Detail != want {
		t.Errorf("event %+v,\nwant source %s, detail-type Client Secret Expiring, detail %+v", ev, f.source, want)
	}
}

// A secret is warned once per window, 30, 7 and 1 days before it expires,
// however many runs see it inside a window; then it expires.
func TestWarningsOncePerWindow(t *testing.T) {
	f := newFixture(t)
	exp := f.base.Add(40 * sweep.Day)
	sec := f.client(&exp).Secret

	steps := []struct {
		at       time.Duration // after base
		window   int           // 0: no event
		daysLeft int
	}{
		{0, 0, 0},
		{10*sweep.Day - time.Hour, 0, 0},                     // 30 days and 1 hour left
		{10*sweep.Day + time.Hour, 30, 30},                   // 29 days 23 hours left
		{10*sweep.Day + 2*time.Hour, 0, 0},                   // still inside the 30-day window
		{20 * sweep.Day, 0, 0},                               //
		{33*sweep.Day + time.Hour, 7, 7},                     // 6 days 23 hours left
		{33*sweep.Day + 2*time.Hour, 0, 0},                   //
		{39*sweep.Day + 30*time.Minute, 1, 1},                // 23.5 hours left
		{39*sweep.Day + 23*time.Hour + 59*time.Minute, 0, 0}, // a minute left
	}
	for _, st := range steps {
		c := f.sweep(f.base.Add(st.at))
		evs := f.received()
		if st.window == 0 {
			if c.Warned != 0 || len(evs) != 0 {
				t.Fatalf("at base+%s: Warned %d, %d events; want none", st.at, c.Warned, len(evs))
			}
			continue
		}
		if c.Warned != 1 || len(evs) != 1 {
			t.Fatalf("at base+%s: Warned %d, %d events %+v; want the %d-day warning", st.at, c.Warned, len(evs), evs, st.window)
		}
		wantEvent(t, f, evs[0], sec, exp, st.window, st.daysLeft)
	}
	c := f.sweep(exp.Add(time.Hour))
	if c.Expired != 1 || c.Warned != 0 || len(f.received()) != 0 {
		t.Fatalf("after the expiration: %+v; want it expired without a warning", c)
	}
}

// A secret created inside windows gets the warning of each window it is
// in, at once; a secret that expires before any run sees it inside a
// window gets none (it is expired, not expiring).
func TestWarningsOfSecretsCreatedInsideWindows(t *testing.T) {
	f := newFixture(t)
	exp := f.base.Add(5*sweep.Day + time.Hour)
	sec := f.client(&exp).Secret
	short := f.base.Add(2 * time.Hour)
	f.client(&short)

	c := f.sweep(f.base.Add(3 * time.Hour)) // the short one has expired
	evs := f.received()
	if c.Warned != 2 || len(evs) != 2 || c.Expired != 1 {
		t.Fatalf("first run: %+v, events %+v; want the 30- and 7-day warnings of one secret and the other expired", c, evs)
	}
	sort.Slice(evs, func(i, j int) bool { return evs[i].Detail.WindowDays > evs[j].Detail.WindowDays })
	wantEvent(t, f, evs[0], sec, exp, 30, 5)
	wantEvent(t, f, evs[1], sec, exp, 7, 5)
	if c := f.sweep(f.base.Add(4 * time.Hour)); c.Warned != 0 || len(f.received()) != 0 {
		t.Fatalf("second run: %+v; want no warning", c)
	}
}

// A warning is about one expiration: a secret whose expiration is moved
// after a warning is warned again before the new one.
func TestWarningsFollowAChangedExpiration(t *testing.T) {
	f := newFixture(t)
	exp := f.base.Add(10 * sweep.Day)
	sec := f.client(&exp).Secret
	if c := f.sweep(f.base); c.Warned != 1 {
		t.Fatalf("first run: %+v, want the 30-day warning", c)
	}
	f.received()

	f.clock.Set(f.base.Add(time.Hour))
	later := f.base.Add(100 * sweep.Day)
	if _, err := f.svc.UpdateSecret(f.ctx, f.tenant, identity.ClientCredential, sec.ClientID, sec.ID, nil, &later); err != nil {
		t.Fatal(err)
	}
	if c := f.sweep(f.base.Add(2 * time.Hour)); c.Warned != 0 {
		t.Fatalf("run after the change: %+v, want no warning (100 days left)", c)
	}
	c := f.sweep(f.base.Add(70*sweep.Day + time.Hour))
	evs := f.received()
	if c.Warned != 1 || len(evs) != 1 {
		t.Fatalf("29 days before the new expiration: %+v, events %+v; want one warning", c, evs)
	}
	wantEvent(t, f, evs[0], sec, later, 30, 30)
}

// When PutEvents fails, the claim is released: the next run sends the
// warning. (The failure is real: a bus that does not exist on moto.)
func TestFailedPutEventsReleasesTheClaim(t *testing.T) {
	f := newFixture(t)
	exp := f.base.Add(20 * sweep.Day)
	sec := f.client(&exp).Secret
	f.clock.Set(f.base)
	c, err := f.sweeperOn(settings(), "no-such-bus", f.store.SweepQueue).Run(f.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if c.Warned != 0 || c.Failed != 1 || len(f.received()) != 0 {
		t.Fatalf("run whose PutEvents fails: %+v; want Failed 1 and no warning", c)
	}
	c = f.sweep(f.base.Add(time.Hour))
	evs := f.received()
	if c.Warned != 1 || len(evs) != 1 {
		t.Fatalf("next run: %+v, events %+v; want the warning", c, evs)
	}
	wantEvent(t, f, evs[0], sec, exp, 30, 20)
}

// A claim left by a run that died before PutEvents holds for
// ClaimTimeout, then another run takes it over and sends the warning.
func TestAbandonedClaimIsTakenOver(t *testing.T) {
	f := newFixture(t)
	exp := f.base.Add(20 * sweep.Day)
	f.client(&exp)
	recs, _, err := f.store.SweepQueue.Due(f.ctx, sweep.Queue{Stage: sweep.Inbox}, exp, "")
	if err != nil || len(recs) != 1 {
		t.Fatalf("due records: %v, %v", recs, err)
	}
	if ok, err := f.store.SweepQueue.ClaimWarning(f.ctx, recs[0], 30, f.base, f.base.Add(-time.Hour)); !ok || err != nil {
		t.Fatalf("claim: %v, %v", ok, err)
	}
	timeout := sweep.DefaultSettings().ClaimTimeout
	if c := f.sweep(f.base.Add(timeout - time.Minute)); c.Warned != 0 || len(f.received()) != 0 {
		t.Fatalf("run while the claim holds: %+v; want no warning", c)
	}
	if c := f.sweep(f.base.Add(timeout + time.Minute)); c.Warned != 1 || len(f.received()) != 1 {
		t.Fatalf("run after the claim timed out: %+v; want the warning", c)
	}
}

// Sweeps running at the same time end as one sweep would: every expired
// secret swept once, every soft-deleted one once, every warning put once.
func TestOverlappingSweeps(t *testing.T) {
	f := newFixture(t)
	expiring := f.base.Add(time.Hour)
	warned := f.base.Add(20 * sweep.Day)
	var expired, soon []identity.Secret
	for range 6 {
		expired = append(expired, f.client(&expiring).Secret)
		soon = append(soon, f.client(&warned).Secret)
	}
	owner := f.client(nil)
	for range 3 {
		added, err := f.svc.AddSecret(f.ctx, f.tenant, identity.ClientCredential, owner.Client.ID, "", "description", nil, "expirationDate")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.SoftDeleteSecret(f.ctx, f.tenant, identity.ClientCredential, owner.Client.ID, added.Secret.ID); err != nil {
			t.Fatal(err)
		}
	}

	f.clock.Set(f.base.Add(2 * time.Hour))
	const runs = 4
	counts := make([]sweep.Counts, runs)
	errs := make([]error, runs)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range runs {
		wg.Go(func() {
			<-start
			counts[i], errs[i] = f.sweeper(settings()).Run(f.ctx)
		})
	}
	close(start)
	wg.Wait()
	var total sweep.Counts
	for i, c := range counts {
		if errs[i] != nil {
			t.Fatalf("run %d: %v", i, errs[i])
		}
		total.Expired += c.Expired
		total.DeletedSwept += c.DeletedSwept
		total.Warned += c.Warned
		total.Failed += c.Failed
	}
	if total.Expired != len(expired) || total.DeletedSwept != 3 || total.Warned != len(soon) || total.Failed != 0 {
		t.Fatalf("%d overlapping runs did, together, %+v (each: %+v); want what one run does: Expired %d, DeletedSwept 3, Warned %d, Failed 0",
			runs, total, counts, len(expired), len(soon))
	}
	evs := f.received()
	got := map[string]int{}
	for _, ev := range evs {
		got[ev.Detail.SecretID]++
	}
	for _, sec := range soon {
		if got[sec.ID] != 1 {
			t.Errorf("secret %s: %d warnings, want 1", sec.ID, got[sec.ID])
		}
	}
	if len(evs) != len(soon) {
		t.Errorf("%d events, want %d", len(evs), len(soon))
	}
	for _, sec := range expired {
		if f.materialExists(sec) {
			t.Errorf("expired secret %s: material survived", sec.ID)
		}
	}
	// The end state is settled: one more run at the same instant finds
	// nothing to do.
	if c := f.sweep(f.base.Add(2 * time.Hour)); c != (sweep.Counts{}) {
		t.Fatalf("a run after the overlapping ones did %+v, want nothing", c)
	}
	if len(f.received()) != 0 {
		t.Fatal("a run after the overlapping ones put warnings again")
	}
}
