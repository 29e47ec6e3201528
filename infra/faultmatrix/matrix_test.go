package faultmatrix

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	dbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"identityservice/infra/local/server"
	"identityservice/infra/testenv/faults"
	"identityservice/shared/identity"
	"identityservice/shared/store"
	"identityservice/shared/sweep"
	"identityservice/shared/vault"
)

// faultPoints counts the (operation, call, mode) points the matrix ran.
var faultPoints atomic.Int64

// freshness says what each run of an operation gets to itself.
type freshness int

const (
	sharedWorld freshness = iota // one world (table, prefix, caches) for every run
	freshPrefix                  // a new prefix and apps per run: no signing key yet
	freshTable                   // a new table and prefix per run: the sweep's walks see only this run
)

// operation is one mutating operation of the matrix.
type operation struct {
	name   string
	fresh  freshness
	family family // the error format of its answers; -1: not an HTTP operation
	// setup prepares the run's targets through the clean app.
	setup func(r *mrun)
	// do runs the operation once on the injected app with r.ctx.
	do func(r *mrun) response
	// ok is the status of success.
	ok int
	// answer checks invariant 5 on the store after the operation (and
	// again after the sweep): a success's effect is stored; an error's
	// effect is absent or complete.
	answer func(r *mrun, res response, snap snapshot) violations
	// after, when set, checks the runs as a whole once all have run.
	after func(t *testing.T)
}

// mrun is one run of an operation.
type mrun struct {
	w      *world
	ctx    *deadlineCtx
	known  []knownSecret
	client identity.CreatedClient // the target client
	secret string                 // the target secret id
	id     string                 // an id the operation creates
	token  string                 // a token held before the operation
	before snapshot
	err    error // a non-HTTP operation's error
	state  any   // an operation's own state for its run (sign-in: *signInRun)
}

func (r *mrun) know(c identity.CreatedClient) {
	r.known = append(r.known, knownSecret{tenant: c.Client.TenantID, client: c.Client.ID, id: c.Secret.ID, kind: c.Client.Kind, plain: c.SecretString})
}

func (r *mrun) addSecret(c identity.CreatedClient) identity.CreatedSecret {
	r.w.t.Helper()
	s, err := r.w.clean.Service.AddSecret(context.Background(), r.w.tenant, c.Client.Kind, c.Client.ID, "extra", "Description", nil, "Expiration")
	if err != nil {
		r.w.t.Fatal(err)
	}
	r.known = append(r.known, knownSecret{tenant: r.w.tenant, client: c.Client.ID, id: s.Secret.ID, kind: c.Client.Kind, plain: s.SecretString})
	return s
}

func (r *mrun) api(method, path string, body any) response {
	return r.w.request(r.w.h, r.ctx, method, path, "Bearer "+r.w.adminToken, body)
}

const (
	cccBase    = "/api/v1-preview/Tenants/%s/ClientCredentialClients"
	hybridBase = "/api/Tenants/%s/HybridClient"
	krBase     = "/api/tenants/%s/applications/%s/secrets"
)

// newSecretIDs returns the secret records of a client in after that are
// not in before.
func newSecretIDs(before, after snapshot, client string) []string {
	var ids []string
	for id, s := range after.secrets {
		if _, had := before.secrets[id]; !had && s.client == client {
			ids = append(ids, id)
		}
	}
	return ids
}

// createClientOp creates a client of a kind through its route.
func createClientOp(kind identity.ClientKind) operation {
	path, body := cccBase, map[string]any{"Name": "matrix", "SecretDescription": "first"}
	f := ocsFamily
	if kind == identity.Hybrid {
		path, body = hybridBase, map[string]any{"Name": "matrix", "SecretDescription": "first", "RedirectUris": []string{"https://app.example.com/cb"}}
	}
	return operation{
		name: "create " + kind.String() + " client", family: f, ok: http.StatusCreated,
		setup: func(r *mrun) { r.id = identity.NewID() },
		do: func(r *mrun) response {
			b := map[string]any{"ClientId": r.id}
			for k, v := range body {
				b[k] = v
			}
			res := r.api(http.MethodPost, fmt.Sprintf(path, r.w.tenant), b)
			var out struct{ ClientSecret, SecretId string }
			if res.Status == http.StatusCreated && json.Unmarshal(res.Body, &out) == nil {
				r.known = append(r.known, knownSecret{tenant: r.w.tenant, client: r.id, id: out.SecretId, kind: kind, plain: out.ClientSecret})
			}
			return res
		},
		answer: func(r *mrun, res response, snap snapshot) violations {
			var v violations
			_, exists := snap.clients[r.id]
			if res.Status == http.StatusCreated && !exists {
				v.addf("create answered 201 but client %s is not stored", r.id)
			}
			if exists && len(newSecretIDs(r.before, snap, r.id)) != 1 {
				v.addf("client %s stored with %d secret records, want 1", r.id, len(newSecretIDs(r.before, snap, r.id)))
			}
			return v
		},
	}
}

