package faultmatrix

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"identityservice/shared/identity"
)

// parallel runs each f at once and waits for all.
func parallel(fs ...func()) {
	var wg sync.WaitGroup
	start := make(chan struct{})
	for _, f := range fs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			f()
		}()
	}
	close(start)
	wg.Wait()
}

func (w *world) admin(ctx context.Context, method, path string, body any) response {
	return w.request(w.h, ctx, method, path, "Bearer "+w.adminToken, body)
}

// TestRaceParallelPuts: parallel PUTs of whole client states on one client
// end in exactly one of the submitted states (no field of another), every
// answer is its own state, and the version counts every update (none lost).
func TestRaceParallelPuts(t *testing.T) {
	w := newWorld(t, "")
	w.login()
	for _, kind := range []identity.ClientKind{identity.ClientCredential, identity.Hybrid} {
		t.Run(kind.String(), func(t *testing.T) {
			c := w.createClient(kind, nil, "")
			before, err := w.clean.Store.Clients.GetClient(context.Background(), w.tenant, kind, c.Client.ID)
			if err != nil {
				t.Fatal(err)
			}
			path := fmt.Sprintf(cccBase+"/%s", w.tenant, c.Client.ID)
			if kind == identity.Hybrid {
				path = fmt.Sprintf(hybridBase+"/%s", w.tenant, c.Client.ID)
			}
			// The fields a state sets, and how to read them from a client.
			project := func(c identity.Client) map[string]any {
				m := map[string]any{"Name": c.Name, "Enabled": c.Enabled}
				if kind == identity.ClientCredential {
					m["Tags"], m["RoleIds"] = c.Tags, c.RoleIDs
				} else {
					m["RedirectUris"], m["ClientUri"], m["AllowOfflineAccess"] = c.RedirectURIs, c.ClientURI, c.AllowOfflineAccess
				}
				return m
			}
			same := func(a, b map[string]any) bool {
				ra, _ := json.Marshal(a)
				rb, _ := json.Marshal(b)
				return string(ra) == string(rb)
			}
			const writers = 8
			states := make([]map[string]any, writers)
			answers := make([]response, writers)
			var fs []func()
			for i := range writers {
				st := identity.Client{Name: fmt.Sprintf("state-%d", i), Enabled: i%2 == 0}
				if kind == identity.ClientCredential {
					st.Tags = []string{fmt.Sprintf("tag-%d", i)}
					st.RoleIDs = []string{identity.RoleAccountMember}
					if i%3 == 0 {
						st.RoleIDs = []string{identity.RoleAccountAdministrator, identity.RoleAccountMember}
					}
				} else {
					st.RedirectURIs = []string{fmt.Sprintf("https://app%d.example.com/cb", i)}
					st.ClientURI = fmt.Sprintf("https://app%d.example.com/", i)
					st.AllowOfflineAccess = i%2 == 1
				}
				states[i] = project(st)
				fs = append(fs, func() { answers[i] = w.admin(context.Background(), http.MethodPut, path, states[i]) })
			}
			parallel(fs...)
			ok := 0
			for i, res := range answers {
				if res.Status != http.StatusOK {
					t.Errorf("PUT %d answered %s", i, res)
					continue
				}
				ok++
				var got map[string]any
				if err := json.Unmarshal(res.Body, &got); err != nil {
					t.Fatal(err)
				}
				for k := range got {
					if _, set := states[i][k]; !set {
						delete(got, k)
					}
				}
				if !same(got, states[i]) {
					t.Errorf("PUT %d answered a state it did not submit:\n got %v\nwant %v", i, got, states[i])
				}
			}
			after, err := w.clean.Store.Clients.GetClient(context.Background(), w.tenant, kind, c.Client.ID)
			if err != nil {
				t.Fatal(err)
			}
			final, matches := project(after), 0
			for _, st := range states {
				if same(final, st) {
					matches++
				}
			}
			if matches != 1 {
				t.Errorf("stored state %v is none of the submitted states (a mix of fields)", final)
			}
			if after.Version != before.Version+int64(ok) {
				t.Errorf("version %d after %d updates from %d: an update was lost or counted twice", after.Version, ok, before.Version)
			}
		})
	}
	racesRun.Add(1)
}

