package ocsapi_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"identityservice/shared/identity"
	"identityservice/shared/ocsapi"
)

type secretDto = ocsapi.ClientSecretDto
type secretCreated = ocsapi.ClientSecretResponseDto

// authenticates reports whether a client id and secret pass client
// authentication (what the token endpoint checks), through the service that
// serves the test's routes, verifier cache included.
func (a *api) authenticates(clientID, secret string) bool {
	a.t.Helper()
	_, err := a.svc.AuthenticateClient(context.Background(), clientID, secret)
	if err != nil && !errors.Is(err, identity.ErrInvalidClient) {
		a.t.Fatal(err)
	}
	return err == nil
}

var kinds = []identity.ClientKind{identity.ClientCredential, identity.Hybrid}

func otherKind(k identity.ClientKind) identity.ClientKind {
	if k == identity.Hybrid {
		return identity.ClientCredential
	}
	return identity.Hybrid
}

// listSecrets lists a client's secrets on a route (kind "" is the obsolete
// route) and returns them with the Total-Count header.
func (a *api) listSecrets(kind identity.ClientKind, tenantID, clientID, query string) ([]secretDto, string) {
	a.t.Helper()
	res := a.do(http.MethodGet, secretsPath(kind, tenantID, clientID)+query, nil)
	var l []secretDto
	res.JSON(a.t, http.StatusOK, &l)
	return l, res.Header.Get("Total-Count")
}

func (a *api) addSecret(kind identity.ClientKind, tenantID, clientID string, body any) secretCreated {
	a.t.Helper()
	var c secretCreated
	a.do(http.MethodPost, secretsPath(kind, tenantID, clientID), body).JSON(a.t, http.StatusCreated, &c)
	return c
}

func (a *api) getSecret(kind identity.ClientKind, tenantID, clientID, secretID string) secretDto {
	a.t.Helper()
	var s secretDto
	a.do(http.MethodGet, secretsPath(kind, tenantID, clientID, secretID), nil).JSON(a.t, http.StatusOK, &s)
	return s
}

// show renders a secret with its expiration's value, for comparisons.
func show(s secretDto) string {
	return fmt.Sprintf("{%s %s %q}", s.SecretId, str(s.Expiration), s.Description)
}

func showAll(l []secretDto) string {
	parts := make([]string, len(l))
	for i, s := range l {
		parts[i] = show(s)
	}
	return strings.Join(parts, ",")
}

func ids(l []secretDto) []string {
	out := make([]string, len(l))
	for i, s := range l {
		out[i] = s.SecretId
	}
	return out
}

