// Package layout is the one DynamoDB table's layout: its keys, and the
// encoding and decoding of every item that the store's aggregates
// (shared/store) and the operator's tooling (infra/tableops) read and
// write.
//
// Layout (PK / SK):
//
//	TENANT#<tenant>  #TENANT         tenant: name, ClientCount (both kinds: the limit), ClientCredentialCount,
//	                                 HybridCount (a list's Total-Count), LastSeq (the creation order), ClientLimit,
//	                                 VerifierSlots (slots handed out: a new secret's pack, identity.PackOf)
//	TENANT#<tenant>  CCC#<client>    Client Credential client metadata, Seq (its place in the creation order),
//	                                 ChangedBy/ChangedAt (the latest management write: ChangeAttrs)
//	TENANT#<tenant>  HYB#<client>    Hybrid client metadata, Seq
//	TENANT#<tenant>  ORDER#CCC#<seq> list copy of a Client Credential client (the same attributes), by creation order
//	TENANT#<tenant>  ORDER#HYB#<seq> list copy of a Hybrid client
//	TENANT#<tenant>  TAG#CCC#<b64(tag)>#<seq>  tag entry: ClientId of a client that carries the tag (or
//	                                 had it: a tag of the client item's StaleTags, see UpdateClient)
//	CLIENT#<client>  #CLIENT         registration and token item: owning tenant, kind, Enabled, RoleIds,
//	                                 AccessTokenLifetime (seconds; absent: 3600),
//	                                 Secrets {<secret>: {E: expiration (unix ns; absent: never), U: last used hour,
//	                                 P: pack (absent: material of its own)}},
//	                                 SecretsVersion, RecordCount (the client's SECRET# items, retained ones
//	                                 included: below the cap each add is handed), Seal (an HMAC over
//	                                 tenant, kind, Enabled, RoleIds, lifetime: identity/seal.go);
//	                                 reserves the id across tenants
//	CLIENT#<client>  SECRET#<secret> secret record (never the secret), Pack (its verifier's pack; absent:
//	                                 material of its own); ExpiryPK/ExpiresAt: see below;
//	                                 ChangedBy/ChangedAt as on the client item
//	SWEEPER          #CURSORS        where the sweeper's reconciliation walks stopped
//	SWEEPER          #LASTRUN        the summary of the sweeper's last run, for the operations dashboard
//
// A page of a tenant's clients of one kind is one Query of the list copies
// from the start of the creation order to the end of the page (skip+count
// items) and the kind's counter; a tags list reads the tag entries of the
// asked tags and the page's clients by id. Creates, updates and deletes
// write the client item, its list copy, its tag entries and the counters
// in one transaction. A client's registration and all its secrets are one
// Query (what the secret lists read).
//
// The token item is what a token request reads, and all it reads: one
// GetItem of about 1 KB (at most 10 entries: the secrets that are not
// deleted, expired ones until the next add forgets them), whatever the
// number of retained secret records. Every write that changes what it
// holds changes it in the same transaction: client create and delete,
// update of Enabled or RoleIds, secret add, delete, soft delete and change
// of expiration, and the sweeper's purge of a record.
//
// RecordCount counts the client's secret records, retained (expired,
// soft-deleted, swept) ones included, and bounds them: every write that
// adds a record (client create, secret add) increments it in the same
// transaction, on the condition that it is below the limit, and every write
// that removes one (secret delete, the sweeper's purge, the spill-over of a
// client delete) decrements it in the same transaction; soft delete and
// expiry leave it alone. An item without it (written before it existed)
// has an unknown count: the next add counts the records (one Query) and
// writes it, removals leave it absent, and migrate backfills it.
//
// Every secret record is in the index ByExpiry (ExpiryPK, ExpiresAt), in one
// queue at a time (docs/sweeper.md), and each queue is spread over
// ExpiryShards partition key values <queue>#00 .. <queue>#15 by a hash of
// the secret id (expiryShard), so no one value takes every secret write:
//
//	EXPIRY#nn     ExpiresAt: the expiration, or the soft deletion; written by the API
//	              on create, add, update of the expiration and soft delete
//	NOEXPIRY#nn   ExpiresAt: neverExpires; a secret without expiration
//	PENDING#k#nn  ExpiresAt: the expiration; the sweeper sent every warning due so far, k are to come
//	SWEPT#nn      ExpiresAt: the expiration or the soft deletion; material destroyed, the
//	              record is removed after the retention period
//
// Only secret records have ExpiryPK, so the index holds nothing else.
package layout