// TestRaceSecretAddsAndDeletes: adds (both routes) and deletes of one
// client's secrets at once never pass the 10-secret limit, refuse only with
// the limit, and leave records, material and counters in agreement.
func TestRaceSecretAddsAndDeletes(t *testing.T) {
	w := newWorld(t, "")
	w.login()
	c := w.createClient(identity.ClientCredential, nil, "first")
	known := []knownSecret{{tenant: w.tenant, client: c.Client.ID, id: c.Secret.ID, kind: identity.ClientCredential, plain: c.SecretString}}
	var victims []string
	for range 4 {
		s, err := w.clean.Service.AddSecret(context.Background(), w.tenant, identity.ClientCredential, c.Client.ID, "pre", "Description", nil, "Expiration")
		if err != nil {
			t.Fatal(err)
		}
		victims = append(victims, s.Secret.ID)
		known = append(known, knownSecret{tenant: w.tenant, client: c.Client.ID, id: s.Secret.ID, kind: identity.ClientCredential, plain: s.SecretString})
	}
	const ocsAdds, krAdds = 10, 4
	var mu sync.Mutex
	added, refused := 0, 0
	deleted := 0
	var fs []func()
	for i := range ocsAdds + krAdds {
		fs = append(fs, func() {
			var res response
			plain := ""
			if i < ocsAdds {
				res = w.admin(context.Background(), http.MethodPost, fmt.Sprintf(cccBase+"/%s/Secret", w.tenant, c.Client.ID), map[string]any{"Description": "race"})
				var out struct{ ClientSecret, SecretId string }
				if res.Status == http.StatusCreated && json.Unmarshal(res.Body, &out) == nil {
					plain = out.ClientSecret
				}
			} else {
				res = w.admin(context.Background(), http.MethodPost, fmt.Sprintf(krBase, w.tenant, c.Client.ID), "")
				var out struct {
					ClientSecret *string `json:"clientSecret"`
				}
				if res.Status == http.StatusOK && json.Unmarshal(res.Body, &out) == nil && out.ClientSecret != nil {
					plain = *out.ClientSecret
				}
			}
			mu.Lock()
			defer mu.Unlock()
			switch {
			case plain != "":
				added++
				known = append(known, knownSecret{tenant: w.tenant, client: c.Client.ID, kind: identity.ClientCredential, plain: plain})
			case res.Status == http.StatusBadRequest && contains(res.Body, "Secret limit exceeded"):
				refused++
			default:
				t.Errorf("add answered %s; want success or the secret limit", res)
			}
		})
	}
	for _, id := range victims[:3] {
		fs = append(fs, func() {
			res := w.admin(context.Background(), http.MethodDelete, fmt.Sprintf(cccBase+"/%s/Secret/%s", w.tenant, c.Client.ID, id), nil)
			mu.Lock()
			defer mu.Unlock()
			if res.Status == http.StatusNoContent {
				deleted++
			} else {
				t.Errorf("delete answered %s", res)
			}
		})
	}
	parallel(fs...)
	snap := w.read(t)
	active := 0
	for _, s := range snap.secrets {
		if s.client == c.Client.ID && s.active(snap.now) {
			active++
		}
	}
	t.Logf("%d adds succeeded, %d refused at the limit, %d deletes; %d active secrets", added, refused, deleted, active)
	if active > identity.MaxSecretsPerClient {
		t.Errorf("%d active secrets: the limit of %d was passed", active, identity.MaxSecretsPerClient)
	}
	if want := 5 + added - deleted; active != want {
		t.Errorf("%d active secrets, want 5 + %d added - %d deleted = %d", active, added, deleted, want)
	}
	if added < 5 || refused == 0 {
		t.Errorf("%d adds succeeded and %d were refused: the race did not reach the limit", added, refused)
	}
	if n := snap.materialOf(c.Client.ID); n != active {
		t.Errorf("%d pieces of material for %d active secrets", n, active)
	}
	var v violations
	v = append(v, storeInvariants(snap, false)...)
	// Plain texts of the adds: each must authenticate (ids unknown for the
	// Key Rotation adds: authenticate by client and plain text).
	for _, k := range known {
		res := w.tokenRequest(w.cleanH, context.Background(), k.client, k.plain)
		deletedVictim := k.id != "" && slices.Contains(victims[:3], k.id)
		if works := res.Status == http.StatusOK; works == deletedVictim {
			v.addf("secret %q: token endpoint answered %d (deleted: %v)", k.id, res.Status, deletedVictim)
		}
	}
	for _, msg := range v {
		t.Error(msg)
	}
	racesRun.Add(1)
}

