// Package store keeps tenants, clients and secret records in one DynamoDB
// table.
//
// Layout (PK / SK):
//
//	TENANT#<tenant>  #TENANT         tenant: name, ClientCount (both kinds: the limit), ClientCredentialCount,
//	                                 HybridCount (a list's Total-Count), LastSeq (the creation order), ClientLimit
//	TENANT#<tenant>  CCC#<client>    Client Credential client metadata, Seq (its place in the creation order)
//	TENANT#<tenant>  HYB#<client>    Hybrid client metadata, Seq
//	TENANT#<tenant>  ORDER#CCC#<seq> list copy of a Client Credential client (the same attributes), by creation order
//	TENANT#<tenant>  ORDER#HYB#<seq> list copy of a Hybrid client
//	TENANT#<tenant>  TAG#CCC#<b64(tag)>#<seq>  tag entry: ClientId of a client that carries the tag (or
//	                                 had it: a tag of the client item's StaleTags, see UpdateClient)
//	CLIENT#<client>  #CLIENT         registration and token item: owning tenant, kind, Enabled, RoleIds,
//	                                 AccessTokenLifetime (seconds; absent: 3600),
//	                                 Secrets {<secret>: {E: expiration (unix ns; absent: never), U: last used hour}},
//	                                 SecretsVersion, RecordCount (the client's SECRET# items, retained ones
//	                                 included: at most identity.MaxSecretRecordsPerClient); reserves the id
//	                                 across tenants
//	CLIENT#<client>  SECRET#<secret> secret record (never the secret); ExpiryPK/ExpiresAt: see below
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
package store

import (
	"encoding/base64"
	"fmt"
	"hash/fnv"
	"sort"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"identityservice/shared/identity"
)

// Attribute names shared with template.yaml's key schema and index.
const (
	attrPK        = "PK"
	attrSK        = "SK"
	attrExpiryPK  = "ExpiryPK"
	attrExpiresAt = "ExpiresAt"
	// attrSecrets is the token item's map of secrets (registrationItem).
	attrSecrets = "Secrets"
	// attrRecordCount is the token item's count of the client's secret
	// records (see the package comment).
	attrRecordCount = "RecordCount"
	// attrAccessTokenLifetime is a client's token lifetime in seconds, on
	// its client item, list copy and token item (absent: the default).
	attrAccessTokenLifetime = "AccessTokenLifetime"

	// ExpiryIndex is the index of secret records, keyed by ExpiryPK (a
	// queue and a shard: expiryPK) and ExpiresAt (unix seconds).
	ExpiryIndex     = "ByExpiry"
	expiryPartition = "EXPIRY"
	// ExpiryShards is how many index partition key values each queue is
	// spread over, by a hash of the secret id, so that no one value takes
	// every secret write (an index partition takes about 1,000 a second).
	ExpiryShards = 16
	// noExpiryPartition holds secrets that never expire, so that the
	// sweeper's reconciliation finds every active secret through the index.
	noExpiryPartition = "NOEXPIRY"
	// neverExpires is the ExpiresAt of a secret without expiration
	// (9999-12-31T23:59:59Z): later than any instant, so conditions of the
	// form ExpiresAt > now hold for it.
	neverExpires = 253402300799

	skTenant       = "#TENANT"
	skRegistration = "#CLIENT"
	prefixSecret   = "SECRET#"
	prefixOrder    = "ORDER#"
	prefixTag      = "TAG#"
)

// expiryShard is the shard of a secret's index entries: FNV-1a of its id.
func expiryShard(secretID string) int {
	h := fnv.New32a()
	h.Write([]byte(secretID))
	return int(h.Sum32() % ExpiryShards)
}

// shardKey is a queue's partition key value in one shard.
func shardKey(queue string, shard int) string { return fmt.Sprintf("%s#%02d", queue, shard) }

// expiryPK is the ExpiryPK of a secret's record in a queue.
func expiryPK(queue, secretID string) string { return shardKey(queue, expiryShard(secretID)) }

func tenantPK(tenantID string) string { return "TENANT#" + tenantID }
func clientPK(clientID string) string { return "CLIENT#" + clientID }
func secretSK(secretID string) string { return prefixSecret + secretID }

func kindPrefix(kind identity.ClientKind) string {
	if kind == identity.Hybrid {
		return "HYB#"
	}
	return "CCC#"
}

func clientSK(kind identity.ClientKind, clientID string) string { return kindPrefix(kind) + clientID }

// seqKey is a creation sequence number as a sort key: zero-padded, so
// that string order is number order.
func seqKey(seq int64) string { return fmt.Sprintf("%019d", seq) }