// addSecretOp adds a secret through the OCS or the Key Rotation route.
func addSecretOp(keyRotation bool) operation {
	op := operation{name: "add secret (OCS)", family: ocsFamily, ok: http.StatusCreated}
	kind := identity.ClientCredential
	if keyRotation {
		op = operation{name: "add secret (Key Rotation)", family: keyRotationFamily, ok: http.StatusOK}
		kind = identity.Hybrid
	}
	op.setup = func(r *mrun) {
		r.client = r.w.createClient(kind, nil, "first")
		r.know(r.client)
	}
	op.do = func(r *mrun) response {
		var res response
		var plain, id string
		if keyRotation {
			res = r.api(http.MethodPost, fmt.Sprintf(krBase, r.w.tenant, r.client.Client.ID), `{"expirationDate":null}`)
			var out struct {
				ClientSecret *string `json:"clientSecret"`
			}
			if res.Status == http.StatusOK && json.Unmarshal(res.Body, &out) == nil && out.ClientSecret != nil {
				plain = *out.ClientSecret
			}
		} else {
			res = r.api(http.MethodPost, fmt.Sprintf(cccBase+"/%s/Secret", r.w.tenant, r.client.Client.ID), map[string]any{"Description": "added"})
			var out struct{ ClientSecret, SecretId string }
			if res.Status == http.StatusCreated && json.Unmarshal(res.Body, &out) == nil {
				plain, id = out.ClientSecret, out.SecretId
			}
		}
		if plain != "" {
			if id == "" { // the Key Rotation answer has no secret id: find the new record
				if ids := newSecretIDs(r.before, r.w.read(r.w.t), r.client.Client.ID); len(ids) == 1 {
					id = ids[0]
				}
			}
			r.known = append(r.known, knownSecret{tenant: r.w.tenant, client: r.client.Client.ID, id: id, kind: kind, plain: plain})
			r.id = id
		}
		return res
	}
	op.answer = func(r *mrun, res response, snap snapshot) violations {
		var v violations
		added := newSecretIDs(r.before, snap, r.client.Client.ID)
		if res.Status == op.ok && (len(added) != 1 || r.id == "" || added[0] != r.id) {
			v.addf("add answered %d but the stored new secrets are %v (answer's %q)", res.Status, added, r.id)
		}
		if len(added) > 1 {
			v.addf("one add stored %d secrets", len(added))
		}
		return v
	}
	return op
}

// updateSecretOp changes a secret's description (the record only) or its
// expiration (the record, its place in the index and its token item entry,
// in one transaction).
func updateSecretOp(expiration bool) operation {
	name, body := "update secret", map[string]any{"Description": "after"}
	if expiration {
		name = "update secret expiration"
	}
	var exp time.Time
	return operation{
		name: name, family: ocsFamily, ok: http.StatusOK,
		setup: func(r *mrun) {
			r.client = r.w.createClient(identity.ClientCredential, nil, "before")
			r.know(r.client)
			r.secret = r.client.Secret.ID
			// Far enough ahead that the clock moved by the checks does not
			// reach it.
			exp = r.w.clock.Now().Add(90 * 24 * time.Hour).Truncate(time.Second).UTC()
		},
		do: func(r *mrun) response {
			b := body
			if expiration {
				b = map[string]any{"Description": "after", "Expiration": exp.Format(time.RFC3339)}
			}
			return r.api(http.MethodPut, fmt.Sprintf(cccBase+"/%s/Secret/%s", r.w.tenant, r.client.Client.ID, r.secret), b)
		},
		answer: func(r *mrun, res response, snap snapshot) violations {
			var v violations
			sec, err := r.w.clean.Store.Secrets.GetSecret(context.Background(), r.w.tenant, identity.ClientCredential, r.client.Client.ID, r.secret)
			switch {
			case err != nil:
				v.addf("secret %s unreadable after update: %v", r.secret, err)
			case res.Status == http.StatusOK && sec.Description != "after":
				v.addf("update answered 200 but the description is %q", sec.Description)
			case sec.Description != "after" && sec.Description != "before":
				v.addf("description %q is neither the old nor the new one", sec.Description)
			case !expiration:
			case res.Status == http.StatusOK && (sec.Expiration == nil || !sec.Expiration.Equal(exp)):
				v.addf("update answered 200 but the expiration is %v, want %s", sec.Expiration, exp)
			case (sec.Description == "after") != (sec.Expiration != nil):
				v.addf("update half applied: description %q, expiration %v", sec.Description, sec.Expiration)
			}
			return v
		},
	}
}

