package faultmatrix

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"

	"identityservice/shared/identity"
	"identityservice/shared/vault"
)

// The invariants (issue 9), each checked on the store itself, read with
// clients that carry no faults:
//
//  1. no active secret record without its material;
//  2. after a sweep, no material without a live record (older than the
//     sweeper's grace period: the world's clock is moved past it first);
//  3. no deleted, soft-deleted or expired secret authenticates (the real
//     token endpoint is asked), and every secret the API handed out whose
//     record is active does;
//  4. each tenant's client counter equals the number of its clients, each
//     client has its registration and each secret record its client; a
//     deleted client's tombstone (its id stays reserved) has neither a
//     client item nor secret records;
//  5. the API's answer was a success whose effect is stored, or an error in
//     the route family's format whose effect is absent or complete (the
//     operation's own check, in matrix_test.go);
//
// and those of the data model's derived items (model_invariants_test.go),
// each shown to catch what it forbids by corruption_test.go:
//
//  6. the token item (all a token request reads) says what the records and
//     the client say: an entry for every active secret, none for a deleted
//     or soft-deleted one, each with its record's expiration, and the
//     client's Enabled and RoleIds;
//  7. every client has exactly one list copy, equal to it, and no list copy
//     outlives its client;
//  8. every client has one tag entry per tag it carries, and no other;
//  9. every secret record is in a queue of the index ByExpiry, in its id's
//     shard, at the time the queue orders it by.
//
// checksMade counts the invariant checks made, for the summary line.
var checksMade atomic.Int64

// snapshot is every item of a world's table and every piece of material
// under its prefix, decoded far enough for the invariants.
type snapshot struct {
	tenants      map[string]tenantRow          // tenant id
	clients      map[string]clientRow          // client id: TENANT#/CCC#|HYB# items
	regs         map[string]regRow             // client id: CLIENT#/#CLIENT items
	tombstones   map[string]bool               // client id: CLIENT#/#CLIENT items of deleted clients (the id stays reserved)
	secrets      map[string]secretRow          // secret id
	orders       map[string]orderRow           // SK: TENANT#/ORDER#<kind>#<seq> list copies
	tags         map[string]tagRow             // SK: TENANT#/TAG#<kind>#<b64(tag)>#<seq> tag entries
	material     map[identity.MaterialRef]bool // live material
	materialAge  map[identity.MaterialRef]time.Time
	now          time.Time // the world's clock when read
	itemsScanned int
}

type tenantRow struct {
	id          string
	clientCount int64
	// counters holds every numeric attribute of the tenant item whose name
	// ends in Count (ClientCount, and per-kind counters where the layout
	// has them).
	counters map[string]int64
}

type clientRow struct {
	tenant, id string
	kind       identity.ClientKind
	enabled    bool
	seq        int64
	tags       []string
	staleTags  []string // tags whose entries an update left for later (store: UpdateClient)
	roles      []string
	attrs      map[string]types.AttributeValue
}

// regRow is a client's registration, which is its token item: what a token
// request reads, and all it reads.
type regRow struct {
	tenant, id string
	kind       identity.ClientKind
	enabled    bool
	roles      []string
	// entries are the token item's Secrets map: secret id to its E (the
	// expiration in unix ns; nil: the entry has none, the secret never
	// expires). A malformed entry is in bad.
	entries map[string]*int64
	// packs are the entries' P: the pack of the secret's verifier (0:
	// the entry has none, material of its own).
	packs map[string]int64
	bad   []string
	attrs map[string]types.AttributeValue
}

type secretRow struct {
	tenant, client, id string
	deleted, swept     bool
	pack               int // the verifier's pack (0: material of its own)
	expiration         *time.Time
	// expiryPK and expiresAt are the record's place in the index ByExpiry
	// (hasExpiresAt: the attribute is a number); deletedUnix is the soft
	// deletion's time in it (0: none).
	expiryPK     string
	expiresAt    int64
	hasExpiresAt bool
	deletedUnix  int64
}

// orderRow is a list copy of a client; tagRow a tag entry.
type orderRow struct {
	tenant, sk, client string
	attrs              map[string]types.AttributeValue
}

type tagRow struct {
	tenant, sk, client string
}

// active reports whether the record is one that authenticates at now.
func (s secretRow) active(now time.Time) bool {
	return !s.deleted && !s.swept && (s.expiration == nil || now.Before(*s.expiration))
}