import (
	"encoding/base64"
	"fmt"
	"hash/fnv"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"identityservice/shared/identity"
)

// Attribute names shared with template.yaml's key schema and index.
const (
	AttrPK        = "PK"
	AttrSK        = "SK"
	AttrExpiryPK  = "ExpiryPK"
	AttrExpiresAt = "ExpiresAt"
	// attrSecrets is the token item's map of secrets (registrationItem).
	AttrSecrets = "Secrets"
	// AttrVerifierSlots is the tenant item's count of verifier slots
	// handed out (identity.PackOf: a secret's pack).
	AttrVerifierSlots = "VerifierSlots"
	// AttrPack is a secret record's pack (absent: material of its own).
	AttrPack = "Pack"
	// attrRecordCount is the token item's count of the client's secret
	// records (see the package comment).
	AttrRecordCount = "RecordCount"
	// AttrAccessTokenLifetime is a client's token lifetime in seconds, on
	// its client item, list copy and token item (absent: the default).
	AttrAccessTokenLifetime = "AccessTokenLifetime"
	// AttrSeal is the token item's seal over what a token says of the
	// client (identity.Service.TokenSeal).
	AttrSeal = "Seal"

	// ExpiryIndex is the index of secret records, keyed by ExpiryPK (a
	// queue and a shard: expiryPK) and ExpiresAt (unix seconds).
	ExpiryIndex     = "ByExpiry"
	ExpiryPartition = "EXPIRY"
	// noExpiryPartition holds secrets that never expire, so that the
	// sweeper's reconciliation finds every active secret through the index.
	NoExpiryPartition = "NOEXPIRY"
	// neverExpires is the ExpiresAt of a secret without expiration
	// (9999-12-31T23:59:59Z): later than any instant, so conditions of the
	// form ExpiresAt > now hold for it.
	NeverExpires = 253402300799

	SkTenant       = "#TENANT"
	SkRegistration = "#CLIENT"
	PrefixSecret   = "SECRET#"
	PrefixOrder    = "ORDER#"
	PrefixTag      = "TAG#"
)

// ExpiryShards is how many index partition key values each queue is
// spread over, by a hash of the secret id, so that no one value takes every
// secret write (an index partition takes about 1,000 a second). Every
// process that reads or writes a table must use the same value; it is a
// variable only so that a test binary whose tables are its own can narrow
// it before it writes a record (infra/faultmatrix runs on 2: a sweep of 16
// shards queries 256 mostly empty partitions, and the matrix sweeps about
// 600 times; the shard paths are one code path whatever their number).
var ExpiryShards = DefaultExpiryShards

// DefaultExpiryShards is the number of shards of every deployed table.
const DefaultExpiryShards = 16

// Queues of the index ByExpiry besides the inbox (ExpiryPartition) and
// NoExpiryPartition, before their shard (docs/sweeper.md).
const (
	PendingPartitionPrefix = "PENDING#" // + the warnings to come
	SweptPartition         = "SWEPT"
)

// Sharded reports whether an ExpiryPK names one shard of a queue
// (<queue>#nn), as every record written since the index was sharded does.
func Sharded(pk string) bool {
	i := strings.LastIndex(pk, "#")
	if i < 0 || len(pk)-i != 3 {
		return false
	}
	if shard, err := strconv.Atoi(pk[i+1:]); err != nil || shard < 0 || shard >= ExpiryShards {
		return false
	}
	switch q := pk[:i]; {
	case q == ExpiryPartition, q == SweptPartition, q == NoExpiryPartition:
		return true
	case strings.HasPrefix(q, PendingPartitionPrefix):
		k, err := strconv.Atoi(strings.TrimPrefix(q, PendingPartitionPrefix))
		return err == nil && k >= 0
	}
	return false
}