func TestSecretLifecycle(t *testing.T) {
	for _, kind := range kinds {
		t.Run(kind.String(), func(t *testing.T) {
			a := newFullAPI(t)
			tenantID := a.tenant(0)
			clientID, firstID, firstSecret := a.newClient(kind, tenantID, map[string]any{"Name": "c", "SecretDescription": "from create"})

			t.Run("the first secret is listed", func(t *testing.T) {
				a := a.with(t)
				l, total := a.listSecrets(kind, tenantID, clientID, "")
				if len(l) != 1 || l[0].SecretId != firstID || l[0].Description != "from create" || l[0].Expiration != nil || total != "1" {
					t.Fatalf("list %+v, Total-Count %s", l, total)
				}
			})

			var added secretCreated
			t.Run("add answers 201 with the secret, once", func(t *testing.T) {
				a := a.with(t)
				res := a.do(http.MethodPost, secretsPath(kind, tenantID, clientID), `{"description":"rotation 2031","EXPIRATION":"2031-01-31T12:00:00+01:00"}`)
				res.JSON(t, http.StatusCreated, &added)
				if len(added.ClientSecret) != 43 || added.Description != "rotation 2031" || str(added.Expiration) != "2031-01-31T11:00:00Z" {
					t.Fatalf("%s", res.Body)
				}
				if _, err := identity.ParseGUID("SecretId", added.SecretId); err != nil {
					t.Fatal(err)
				}
				if added.ClientSecret == firstSecret {
					t.Fatal("the new secret equals the first one")
				}
				var keys map[string]any
				_ = json.Unmarshal(res.Body, &keys)
				if len(keys) != 5 || keys["LastUsed"] != nil {
					t.Fatalf("ClientSecretResponseDto has %d properties, want ClientSecret, SecretId, Expiration, Description and LastUsed null: %s", len(keys), res.Body)
				}
				if loc := res.Header.Get("Location"); loc != secretsPath(kind, tenantID, clientID, added.SecretId) {
					t.Fatalf("Location %q", loc)
				}
				if !env.SecretWorks(t, tenantID, clientID, added.SecretId, added.ClientSecret) {
					t.Fatal("the returned secret does not match its stored material")
				}
				if env.SecretWorks(t, tenantID, clientID, firstID, added.ClientSecret) {
					t.Fatal("the new secret matches the first secret's material")
				}
				if !a.authenticates(clientID, added.ClientSecret) || !a.authenticates(clientID, firstSecret) {
					t.Fatal("the client cannot authenticate with its secrets")
				}
			})

			t.Run("get and list never show the secret", func(t *testing.T) {
				a := a.with(t)
				res := a.do(http.MethodGet, secretsPath(kind, tenantID, clientID, strings.ToUpper(added.SecretId)), nil)
				var got map[string]any
				res.JSON(t, http.StatusOK, &got)
				if _, ok := got["LastUsed"]; !ok || len(got) != 4 || got["SecretId"] != added.SecretId || got["Description"] != "rotation 2031" || got["Expiration"] != "2031-01-31T11:00:00Z" {
					t.Fatalf("GET %s", res.Body)
				}
				list := a.do(http.MethodGet, secretsPath(kind, tenantID, clientID), nil)
				for _, body := range [][]byte{res.Body, list.Body} {
					if strings.Contains(string(body), added.ClientSecret) || strings.Contains(string(body), firstSecret) || strings.Contains(string(body), "ClientSecret") {
						t.Fatalf("a secret is shown again: %s", body)
					}
				}
				var l []secretDto
				list.JSON(t, http.StatusOK, &l)
				if strings.Join(ids(l), ",") != firstID+","+added.SecretId || list.Header.Get("Total-Count") != "2" {
					t.Fatalf("list %+v (oldest first), Total-Count %s", l, list.Header.Get("Total-Count"))
				}
			})

			t.Run("list paging", func(t *testing.T) {
				a := a.with(t)
				third := a.addSecret(kind, tenantID, clientID, map[string]any{"Description": "third"})
				if l, total := a.listSecrets(kind, tenantID, clientID, "?skip=1&count=1"); len(l) != 1 || l[0].SecretId != added.SecretId || total != "3" {
					t.Fatalf("skip=1&count=1: %+v, Total-Count %s", l, total)
				}
				if l, total := a.listSecrets(kind, tenantID, clientID, "?skip=2"); len(l) != 1 || l[0].SecretId != third.SecretId || total != "3" {
					t.Fatalf("skip=2: %+v, Total-Count %s", l, total)
				}
				if l, total := a.listSecrets(kind, tenantID, clientID, "?skip=5"); len(l) != 0 || total != "3" {
					t.Fatalf("skip=5: %+v, Total-Count %s", l, total)
				}
				for _, tc := range []struct{ query, reason string }{
					{"?count=0", "count=0 is not valid"},
					{"?count=1001", "count=1001 is not valid"},
					{"?skip=-1", "skip=-1 is not valid"},
					{"?query=x", "query parameter is not supported"},
				} {
					a.do(http.MethodGet, secretsPath(kind, tenantID, clientID)+tc.query, nil).ocsError(t, http.StatusBadRequest, tc.reason)
				}
				a.do(http.MethodDelete, secretsPath(kind, tenantID, clientID, third.SecretId), nil).JSON(t, http.StatusNoContent, nil)
			})

			t.Run("update changes only what is sent", func(t *testing.T) {
				a := a.with(t)
				path := secretsPath(kind, tenantID, clientID, added.SecretId)
				var got secretDto
				a.do(http.MethodPut, path, map[string]any{"Description": "renamed"}).JSON(t, http.StatusOK, &got)
				if got.Description != "renamed" || str(got.Expiration) != "2031-01-31T11:00:00Z" || got.SecretId != added.SecretId {
					t.Fatalf("description only: %+v", got)
				}
				a.do(http.MethodPut, path, map[string]any{"Expiration": "2032-06-01T00:00:00Z", "Description": nil}).JSON(t, http.StatusOK, &got)
				if got.Description != "renamed" || str(got.Expiration) != "2032-06-01T00:00:00Z" {
					t.Fatalf("expiration only: %+v", got)
				}
				a.do(http.MethodPut, path, `{}`).JSON(t, http.StatusOK, &got)
				if got.Description != "renamed" || str(got.Expiration) != "2032-06-01T00:00:00Z" {
					t.Fatalf("empty update: %+v", got)
				}
				if stored := a.getSecret(kind, tenantID, clientID, added.SecretId); show(stored) != show(got) {
					t.Fatalf("stored %+v, answered %+v", stored, got)
				}
				if !env.SecretWorks(t, tenantID, clientID, added.SecretId, added.ClientSecret) {
					t.Fatal("an update changed the secret's material")
				}
			})

			t.Run("refused updates change nothing", func(t *testing.T) {
				a := a.with(t)
				path := secretsPath(kind, tenantID, clientID, added.SecretId)
				before := a.getSecret(kind, tenantID, clientID, added.SecretId)
				for _, tc := range []struct{ name, body, reason string }{
					{"SecretId", `{"SecretId":"` + added.SecretId + `","Description":"x"}`, `"SecretId" is not part of this request`},
					{"ClientSecret", `{"ClientSecret":"mine","Description":"x"}`, `"ClientSecret" is not part of this request`},
					{"ClientId", `{"ClientId":"` + clientID + `","Description":"x"}`, `"ClientId" is not part of this request`},
					{"CreatedAt", `{"CreatedAt":"2030-01-01T00:00:00Z","Description":"x"}`, `"CreatedAt" is not part of this request`},
					{"past expiration", `{"Expiration":"2020-01-01T00:00:00Z","Description":"x"}`, "Expiration 2020-01-01T00:00:00Z is not in the future"},
					{"expiration now-ish", `{"Expiration":"` + time.Now().UTC().Add(-time.Second).Format(time.RFC3339) + `"}`, "not in the future"},
					{"bad date", `{"Expiration":"soon"}`, `Expiration "soon" is not a date-time`},
					{"description too long", `{"Description":"` + strings.Repeat("d", 257) + `"}`, "the limit is 256"},
					{"description not a string", `{"Description":5}`, "Description must be a string"},
					{"malformed", `{"Description":`, "JSON"},
				} {
					t.Run(tc.name, func(t *testing.T) {
						a := a.with(t)
						a.do(http.MethodPut, path, tc.body).ocsError(t, http.StatusBadRequest, tc.reason)
					})
				}
				if after := a.getSecret(kind, tenantID, clientID, added.SecretId); show(after) != show(before) {
					t.Fatalf("refused updates changed the secret: %+v, was %+v", after, before)
				}
			})

			t.Run("not found", func(t *testing.T) {
				a := a.with(t)
				ghost := identity.NewID()
				for _, tc := range []struct {
					name, method, path, reason string
				}{
					{"get unknown secret", http.MethodGet, secretsPath(kind, tenantID, clientID, ghost), "Secret not found"},
					{"update unknown secret", http.MethodPut, secretsPath(kind, tenantID, clientID, ghost), "Secret not found"},
					{"delete unknown secret", http.MethodDelete, secretsPath(kind, tenantID, clientID, ghost), "Secret not found"},
					{"another client's secret", http.MethodGet, secretsPath(kind, tenantID, func() string { id, _, _ := a.newClient(kind, tenantID, nil); return id }(), added.SecretId), "Secret not found"},
					{"list of unknown client", http.MethodGet, secretsPath(kind, tenantID, ghost), "Client not found"},
					{"add to unknown client", http.MethodPost, secretsPath(kind, tenantID, ghost), "Client not found"},
					{"get of unknown client", http.MethodGet, secretsPath(kind, tenantID, ghost, added.SecretId), "Client not found"},
					{"client of another tenant", http.MethodGet, secretsPath(kind, a.tenant(0), clientID), "Client not found"},
					{"add in another tenant", http.MethodPost, secretsPath(kind, a.tenant(0), clientID), "Client not found"},
					{"unknown tenant", http.MethodGet, secretsPath(kind, ghost, clientID), "Tenant not found"},
				} {
					t.Run(tc.name, func(t *testing.T) {
						a := a.with(t)
						var body any
						if tc.method != http.MethodGet && tc.method != http.MethodDelete {
							body = `{"Description":"x"}`
						}
						a.do(tc.method, tc.path, body).ocsError(t, http.StatusNotFound, tc.reason)
					})
				}
				for _, tc := range []struct{ name, path, reason string }{
					{"secret id", secretsPath(kind, tenantID, clientID, "1"), `secretId "1" is not a GUID`},
					{"client id", secretsPath(kind, tenantID, "abc"), `clientId "abc" is not a GUID`},
					{"tenant id", secretsPath(kind, "acme", clientID), `tenantId "acme" is not a GUID`},
				} {
					t.Run("not a GUID: "+tc.name, func(t *testing.T) {
						a := a.with(t)
						a.do(http.MethodGet, tc.path, nil).ocsError(t, http.StatusBadRequest, tc.reason)
					})
				}
				if n := env.MaterialCount(t, tenantID, clientID); n != 2 {
					t.Fatalf("%d material for the client, want 2 (refused adds must leave none)", n)
				}
			})

			t.Run("delete answers 204 and destroys the material at once", func(t *testing.T) {
				a := a.with(t)
				if !env.MaterialExists(t, tenantID, clientID, added.SecretId) {
					t.Fatal("no material before delete")
				}
				res := a.do(http.MethodDelete, secretsPath(kind, tenantID, clientID, added.SecretId), nil)
				if res.Status != http.StatusNoContent || len(res.Body) != 0 {
					t.Fatalf("delete: %d %s", res.Status, res.Body)
				}
				if env.MaterialExists(t, tenantID, clientID, added.SecretId) {
					t.Fatal("the deleted secret's material is still live")
				}
				if !env.MaterialExists(t, tenantID, clientID, firstID) {
					t.Fatal("the other secret's material was destroyed")
				}
				if a.authenticates(clientID, added.ClientSecret) || !a.authenticates(clientID, firstSecret) {
					t.Fatal("after the delete, the deleted secret still authenticates or the other one does not")
				}
				a.do(http.MethodGet, secretsPath(kind, tenantID, clientID, added.SecretId), nil).ocsError(t, http.StatusNotFound, "Secret not found")
				a.do(http.MethodPut, secretsPath(kind, tenantID, clientID, added.SecretId), map[string]any{"Description": "x"}).ocsError(t, http.StatusNotFound, "Secret not found")
				a.do(http.MethodDelete, secretsPath(kind, tenantID, clientID, added.SecretId), nil).ocsError(t, http.StatusNotFound, "Secret not found")
				if l, total := a.listSecrets(kind, tenantID, clientID, ""); len(l) != 1 || l[0].SecretId != firstID || total != "1" {
					t.Fatalf("list after delete: %+v, Total-Count %s", l, total)
				}
			})
		})
	}
}