func updateClientOp() operation {
	return operation{
		name: "update client", family: ocsFamily, ok: http.StatusOK,
		setup: func(r *mrun) {
			roles := []string{identity.RoleAccountMember}
			c, err := r.w.clean.Service.CreateClient(context.Background(), r.w.tenant, identity.NewClient{
				Kind: identity.ClientCredential, Name: "before", Tags: []string{"before", "kept"}, RoleIDs: &roles})
			if err != nil {
				r.w.t.Fatal(err)
			}
			r.client = c
			r.know(r.client)
		},
		// Name, tags (one added, one removed), Enabled and RoleIds: the
		// client item, its list copy, two tag entries and the token item.
		do: func(r *mrun) response {
			return r.api(http.MethodPut, fmt.Sprintf(cccBase+"/%s", r.w.tenant, r.client.Client.ID), map[string]any{
				"Name": "after", "Tags": []string{"after", "kept"}, "Enabled": false,
				"RoleIds": []string{identity.RoleAccountAdministrator, identity.RoleAccountMember}})
		},
		answer: func(r *mrun, res response, snap snapshot) violations {
			var v violations
			c, err := r.w.clean.Store.Clients.GetClient(context.Background(), r.w.tenant, identity.ClientCredential, r.client.Client.ID)
			after := c.Name == "after"
			switch {
			case err != nil:
				v.addf("client unreadable after update: %v", err)
			case res.Status == http.StatusOK && !after:
				v.addf("update answered 200 but the client is %q %v", c.Name, c.Tags)
			case after != (strings.Join(c.Tags, ",") == "after,kept") || after == c.Enabled || after != (len(c.RoleIDs) == 2):
				v.addf("update half applied: name %q, tags %v, enabled %v, roles %v", c.Name, c.Tags, c.Enabled, c.RoleIDs)
			}
			return v
		},
	}
}

// updateAllTagsOp replaces all of a client's 50 tags (the most it may
// carry) with 50 others: 100 tag entries change, more than fit in one
// transaction beside the client item, its list copy and its token item.
func updateAllTagsOp() operation {
	tags := func(prefix string) []string {
		out := make([]string, identity.MaxTags)
		for i := range out {
			out[i] = fmt.Sprintf("%s-%02d", prefix, i)
		}
		return out
	}
	before, after := tags("before"), tags("after")
	var staleRetried atomic.Int64
	put := func(r *mrun, h http.Handler, ctx context.Context) response {
		return r.w.request(h, ctx, http.MethodPut, fmt.Sprintf(cccBase+"/%s", r.w.tenant, r.client.Client.ID), "Bearer "+r.w.adminToken,
			map[string]any{"Tags": after, "Enabled": false})
	}
	return operation{
		name: "update client, all 50 tags replaced", family: ocsFamily, ok: http.StatusOK,
		setup: func(r *mrun) {
			c, err := r.w.clean.Service.CreateClient(context.Background(), r.w.tenant, identity.NewClient{Kind: identity.ClientCredential, Name: "tags", Tags: before})
			if err != nil {
				r.w.t.Fatal(err)
			}
			r.client = c
			r.know(r.client)
		},
		do: func(r *mrun) response { return put(r, r.w.h, r.ctx) },
		answer: func(r *mrun, res response, snap snapshot) violations {
			var v violations
			c, ok := snap.clients[r.client.Client.ID]
			switch {
			case !ok:
				v.addf("client %s gone after an update", r.client.Client.ID)
			case res.Status == http.StatusOK && !slices.Equal(c.tags, after):
				v.addf("update answered 200 but the client carries %v", c.tags)
			case !slices.Equal(c.tags, after) && !slices.Equal(c.tags, before):
				v.addf("update half applied: tags %v", c.tags)
			case slices.Equal(c.tags, after) == c.enabled:
				v.addf("update half applied: tags %v, enabled %v", c.tags, c.enabled)
			case len(c.staleTags) > 0:
				// The removals left over are recorded: a retry of the PUT,
				// as its caller does after an error, removes them.
				if res.Status == http.StatusOK {
					v.addf("update answered 200 with stale tag entries %v left", c.staleTags)
				}
				if got := put(r, r.w.cleanH, context.Background()); got.Status != http.StatusOK {
					v.addf("retry of the update: %s", got)
				}
				after := r.w.read(r.w.t)
				if c := after.clients[r.client.Client.ID]; len(c.staleTags) > 0 {
					v.addf("stale tags %v left after a retry of the update", c.staleTags)
				}
				for _, msg := range tagInvariants(after) {
					if strings.Contains(msg, r.client.Client.ID) {
						v.addf("after a retry of the update: %s", msg)
					}
				}
				staleRetried.Add(1)
			}
			return v
		},
		after: func(t *testing.T) {
			if staleRetried.Load() == 0 {
				t.Error("no run left stale tag entries to a retry: the path is not exercised")
			}
		},
	}
}