// ExpiryShard is the shard of a secret's index entries: FNV-1a of its id.
func ExpiryShard(secretID string) int {
	h := fnv.New32a()
	h.Write([]byte(secretID))
	return int(h.Sum32() % uint32(ExpiryShards))
}

// ShardKey is a queue's partition key value in one shard.
func ShardKey(queue string, shard int) string { return fmt.Sprintf("%s#%02d", queue, shard) }

// ExpiryPK is the ExpiryPK of a secret's record in a queue.
func ExpiryPK(queue, secretID string) string { return ShardKey(queue, ExpiryShard(secretID)) }

// TenantPK, ClientPK and SecretSK are the keys of a tenant's partition,
// a client's partition and a secret record.
func TenantPK(tenantID string) string { return "TENANT#" + tenantID }
func ClientPK(clientID string) string { return "CLIENT#" + clientID }
func SecretSK(secretID string) string { return PrefixSecret + secretID }

// KindPrefix is a client kind's part of the sort keys of its items.
func KindPrefix(kind identity.ClientKind) string {
	if kind == identity.Hybrid {
		return "HYB#"
	}
	return "CCC#"
}

// ClientSK is the sort key of a client item in its tenant.
func ClientSK(kind identity.ClientKind, clientID string) string { return KindPrefix(kind) + clientID }

// SeqKey is a creation sequence number as a sort key: zero-padded, so
// that string order is number order.
func SeqKey(seq int64) string { return fmt.Sprintf("%019d", seq) }

// OrderPrefix and OrderSK place a client's list copy in its tenant's
// creation order.
func OrderPrefix(kind identity.ClientKind) string { return PrefixOrder + KindPrefix(kind) }
func OrderSK(kind identity.ClientKind, seq int64) string {
	return OrderPrefix(kind) + SeqKey(seq)
}

// TagPrefix and TagSK key a tag entry: the tag base64url-encoded (so no
// tag is a prefix of another's key), then the client's sequence number.
func TagPrefix(kind identity.ClientKind, tag string) string {
	return PrefixTag + KindPrefix(kind) + base64.RawURLEncoding.EncodeToString([]byte(tag)) + "#"
}
func TagSK(kind identity.ClientKind, tag string, seq int64) string {
	return TagPrefix(kind, tag) + SeqKey(seq)
}

// KindCountAttr is the tenant item's counter of clients of a kind.
func KindCountAttr(kind identity.ClientKind) string { return kind.String() + "Count" }

// Item is a stored item.
type Item = map[string]types.AttributeValue

// S, N, B, List and Ts encode a string, an integer, a boolean, a list
// of strings and an instant (RFC 3339, UTC) as attribute values.
func S(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
func N(v int64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(v, 10)}
}
func B(v bool) types.AttributeValue { return &types.AttributeValueMemberBOOL{Value: v} }
func List(vs []string) types.AttributeValue {
	l := make([]types.AttributeValue, len(vs))
	for i, v := range vs {
		l[i] = S(v)
	}
	return &types.AttributeValueMemberL{Value: l}
}
func Ts(t time.Time) types.AttributeValue { return S(t.UTC().Format(time.RFC3339Nano)) }

// Attributes of the latest management write of a client item (and its
// list copy), a secret record and a tenant item: ChangedBy is a map of the
// actor's non-empty fields (ClientId, Subject, Name, Operator), ChangedAt
// the instant (RFC 3339). Items written before they existed have neither.
const (
	AttrChangedBy = "ChangedBy"
	AttrChangedAt = "ChangedAt"
)

// ChangeAttrs are the attributes of a change.
func ChangeAttrs(ch identity.Change) (by, at types.AttributeValue) {
	m := Item{}
	for _, f := range []struct{ k, v string }{{"ClientId", ch.By.ClientID}, {"Subject", ch.By.Subject}, {"Name", ch.By.Name}, {"Operator", ch.By.Operator}} {
		if f.v != "" {
			m[f.k] = S(f.v)
		}
	}
	return &types.AttributeValueMemberM{Value: m}, Ts(ch.At)
}