// Every secret route of one kind answers 404 for a client of the other
// kind, and changes nothing.
func TestSecretRoutesRefuseTheOtherKind(t *testing.T) {
	for _, kind := range kinds {
		t.Run("client of kind "+kind.String(), func(t *testing.T) {
			a := newFullAPI(t)
			tenantID := a.tenant(0)
			clientID, secretID, _ := a.newClient(kind, tenantID, map[string]any{"Name": "c", "SecretDescription": "kept"})
			wrong := otherKind(kind)
			for _, tc := range []struct {
				method string
				path   string
				body   any
			}{
				{http.MethodGet, secretsPath(wrong, tenantID, clientID), nil},
				{http.MethodPost, secretsPath(wrong, tenantID, clientID), map[string]any{"Description": "sneaky"}},
				{http.MethodGet, secretsPath(wrong, tenantID, clientID, secretID), nil},
				{http.MethodPut, secretsPath(wrong, tenantID, clientID, secretID), map[string]any{"Description": "changed"}},
				{http.MethodDelete, secretsPath(wrong, tenantID, clientID, secretID), nil},
			} {
				t.Run(tc.method+" on the "+string(wrong)+" route", func(t *testing.T) {
					a := a.with(t)
					a.do(tc.method, tc.path, tc.body).ocsError(t, http.StatusNotFound, "Client not found")
				})
			}
			l, _ := a.listSecrets(kind, tenantID, clientID, "")
			if len(l) != 1 || l[0].SecretId != secretID || l[0].Description != "kept" {
				t.Fatalf("requests on the wrong kind's route changed the secrets: %+v", l)
			}
			if n := env.MaterialCount(t, tenantID, clientID); n != 1 || !env.MaterialExists(t, tenantID, clientID, secretID) {
				t.Fatalf("%d material for the client, want exactly its first secret's", n)
			}
		})
	}
}