// orderPrefix and orderSK place a client's list copy in its tenant's
// creation order.
func orderPrefix(kind identity.ClientKind) string { return prefixOrder + kindPrefix(kind) }
func orderSK(kind identity.ClientKind, seq int64) string {
	return orderPrefix(kind) + seqKey(seq)
}

// tagPrefix and tagSK key a tag entry: the tag base64url-encoded (so no
// tag is a prefix of another's key), then the client's sequence number.
func tagPrefix(kind identity.ClientKind, tag string) string {
	return prefixTag + kindPrefix(kind) + base64.RawURLEncoding.EncodeToString([]byte(tag)) + "#"
}
func tagSK(kind identity.ClientKind, tag string, seq int64) string {
	return tagPrefix(kind, tag) + seqKey(seq)
}

// kindCountAttr is the tenant item's counter of clients of a kind.
func kindCountAttr(kind identity.ClientKind) string { return kind.String() + "Count" }

type item = map[string]types.AttributeValue

func s(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
func n(v int64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(v, 10)}
}
func b(v bool) types.AttributeValue { return &types.AttributeValueMemberBOOL{Value: v} }
func list(vs []string) types.AttributeValue {
	l := make([]types.AttributeValue, len(vs))
	for i, v := range vs {
		l[i] = s(v)
	}
	return &types.AttributeValueMemberL{Value: l}
}
func ts(t time.Time) types.AttributeValue { return s(t.UTC().Format(time.RFC3339Nano)) }

func key(pk, sk string) item { return item{attrPK: s(pk), attrSK: s(sk)} }

func tenantItem(t identity.Tenant) item {
	it := key(tenantPK(t.ID), skTenant)
	it["Type"] = s("Tenant")
	it["TenantId"] = s(t.ID)
	it["Name"] = s(t.Name)
	it["ClientCount"] = n(0)
	for _, k := range identity.ClientKinds {
		it[kindCountAttr(k)] = n(0)
	}
	it["LastSeq"] = n(0)
	it["CreatedAt"] = ts(t.CreatedAt)
	if t.ClientLimit > 0 {
		it["ClientLimit"] = n(int64(t.ClientLimit))
	}
	return it
}

func clientItem(c identity.Client) item {
	it := key(tenantPK(c.TenantID), clientSK(c.Kind, c.ID))
	it["Type"] = s("Client")
	it["TenantId"] = s(c.TenantID)
	it["ClientId"] = s(c.ID)
	it["Kind"] = s(c.Kind.String())
	it["Name"] = s(c.Name)
	it["Enabled"] = b(c.Enabled)
	it["Tags"] = list(c.Tags)
	it["Version"] = n(c.Version)
	it["CreatedAt"] = ts(c.CreatedAt)
	it["UpdatedAt"] = ts(c.UpdatedAt)
	it["Seq"] = n(c.Seq)
	if c.AccessTokenLifetime > 0 {
		it[attrAccessTokenLifetime] = n(int64(c.AccessTokenLifetime))
	}
	if len(c.StaleTags) > 0 {
		it["StaleTags"] = list(c.StaleTags)
	}
	switch c.Kind {
	case identity.ClientCredential:
		it["RoleIds"] = list(c.RoleIDs)
	case identity.Hybrid:
		it["AllowOfflineAccess"] = b(c.AllowOfflineAccess)
		it["AllowAccessTokensViaBrowser"] = b(c.AllowAccessTokensViaBrowser)
		it["RedirectUris"] = list(c.RedirectURIs)
		it["PostLogoutRedirectUris"] = list(c.PostLogoutRedirectURIs)
		it["ClientUri"] = s(c.ClientURI)
		it["LogoUri"] = s(c.LogoURI)
	}
	return it
}

// registrationItem is a new client's registration, which is also its token
// item: what a token request needs (tenant, kind, enabled, roles, and the
// expiration of each secret that is not deleted), in one small item.
// orderItem is a client's list copy: the client item under its place in
// the tenant's creation order, so that a page of a list is one Query.
func orderItem(c identity.Client) item {
	it := clientItem(c)
	it[attrSK] = s(orderSK(c.Kind, c.Seq))
	return it
}

// tagItem is a tag entry: the client that carries the tag, by its place
// in the creation order. It is small (keys and the client id).
func tagItem(c identity.Client, tag string) item {
	it := key(tenantPK(c.TenantID), tagSK(c.Kind, tag, c.Seq))
	it["Type"] = s("ClientTag")
	it["ClientId"] = s(c.ID)
	return it
}