// putChange adds a change's attributes to an item (none when ch is nil).
func putChange(it Item, ch *identity.Change) {
	if ch != nil {
		it[AttrChangedBy], it[AttrChangedAt] = ChangeAttrs(*ch)
	}
}

// Change reads the attributes of a change: nil when the item has none.
func (r *Reader) Change() *identity.Change {
	v, ok := r.It[AttrChangedBy]
	if !ok {
		return nil
	}
	m, ok := v.(*types.AttributeValueMemberM)
	if !ok {
		r.Fail(AttrChangedBy, "a map")
		return nil
	}
	br := Reader{It: m.Value}
	ch := &identity.Change{By: identity.Actor{ClientID: br.Str("ClientId", false), Subject: br.Str("Subject", false), Name: br.Str("Name", false), Operator: br.Str("Operator", false)},
		At: r.Time(AttrChangedAt, true)}
	if br.Err != nil {
		r.Fail(AttrChangedBy, br.Err.Error())
	}
	return ch
}

// Key is an item's primary key.
func Key(pk, sk string) Item { return Item{AttrPK: S(pk), AttrSK: S(sk)} }

// TenantItem is a new tenant's item, its counters at zero.
func TenantItem(t identity.Tenant) Item {
	it := Key(TenantPK(t.ID), SkTenant)
	it["Type"] = S("Tenant")
	it["TenantId"] = S(t.ID)
	it["Name"] = S(t.Name)
	it["ClientCount"] = N(0)
	for _, k := range identity.ClientKinds {
		it[KindCountAttr(k)] = N(0)
	}
	it["LastSeq"] = N(0)
	it["CreatedAt"] = Ts(t.CreatedAt)
	if t.ClientLimit > 0 {
		it["ClientLimit"] = N(int64(t.ClientLimit))
	}
	putChange(it, t.LastChange)
	return it
}

// ClientItem is a client's item, with the properties of its kind.
func ClientItem(c identity.Client) Item {
	it := Key(TenantPK(c.TenantID), ClientSK(c.Kind, c.ID))
	it["Type"] = S("Client")
	it["TenantId"] = S(c.TenantID)
	it["ClientId"] = S(c.ID)
	it["Kind"] = S(c.Kind.String())
	it["Name"] = S(c.Name)
	it["Enabled"] = B(c.Enabled)
	it["Tags"] = List(c.Tags)
	it["Version"] = N(c.Version)
	it["CreatedAt"] = Ts(c.CreatedAt)
	it["UpdatedAt"] = Ts(c.UpdatedAt)
	it["Seq"] = N(c.Seq)
	if c.AccessTokenLifetime > 0 {
		it[AttrAccessTokenLifetime] = N(int64(c.AccessTokenLifetime))
	}
	if len(c.StaleTags) > 0 {
		it["StaleTags"] = List(c.StaleTags)
	}
	putChange(it, c.LastChange)
	switch c.Kind {
	case identity.ClientCredential:
		it["RoleIds"] = List(c.RoleIDs)
	case identity.Hybrid:
		it["AllowOfflineAccess"] = B(c.AllowOfflineAccess)
		it["AllowAccessTokensViaBrowser"] = B(c.AllowAccessTokensViaBrowser)
		it["RedirectUris"] = List(c.RedirectURIs)
		it["PostLogoutRedirectUris"] = List(c.PostLogoutRedirectURIs)
		it["ClientUri"] = S(c.ClientURI)
		it["LogoUri"] = S(c.LogoURI)
	}
	return it
}

// RegistrationItem is a new client's registration, which is also its token
// item: what a token request needs (tenant, kind, enabled, roles, and the
// expiration of each secret that is not deleted), in one small item.
// OrderItem is a client's list copy: the client item under its place in
// the tenant's creation order, so that a page of a list is one Query.
func OrderItem(c identity.Client) Item {
	it := ClientItem(c)
	it[AttrSK] = S(OrderSK(c.Kind, c.Seq))
	return it
}