func deleteSecretOp() operation {
	return operation{
		name: "delete secret", family: ocsFamily, ok: http.StatusNoContent,
		setup: func(r *mrun) {
			r.client = r.w.createClient(identity.ClientCredential, nil, "kept")
			r.know(r.client)
			r.secret = r.addSecret(r.client).Secret.ID
		},
		do: func(r *mrun) response {
			return r.api(http.MethodDelete, fmt.Sprintf(cccBase+"/%s/Secret/%s", r.w.tenant, r.client.Client.ID, r.secret), nil)
		},
		answer: func(r *mrun, res response, snap snapshot) violations {
			var v violations
			if _, ok := snap.secrets[r.secret]; ok && res.Status == http.StatusNoContent {
				v.addf("delete answered 204 but record %s is stored", r.secret)
			}
			if _, ok := snap.secrets[r.client.Secret.ID]; !ok {
				v.addf("deleting one secret removed another (%s)", r.client.Secret.ID)
			}
			return v
		},
	}
}

func softDeleteOp() operation {
	// appliedUnderFault counts the runs whose answer was an error but whose
	// soft deletion was stored (a lost answer): authInvariants then asks
	// the token endpoint with that secret, which must refuse it.
	var appliedUnderFault atomic.Int64
	return operation{
		name: "soft delete secret", family: keyRotationFamily, ok: http.StatusOK,
		setup: func(r *mrun) {
			r.client = r.w.createClient(identity.ClientCredential, nil, "kept")
			r.know(r.client)
			r.secret = r.addSecret(r.client).Secret.ID
		},
		do: func(r *mrun) response {
			return r.api(http.MethodDelete, fmt.Sprintf(krBase+"/%s", r.w.tenant, r.client.Client.ID, r.secret), nil)
		},
		answer: func(r *mrun, res response, snap snapshot) violations {
			var v violations
			s, ok := snap.secrets[r.secret]
			if res.Status == http.StatusOK && (!ok || !s.deleted) {
				v.addf("soft delete answered 200 but record %s is %s", r.secret, describe(s, ok, true, snap.now))
			}
			if res.Status != http.StatusOK && ok && s.deleted && !s.swept {
				appliedUnderFault.Add(1)
			}
			return v
		},
		after: func(t *testing.T) {
			if appliedUnderFault.Load() == 0 {
				t.Error("no run left the secret soft-deleted under a fault: the token endpoint was never asked with a secret soft-deleted that way")
			}
		},
	}
}

