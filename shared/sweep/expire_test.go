package sweep_test

import (
	"errors"
	"testing"
	"time"

	"identityservice/shared/identity"
	"identityservice/shared/sweep"
)

// A secret expires between two runs: the first leaves it alone, the second
// destroys its material and keeps the record listed with its past
// expiration; later runs change nothing until the retention period has
// passed, when the record goes.
func TestExpireBetweenTwoRuns(t *testing.T) {
	f := newFixture(t)
	exp := f.base.Add(90 * time.Minute)
	c := f.client(&exp)
	sec := c.Secret
	keep := f.client(nil) // never expires: no run may touch it

	before := f.sweep(f.base.Add(time.Hour))
	if before.Expired != 0 || !f.materialExists(sec) {
		t.Fatalf("run before the expiration: %+v, material exists %v; want nothing expired", before, f.materialExists(sec))
	}

	after := f.sweep(f.base.Add(2 * time.Hour))
	if after.Expired != 1 {
		t.Fatalf("run after the expiration: %+v, want Expired 1", after)
	}
	if f.materialExists(sec) {
		t.Fatal("the expired secret's material survived the sweep")
	}
	listed, ok := f.listed(sec.ClientID)[sec.ID]
	if !ok || listed.Expiration == nil || !listed.Expiration.Equal(exp) {
		t.Fatalf("the expired secret is not listed with its expiration %s: %+v (found %v)", exp, listed, ok)
	}
	if _, err := f.svc.AuthenticateClient(f.ctx, sec.ClientID, c.SecretString); !errors.Is(err, identity.ErrInvalidClient) {
		t.Fatalf("authenticate with the swept secret: %v, want invalid_client", err)
	}
	if _, err := f.svc.UpdateSecret(f.ctx, f.tenant, identity.ClientCredential, sec.ClientID, sec.ID, nil, at(f.base.Add(48*time.Hour))); err == nil {
		t.Fatal("a swept secret's expiration could be extended")
	}

	if again := f.sweep(f.base.Add(3 * time.Hour)); again != (sweep.Counts{}) {
		t.Fatalf("a second run after the expiration did %+v, want nothing", again)
	}
	retention := sweep.DefaultSettings().Retention
	if early := f.sweep(exp.Add(retention - time.Minute)); early.ExpiredRemoved != 0 {
		t.Fatalf("run before the retention period ends: %+v, want nothing removed", early)
	}
	if _, ok := f.listed(sec.ClientID)[sec.ID]; !ok {
		t.Fatal("the expired secret was removed before the retention period ended")
	}
	late := f.sweep(exp.Add(retention + time.Hour))
	if late.ExpiredRemoved != 1 {
		t.Fatalf("run after the retention period: %+v, want ExpiredRemoved 1", late)
	}
	if _, ok := f.listed(sec.ClientID)[sec.ID]; ok {
		t.Fatal("the expired secret is still listed after the retention period")
	}
	if !f.materialExists(keep.Secret) {
		t.Fatal("the material of a secret that never expires was destroyed")
	}
	if _, ok := f.listed(keep.Client.ID)[keep.Secret.ID]; !ok {
		t.Fatal("the record of a secret that never expires was removed")
	}
}

// Expiration is enforced by the records at the instant it passes, sweep or
// no sweep (AuthenticateClient reads validity live).
func TestExpiredSecretStopsAuthenticatingWithoutSweep(t *testing.T) {
	f := newFixture(t)
	exp := f.base.Add(time.Hour)
	c := f.client(&exp)

	f.clock.Set(exp.Add(-time.Second))
	if _, err := f.svc.AuthenticateClient(f.ctx, c.Client.ID, c.SecretString); err != nil {
		t.Fatalf("a second before the expiration: %v", err)
	}
	f.clock.Set(exp)
	if _, err := f.svc.AuthenticateClient(f.ctx, c.Client.ID, c.SecretString); !errors.Is(err, identity.ErrInvalidClient) {
		t.Fatalf("at the expiration instant: %v, want invalid_client", err)
	}
	if !f.materialExists(c.Secret) {
		t.Fatal("no sweep ran, yet the material is gone: the refusal must come from the record")
	}
}

// Soft-deleted secrets (Key Rotation API DELETE) are swept at once, their
// material destroyed again should the API's destruction have failed, and
// their records purged after the retention period.
func TestSoftDeletedSecretsPurgedAfterRetention(t *testing.T) {
	f := newFixture(t)
	c := f.client(nil)
	added, err := f.svc.AddSecret(f.ctx, f.tenant, identity.ClientCredential, c.Client.ID, "rotated out", "description", nil, "expirationDate")
	if err != nil {
		t.Fatal(err)
	}
	deletedAt := f.base.Add(time.Hour)
	f.clock.Set(deletedAt)
	if _, err := f.svc.SoftDeleteSecret(f.ctx, f.tenant, identity.ClientCredential, c.Client.ID, added.Secret.ID); err != nil {
		t.Fatal(err)
	}
	// As if the API's destruction of the material had failed.
	ref := added.Secret.Ref()
	if err := f.vault.PutVerifier(f.ctx, ref, identity.Verifier(ref, "left behind")); err != nil {
		t.Fatal(err)
	}

	swept := f.sweep(deletedAt.Add(time.Hour))
	if swept.DeletedSwept != 1 || f.materialExists(added.Secret) {
		t.Fatalf("run after the soft delete: %+v, material exists %v; want DeletedSwept 1 and the material gone", swept, f.materialExists(added.Secret))
	}
	if got, ok := f.listed(c.Client.ID)[added.Secret.ID]; !ok || got.DeletedAt == nil {
		t.Fatalf("the soft-deleted secret is not listed as deleted: %+v (found %v)", got, ok)
	}
	retention := sweep.DefaultSettings().Retention
	if early := f.sweep(deletedAt.Add(retention - time.Hour)); early.DeletedPurged != 0 {
		t.Fatalf("run before the retention period ends: %+v, want nothing purged", early)
	}
	late := f.sweep(deletedAt.Add(retention + time.Hour))
	if late.DeletedPurged != 1 {
		t.Fatalf("run after the retention period: %+v, want DeletedPurged 1", late)
	}
	listed := f.listed(c.Client.ID)
	if _, ok := listed[added.Secret.ID]; ok {
		t.Fatal("the soft-deleted secret is still listed after the retention period")
	}
	if _, ok := listed[c.Secret.ID]; !ok || !f.materialExists(c.Secret) {
		t.Fatal("the client's other secret was touched")
	}
}

// A run that runs out of budget says so, and the next run does the rest.
func TestBudgetExhaustedWorkContinues(t *testing.T) {
	f := newFixture(t)
	exp := f.base.Add(time.Hour)
	var secs []identity.Secret
	for range 3 {
		secs = append(secs, f.client(&exp).Secret)
	}
	f.clock.Set(f.base.Add(2 * time.Hour))
	s := settings()
	s.Budget = time.Nanosecond
	c, err := f.sweeper(s).Run(f.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !c.Unfinished || c.Expired != 0 {
		t.Fatalf("run with no budget: %+v, want Unfinished and nothing done", c)
	}
	next := f.sweep(f.base.Add(2 * time.Hour))
	if next.Unfinished || next.Expired != 3 {
		t.Fatalf("next run: %+v, want the 3 expired secrets swept and the run finished", next)
	}
	for _, sec := range secs {
		if f.materialExists(sec) {
			t.Fatalf("secret %s: material survived", sec.ID)
		}
	}
}