// TestRacePackAddsAndDeletes: adds and deletes of many clients of one
// tenant at once all write the tenant's one verifier pack (a
// compare-and-swap each): no entry is lost (every secret the API handed
// out authenticates, its record's material is in the pack), none is left
// behind (every deleted secret's entry is gone, and the pack holds exactly
// the active secrets), and every answer is a success.
func TestRacePackAddsAndDeletes(t *testing.T) {
	w := newWorld(t, "")
	w.login()
	const clients = 6
	var known []knownSecret
	var deletes []knownSecret
	for range clients {
		c := w.createClient(identity.ClientCredential, nil, "pack race")
		s, err := w.clean.Service.AddSecret(context.Background(), w.tenant, identity.ClientCredential, c.Client.ID, "to delete", "Description", nil, "Expiration")
		if err != nil {
			t.Fatal(err)
		}
		known = append(known, knownSecret{tenant: w.tenant, client: c.Client.ID, id: c.Secret.ID, kind: identity.ClientCredential, plain: c.SecretString})
		deletes = append(deletes, knownSecret{tenant: w.tenant, client: c.Client.ID, id: s.Secret.ID, kind: identity.ClientCredential, plain: s.SecretString})
	}
	var mu sync.Mutex
	var fs []func()
	for _, k := range deletes {
		for range 2 {
			fs = append(fs, func() {
				res := w.admin(context.Background(), http.MethodPost, fmt.Sprintf(cccBase+"/%s/Secret", w.tenant, k.client), map[string]any{"Description": "race"})
				var out struct{ ClientSecret, SecretId string }
				if res.Status != http.StatusCreated || json.Unmarshal(res.Body, &out) != nil {
					t.Errorf("add answered %s; want 201", res)
					return
				}
				mu.Lock()
				defer mu.Unlock()
				known = append(known, knownSecret{tenant: w.tenant, client: k.client, id: out.SecretId, kind: identity.ClientCredential, plain: out.ClientSecret})
			})
		}
		fs = append(fs, func() {
			if res := w.admin(context.Background(), http.MethodDelete, fmt.Sprintf(cccBase+"/%s/Secret/%s", w.tenant, k.client, k.id), nil); res.Status != http.StatusNoContent {
				t.Errorf("delete answered %s; want 204", res)
			}
		})
	}
	parallel(fs...)
	snap := w.read(t)
	v := storeInvariants(snap, false)
	ours := map[string]bool{}
	for _, k := range deletes {
		ours[k.client] = true
	}
	active, entries, packed := 0, 0, map[int]int{}
	for _, s := range snap.secrets {
		if ours[s.client] && s.active(snap.now) {
			active++
			if s.pack == 0 {
				v.addf("secret %s has no pack", s.id)
			}
		}
	}
	for ref := range snap.material {
		if ours[ref.ClientID] {
			entries++
			packed[ref.Pack]++
		}
	}
	t.Logf("%d clients, %d adds and %d deletes at once: %d active secrets, material by pack %v", clients, 2*clients, clients, active, packed)
	if want := 2 * clients; active != want+clients {
		v.addf("%d active secrets, want %d", active, want+clients)
	}
	if entries != active {
		v.addf("%d entries in packs for %d active secrets: an entry was lost or left behind", entries, active)
	}
	for _, k := range known {
		if res := w.tokenRequest(w.cleanH, context.Background(), k.client, k.plain); res.Status != http.StatusOK {
			v.addf("secret %s the API handed out: token endpoint answered %d", k.id, res.Status)
		}
	}
	for _, k := range deletes {
		if res := w.tokenRequest(w.cleanH, context.Background(), k.client, k.plain); res.Status == http.StatusOK {
			v.addf("deleted secret %s still authenticates", k.id)
		}
	}
	for _, msg := range v {
		t.Error(msg)
	}
	racesRun.Add(1)
}