func TestSecretAddRejectsBadInput(t *testing.T) {
	a := newFullAPI(t)
	tenantID := a.tenant(0)
	for _, kind := range kinds {
		clientID, _, _ := a.newClient(kind, tenantID, nil)
		for _, tc := range []struct{ name, body, reason string }{
			{"past expiration", `{"Expiration":"2020-01-01T00:00:00Z"}`, "Expiration 2020-01-01T00:00:00Z is not in the future"},
			{"expiration a second ago", `{"Expiration":"` + time.Now().UTC().Add(-time.Second).Format(time.RFC3339Nano) + `"}`, "not in the future"},
			{"bad date", `{"Expiration":"31/12/2030"}`, "not a date-time"},
			{"expiration not a string", `{"Expiration":2030}`, "Expiration must be a string"},
			{"description too long", `{"Description":"` + strings.Repeat("d", 257) + `"}`, "the limit is 256"},
			{"description with control characters", `{"Description":"a\nb"}`, "control characters"},
			{"description with a bidi override", `{"Description":"a\u202eb"}`, "invisible formatting character U+202E"},
			{"SecretId is not an input", `{"SecretId":"` + identity.NewID() + `"}`, `"SecretId" is not part of this request`},
			{"ClientSecret is not an input", `{"ClientSecret":"chosen-by-me"}`, `"ClientSecret" is not part of this request`},
			{"empty body", ``, "empty"},
			{"array body", `[]`, "must be a JSON object"},
		} {
			t.Run(kind.String()+" "+tc.name, func(t *testing.T) {
				a := a.with(t)
				a.do(http.MethodPost, secretsPath(kind, tenantID, clientID), tc.body).ocsError(t, http.StatusBadRequest, tc.reason)
			})
		}
		if l, _ := a.listSecrets(kind, tenantID, clientID, ""); len(l) != 1 {
			t.Fatalf("refused adds stored secrets: %+v", l)
		}
		if n := env.MaterialCount(t, tenantID, clientID); n != 1 {
			t.Fatalf("refused adds left %d material, want the first secret's only", n)
		}
	}
	// An empty object is a secret that never expires, with no description.
	clientID, _, _ := a.newClient(identity.Hybrid, tenantID, nil)
	s := a.addSecret(identity.Hybrid, tenantID, clientID, `{}`)
	if s.Expiration != nil || s.Description != "" || len(s.ClientSecret) != 43 {
		t.Fatalf("%+v", s)
	}
	s = a.addSecret(identity.Hybrid, tenantID, clientID, `{"Expiration":null,"Description":null}`)
	if s.Expiration != nil || s.Description != "" {
		t.Fatalf("%+v", s)
	}
}