// strs reads a list of strings (absent: none).
func strs(it map[string]types.AttributeValue, name string) []string {
	l, _ := it[name].(*types.AttributeValueMemberL)
	out := []string{}
	if l == nil {
		return out
	}
	for _, e := range l.Value {
		if v, ok := e.(*types.AttributeValueMemberS); ok {
			out = append(out, v.Value)
		} else {
			out = append(out, fmt.Sprintf("<not a string: %T>", e))
		}
	}
	return out
}

func boolean(it map[string]types.AttributeValue, name string) bool {
	v, ok := it[name].(*types.AttributeValueMemberBOOL)
	return ok && v.Value
}

func str(it map[string]types.AttributeValue, name string) string {
	if v, ok := it[name].(*types.AttributeValueMemberS); ok {
		return v.Value
	}
	return ""
}

func num(it map[string]types.AttributeValue, name string) (int64, bool) {
	v, ok := it[name].(*types.AttributeValueMemberN)
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseInt(v.Value, 10, 64)
	return n, err == nil
}

// kindOf reads an item's Kind (0 when it is not a kind's name).
func kindOf(it map[string]types.AttributeValue) identity.ClientKind {
	k, _ := identity.ParseClientKind(str(it, "Kind"))
	return k
}

// read takes a snapshot of the world.
func (w *world) read(t testing.TB) snapshot {
	t.Helper()
	ctx := context.Background()
	snap := snapshot{tenants: map[string]tenantRow{}, clients: map[string]clientRow{}, regs: map[string]regRow{}, tombstones: map[string]bool{}, secrets: map[string]secretRow{},
		orders: map[string]orderRow{}, tags: map[string]tagRow{},
		material: map[identity.MaterialRef]bool{}, materialAge: map[identity.MaterialRef]time.Time{}, now: w.clock.Now()}
	p := dynamodb.NewScanPaginator(env.Clients.DynamoDB, &dynamodb.ScanInput{TableName: aws.String(w.table), ConsistentRead: aws.Bool(true)})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatalf("scan %s: %v", w.table, err)
		}
		for _, it := range out.Items {
			snap.itemsScanned++
			pk, sk := str(it, "PK"), str(it, "SK")
			// Worlds may share a table (a new prefix each): a world's
			// invariants are about its own tenant.
			if owner := str(it, "TenantId"); owner != "" && owner != w.tenant {
				continue
			}
			// Tag entries carry no TenantId: their partition says whose.
			if strings.HasPrefix(pk, "TENANT#") && pk != "TENANT#"+w.tenant {
				continue
			}
			switch {
			case strings.HasPrefix(pk, "TENANT#") && sk == "#TENANT":
				row := tenantRow{id: strings.TrimPrefix(pk, "TENANT#"), counters: map[string]int64{}}
				for name := range it {
					if v, ok := num(it, name); ok && strings.HasSuffix(name, "Count") {
						row.counters[name] = v
					}
				}
				row.clientCount = row.counters["ClientCount"]
				snap.tenants[row.id] = row
			case strings.HasPrefix(pk, "TENANT#") && (strings.HasPrefix(sk, "CCC#") || strings.HasPrefix(sk, "HYB#")):
				seq, _ := num(it, "Seq")
				row := clientRow{tenant: strings.TrimPrefix(pk, "TENANT#"), id: sk[4:], kind: kindOf(it), enabled: boolean(it, "Enabled"),
					seq: seq, tags: strs(it, "Tags"), staleTags: strs(it, "StaleTags"), roles: strs(it, "RoleIds"), attrs: it}
				snap.clients[row.id] = row
			case strings.HasPrefix(pk, "TENANT#") && strings.HasPrefix(sk, "ORDER#"):
				snap.orders[sk] = orderRow{tenant: strings.TrimPrefix(pk, "TENANT#"), sk: sk, client: str(it, "ClientId"), attrs: it}
			case strings.HasPrefix(pk, "TENANT#") && strings.HasPrefix(sk, "TAG#"):
				snap.tags[sk] = tagRow{tenant: strings.TrimPrefix(pk, "TENANT#"), sk: sk, client: str(it, "ClientId")}
			case strings.HasPrefix(pk, "CLIENT#") && sk == "#CLIENT" && str(it, "Type") == "ClientTombstone":
				snap.tombstones[strings.TrimPrefix(pk, "CLIENT#")] = true
			case strings.HasPrefix(pk, "CLIENT#") && sk == "#CLIENT":
				row := regRow{tenant: str(it, "TenantId"), id: strings.TrimPrefix(pk, "CLIENT#"), kind: kindOf(it), enabled: boolean(it, "Enabled"),
					roles: strs(it, "RoleIds"), entries: map[string]*int64{}, packs: map[string]int64{}, attrs: it}
				m, ok := it["Secrets"].(*types.AttributeValueMemberM)
				if !ok {
					row.bad = append(row.bad, "no Secrets map")
				} else {
					for id, ev := range m.Value {
						em, ok := ev.(*types.AttributeValueMemberM)
						if !ok {
							row.bad = append(row.bad, "entry "+id+" is not a map")
							continue
						}
						row.entries[id] = nil
						row.packs[id], _ = num(em.Value, "P")
						if _, has := em.Value["E"]; has {
							e, ok := num(em.Value, "E")
							if !ok {
								row.bad = append(row.bad, "entry "+id+": E is not an integer")
								continue
							}
							row.entries[id] = &e
						}
					}
				}
				snap.regs[row.id] = row
			case strings.HasPrefix(pk, "CLIENT#") && strings.HasPrefix(sk, "SECRET#"):
				row := secretRow{tenant: str(it, "TenantId"), client: strings.TrimPrefix(pk, "CLIENT#"), id: strings.TrimPrefix(sk, "SECRET#")}
				_, row.deleted = it["DeletedAt"]
				_, row.swept = it["SweptAt"]
				pack, _ := num(it, "Pack")
				row.pack = int(pack)
				row.expiryPK = str(it, "ExpiryPK")
				row.expiresAt, row.hasExpiresAt = num(it, "ExpiresAt")
				row.deletedUnix, _ = num(it, "DeletedUnix")
				if e := str(it, "Expiration"); e != "" {
					tm, err := time.Parse(time.RFC3339Nano, e)
					if err != nil {
						t.Fatalf("secret %s: Expiration %q: %v", row.id, e, err)
					}
					row.expiration = &tm
				}
				snap.secrets[row.id] = row
			}
		}
	}
	// Material: secrets of their own, and the entries of packs (their
	// current value: what authenticates and what the sweeper sees).
	prefix := w.prefix + "/clients/"
	inv := vault.NewInventory(env.Clients.SecretsManager, w.prefix)
	mp := secretsmanager.NewListSecretsPaginator(env.Clients.SecretsManager, &secretsmanager.ListSecretsInput{
		Filters: []smtypes.Filter{{Key: smtypes.FilterNameStringTypeName, Values: []string{prefix, inv.VerifiersPrefix()}}},
	})
	for mp.HasMorePages() {
		out, err := mp.NextPage(ctx)
		if err != nil {
			t.Fatalf("list material: %v", err)
		}
		for _, s := range out.SecretList {
			name := aws.ToString(s.Name)
			if tenant, n, ok := inv.ParsePackName(name); ok {
				pack, err := inv.ReadPack(ctx, tenant, n)
				if err != nil {
					t.Fatalf("read pack %s: %v", name, err)
				}
				for id, e := range pack.Entries {
					ref := identity.MaterialRef{TenantID: tenant, ClientID: e.ClientID, SecretID: id, Pack: n}
					snap.material[ref] = true
					snap.materialAge[ref] = e.Added
				}
				continue
			}
			rest, ok := strings.CutPrefix(name, prefix)
			parts := strings.Split(rest, "/")
			if !ok || len(parts) != 3 {
				continue
			}
			ref := identity.MaterialRef{TenantID: parts[0], ClientID: parts[1], SecretID: parts[2]}
			snap.material[ref] = true
			snap.materialAge[ref] = aws.ToTime(s.CreatedDate)
		}
	}
	return snap
}