// TagItem is a tag entry: the client that carries the tag, by its place
// in the creation order. It is small (keys and the client id).
func TagItem(c identity.Client, tag string) Item {
	it := Key(TenantPK(c.TenantID), TagSK(c.Kind, tag, c.Seq))
	it["Type"] = S("ClientTag")
	it["ClientId"] = S(c.ID)
	return it
}

func RegistrationItem(c identity.Client, first identity.Secret) Item {
	it := Key(ClientPK(c.ID), SkRegistration)
	it["Type"] = S("ClientRegistration")
	it["TenantId"] = S(c.TenantID)
	it["ClientId"] = S(c.ID)
	it["Kind"] = S(c.Kind.String())
	it["SecretsVersion"] = N(1)
	it[AttrRecordCount] = N(1)
	if c.AccessTokenLifetime > 0 {
		it[AttrAccessTokenLifetime] = N(int64(c.AccessTokenLifetime))
	}
	it["Enabled"] = B(c.Enabled)
	it["RoleIds"] = List(c.RoleIDs)
	if len(c.TokenSeal) > 0 {
		it[AttrSeal] = &types.AttributeValueMemberB{Value: c.TokenSeal}
	}
	it[AttrSecrets] = &types.AttributeValueMemberM{Value: Item{first.ID: SecretEntry(first)}}
	return it
}

// SecretEntry is a secret in the token item: {E: expiration in unix
// nanoseconds}, no E when it never expires; U (the hour it was last used,
// unix seconds) is added by the token endpoint.
func SecretEntry(sec identity.Secret) types.AttributeValue {
	e := Item{}
	if sec.Expiration != nil {
		e["E"] = N(sec.Expiration.UnixNano())
	}
	if sec.Pack > 0 {
		e["P"] = N(int64(sec.Pack))
	}
	return &types.AttributeValueMemberM{Value: e}
}

// SecretItem is a secret record, in its queue of the index ByExpiry.
func SecretItem(sec identity.Secret) Item {
	it := Key(ClientPK(sec.ClientID), SecretSK(sec.ID))
	it["Type"] = S("Secret")
	it["TenantId"] = S(sec.TenantID)
	it["ClientId"] = S(sec.ClientID)
	it["SecretId"] = S(sec.ID)
	it["Kind"] = S(sec.Kind.String())
	it["Description"] = S(sec.Description)
	it["CreatedAt"] = Ts(sec.CreatedAt)
	if sec.Expiration != nil {
		it["Expiration"] = Ts(*sec.Expiration)
		it[AttrExpiryPK] = S(ExpiryPK(ExpiryPartition, sec.ID))
		it[AttrExpiresAt] = N(sec.Expiration.Unix())
	} else {
		it[AttrExpiryPK] = S(ExpiryPK(NoExpiryPartition, sec.ID))
		it[AttrExpiresAt] = N(NeverExpires)
	}
	if sec.DeletedAt != nil {
		it["DeletedAt"] = Ts(*sec.DeletedAt)
	}
	if sec.Pack > 0 {
		it[AttrPack] = N(int64(sec.Pack))
	}
	putChange(it, sec.LastChange)
	return it
}

// Reader decodes attributes and remembers the first problem, so a corrupt
// item is reported once with what was wrong.
type Reader struct {
	It  Item
	Err error
}

// Fail records that attribute name is not what was wanted.
func (r *Reader) Fail(name, want string) {
	if r.Err == nil {
		r.Err = fmt.Errorf("attribute %s: want %s", name, want)
	}
}

// Str, Num, Kind, Boolean, Strings, Time and OptTime read an attribute
// of their type; a missing required one, or one of another type, is the
// reader's Err.
func (r *Reader) Str(name string, required bool) string {
	v, ok := r.It[name]
	if !ok {
		if required {
			r.Fail(name, "a string")
		}
		return ""
	}
	sv, ok := v.(*types.AttributeValueMemberS)
	if !ok {
		r.Fail(name, "a string")
		return ""
	}
	return sv.Value
}