func registrationItem(c identity.Client, first identity.Secret) item {
	it := key(clientPK(c.ID), skRegistration)
	it["Type"] = s("ClientRegistration")
	it["TenantId"] = s(c.TenantID)
	it["ClientId"] = s(c.ID)
	it["Kind"] = s(c.Kind.String())
	it["SecretsVersion"] = n(1)
	it[attrRecordCount] = n(1)
	it["Enabled"] = b(c.Enabled)
	it["RoleIds"] = list(c.RoleIDs)
	if c.AccessTokenLifetime > 0 {
		it[attrAccessTokenLifetime] = n(int64(c.AccessTokenLifetime))
	}
	it[attrSecrets] = &types.AttributeValueMemberM{Value: item{first.ID: secretEntry(first)}}
	return it
}

// secretEntry is a secret in the token item: {E: expiration in unix
// nanoseconds}, no E when it never expires; U (the hour it was last used,
// unix seconds) is added by the token endpoint.
func secretEntry(sec identity.Secret) types.AttributeValue {
	e := item{}
	if sec.Expiration != nil {
		e["E"] = n(sec.Expiration.UnixNano())
	}
	return &types.AttributeValueMemberM{Value: e}
}

func secretItem(sec identity.Secret) item {
	it := key(clientPK(sec.ClientID), secretSK(sec.ID))
	it["Type"] = s("Secret")
	it["TenantId"] = s(sec.TenantID)
	it["ClientId"] = s(sec.ClientID)
	it["SecretId"] = s(sec.ID)
	it["Kind"] = s(sec.Kind.String())
	it["Description"] = s(sec.Description)
	it["CreatedAt"] = ts(sec.CreatedAt)
	if sec.Expiration != nil {
		it["Expiration"] = ts(*sec.Expiration)
		it[attrExpiryPK] = s(expiryPK(expiryPartition, sec.ID))
		it[attrExpiresAt] = n(sec.Expiration.Unix())
	} else {
		it[attrExpiryPK] = s(expiryPK(noExpiryPartition, sec.ID))
		it[attrExpiresAt] = n(neverExpires)
	}
	if sec.DeletedAt != nil {
		it["DeletedAt"] = ts(*sec.DeletedAt)
	}
	return it
}

// reader decodes attributes and remembers the first problem, so a corrupt
// item is reported once with what was wrong.
type reader struct {
	it  item
	err error
}

func (r *reader) fail(name, want string) {
	if r.err == nil {
		r.err = fmt.Errorf("attribute %s: want %s", name, want)
	}
}

func (r *reader) str(name string, required bool) string {
	v, ok := r.it[name]
	if !ok {
		if required {
			r.fail(name, "a string")
		}
		return ""
	}
	sv, ok := v.(*types.AttributeValueMemberS)
	if !ok {
		r.fail(name, "a string")
		return ""
	}
	return sv.Value
}

func (r *reader) num(name string, required bool) int64 {
	v, ok := r.it[name]
	if !ok {
		if required {
			r.fail(name, "a number")
		}
		return 0
	}
	nv, ok := v.(*types.AttributeValueMemberN)
	if !ok {
		r.fail(name, "a number")
		return 0
	}
	i, err := strconv.ParseInt(nv.Value, 10, 64)
	if err != nil {
		r.fail(name, "an integer")
	}
	return i
}

func (r *reader) kind(name string) identity.ClientKind {
	raw := r.str(name, true)
	k, ok := identity.ParseClientKind(raw)
	if !ok && r.err == nil {
		r.fail(name, "ClientCredential or Hybrid")
	}
	return k
}

func (r *reader) boolean(name string) bool {
	v, ok := r.it[name]
	if !ok {
		return false
	}
	bv, ok := v.(*types.AttributeValueMemberBOOL)
	if !ok {
		r.fail(name, "a boolean")
		return false
	}
	return bv.Value
}

func (r *reader) strings(name string) []string {
	v, ok := r.it[name]
	if !ok {
		return []string{}
	}
	lv, ok := v.(*types.AttributeValueMemberL)
	if !ok {
		r.fail(name, "a list of strings")
		return nil
	}
	out := make([]string, 0, len(lv.Value))
	for _, e := range lv.Value {
		sv, ok := e.(*types.AttributeValueMemberS)
		if !ok {
			r.fail(name, "a list of strings")
			return nil
		}
		out = append(out, sv.Value)
	}
	return out
}

func (r *reader) time(name string, required bool) time.Time {
	raw := r.str(name, required)
	if raw == "" {
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339Nano, raw)
	if err != nil {
		r.fail(name, "an RFC 3339 time")
	}
	return t
}

func (r *reader) optTime(name string) *time.Time {
	if _, ok := r.it[name]; !ok {
		return nil
	}
	t := r.time(name, true)
	return &t
}