// materialOf counts a client's live material.
func (snap snapshot) materialOf(clientID string) int {
	n := 0
	for ref := range snap.material {
		if ref.ClientID == clientID {
			n++
		}
	}
	return n
}

func refOf(s secretRow) identity.MaterialRef {
	return identity.MaterialRef{TenantID: s.tenant, ClientID: s.client, SecretID: s.id, Pack: s.pack}
}

// violations collects what a check found.
type violations []string

func (v *violations) addf(format string, args ...any) { *v = append(*v, fmt.Sprintf(format, args...)) }

// storeInvariants checks invariants 1, 4, 6 to 9 and, when swept, 2.
func storeInvariants(snap snapshot, swept bool) violations {
	var v violations
	// 1. no active secret record without its material.
	checksMade.Add(1)
	for _, s := range snap.secrets {
		if s.active(snap.now) && !snap.material[refOf(s)] {
			v.addf("active secret %s (client %s) has no material", s.id, s.client)
		}
	}
	// 2. after a sweep, no material without a live record.
	if swept {
		checksMade.Add(1)
		for ref := range snap.material {
			s, ok := snap.secrets[ref.SecretID]
			switch {
			case !ok:
				v.addf("material %s/%s/%s has no record after a sweep", ref.TenantID, ref.ClientID, ref.SecretID)
			case s.deleted || s.swept:
				v.addf("material of secret %s outlived its record's deletion (deleted=%v swept=%v) after a sweep", s.id, s.deleted, s.swept)
			case s.client != ref.ClientID || s.tenant != ref.TenantID:
				v.addf("material %v belongs to another record's ids", ref)
			case s.pack != ref.Pack:
				v.addf("material of secret %s in pack %d, its record's pack is %d, after a sweep", s.id, ref.Pack, s.pack)
			}
		}
	}
	v = append(v, counterInvariants(snap)...)
	v = append(v, tokenItemInvariants(snap)...)
	v = append(v, listCopyInvariants(snap)...)
	v = append(v, tagInvariants(snap)...)
	v = append(v, expiryInvariants(snap)...)
	return v
}