// deleteClientOp deletes a client with two active secrets and a
// soft-deleted one; with retained, also with 96 swept records retained
// (RETENTION_DAYS), more than fit in the delete's one transaction.
func deleteClientOp(retained bool) operation {
	name, records := "delete client", 3
	if retained {
		name, records = "delete client with retained records", 98
	}
	return operation{
		name: name, family: ocsFamily, ok: http.StatusNoContent,
		setup: func(r *mrun) {
			ctx := context.Background()
			c, err := r.w.clean.Service.CreateClient(ctx, r.w.tenant, identity.NewClient{Kind: identity.ClientCredential, Name: "delete", Tags: []string{"deleted"}})
			if err != nil {
				r.w.t.Fatal(err)
			}
			r.client = c
			r.know(r.client)
			r.addSecret(r.client)
			if !retained {
				gone := r.addSecret(r.client)
				if _, err := r.w.clean.Service.SoftDeleteSecret(ctx, r.w.tenant, r.client.Client.Kind, r.client.Client.ID, gone.Secret.ID); err != nil {
					r.w.t.Fatal(err)
				}
				return
			}
			r.w.retainSwept(c.Client, records-2)
		},
		do: func(r *mrun) response {
			return r.api(http.MethodDelete, fmt.Sprintf(cccBase+"/%s", r.w.tenant, r.client.Client.ID), nil)
		},
		answer: func(r *mrun, res response, snap snapshot) violations {
			var v violations
			_, client := snap.clients[r.client.Client.ID]
			_, reg := snap.regs[r.client.Client.ID]
			tomb := snap.tombstones[r.client.Client.ID]
			n := 0
			for _, s := range snap.secrets {
				if s.client == r.client.Client.ID {
					n++
				}
			}
			if res.Status == http.StatusNoContent && (client || reg || n > 0 || !tomb) {
				v.addf("delete answered 204 but client=%v registration=%v secret records=%d remain, tombstone %v", client, reg, n, tomb)
			}
			// The registration becomes the id's tombstone in the delete's
			// own transaction: the id is never free, not even for a moment.
			if client == tomb || reg == tomb {
				v.addf("client=%v registration=%v tombstone=%v: want the tombstone exactly when the client is gone", client, reg, tomb)
			}
			// Retained records may go before the client does (they cannot
			// authenticate); the active ones only with it.
			least := records
			if retained {
				least = 2
			}
			if !client && (reg || n > 0) || client && (!reg || n > records || n < least) {
				v.addf("client half deleted: client=%v registration=%v secret records=%d (of %d)", client, reg, n, records)
			}
			return v
		},
	}
}

// retainSwept stores n swept records of client c as the sweeper leaves
// them until the retention period ends (expired, material destroyed, in
// the queue SWEPT), written directly: making them through the API would
// take two calls each. Their ids (00000000-<the client's>-<i>) sort before
// any random one, so a client's Query returns them first.
func (w *world) retainSwept(c identity.Client, n int) {
	w.t.Helper()
	ctx := context.Background()
	past := w.clock.Now().Add(-time.Hour).UTC()
	var reqs []dbtypes.WriteRequest
	for i := range n {
		sec := identity.Secret{TenantID: c.TenantID, ClientID: c.ID, ID: fmt.Sprintf("00000000-%s%012d", c.ID[9:24], i), Kind: c.Kind,
			Description: "retained", CreatedAt: past.Add(-time.Hour), Expiration: &past}
		it := store.SecretRecordItem(sec)
		it["SweptAt"] = &dbtypes.AttributeValueMemberS{Value: past.Format(time.RFC3339Nano)}
		it["ExpiryPK"] = &dbtypes.AttributeValueMemberS{Value: fmt.Sprintf("SWEPT#%02d", expiryShard(sec.ID))}
		reqs = append(reqs, dbtypes.WriteRequest{PutRequest: &dbtypes.PutRequest{Item: it}})
	}
	for len(reqs) > 0 {
		batch := reqs[:min(25, len(reqs))]
		reqs = reqs[len(batch):]
		out, err := env.Clients.DynamoDB.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]dbtypes.WriteRequest{w.table: batch}})
		if err != nil {
			w.t.Fatal(err)
		}
		reqs = append(reqs, out.UnprocessedItems[w.table]...)
	}
	// They count against the client's cap of secret records.
	if _, err := env.Clients.DynamoDB.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: &w.table,
		Key:                       map[string]dbtypes.AttributeValue{"PK": &dbtypes.AttributeValueMemberS{Value: "CLIENT#" + c.ID}, "SK": &dbtypes.AttributeValueMemberS{Value: "#CLIENT"}},
		UpdateExpression:          aws.String("SET RecordCount = RecordCount + :n"),
		ExpressionAttributeValues: map[string]dbtypes.AttributeValue{":n": &dbtypes.AttributeValueMemberN{Value: fmt.Sprint(n)}}}); err != nil {
		w.t.Fatal(err)
	}
}