// At most 10 secrets per client that are neither deleted nor expired; the
// first secret, from the client's create, counts.
func TestSecretLimit(t *testing.T) {
	for _, kind := range kinds {
		t.Run(kind.String(), func(t *testing.T) {
			a := newFullAPI(t)
			tenantID := a.tenant(0)
			clientID, firstID, _ := a.newClient(kind, tenantID, nil)
			var last secretCreated
			for i := range 9 {
				last = a.addSecret(kind, tenantID, clientID, map[string]any{"Description": fmt.Sprintf("s%d", i)})
			}
			e := a.do(http.MethodPost, secretsPath(kind, tenantID, clientID), map[string]any{"Description": "eleventh"}).ocsError(t, http.StatusBadRequest, "Secret limit exceeded")
			if !strings.Contains(e.Reason, "10") {
				t.Fatalf("the refusal does not say the limit: %q", e.Reason)
			}
			l, total := a.listSecrets(kind, tenantID, clientID, "")
			if len(l) != 10 || total != "10" {
				t.Fatalf("%d secrets listed, Total-Count %s", len(l), total)
			}
			if n := env.MaterialCount(t, tenantID, clientID); n != 10 {
				t.Fatalf("%d material, want 10 (the refused add must leave none)", n)
			}
			// Deleting one frees a place, whichever it is.
			a.do(http.MethodDelete, secretsPath(kind, tenantID, clientID, firstID), nil).JSON(t, http.StatusNoContent, nil)
			a.addSecret(kind, tenantID, clientID, map[string]any{"Description": "replacement"})
			a.do(http.MethodPost, secretsPath(kind, tenantID, clientID), map[string]any{}).ocsError(t, http.StatusBadRequest, "Secret limit exceeded")
			a.do(http.MethodDelete, secretsPath(kind, tenantID, clientID, last.SecretId), nil).JSON(t, http.StatusNoContent, nil)
			a.addSecret(kind, tenantID, clientID, map[string]any{})
			if n := env.MaterialCount(t, tenantID, clientID); n != 10 {
				t.Fatalf("%d material, want 10", n)
			}
		})
	}
}

func TestConcurrentSecretAddsRespectTheLimit(t *testing.T) {
	for _, kind := range kinds {
		t.Run(kind.String(), func(t *testing.T) {
			a := newFullAPI(t)
			tenantID := a.tenant(0)
			clientID, _, _ := a.newClient(kind, tenantID, nil)
			const attempts = 30
			statuses := make([]int, attempts)
			var wg sync.WaitGroup
			for i := range attempts {
				wg.Add(1)
				go func() {
					defer wg.Done()
					statuses[i] = a.do(http.MethodPost, secretsPath(kind, tenantID, clientID), map[string]any{"Description": fmt.Sprintf("s%d", i)}).Status
				}()
			}
			wg.Wait()
			count := map[int]int{}
			for _, s := range statuses {
				count[s]++
			}
			if count[http.StatusCreated] != 9 || count[http.StatusBadRequest] != attempts-9 {
				t.Fatalf("statuses %v, want 9 created (the first secret counts) and %d refused", count, attempts-9)
			}
			l, total := a.listSecrets(kind, tenantID, clientID, "")
			if len(l) != 10 || total != "10" {
				t.Fatalf("%d secrets listed, Total-Count %s, want 10", len(l), total)
			}
			// A refused add takes its verifier out of the pack again; 30
			// adds at once all write one pack, and a removal that runs
			// out of its time leaves an entry without a record (never a
			// record without material), which reconciliation removes.
			listed := map[string]bool{}
			for _, s := range l {
				listed[s.SecretId] = true
			}
			left := env.Material(t, tenantID, clientID)
			for _, ref := range left {
				if !listed[ref.SecretID] && env.SecretItems(t, clientID) != 10 {
					t.Fatalf("refused add of secret %s left a record", ref.SecretID)
				}
			}
			if len(left) > 10 {
				t.Logf("%d verifiers of refused adds left for the sweeper", len(left)-10)
				env.Reconcile(t, func() time.Time { return time.Now().Add(2 * time.Hour) })
			}
			if n := env.MaterialCount(t, tenantID, clientID); n != 10 {
				t.Fatalf("%d live material, want 10 (refused adds must not leave any, after reconciliation at the latest)", n)
			}
			for _, s := range l {
				if !env.MaterialExists(t, tenantID, clientID, s.SecretId) {
					t.Fatalf("listed secret %s has no material", s.SecretId)
				}
			}
		})
	}
}