// counterInvariants checks invariant 4 on store-level reads: the counters
// the service keeps against the items they count. Counters of the tenant
// item are read by name (every numeric attribute ending in Count); add a
// line here for each counter the layout gains.
func counterInvariants(snap snapshot) violations {
	var v violations
	checksMade.Add(1)
	perTenant := map[string]map[identity.ClientKind]int64{}
	for _, c := range snap.clients {
		if perTenant[c.tenant] == nil {
			perTenant[c.tenant] = map[identity.ClientKind]int64{}
		}
		perTenant[c.tenant][c.kind]++
		// Every client has its registration, naming the same tenant and kind.
		r, ok := snap.regs[c.id]
		if !ok {
			v.addf("client %s has no registration", c.id)
		} else if r.tenant != c.tenant || r.kind != c.kind {
			v.addf("client %s: registration says tenant %s kind %s, item says %s %s", c.id, r.tenant, r.kind, c.tenant, c.kind)
		}
	}
	for _, r := range snap.regs {
		if _, ok := snap.clients[r.id]; !ok {
			v.addf("registration of client %s has no client item", r.id)
		}
	}
	for id := range snap.tombstones {
		if _, ok := snap.clients[id]; ok {
			v.addf("client %s has a client item and a tombstone", id)
		}
	}
	records := map[string]int64{}
	for _, s := range snap.secrets {
		if snap.tombstones[s.client] {
			v.addf("secret record %s outlived its client %s, whose tombstone is written", s.id, s.client)
		}
		records[s.client]++
		if _, ok := snap.regs[s.client]; !ok {
			v.addf("secret record %s of client %s outlived its client", s.id, s.client)
		}
	}
	for _, r := range snap.regs {
		// RecordCount (the secret record cap) counts every SECRET# item.
		if got, ok := num(r.attrs, "RecordCount"); !ok || got != records[r.id] {
			v.addf("client %s: RecordCount %d (present %v), secret records %d", r.id, got, ok, records[r.id])
		}
	}
	for _, ten := range snap.tenants {
		kinds := perTenant[ten.id]
		total := kinds[identity.ClientCredential] + kinds[identity.Hybrid]
		if ten.clientCount != total {
			v.addf("tenant %s: ClientCount %d, clients %d", ten.id, ten.clientCount, total)
		}
		for name, want := range map[string]int64{
			"ClientCredentialCount": kinds[identity.ClientCredential],
			"HybridCount":           kinds[identity.Hybrid],
		} {
			// A counter not yet written is 0 (store: kindCountAttr).
			if got := ten.counters[name]; got != want {
				v.addf("tenant %s: %s %d, clients of the kind %d", ten.id, name, got, want)
			}
		}
	}
	return v
}

// knownSecret is a secret whose plain text the test holds.
type knownSecret struct {
	tenant, client, id string
	kind               identity.ClientKind
	plain              string
}