// tokenOp asks for a token: with the key set loaded (warm) or on a fresh
// key store, where this request creates and publishes the first key.
func tokenOp(firstKey bool) operation {
	op := operation{name: "token issuance", family: oauthFamily, ok: http.StatusOK}
	if firstKey {
		op.name, op.fresh = "token issuance, first signing key", freshPrefix
	}
	op.setup = func(r *mrun) {
		r.client = r.w.createClient(identity.ClientCredential, []string{identity.RoleAccountAdministrator, identity.RoleAccountMember}, "")
		r.know(r.client)
	}
	op.do = func(r *mrun) response {
		res := r.w.tokenRequest(r.w.h, r.ctx, r.client.Client.ID, r.client.SecretString)
		r.token = accessToken(res)
		return res
	}
	op.answer = func(r *mrun, res response, snap snapshot) violations {
		var v violations
		if res.Status == http.StatusOK {
			// The token works on the API: its key is published.
			if got := r.w.request(r.w.cleanH, context.Background(), http.MethodGet, fmt.Sprintf(cccBase+"?count=1", r.w.tenant), "Bearer "+r.token, nil); got.Status != http.StatusOK {
				v.addf("issued token refused by the API: %s", got)
			}
		}
		// The function recovers: its next request gets a token that works.
		next := accessToken(r.w.tokenRequest(r.w.h, context.Background(), r.client.Client.ID, r.client.SecretString))
		if next == "" {
			v.addf("token endpoint did not recover after the fault")
		} else if got := r.w.request(r.w.cleanH, context.Background(), http.MethodGet, fmt.Sprintf(cccBase+"?count=1", r.w.tenant), "Bearer "+next, nil); got.Status != http.StatusOK {
			v.addf("token issued after the fault refused by the API: %s", got)
		}
		return v
	}
	return op
}

// rotationOp rotates the signing keys as the admin CLI does (its own
// process), while a warm token function keeps serving.
func rotationOp() operation {
	return operation{
		name: "key rotation", family: -1, ok: http.StatusOK,
		setup: func(r *mrun) {
			r.client = r.w.createClient(identity.ClientCredential, []string{identity.RoleAccountAdministrator, identity.RoleAccountMember}, "")
			r.know(r.client)
			r.token = r.w.mustToken(r.w.h, r.client.Client.ID, r.client.SecretString)
		},
		do: func(r *mrun) response {
			km := r.w.newApp(env.ClientsWith(r.w.inj.Middleware), r.w.logs).KeyManager()
			ks, err := km.Rotate(r.ctx)
			r.err, r.id = err, ks.Active
			if err != nil {
				return response{Status: http.StatusInternalServerError}
			}
			return response{Status: http.StatusOK}
		},
		answer: func(r *mrun, res response, snap snapshot) violations {
			var v violations
			ctx := context.Background()
			if res.Status == http.StatusOK {
				ks, err := vault.NewSigningKeys(env.Clients.SecretsManager, r.w.prefix).LoadKeySet(ctx)
				if err != nil || ks.Active != r.id {
					v.addf("rotation succeeded but the stored active key is %q (%v), want %q", ks.Active, err, r.id)
				}
				raw, err := r.w.clean.Store.Keys.JWKS(ctx)
				if err != nil || !strings.Contains(string(raw), r.id) {
					v.addf("rotation succeeded but key %s is not published (%v)", r.id, err)
				}
			}
			list := fmt.Sprintf(cccBase+"?count=1", r.w.tenant)
			if got := r.w.request(r.w.cleanH, ctx, http.MethodGet, list, "Bearer "+r.token, nil); got.Status != http.StatusOK {
				v.addf("a token issued before the rotation stopped working: %s", got)
			}
			// A function that fetched the JWKS in the last 10 s does not
			// fetch it again for an unknown kid (auth.Verifier's refetch
			// limit), so the new key's tokens are checked by a function
			// that starts after the token is issued.
			for name, h := range map[string]http.Handler{"warm": r.w.h, "cold": r.w.newHandler()} {
				tok := accessToken(r.w.tokenRequest(h, ctx, r.client.Client.ID, r.client.SecretString))
				if tok == "" {
					v.addf("%s token function issues no token after the rotation", name)
					continue
				}
				if got := r.w.request(r.w.newHandler(), ctx, http.MethodGet, list, "Bearer "+tok, nil); got.Status != http.StatusOK {
					v.addf("token of a %s token function refused after the rotation: %s", name, got)
				}
			}
			return v
		},
	}
}