// clock is a controllable clock: real time plus an offset that a test
// advances.
type clock struct{ offset atomic.Int64 }

func (c *clock) Now() time.Time          { return time.Now().Add(time.Duration(c.offset.Load())) }
func (c *clock) Advance(d time.Duration) { c.offset.Add(int64(d)) }

// Expired secrets do not count toward the limit, stay listed with their
// past expiration, and cannot be changed.
func TestExpiredSecrets(t *testing.T) {
	for _, kind := range kinds {
		t.Run(kind.String(), func(t *testing.T) {
			clk := &clock{}
			svc := env.Service(nil)
			svc.Now = clk.Now
			a := newAPIWith(t, svc, ocsapi.ClientSecretRoutes(svc), ocsapi.ClientCredentialClientRoutes(svc), ocsapi.HybridClientRoutes(svc))
			tenantID := a.tenant(0)
			clientID, _, _ := a.newClient(kind, tenantID, nil)
			soon := clk.Now().UTC().Add(time.Hour).Truncate(time.Second)
			expiring := a.addSecret(kind, tenantID, clientID, map[string]any{"Description": "expiring", "Expiration": soon.Format(time.RFC3339)})
			for i := range 8 {
				a.addSecret(kind, tenantID, clientID, map[string]any{"Description": fmt.Sprintf("s%d", i)})
			}
			a.do(http.MethodPost, secretsPath(kind, tenantID, clientID), map[string]any{}).ocsError(t, http.StatusBadRequest, "Secret limit exceeded")
			if !a.authenticates(clientID, expiring.ClientSecret) {
				t.Fatal("the secret does not authenticate before it expires")
			}

			clk.Advance(2 * time.Hour)
			if a.authenticates(clientID, expiring.ClientSecret) {
				t.Fatal("the expired secret still authenticates")
			}
			// The expired secret no longer counts: one more fits, then no more.
			a.addSecret(kind, tenantID, clientID, map[string]any{"Description": "after expiry"})
			a.do(http.MethodPost, secretsPath(kind, tenantID, clientID), map[string]any{}).ocsError(t, http.StatusBadRequest, "Secret limit exceeded")

			l, total := a.listSecrets(kind, tenantID, clientID, "")
			if len(l) != 11 || total != "11" {
				t.Fatalf("%d secrets listed, Total-Count %s, want 11 (10 active and the expired one)", len(l), total)
			}
			var found *secretDto
			for i := range l {
				if l[i].SecretId == expiring.SecretId {
					found = &l[i]
				}
			}
			if found == nil || str(found.Expiration) != soon.Format(time.RFC3339) || found.Description != "expiring" {
				t.Fatalf("the expired secret is not listed with its past expiration: %+v", l)
			}
			if got := a.getSecret(kind, tenantID, clientID, expiring.SecretId); str(got.Expiration) != soon.Format(time.RFC3339) {
				t.Fatalf("GET of the expired secret: %+v", got)
			}
			// Reviving it would pass the limit; it cannot be changed.
			later := clk.Now().UTC().Add(24 * time.Hour).Format(time.RFC3339)
			a.do(http.MethodPut, secretsPath(kind, tenantID, clientID, expiring.SecretId), map[string]any{"Expiration": later}).ocsError(t, http.StatusBadRequest, "expired")
			a.do(http.MethodPut, secretsPath(obsolete, tenantID, clientID, expiring.SecretId), map[string]any{"Description": "revived?"}).ocsError(t, http.StatusBadRequest, "expired")
			if got := a.getSecret(kind, tenantID, clientID, expiring.SecretId); str(got.Expiration) != soon.Format(time.RFC3339) || got.Description != "expiring" {
				t.Fatalf("a refused update changed the expired secret: %+v", got)
			}
			// A date that is after real time but before the service's clock is past.
			a.do(http.MethodPost, secretsPath(kind, tenantID, clientID), map[string]any{"Expiration": soon.Add(30 * time.Minute).Format(time.RFC3339)}).ocsError(t, http.StatusBadRequest, "not in the future")
			// It can still be deleted, which destroys its material.
			a.do(http.MethodDelete, secretsPath(kind, tenantID, clientID, expiring.SecretId), nil).JSON(t, http.StatusNoContent, nil)
			if env.MaterialExists(t, tenantID, clientID, expiring.SecretId) {
				t.Fatal("the deleted expired secret's material is still live")
			}
		})
	}
}