func (r *Reader) Num(name string, required bool) int64 {
	v, ok := r.It[name]
	if !ok {
		if required {
			r.Fail(name, "a number")
		}
		return 0
	}
	nv, ok := v.(*types.AttributeValueMemberN)
	if !ok {
		r.Fail(name, "a number")
		return 0
	}
	i, err := strconv.ParseInt(nv.Value, 10, 64)
	if err != nil {
		r.Fail(name, "an integer")
	}
	return i
}

func (r *Reader) Kind(name string) identity.ClientKind {
	raw := r.Str(name, true)
	k, ok := identity.ParseClientKind(raw)
	if !ok && r.Err == nil {
		r.Fail(name, "ClientCredential or Hybrid")
	}
	return k
}

func (r *Reader) Boolean(name string) bool {
	v, ok := r.It[name]
	if !ok {
		return false
	}
	bv, ok := v.(*types.AttributeValueMemberBOOL)
	if !ok {
		r.Fail(name, "a boolean")
		return false
	}
	return bv.Value
}

func (r *Reader) Strings(name string) []string {
	v, ok := r.It[name]
	if !ok {
		return []string{}
	}
	lv, ok := v.(*types.AttributeValueMemberL)
	if !ok {
		r.Fail(name, "a list of strings")
		return nil
	}
	out := make([]string, 0, len(lv.Value))
	for _, e := range lv.Value {
		sv, ok := e.(*types.AttributeValueMemberS)
		if !ok {
			r.Fail(name, "a list of strings")
			return nil
		}
		out = append(out, sv.Value)
	}
	return out
}

func (r *Reader) Time(name string, required bool) time.Time {
	raw := r.Str(name, required)
	if raw == "" {
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339Nano, raw)
	if err != nil {
		r.Fail(name, "an RFC 3339 time")
	}
	return t
}

func (r *Reader) OptTime(name string) *time.Time {
	if _, ok := r.It[name]; !ok {
		return nil
	}
	t := r.Time(name, true)
	return &t
}

// DecodeTenant, DecodeClient, DecodeSecret and DecodeRegistration read
// the items of their kind.
func DecodeTenant(it Item) (identity.Tenant, error) {
	r := Reader{It: it}
	t := identity.Tenant{
		ID:          r.Str("TenantId", true),
		Name:        r.Str("Name", false),
		ClientCount: int(r.Num("ClientCount", false)),
		ClientLimit: int(r.Num("ClientLimit", false)),
		CreatedAt:   r.Time("CreatedAt", false),
		KindCounts:  map[identity.ClientKind]int{},
		LastChange:  r.Change(),
	}
	for _, k := range identity.ClientKinds {
		t.KindCounts[k] = int(r.Num(KindCountAttr(k), false))
	}
	return t, r.Err
}

func DecodeClient(it Item) (identity.Client, error) {
	r := Reader{It: it}
	c := identity.Client{
		TenantID:  r.Str("TenantId", true),
		ID:        r.Str("ClientId", true),
		Kind:      r.Kind("Kind"),
		Name:      r.Str("Name", true),
		Enabled:   r.Boolean("Enabled"),
		Tags:      r.Strings("Tags"),
		Version:   r.Num("Version", true),
		CreatedAt: r.Time("CreatedAt", true),
		UpdatedAt: r.Time("UpdatedAt", false),
		Seq:       r.Num("Seq", false),

		AccessTokenLifetime: int(r.Num(AttrAccessTokenLifetime, false)),
		LastChange:          r.Change(),
	}
	if _, ok := it["StaleTags"]; ok {
		c.StaleTags = r.Strings("StaleTags")
	}
	switch c.Kind {
	case identity.ClientCredential:
		c.RoleIDs = r.Strings("RoleIds")
	case identity.Hybrid:
		c.AllowOfflineAccess = r.Boolean("AllowOfflineAccess")
		c.AllowAccessTokensViaBrowser = r.Boolean("AllowAccessTokensViaBrowser")
		c.RedirectURIs = r.Strings("RedirectUris")
		c.PostLogoutRedirectURIs = r.Strings("PostLogoutRedirectUris")
		c.ClientURI = r.Str("ClientUri", false)
		c.LogoURI = r.Str("LogoUri", false)
	default:
		r.Fail("Kind", "ClientCredential or Hybrid")
	}
	return c, r.Err
}