// sweepOp runs a sweep over expired, soft-deleted and deleted secrets and
// orphaned material.
func sweepOp() operation {
	return operation{
		name: "sweep", fresh: freshTable, family: -1, ok: http.StatusOK,
		setup: func(r *mrun) {
			ctx := context.Background()
			w := r.w
			// A secret that expired longer ago than the retention period,
			// still in its client's token item (no add since): the sweep
			// destroys its material and purges its record.
			exp := w.clock.Now().Add(time.Hour)
			old, err := w.clean.Service.CreateClient(ctx, w.tenant, identity.NewClient{Kind: identity.ClientCredential, Name: "sweep old", SecretExpiration: &exp})
			if err != nil {
				w.t.Fatal(err)
			}
			r.know(old)
			w.clock.Advance(sweep.DefaultSettings().Retention + 2*time.Hour)
			exp = w.clock.Now().Add(time.Hour)
			c, err := w.clean.Service.CreateClient(ctx, w.tenant, identity.NewClient{Kind: identity.ClientCredential, Name: "sweep", SecretExpiration: &exp})
			if err != nil {
				w.t.Fatal(err)
			}
			r.client = c
			r.know(c)
			r.addSecret(c) // never expires: stays
			soft := r.addSecret(c)
			if _, err := w.clean.Service.SoftDeleteSecret(ctx, w.tenant, c.Client.Kind, c.Client.ID, soft.Secret.ID); err != nil {
				w.t.Fatal(err)
			}
			// A delete whose material destruction failed: record gone, material left.
			gone := r.addSecret(c)
			if err := w.clean.Store.Secrets.DeleteSecret(ctx, w.tenant, identity.ClientCredential, c.Client.ID, gone.Secret.ID); err != nil {
				w.t.Fatal(err)
			}
			// A create that failed after writing the material.
			orphan := identity.MaterialRef{TenantID: w.tenant, ClientID: identity.NewID(), SecretID: identity.NewID()}
			if err := vault.New(env.Clients.SecretsManager, w.prefix).PutVerifier(ctx, orphan, identity.Verifier(orphan, "orphan")); err != nil {
				w.t.Fatal(err)
			}
			// The first secret expires; all material is past the grace period.
			w.clock.Advance(2 * time.Hour)
		},
		do: func(r *mrun) response {
			_, err := r.w.sweeper(true).Run(r.ctx)
			r.err = err
			if err != nil {
				return response{Status: http.StatusInternalServerError}
			}
			return response{Status: http.StatusOK}
		},
		answer: func(r *mrun, res response, snap snapshot) violations { return nil },
	}
}

// newHandler is the API on a new process of the world (cold caches), on
// clean clients.
func (w *world) newHandler() http.Handler {
	w.t.Helper()
	h, err := server.Handler(loadTemplate(w.t), w.newApp(env.Clients, w.logs))
	if err != nil {
		w.t.Fatal(err)
	}
	return h
}

func operations() []operation {
	return append([]operation{
		createClientOp(identity.ClientCredential),
		createClientOp(identity.Hybrid),
		addSecretOp(false),
		addSecretOp(true),
		updateClientOp(),
		updateAllTagsOp(),
		updateSecretOp(false),
		updateSecretOp(true),
		deleteSecretOp(),
		softDeleteOp(),
		deleteClientOp(false),
		deleteClientOp(true),
		tokenOp(false),
		tokenOp(true),
		rotationOp(),
		sweepOp(),
		revocationOp(), // revocation_test.go
	}, signInOperations()...)
}