func contains(b []byte, s string) bool { return strings.Contains(string(b), s) }

// racesRun counts the race tests that ran to their end, for the summary.
var racesRun atomic.Int64

// TestRaceDeleteClientDuringAdds: a client deleted while its secrets are
// being added leaves no record and no live material behind, and no secret
// an add answered authenticates.
func TestRaceDeleteClientDuringAdds(t *testing.T) {
	w := newWorld(t, "")
	w.login()
	for round := range 3 {
		c := w.createClient(identity.ClientCredential, nil, "first")
		var mu sync.Mutex
		var plains []string
		var fs []func()
		for range 8 {
			fs = append(fs, func() {
				res := w.admin(context.Background(), http.MethodPost, fmt.Sprintf(cccBase+"/%s/Secret", w.tenant, c.Client.ID), map[string]any{"Description": "race"})
				var out struct{ ClientSecret string }
				switch {
				case res.Status == http.StatusCreated && json.Unmarshal(res.Body, &out) == nil:
					mu.Lock()
					plains = append(plains, out.ClientSecret)
					mu.Unlock()
				case res.Status == http.StatusNotFound, res.Status == http.StatusConflict:
				default:
					t.Errorf("round %d: add answered %s", round, res)
				}
			})
		}
		fs = append(fs, func() {
			time.Sleep(time.Duration(round*40) * time.Millisecond)
			for attempt := 0; ; attempt++ {
				res := w.admin(context.Background(), http.MethodDelete, fmt.Sprintf(cccBase+"/%s", w.tenant, c.Client.ID), nil)
				if res.Status == http.StatusNoContent {
					return
				}
				if res.Status != http.StatusConflict || attempt == 20 {
					t.Errorf("round %d: delete answered %s", round, res)
					return
				}
			}
		})
		parallel(fs...)
		snap := w.read(t)
		if _, ok := snap.clients[c.Client.ID]; ok {
			t.Errorf("round %d: the client is still stored", round)
		}
		if _, ok := snap.regs[c.Client.ID]; ok {
			t.Errorf("round %d: the registration is still stored", round)
		}
		for _, s := range snap.secrets {
			if s.client == c.Client.ID {
				t.Errorf("round %d: secret record %s outlived its client", round, s.id)
			}
		}
		if n := snap.materialOf(c.Client.ID); n != 0 {
			t.Errorf("round %d: %d pieces of live material outlived the client", round, n)
		}
		for _, p := range append(plains, c.SecretString) {
			if res := w.tokenRequest(w.cleanH, context.Background(), c.Client.ID, p); res.Status != http.StatusUnauthorized {
				t.Errorf("round %d: a secret of the deleted client: token endpoint answered %s", round, res)
			}
		}
		for _, msg := range storeInvariants(snap, false) {
			t.Errorf("round %d: %s", round, msg)
		}
		t.Logf("round %d: %d adds succeeded before the delete", round, len(plains))
	}
	racesRun.Add(1)
}

