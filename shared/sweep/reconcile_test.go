package sweep_test

import (
	"strings"
	"testing"
	"time"

	"identityservice/shared/identity"
	"identityservice/shared/sweep"
)

// Material without a live record is destroyed once it is older than an
// hour: material with no record at all (a secret of its own, and an entry
// in the pack of a live secret), material left behind by a swept secret,
// and a copy of a live secret's verifier where its record does not say it
// is (a secret of its own, left by the migration into packs). Material of
// live records stays, and so do the other entries of a pack.
func TestReconcileDestroysOrphanedMaterial(t *testing.T) {
	f := newFixture(t)
	live := f.client(nil)
	exp := f.base.Add(time.Hour)
	swept := f.client(&exp)
	if c := f.sweep(f.base.Add(90 * time.Minute)); c.Expired != 1 {
		t.Fatalf("sweep: %+v, want the expiring secret swept", c)
	}
	// Material the sweep destroyed, back again (as if the destruction had
	// failed), and material no record refers to (as if a create had
	// failed between the two stores).
	orphan := identity.Secret{TenantID: f.tenant, ClientID: identity.NewID(), ID: identity.NewID()}
	if live.Secret.Pack == 0 {
		t.Fatal("a new secret's verifier is not in a pack")
	}
	packed := identity.Secret{TenantID: f.tenant, ClientID: identity.NewID(), ID: identity.NewID(), Pack: live.Secret.Pack}
	copied := live.Secret
	copied.Pack = 0
	for _, sec := range []identity.Secret{swept.Secret, orphan, packed, copied} {
		if err := f.vault.PutVerifier(f.ctx, sec.Ref(), identity.Verifier(sec.Ref(), "x")); err != nil {
			t.Fatal(err)
		}
	}

	// Secrets Manager dates the material with the real clock: at base + 30
	// minutes it is at most 30 minutes old.
	if c := f.sweep(f.base.Add(30 * time.Minute)); c.OrphansDestroyed != 0 || !f.materialExists(orphan) {
		t.Fatalf("run while the material is young: %+v; want it left alone", c)
	}
	c := f.sweep(f.base.Add(2 * time.Hour))
	if c.OrphansDestroyed != 4 {
		t.Fatalf("run once the material is old: %+v, want OrphansDestroyed 4", c)
	}
	if f.materialExists(orphan) || f.materialExists(swept.Secret) || f.materialExists(packed) || f.materialExists(copied) {
		t.Fatal("orphaned material survived")
	}
	if !f.materialExists(live.Secret) {
		t.Fatal("the material of a live secret was destroyed")
	}
	if _, err := f.svc.AuthenticateClient(f.ctx, live.Client.ID, live.SecretString); err != nil {
		t.Fatalf("the live secret no longer authenticates: %v", err)
	}
}

// With a batch of one, each run checks one piece of material and the next
// run continues after it: the orphans go over several runs, none is missed.
// Destroying material while walking the listing may shift it (moto's
// NextToken is an offset; Secrets Manager's is opaque), so an orphan can
// slip to the next pass of the walk, never further.
func TestReconcileWalkContinuesAcrossRuns(t *testing.T) {
	f := newFixture(t)
	f.client(nil)
	f.client(nil)
	var orphans []identity.Secret
	for range 2 {
		o := identity.Secret{TenantID: f.tenant, ClientID: identity.NewID(), ID: identity.NewID()}
		if err := f.vault.PutVerifier(f.ctx, o.Ref(), identity.Verifier(o.Ref(), "x")); err != nil {
			t.Fatal(err)
		}
		orphans = append(orphans, o)
	}
	s := settings()
	s.ReconcileBatch = 1
	f.clock.Set(f.base.Add(2 * time.Hour))
	destroyed, runs := 0, 0
	for ; destroyed < len(orphans) && runs < 10; runs++ {
		c, err := f.sweeper(s).Run(f.ctx)
		if err != nil {
			t.Fatal(err)
		}
		if c.OrphansDestroyed > 1 {
			t.Fatalf("run %d destroyed %d orphans with a batch of 1", runs, c.OrphansDestroyed)
		}
		destroyed += c.OrphansDestroyed
	}
	// 4 pieces of material, one per run, a pass ends with an empty page:
	// two passes are at most 10 runs; one run cannot do it all.
	if destroyed != len(orphans) || runs < 2 {
		t.Fatalf("%d orphans destroyed in %d runs; want %d within two passes of the walk, over more than one run", destroyed, runs, len(orphans))
	}
	for _, o := range orphans {
		if f.materialExists(o) {
			t.Fatalf("orphan %s survived", o.ID)
		}
	}
}

// An active secret whose material is missing is logged as an error with
// its ids, whether it expires or not; soft-deleted and expired secrets
// (whose material is gone on purpose) are not.
func TestReconcileReportsMissingMaterial(t *testing.T) {
	f := newFixture(t)
	forever := f.client(nil)
	later := f.base.Add(60 * sweep.Day)
	expiring := f.client(&later)
	healthy := f.client(nil)
	gone := f.client(nil)
	added, err := f.svc.AddSecret(f.ctx, f.tenant, identity.ClientCredential, gone.Client.ID, "", "description", nil, "expirationDate")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.SoftDeleteSecret(f.ctx, f.tenant, identity.ClientCredential, gone.Client.ID, added.Secret.ID); err != nil {
		t.Fatal(err)
	}
	for _, sec := range []identity.Secret{forever.Secret, expiring.Secret} {
		if err := f.vault.DeleteVerifier(f.ctx, sec.Ref()); err != nil {
			t.Fatal(err)
		}
	}

	c := f.sweep(f.base.Add(time.Hour))
	if c.MaterialMissing != 2 {
		t.Fatalf("sweep: %+v, want MaterialMissing 2", c)
	}
	reported := map[string]bool{}
	for _, l := range f.logs.Lines() {
		if l["level"] == "ERROR" && strings.Contains(l["msg"].(string), "no material") {
			if l["tenant"] != f.tenant {
				t.Errorf("error line without the tenant id: %v", l)
			}
			reported[l["client"].(string)+"/"+l["secret"].(string)] = true
		}
	}
	for _, sec := range []identity.Secret{forever.Secret, expiring.Secret} {
		if !reported[sec.ClientID+"/"+sec.ID] {
			t.Errorf("secret %s: no error line naming its client and secret", sec.ID)
		}
	}
	if len(reported) != 2 {
		t.Errorf("error lines for %v, want exactly the 2 secrets without material", reported)
	}
	for _, cl := range []identity.CreatedClient{forever, expiring, healthy, gone} {
		if strings.Contains(f.logs.String(), cl.SecretString) {
			t.Fatal("a client secret reached the logs")
		}
	}
	if c.OrphansDestroyed != 0 {
		t.Fatalf("reconciliation destroyed material: %+v", c)
	}
	if !f.materialExists(healthy.Secret) {
		t.Fatal("healthy material destroyed")
	}
}