// The obsolete Clients/{clientId}/Secret routes serve both kinds and point
// at their successor.
func TestObsoleteSecretRoutes(t *testing.T) {
	for _, kind := range kinds {
		t.Run(kind.String(), func(t *testing.T) {
			a := newFullAPI(t)
			tenantID := a.tenant(0)
			clientID, firstID, _ := a.newClient(kind, tenantID, map[string]any{"Name": "c", "SecretDescription": "first"})
			added := a.addSecret(kind, tenantID, clientID, map[string]any{"Description": "second", "Expiration": "2033-03-03T03:03:03Z"})
			family := map[identity.ClientKind]string{identity.ClientCredential: "ClientCredentialClients", identity.Hybrid: "HybridClients"}[kind]
			successor := "/api/v1-preview/Tenants/" + tenantID + "/" + family + "/" + clientID + "/Secret"

			t.Run("GET lists like the successor and says it is deprecated", func(t *testing.T) {
				a := a.with(t)
				res := a.do(http.MethodGet, secretsPath(obsolete, tenantID, clientID), nil)
				var l []secretDto
				res.JSON(t, http.StatusOK, &l)
				want, _ := a.listSecrets(kind, tenantID, clientID, "")
				if showAll(l) != showAll(want) || len(l) != 2 || l[0].SecretId != firstID || res.Header.Get("Total-Count") != "2" {
					t.Fatalf("obsolete list %+v, successor %+v", l, want)
				}
				if d := res.Header.Get("Deprecation"); d != "true" {
					t.Fatalf("Deprecation %q", d)
				}
				if link := res.Header.Get("Link"); link != "<"+successor+`>; rel="successor-version"` {
					t.Fatalf("Link %q, want <%s>; rel=\"successor-version\"", link, successor)
				}
				if page, _ := a.listSecrets(obsolete, tenantID, clientID, "?skip=1&count=1"); len(page) != 1 || page[0].SecretId != added.SecretId {
					t.Fatalf("paging on the obsolete route: %+v", page)
				}
				a.do(http.MethodGet, secretsPath(obsolete, tenantID, clientID)+"?query=x", nil).ocsError(t, http.StatusBadRequest, "query parameter is not supported")
				// The successor named by Link serves the same list.
				var followed []secretDto
				a.do(http.MethodGet, successor, nil).JSON(t, http.StatusOK, &followed)
				if showAll(followed) != showAll(l) {
					t.Fatalf("the Link successor lists %+v", followed)
				}
			})

			t.Run("PUT updates and says it is deprecated", func(t *testing.T) {
				a := a.with(t)
				res := a.do(http.MethodPut, secretsPath(obsolete, tenantID, clientID, added.SecretId), map[string]any{"SecretId": added.SecretId, "Description": "via obsolete"})
				var got secretDto
				res.JSON(t, http.StatusOK, &got)
				if got.SecretId != added.SecretId || got.Description != "via obsolete" || str(got.Expiration) != "2033-03-03T03:03:03Z" {
					t.Fatalf("%+v", got)
				}
				if d := res.Header.Get("Deprecation"); d != "true" {
					t.Fatalf("Deprecation %q", d)
				}
				if link := res.Header.Get("Link"); link != "<"+successor+"/"+added.SecretId+`>; rel="successor-version"` {
					t.Fatalf("Link %q", link)
				}
				if stored := a.getSecret(kind, tenantID, clientID, added.SecretId); show(stored) != show(got) {
					t.Fatalf("stored %+v, answered %+v", stored, got)
				}
				res = a.do(http.MethodPut, secretsPath(obsolete, tenantID, clientID, added.SecretId), map[string]any{"Expiration": "2034-01-01T00:00:00Z"})
				res.JSON(t, http.StatusOK, &got)
				if got.Description != "via obsolete" || str(got.Expiration) != "2034-01-01T00:00:00Z" || res.Header.Get("Deprecation") != "true" {
					t.Fatalf("%+v", got)
				}
			})

			t.Run("refused PUTs change nothing", func(t *testing.T) {
				a := a.with(t)
				before := a.getSecret(kind, tenantID, clientID, added.SecretId)
				path := secretsPath(obsolete, tenantID, clientID, added.SecretId)
				a.do(http.MethodPut, path, map[string]any{"SecretId": firstID, "Description": "x"}).ocsError(t, http.StatusBadRequest, "differs from")
				a.do(http.MethodPut, path, map[string]any{"SecretId": "7", "Description": "x"}).ocsError(t, http.StatusBadRequest, "not a GUID")
				a.do(http.MethodPut, path, map[string]any{"Expiration": "2001-01-01T00:00:00Z"}).ocsError(t, http.StatusBadRequest, "not in the future")
				a.do(http.MethodPut, path, map[string]any{"ClientSecret": "x"}).ocsError(t, http.StatusBadRequest, `"ClientSecret" is not part of this request`)
				if after := a.getSecret(kind, tenantID, clientID, added.SecretId); show(after) != show(before) {
					t.Fatalf("refused updates changed the secret: %+v, was %+v", after, before)
				}
			})

			t.Run("not found", func(t *testing.T) {
				a := a.with(t)
				a.do(http.MethodGet, secretsPath(obsolete, tenantID, identity.NewID()), nil).ocsError(t, http.StatusNotFound, "Client not found")
				a.do(http.MethodGet, secretsPath(obsolete, identity.NewID(), clientID), nil).ocsError(t, http.StatusNotFound, "Tenant not found")
				a.do(http.MethodGet, secretsPath(obsolete, a.tenant(0), clientID), nil).ocsError(t, http.StatusNotFound, "Client not found")
				a.do(http.MethodPut, secretsPath(obsolete, tenantID, clientID, identity.NewID()), map[string]any{"Description": "x"}).ocsError(t, http.StatusNotFound, "Secret not found")
				a.do(http.MethodPut, secretsPath(obsolete, a.tenant(0), clientID, added.SecretId), map[string]any{"Description": "x"}).ocsError(t, http.StatusNotFound, "Client not found")
				// Only GET on the collection and PUT on a secret are obsolete routes.
				a.do(http.MethodPost, secretsPath(obsolete, tenantID, clientID), map[string]any{}).ocsError(t, http.StatusMethodNotAllowed, "Method not allowed")
				a.do(http.MethodDelete, secretsPath(obsolete, tenantID, clientID, added.SecretId), nil).ocsError(t, http.StatusMethodNotAllowed, "Method not allowed")
				if !env.MaterialExists(t, tenantID, clientID, added.SecretId) {
					t.Fatal("a refused obsolete request destroyed material")
				}
			})
		})
	}
}