func DecodeSecret(it Item) (identity.Secret, error) {
	r := Reader{It: it}
	sec := identity.Secret{
		TenantID:    r.Str("TenantId", true),
		ClientID:    r.Str("ClientId", true),
		ID:          r.Str("SecretId", true),
		Kind:        r.Kind("Kind"),
		Description: r.Str("Description", false),
		Expiration:  r.OptTime("Expiration"),
		CreatedAt:   r.Time("CreatedAt", true),
		DeletedAt:   r.OptTime("DeletedAt"),
		LastUsed:    r.OptTime("LastUsed"),
		Swept:       it["SweptAt"] != nil,
		LastChange:  r.Change(),
		Pack:        int(r.Num(AttrPack, false)),
	}
	return sec, r.Err
}

// Registration is the client-id reservation and token item.
type Registration struct {
	TenantID       string
	ClientID       string
	Kind           identity.ClientKind
	SecretsVersion int64
	Enabled        bool
	RoleIDs        []string
	// AccessTokenLifetime in seconds; 0 when the item predates it.
	AccessTokenLifetime int
	// Secrets are the entries of the token item: secrets not deleted, with
	// their expiration (expired ones until the next add forgets them).
	Secrets []identity.Secret
	// TokenItem: the item has the Secrets map (written since the token
	// item exists, or by migrate).
	TokenItem bool
	// RecordCount is the client's count of secret records; -1 when the
	// item has none (written before it existed).
	RecordCount int64
	// Seal is the item's seal (AttrSeal); nil when it has none.
	Seal []byte
}

func DecodeRegistration(it Item) (Registration, error) {
	r := Reader{It: it}
	reg := Registration{
		TenantID:       r.Str("TenantId", true),
		ClientID:       r.Str("ClientId", true),
		Kind:           r.Kind("Kind"),
		SecretsVersion: r.Num("SecretsVersion", true),
		Enabled:        r.Boolean("Enabled"),
		RoleIDs:        r.Strings("RoleIds"),
		RecordCount:    -1,

		AccessTokenLifetime: int(r.Num(AttrAccessTokenLifetime, false)),
	}
	if _, ok := it[AttrRecordCount]; ok {
		reg.RecordCount = r.Num(AttrRecordCount, true)
	}
	if v, ok := it[AttrSeal]; ok {
		b, ok := v.(*types.AttributeValueMemberB)
		if !ok {
			r.Fail(AttrSeal, "binary")
		} else {
			reg.Seal = b.Value
		}
	}
	if v, ok := it[AttrSecrets]; ok {
		m, ok := v.(*types.AttributeValueMemberM)
		if !ok {
			r.Fail(AttrSecrets, "a map")
			return reg, r.Err
		}
		reg.TokenItem = true
		for id, ev := range m.Value {
			em, ok := ev.(*types.AttributeValueMemberM)
			if !ok {
				r.Fail(AttrSecrets+"."+id, "a map")
				break
			}
			er := Reader{It: em.Value}
			sec := identity.Secret{TenantID: reg.TenantID, ClientID: reg.ClientID, ID: id, Kind: reg.Kind}
			if _, ok := em.Value["E"]; ok {
				e := time.Unix(0, er.Num("E", true)).UTC()
				sec.Expiration = &e
			}
			sec.Pack = int(er.Num("P", false))
			if _, ok := em.Value["U"]; ok {
				u := time.Unix(er.Num("U", true), 0).UTC()
				sec.LastUsed = &u
			}
			if er.Err != nil {
				r.Fail(AttrSecrets+"."+id, er.Err.Error())
			}
			reg.Secrets = append(reg.Secrets, sec)
		}
		sort.Slice(reg.Secrets, func(i, j int) bool { return reg.Secrets[i].ID < reg.Secrets[j].ID })
	}
	return reg, r.Err
}