// TestFaultMatrix fails every call of every mutating operation in turn,
// once with an error and once with a timeout, and checks the invariants
// after the failure and again after a sweep.
func TestFaultMatrix(t *testing.T) {
	// The operations run in parallel (each in its own worlds); the summary
	// is written once all have finished. Other tests count checks too.
	faultPoints.Store(0)
	checksMade.Store(0)
	t.Cleanup(func() {
		t.Logf("fault matrix: %d fault points exercised, %d invariant checks made", faultPoints.Load(), checksMade.Load())
		fmt.Printf("fault matrix: %d fault points exercised, %d invariant checks made\n", faultPoints.Load(), checksMade.Load())
	})
	for _, op := range operations() {
		t.Run(op.name, func(t *testing.T) {
			t.Parallel()
			base := newWorld(t, "").hangsCleanup()
			base.login()
			worldFor := func(t *testing.T) *world {
				switch op.fresh {
				case freshPrefix:
					return newWorld(t, base.table).hangsCleanup()
				case freshTable:
					return newWorld(t, "").hangsCleanup()
				}
				return base
			}
			// Dry run: no fault; count the calls.
			w := worldFor(t)
			r := &mrun{w: w, ctx: newDeadlineCtx()}
			op.setup(r)
			r.before = w.read(t)
			w.inj.Reset()
			res := op.do(r)
			calls := w.inj.Calls()
			if res.Status != op.ok {
				t.Fatalf("dry run answered %s (%v)", res, r.err)
			}
			check(t, op, r, res, "dry run")
			t.Logf("%s: %d calls: %v", op.name, len(calls), calls)
			if len(calls) == 0 {
				t.Fatal("the operation made no call the injector saw")
			}
			point := func(t *testing.T, mode faults.Mode, n int) {
				w := worldFor(t)
				r := &mrun{w: w, ctx: newDeadlineCtx()}
				op.setup(r)
				r.before = w.read(t)
				w.inj.FailNth(n, mode, r.ctx.expire)
				res := op.do(r)
				injected := w.inj.Injected()
				w.inj.Reset()
				r.ctx.expire()
				if injected != 1 {
					t.Errorf("%s at call %d (%s): %d faults injected, want 1 (the operation made fewer calls than its dry run)", mode, n, calls[n-1], injected)
					return
				}
				faultPoints.Add(1)
				check(t, op, r, res, fmt.Sprintf("%s at call %d (%s)", mode, n, calls[n-1]))
			}
			// A run on a table of its own (the sweep's) shares nothing with
			// the other runs: they run in parallel, each its own subtest
			// (the sweep's 58 runs were the matrix's longest path).
			points := func(each func(mode faults.Mode, n int)) {
				for _, mode := range []faults.Mode{faults.Error, faults.Timeout} {
					for _, n := range faultAt(calls) {
						each(mode, n)
					}
				}
			}
			if op.fresh != freshTable {
				points(func(mode faults.Mode, n int) { point(t, mode, n) })
			} else {
				t.Run("fault points", func(t *testing.T) {
					points(func(mode faults.Mode, n int) {
						t.Run(fmt.Sprintf("%s at call %d", mode, n), func(t *testing.T) {
							t.Parallel()
							point(t, mode, n)
						})
					})
				})
			}
			if op.after != nil {
				op.after(t)
			}
		})
	}
}

// check verifies every invariant after one run of an operation, then
// sweeps (the clock past the grace period) and verifies them again.
func check(t *testing.T, op operation, r *mrun, res response, point string) {
	t.Helper()
	w := r.w
	var v violations
	if res.Status != op.ok {
		checksMade.Add(1)
		if res.Status < 500 {
			v.addf("answered %s under a store fault; want a 5xx", res)
		}
		if op.family >= 0 {
			v = append(v, errorBody(op.family, res)...)
		}
	}
	snap := w.read(t)
	v = append(v, storeInvariants(snap, false)...)
	v = append(v, w.authInvariants(snap, r.known)...)
	checksMade.Add(1)
	v = append(v, op.answer(r, res, snap)...)
	for _, msg := range v {
		t.Errorf("%s: %s: after the fault: %s", op.name, point, msg)
	}

	w.clock.Advance(2 * time.Hour) // past the sweeper's grace period for orphans
	if _, err := w.sweeper(false).Run(context.Background()); err != nil {
		t.Errorf("%s: %s: the sweep after the fault failed: %v", op.name, point, err)
	}
	snap = w.read(t)
	v = storeInvariants(snap, true)
	v = append(v, w.authInvariants(snap, r.known)...)
	checksMade.Add(1)
	v = append(v, op.answer(r, res, snap)...)
	for _, msg := range v {
		t.Errorf("%s: %s: after a sweep: %s", op.name, point, msg)
	}
}

// faultAt are the calls (1-based) a fault is injected at: every call,
// except that of a run of identical calls (the sweeper's queries of the
// shards of a queue, most of them empty) only the first and the last,
// which fail the same code path as the ones between.
func faultAt(calls []faults.Call) []int {
	same := func(a, b faults.Call) bool { return a.Service == b.Service && a.Operation == b.Operation }
	var at []int
	for i := range calls {
		first := i == 0 || !same(calls[i-1], calls[i])
		last := i == len(calls)-1 || !same(calls[i+1], calls[i])
		if first || last {
			at = append(at, i+1)
		}
	}
	return at
}