// TestRaceSweepersAndAPIWrite: two sweepers whose clock says a secret has
// expired race an API write whose clock (a minute behind) says it has not
// and extends it. Either the write wins, and the secret stays active with
// its material, or a sweeper does, and the write is refused and the secret
// never authenticates again: a swept secret is never resurrected.
func TestRaceSweepersAndAPIWrite(t *testing.T) {
	w := newWorld(t, "")
	w.login()
	won := map[bool]int{}
	for round := range 6 {
		ctx := context.Background()
		exp := w.clock.Now().Add(30 * time.Second)
		c, err := w.clean.Service.CreateClient(ctx, w.tenant, identity.NewClient{Kind: identity.ClientCredential, Name: "race", SecretExpiration: &exp})
		if err != nil {
			t.Fatal(err)
		}
		skewed := func() *sweepRunner {
			sw := w.sweeper(false)
			sw.Now = func() time.Time { return w.clock.Now().Add(time.Minute) }
			return &sweepRunner{run: func() error { _, err := sw.Run(ctx); return err }}
		}
		a, b := skewed(), skewed()
		newExp := w.clock.Now().Add(24 * time.Hour).UTC().Format(time.RFC3339)
		var res response
		// Odd rounds hold the sweepers back a little, even rounds the
		// write, so both orders are tried; which wins is not asserted.
		pause := func(odd bool) {
			if round%2 == 1 == odd {
				time.Sleep(time.Duration(5+round*5) * time.Millisecond)
			}
		}
		parallel(
			func() { pause(true); a.err = a.run() },
			func() { pause(true); b.err = b.run() },
			func() {
				pause(false)
				res = w.admin(ctx, http.MethodPut, fmt.Sprintf(cccBase+"/%s/Secret/%s", w.tenant, c.Client.ID, c.Secret.ID), map[string]any{"Expiration": newExp})
			},
		)
		if a.err != nil || b.err != nil {
			t.Fatalf("round %d: sweeps: %v, %v", round, a.err, b.err)
		}
		extended := res.Status == http.StatusOK
		if !extended && res.Status != http.StatusBadRequest && res.Status != http.StatusNotFound {
			t.Errorf("round %d: the write answered %s; want 200, or 400/404 for a swept secret", round, res)
		}
		won[extended]++
		// Both clocks move past the old expiration; one more skewed sweep.
		w.clock.Advance(2 * time.Minute)
		if err := skewed().run(); err != nil {
			t.Fatal(err)
		}
		snap := w.read(t)
		rec, ok := snap.secrets[c.Secret.ID]
		works := w.tokenRequest(w.cleanH, ctx, c.Client.ID, c.SecretString).Status == http.StatusOK
		switch {
		case extended && (!ok || !rec.active(snap.now) || !snap.material[refOf(rec)] || !works):
			t.Errorf("round %d: the extension answered 200 but the secret is %s (material %v, authenticates %v)", round, describe(rec, ok, true, snap.now), snap.material[refOf(rec)], works)
		case !extended && (works || snap.material[refOf(rec)] || (ok && !rec.swept)):
			t.Errorf("round %d: the extension was refused but the secret came back: swept %v, material %v, authenticates %v", round, rec.swept, snap.material[refOf(rec)], works)
		}
		for _, msg := range storeInvariants(snap, false) {
			t.Errorf("round %d: %s", round, msg)
		}
	}
	t.Logf("the API write won %d rounds, the sweepers %d", won[true], won[false])
	racesRun.Add(1)
}

type sweepRunner struct {
	run func() error
	err error
}