// authInvariants checks invariant 3 for the secrets the test holds: each
// authenticates at the token endpoint exactly when its record is active
// (and its client enabled). A Hybrid client's secret that authenticates is
// answered unauthorized_client (400), one that does not invalid_client (401).
func (w *world) authInvariants(snap snapshot, known []knownSecret) violations {
	var v violations
	for _, k := range known {
		checksMade.Add(1)
		rec, hasRec := snap.secrets[k.id]
		client, hasClient := snap.clients[k.client]
		shouldWork := hasRec && rec.active(snap.now) && hasClient && client.enabled && snap.material[refOf(rec)]
		res := w.tokenRequest(w.cleanH, context.Background(), k.client, k.plain)
		works := res.Status == http.StatusOK || (res.Status == http.StatusBadRequest && strings.Contains(string(res.Body), "unauthorized_client"))
		switch {
		case works && !shouldWork:
			v.addf("secret %s authenticates though its record is %s", k.id, describe(rec, hasRec, hasClient, snap.now))
		case !works && shouldWork:
			v.addf("secret %s (active) does not authenticate: %s", k.id, res)
		case !works && res.Status != http.StatusUnauthorized:
			v.addf("secret %s: token endpoint answered %s, want 401 invalid_client", k.id, res)
		}
	}
	return v
}

func describe(s secretRow, hasRec, hasClient bool, now time.Time) string {
	switch {
	case !hasRec:
		return "gone"
	case !hasClient:
		return "without client"
	case s.deleted:
		return "soft-deleted"
	case s.swept:
		return "swept"
	case s.expiration != nil && !now.Before(*s.expiration):
		return "expired"
	}
	return "active"
}

// leakMarkers are texts no error body may contain: AWS error text, stack
// traces and internal Go type names.
var leakMarkers = []string{
	"ResourceNotFoundException", "ConditionalCheckFailed", "TransactionCanceled", "InternalServerError", "InternalServiceError",
	"operation error", "api error", "https response error", "RequestID", "https://dynamodb", "https://secretsmanager", "127.0.0.1", "FAULT0INJECTED",
	"goroutine ", ".go:", "panic", "*types.", "types.", "identity.", "store.", "vault.", "smithy", "context deadline exceeded", "context canceled",
}

// bodyLeaks returns the leak markers found in an error body. The Key
// Rotation ProblemDetails type URI (https://tools.ietf.org/...) is RFC 7807's
// and allowed.
func bodyLeaks(body []byte) []string {
	var found []string
	for _, m := range leakMarkers {
		if strings.Contains(string(body), m) {
			found = append(found, m)
		}
	}
	return found
}

// family is a route family's error format.
type family int

const (
	ocsFamily family = iota
	keyRotationFamily
	oauthFamily
)

// errorBody checks that an error answer is in the family's format and
// leaks nothing.
func errorBody(f family, res response) violations {
	var v violations
	checksMade.Add(1)
	if leaks := bodyLeaks(res.Body); len(leaks) > 0 {
		v.addf("error body leaks %q: %s", leaks, res.Body)
	}
	var m map[string]any
	if err := json.Unmarshal(res.Body, &m); err != nil {
		v.addf("error body is not JSON: %s", res)
		return v
	}
	want := map[family][]string{
		ocsFamily:         {"Error", "OperationId", "Reason", "Resolution"},
		keyRotationFamily: {"detail", "instance", "status", "title", "type"},
		oauthFamily:       {"error", "error_description"},
	}[f]
	var keys []string
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	if !slices.Equal(keys, want) {
		v.addf("error body has properties %v, want %v: %s", keys, want, res.Body)
	}
	// A stalled, timed-out or throttling store is 503 temporarily_unavailable
	// (docs/api.md, "Deadlines and retries"); any other 5xx is server_error.
	if want := map[bool]string{true: "temporarily_unavailable", false: "server_error"}[res.Status == 503]; f == oauthFamily && res.Status >= 500 && m["error"] != want {
		v.addf("token endpoint %d with error %v, want %s", res.Status, m["error"], want)
	}
	if f == keyRotationFamily && !strings.HasPrefix(res.Header.Get("Content-Type"), "application/problem+json") {
		v.addf("Key Rotation error with Content-Type %q", res.Header.Get("Content-Type"))
	}
	return v
}
