package keyrotationapi_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"identityservice/infra/testenv/apiclient"
	"identityservice/shared/httpapi"
	"identityservice/shared/identity"
	"identityservice/shared/keyrotationapi"
	"identityservice/shared/ocsapi"
)

// clock is real time plus an offset that a test advances.
type clock struct{ offset atomic.Int64 }

func (c *clock) Now() time.Time          { return time.Now().Add(time.Duration(c.offset.Load())) }
func (c *clock) Advance(d time.Duration) { c.offset.Add(int64(d)) }

// Soft-deleted secrets count toward the cap on secret records until the
// sweeper purges them: at MaxSecretRecordsPerClient records a Key Rotation
// POST is a 400 ProblemDetails that says when the oldest retained record
// leaves, and stores nothing; after the purge a POST works again.
func TestSecretRecordsAreCapped(t *testing.T) {
	clk := &clock{}
	svc := env.Service(nil)
	svc.Now = clk.Now
	var routes []httpapi.Route
	routes = append(routes, keyrotationapi.Routes(svc)...)
	routes = append(routes, ocsapi.HybridClientRoutes(svc)...)
	srv := httptest.NewServer(env.Tagged(httpapi.NewHandler(svc.Log, routes, httpapi.WithoutAuthentication())))
	t.Cleanup(srv.Close)
	a := &api{t: t, client: apiclient.Client{BaseURL: srv.URL, HTTP: srv.Client()}, svc: svc}
	tenantID := a.tenant()
	clientID, firstID := a.newClient(identity.Hybrid, tenantID)
	path := secretsPath(tenantID, clientID)
	counted := func(want int) {
		t.Helper()
		n, ok := env.RecordCount(t, clientID)
		if items := env.SecretItems(t, clientID); !ok || n != want || items != want {
			t.Fatalf("RecordCount %d (present %v), %d SECRET# items; want both %d", n, ok, items, want)
		}
	}

	// Rounds of 9 adds, then a soft delete of each, until 100 records.
	for records := 1; records < identity.MaxSecretRecordsPerClient; {
		for i := 0; i < 9 && records < identity.MaxSecretRecordsPerClient; i++ {
			a.do(http.MethodPost, path, ``).JSON(t, http.StatusOK, nil)
			records++
		}
		for _, s := range a.list(tenantID, clientID) {
			if !s.Deleted && s.ClientSecretID != firstID {
				a.do(http.MethodDelete, secretsPath(tenantID, clientID, s.ClientSecretID), nil).JSON(t, http.StatusOK, nil)
			}
		}
		clk.Advance(time.Hour)
	}
	counted(identity.MaxSecretRecordsPerClient)
	all, err := svc.ListSecrets(context.Background(), tenantID, identity.Hybrid, clientID, true, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	var oldest time.Time
	for _, s := range all.Secrets {
		if s.DeletedAt != nil && (oldest.IsZero() || s.DeletedAt.Before(oldest)) {
			oldest = *s.DeletedAt
		}
	}

	before, material := env.ClientItems(t, clientID), env.MaterialCount(t, tenantID, clientID)
	p := a.do(http.MethodPost, path, `{"expirationDate":"2040-01-01T00:00:00Z"}`).problem(t, http.StatusBadRequest, path, "Secret record limit exceeded")
	want := "The client holds 100 secret records, the most it may keep (100): expired and deleted secrets count until the sweeper removes their records, 30 days after their expiration or deletion." +
		" The oldest retained record leaves on " + oldest.Add(30*24*time.Hour).UTC().Format(time.RFC3339) +
		" (30 days after its expiration or deletion). Add the secret after that, or use another client."
	if p.Detail != want {
		t.Fatalf("detail\n%q\nwant\n%q", p.Detail, want)
	}
	if after := env.ClientItems(t, clientID); after != before {
		t.Fatalf("the refused add changed the client's items:\nbefore %s\nafter  %s", before, after)
	}
	if n := env.MaterialCount(t, tenantID, clientID); n != material || n != 1 {
		t.Fatalf("%d pieces of material after the refused add, %d before; want 1 (the first secret's)", n, material)
	}
	counted(identity.MaxSecretRecordsPerClient)

	// The first run past the retention sweeps the soft-deleted records
	// (their material is gone already) into the purge queue, the next
	// purges them.
	clk.Advance(31 * 24 * time.Hour)
	env.Sweep(t, clk.Now)
	env.Sweep(t, clk.Now)
	counted(1)
	a.do(http.MethodPost, path, ``).JSON(t, http.StatusOK, nil)
	counted(2)
}