// TestTransactionConflictRetry: real DynamoDB cancels a transaction that
// meets another with TransactionConflict (DynamoDB Local serializes and
// never does). The store retries a bounded number of times with jitter and
// a new ClientRequestToken per attempt, then answers 409 Concurrent update,
// cleaning up the material of the refused write.
func TestTransactionConflictRetry(t *testing.T) {
	w := newWorld(t, "")
	w.login()
	ctx := context.Background()
	c := w.createClient(identity.ClientCredential, nil, "first")
	addPath := fmt.Sprintf(cccBase+"/%s/Secret", w.tenant, c.Client.ID)
	tokens := func() []string {
		var ts []string
		for _, call := range w.inj.Calls() {
			if call.Operation == "TransactWriteItems" {
				ts = append(ts, call.Token)
			}
		}
		return ts
	}
	distinct := func(ts []string) bool {
		seen := map[string]bool{}
		for _, tok := range ts {
			if tok == "" || seen[tok] {
				return false
			}
			seen[tok] = true
		}
		return true
	}

	// Two conflicts, then success: three attempts, three tokens.
	w.inj.Reset()
	w.inj.ConflictTransactions(2)
	res := w.admin(ctx, http.MethodPost, addPath, map[string]any{"Description": "after conflicts"})
	var out struct{ ClientSecret, SecretId string }
	if res.Status != http.StatusCreated || json.Unmarshal(res.Body, &out) != nil {
		t.Fatalf("add after 2 conflicts: %s", res)
	}
	if n := w.inj.Transacts(); n != 3 {
		t.Errorf("%d transaction attempts for 2 conflicts, want 3", n)
	}
	if ts := tokens(); len(ts) != 3 || !distinct(ts) {
		t.Errorf("attempts' ClientRequestTokens %q: want 3 distinct", ts)
	}
	if got := w.tokenRequest(w.cleanH, ctx, c.Client.ID, out.ClientSecret); got.Status != http.StatusOK {
		t.Errorf("the secret added after conflicts does not authenticate: %s", got)
	}

	// Conflicts on every attempt: the retry stops at its bound.
	before := w.read(t)
	materialBefore := before.materialOf(c.Client.ID)
	w.inj.Reset()
	w.inj.ConflictTransactions(100)
	res = w.admin(ctx, http.MethodPost, addPath, map[string]any{"Description": "never"})
	attempts := w.inj.Transacts()
	w.inj.Reset()
	if res.Status != http.StatusConflict || !contains(res.Body, "Concurrent update") {
		t.Errorf("add under endless conflicts answered %s; want 409 Concurrent update", res)
	}
	for _, msg := range errorBody(ocsFamily, res) {
		t.Error(msg)
	}
	if attempts != 4 {
		t.Errorf("%d transaction attempts under endless conflicts; want the bound, 4", attempts)
	}
	after := w.read(t)
	if ids := newSecretIDs(before, after, c.Client.ID); len(ids) != 0 {
		t.Errorf("a refused add stored secrets %v", ids)
	}
	if n := after.materialOf(c.Client.ID); n != materialBefore {
		t.Errorf("material %d after a refused add, %d before", n, materialBefore)
	}

	// Create and delete retry too.
	w.inj.ConflictTransactions(1)
	id := identity.NewID()
	res = w.admin(ctx, http.MethodPost, fmt.Sprintf(cccBase, w.tenant), map[string]any{"ClientId": id, "Name": "conflicted"})
	if res.Status != http.StatusCreated || w.inj.Transacts() != 2 {
		t.Errorf("create after a conflict: %s, %d attempts (want 201, 2)", res, w.inj.Transacts())
	}
	w.inj.ConflictTransactions(3)
	res = w.admin(ctx, http.MethodDelete, fmt.Sprintf(cccBase+"/%s", w.tenant, id), nil)
	if res.Status != http.StatusNoContent || w.inj.Transacts() != 4 {
		t.Errorf("delete after 3 conflicts: %s, %d attempts (want 204, 4)", res, w.inj.Transacts())
	}
	w.inj.Reset()
	for _, msg := range storeInvariants(w.read(t), false) {
		t.Error(msg)
	}
	racesRun.Add(1)
}