// No client secret is at rest in plain text after Hybrid creates and
// secret adds of both kinds.
func TestNoPlaintextSecretAtRestForHybridAndAddedSecrets(t *testing.T) {
	a := newFullAPI(t)
	tenantID := a.tenant(0)
	var secrets []string
	for i := range 3 {
		c := a.createHybrid(tenantID, map[string]any{"Name": fmt.Sprintf("h%d", i), "SecretDescription": "d", "RedirectUris": []string{"https://h.example.com/cb"}})
		secrets = append(secrets, c.ClientSecret)
		secrets = append(secrets, a.addSecret(identity.Hybrid, tenantID, c.ClientId, map[string]any{"Description": "added"}).ClientSecret)
	}
	for i := range 2 {
		clientID, _, s := a.newClient(identity.ClientCredential, tenantID, map[string]any{"Name": fmt.Sprintf("c%d", i)})
		secrets = append(secrets, s, a.addSecret(identity.ClientCredential, tenantID, clientID, map[string]any{"Expiration": "2040-01-01T00:00:00Z"}).ClientSecret)
	}
	text, items, values := storedText(t)
	if items < 20 || values < 10 {
		t.Fatalf("read %d items and %d secret values: too few to mean anything", items, values)
	}
	for _, s := range secrets {
		if len(s) != 43 {
			t.Fatalf("secret %q is not 43 characters", s)
		}
		if strings.Contains(text, s) {
			t.Fatal("a client secret is stored in plain text")
		}
	}
}

// with returns the api reporting to t, for use inside a subtest.
func (a *api) with(t *testing.T) *api {
	c := *a
	c.t = t
	return &c
}

// The secret DTOs show LastUsed: null until a token request succeeds with
// the secret, then the start of that hour, on every secret route.
func TestSecretLastUsed(t *testing.T) {
	a := newFullAPI(t)
	tenantID := a.tenant(0)
	clientID, secretID, secret := a.newClient(identity.ClientCredential, tenantID, nil)
	added := a.addSecret(identity.ClientCredential, tenantID, clientID, map[string]any{"Description": "spare"})
	if added.LastUsed != nil {
		t.Fatalf("a new secret's LastUsed is %q, want null", *added.LastUsed)
	}
	if got := a.getSecret(identity.ClientCredential, tenantID, clientID, secretID); got.LastUsed != nil {
		t.Fatalf("LastUsed before any token request: %q, want null", *got.LastUsed)
	}
	before := time.Now().UTC().Truncate(time.Hour)
	if !a.authenticates(clientID, secret) {
		t.Fatal("the client does not authenticate")
	}
	after := time.Now().UTC().Truncate(time.Hour)
	for _, kind := range []identity.ClientKind{identity.ClientCredential, obsolete} {
		list, _ := a.listSecrets(kind, tenantID, clientID, "")
		for _, s := range list {
			switch s.SecretId {
			case secretID:
				used, err := time.Parse(time.RFC3339, str(s.LastUsed))
				if err != nil || (!used.Equal(before) && !used.Equal(after)) {
					t.Fatalf("LastUsed %q (%v), want the start of the hour %s", str(s.LastUsed), err, before.Format(time.RFC3339))
				}
			case added.SecretId:
				if s.LastUsed != nil {
					t.Fatalf("the unused secret's LastUsed is %q", *s.LastUsed)
				}
			}
		}
	}
	raw := a.do(http.MethodGet, secretsPath(identity.ClientCredential, tenantID, clientID, added.SecretId), nil)
	if !strings.Contains(string(raw.Body), `"LastUsed":null`) {
		t.Fatalf("a never-used secret's body %s lacks \"LastUsed\":null", raw.Body)
	}
}
