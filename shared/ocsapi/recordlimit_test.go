package ocsapi_test

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"identityservice/shared/identity"
	"identityservice/shared/ocsapi"
)

// A client keeps at most MaxSecretRecordsPerClient secret records, retained
// ones (expired, not yet purged) included: past it, adding a secret through
// the OCS route is a 400 that says when the oldest retained record leaves,
// and nothing is stored (no record, no material, the count unchanged). Once
// the sweeper has purged the retained records, adds work again, and the
// count follows every add, purge and hard delete.
func TestSecretRecordsAreCapped(t *testing.T) {
	clk := &clock{}
	svc := env.Service(nil)
	svc.Now = clk.Now
	a := newAPIWith(t, svc, ocsapi.ClientSecretRoutes(svc), ocsapi.ClientCredentialClientRoutes(svc), ocsapi.HybridClientRoutes(svc))
	kind := identity.ClientCredential
	tenantID := a.tenant(0)
	clientID, firstID, _ := a.newClient(kind, tenantID, nil) // 1 record, never expires
	counted := func(want int) {
		t.Helper()
		n, ok := env.RecordCount(t, clientID)
		if items := env.SecretItems(t, clientID); !ok || n != want || items != want {
			t.Fatalf("RecordCount %d (present %v), %d SECRET# items; want both %d", n, ok, items, want)
		}
	}
	counted(1)

	// 99 more, 9 at a time (the first one stays active: 10 active at most),
	// each round expiring before the next.
	var oldest time.Time
	for round := 0; env.SecretItems(t, clientID) < identity.MaxSecretRecordsPerClient; round++ {
		exp := clk.Now().UTC().Add(time.Hour).Truncate(time.Second)
		if round == 0 {
			oldest = exp
		}
		for i := 0; i < 9 && env.SecretItems(t, clientID) < identity.MaxSecretRecordsPerClient; i++ {
			a.addSecret(kind, tenantID, clientID, map[string]any{"Description": fmt.Sprintf("r%d-%d", round, i), "Expiration": exp.Format(time.RFC3339)})
		}
		clk.Advance(2 * time.Hour)
	}
	counted(identity.MaxSecretRecordsPerClient)

	before, material := env.ClientItems(t, clientID), env.MaterialCount(t, tenantID, clientID)
	res := a.do(http.MethodPost, secretsPath(kind, tenantID, clientID), map[string]any{"Description": "one too many"})
	e := res.ocsError(t, http.StatusBadRequest, "Secret record limit exceeded")
	wantReason := "The client holds 100 secret records, the most it may keep (100): expired and deleted secrets count until the sweeper removes their records, 30 days after their expiration or deletion."
	wantResolution := "The oldest retained record leaves on " + oldest.Add(30*24*time.Hour).Format(time.RFC3339) +
		" (30 days after its expiration or deletion). Add the secret after that, or use another client."
	if e.Reason != wantReason || e.Resolution != wantResolution {
		t.Fatalf("the refusal says\n%q\n%q\nwant\n%q\n%q", e.Reason, e.Resolution, wantReason, wantResolution)
	}
	if after := env.ClientItems(t, clientID); after != before {
		t.Fatalf("the refused add changed the client's items:\nbefore %s\nafter  %s", before, after)
	}
	if n := env.MaterialCount(t, tenantID, clientID); n != material {
		t.Fatalf("%d pieces of material after the refused add, %d before: its material was left behind", n, material)
	}
	counted(identity.MaxSecretRecordsPerClient)

	// Just before the oldest retained record's date nothing has left.
	clk.Advance(oldest.Add(30*24*time.Hour).Sub(clk.Now()) - time.Minute)
	env.Sweep(t, clk.Now)
	counted(identity.MaxSecretRecordsPerClient)
	a.do(http.MethodPost, secretsPath(kind, tenantID, clientID), map[string]any{}).ocsError(t, http.StatusBadRequest, "Secret record limit exceeded")

	// Past the retention of every round, the sweeper purges the 99
	// expired records: the count goes down with them, and adds work again.
	clk.Advance(31 * 24 * time.Hour)
	c := env.Sweep(t, clk.Now)
	t.Logf("sweep: %+v", c)
	counted(1)
	added := a.addSecret(kind, tenantID, clientID, map[string]any{"Description": "after the purge"})
	counted(2)

	// A hard delete counts the record out.
	a.do(http.MethodDelete, secretsPath(kind, tenantID, clientID, added.SecretId), nil).JSON(t, http.StatusNoContent, nil)
	counted(1)
	if l, _ := a.listSecrets(kind, tenantID, clientID, ""); len(l) != 1 || l[0].SecretId != firstID {
		t.Fatalf("after the purge and the delete: %+v, want the first secret only", l)
	}
}