func decodeTenant(it item) (identity.Tenant, error) {
	r := reader{it: it}
	t := identity.Tenant{
		ID:          r.str("TenantId", true),
		Name:        r.str("Name", false),
		ClientCount: int(r.num("ClientCount", false)),
		ClientLimit: int(r.num("ClientLimit", false)),
		CreatedAt:   r.time("CreatedAt", false),
		KindCounts:  map[identity.ClientKind]int{},
	}
	for _, k := range identity.ClientKinds {
		t.KindCounts[k] = int(r.num(kindCountAttr(k), false))
	}
	return t, r.err
}

func decodeClient(it item) (identity.Client, error) {
	r := reader{it: it}
	c := identity.Client{
		TenantID:  r.str("TenantId", true),
		ID:        r.str("ClientId", true),
		Kind:      r.kind("Kind"),
		Name:      r.str("Name", true),
		Enabled:   r.boolean("Enabled"),
		Tags:      r.strings("Tags"),
		Version:   r.num("Version", true),
		CreatedAt: r.time("CreatedAt", true),
		UpdatedAt: r.time("UpdatedAt", false),
		Seq:       r.num("Seq", false),

		AccessTokenLifetime: int(r.num(attrAccessTokenLifetime, false)),
	}
	if _, ok := it["StaleTags"]; ok {
		c.StaleTags = r.strings("StaleTags")
	}
	switch c.Kind {
	case identity.ClientCredential:
		c.RoleIDs = r.strings("RoleIds")
	case identity.Hybrid:
		c.AllowOfflineAccess = r.boolean("AllowOfflineAccess")
		c.AllowAccessTokensViaBrowser = r.boolean("AllowAccessTokensViaBrowser")
		c.RedirectURIs = r.strings("RedirectUris")
		c.PostLogoutRedirectURIs = r.strings("PostLogoutRedirectUris")
		c.ClientURI = r.str("ClientUri", false)
		c.LogoURI = r.str("LogoUri", false)
	default:
		r.fail("Kind", "ClientCredential or Hybrid")
	}
	return c, r.err
}

func decodeSecret(it item) (identity.Secret, error) {
	r := reader{it: it}
	sec := identity.Secret{
		TenantID:    r.str("TenantId", true),
		ClientID:    r.str("ClientId", true),
		ID:          r.str("SecretId", true),
		Kind:        r.kind("Kind"),
		Description: r.str("Description", false),
		Expiration:  r.optTime("Expiration"),
		CreatedAt:   r.time("CreatedAt", true),
		DeletedAt:   r.optTime("DeletedAt"),
		LastUsed:    r.optTime("LastUsed"),
		Swept:       it["SweptAt"] != nil,
	}
	return sec, r.err
}

// registration is the client-id reservation and token item.
type registration struct {
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
}

func decodeRegistration(it item) (registration, error) {
	r := reader{it: it}
	reg := registration{
		TenantID:       r.str("TenantId", true),
		ClientID:       r.str("ClientId", true),
		Kind:           r.kind("Kind"),
		SecretsVersion: r.num("SecretsVersion", true),
		Enabled:        r.boolean("Enabled"),
		RoleIDs:        r.strings("RoleIds"),
		RecordCount:    -1,

		AccessTokenLifetime: int(r.num(attrAccessTokenLifetime, false)),
	}
	if _, ok := it[attrRecordCount]; ok {
		reg.RecordCount = r.num(attrRecordCount, true)
	}
	if v, ok := it[attrSecrets]; ok {
		m, ok := v.(*types.AttributeValueMemberM)
		if !ok {
			r.fail(attrSecrets, "a map")
			return reg, r.err
		}
		reg.TokenItem = true
		for id, ev := range m.Value {
			em, ok := ev.(*types.AttributeValueMemberM)
			if !ok {
				r.fail(attrSecrets+"."+id, "a map")
				break
			}
			er := reader{it: em.Value}
			sec := identity.Secret{TenantID: reg.TenantID, ClientID: reg.ClientID, ID: id, Kind: reg.Kind}
			if _, ok := em.Value["E"]; ok {
				e := time.Unix(0, er.num("E", true)).UTC()
				sec.Expiration = &e
			}
			if _, ok := em.Value["U"]; ok {
				u := time.Unix(er.num("U", true), 0).UTC()
				sec.LastUsed = &u
			}
			if er.err != nil {
				r.fail(attrSecrets+"."+id, er.err.Error())
			}
			reg.Secrets = append(reg.Secrets, sec)
		}
		sort.Slice(reg.Secrets, func(i, j int) bool { return reg.Secrets[i].ID < reg.Secrets[j].ID })
	}
	return reg, r.err
}
