package faultmatrix

import (
	"encoding/base64"
	"fmt"
	"hash/fnv"
	"maps"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"identityservice/shared/identity"
	"identityservice/shared/store/layout"
	"identityservice/shared/sweep"
)

// The invariants of the data model's derived items (shared/store's layout
// comment): the token item each token request reads instead of the secret
// records, the list copies a list page reads instead of the client items,
// the tag entries a tags list reads, and the index ByExpiry the sweeper
// reads instead of the table. Each derived item is written in the same
// transaction as what it is derived from, so under any fault they agree.

// kindPrefix is the layout's kind part of a sort key.
func kindPrefix(k identity.ClientKind) string {
	if k == identity.Hybrid {
		return "HYB#"
	}
	return "CCC#"
}

// seqKey is the layout's sequence number in a sort key (zero-padded).
func seqKey(seq int64) string { return fmt.Sprintf("%019d", seq) }

func orderSK(c clientRow) string { return "ORDER#" + kindPrefix(c.kind) + seqKey(c.seq) }

func tagSK(c clientRow, tag string) string {
	return "TAG#" + kindPrefix(c.kind) + base64.RawURLEncoding.EncodeToString([]byte(tag)) + "#" + seqKey(c.seq)
}

// expiryShard is the shard of a secret's index entries as the layout
// defines it (shared/store: FNV-1a of the secret id, modulo ExpiryShards).
// The sweeper's conditional writes name the shard computed from the id, so
// a record stored under another shard could never be swept.
func expiryShard(secretID string) int {
	h := fnv.New32a()
	h.Write([]byte(secretID))
	return int(h.Sum32() % uint32(layout.ExpiryShards))
}

// neverExpires is the ExpiresAt of a secret without expiration.
const neverExpires = 253402300799

// tokenItemInvariants: the token item is all a token request reads, so it
// must say exactly what the records say. Every entry of its Secrets map is
// a secret record of the client that is not soft-deleted (a deleted secret
// with an entry would authenticate), with the record's expiration; every
// active record with material has an entry (else a secret the API said was
// added cannot get a token); Enabled and RoleIds are the client's. (That
// every client has a token item and no token item outlives its client is
// counterInvariants' check.)
func tokenItemInvariants(snap snapshot) violations {
	var v violations
	checksMade.Add(1)
	for _, r := range snap.regs {
		for _, bad := range r.bad {
			v.addf("token item of client %s: %s", r.id, bad)
		}
		for id, e := range r.entries {
			rec, ok := snap.secrets[id]
			switch {
			case !ok || rec.client != r.id:
				v.addf("token item of client %s has an entry for secret %s, which has no secret record", r.id, id)
				continue
			case rec.deleted:
				v.addf("token item of client %s has an entry for secret %s, whose record is soft-deleted", r.id, id)
			case r.packs[id] != int64(rec.pack):
				v.addf("token item of client %s: secret %s in pack P=%d, its record's pack is %d", r.id, id, r.packs[id], rec.pack)
			}
			switch {
			case e == nil && rec.expiration != nil:
				v.addf("token item of client %s: secret %s has no expiration, its record expires at %s", r.id, id, rec.expiration)
			case e != nil && rec.expiration == nil:
				v.addf("token item of client %s: secret %s expires at E=%d, its record never expires", r.id, id, *e)
			case e != nil && *e != rec.expiration.UnixNano():
				v.addf("token item of client %s: secret %s expires at E=%d, its record at %d (%s)", r.id, id, *e, rec.expiration.UnixNano(), rec.expiration)
			}
		}
		if c, ok := snap.clients[r.id]; ok {
			if r.enabled != c.enabled {
				v.addf("token item of client %s: Enabled %v, the client's %v", r.id, r.enabled, c.enabled)
			}
			if !slices.Equal(r.roles, c.roles) {
				v.addf("token item of client %s: RoleIds %v, the client's %v", r.id, r.roles, c.roles)
			}
		}
	}
	for _, rec := range snap.secrets {
		if !rec.active(snap.now) || !snap.material[refOf(rec)] {
			continue
		}
		r, ok := snap.regs[rec.client]
		if !ok {
			continue // counterInvariants: a record without its client
		}
		if _, ok := r.entries[rec.id]; !ok {
			v.addf("active secret %s (client %s) has no entry in its client's token item: it cannot get a token", rec.id, rec.client)
		}
	}
	return v
}

// sameAttrs compares two items' attributes except the sort key.
func sameAttrs(a, b map[string]types.AttributeValue) []string {
	var diff []string
	names := map[string]bool{}
	for k := range a {
		names[k] = true
	}
	for k := range b {
		names[k] = true
	}
	for _, k := range slices.Sorted(maps.Keys(names)) {
		if k == "SK" {
			continue
		}
		if !reflect.DeepEqual(a[k], b[k]) {
			diff = append(diff, k)
		}
	}
	return diff
}

// listCopyInvariants: a list page reads the list copies, not the client
// items. Every client has exactly one list copy, ORDER#<kind>#<its Seq>,
// with the client's attributes; no list copy outlives its client (a list
// would show a deleted client).
func listCopyInvariants(snap snapshot) violations {
	var v violations
	checksMade.Add(1)
	copies := map[string][]orderRow{}
	for _, o := range snap.orders {
		if _, ok := snap.clients[o.client]; !ok {
			v.addf("list copy %s shows client %q, which does not exist", o.sk, o.client)
			continue
		}
		copies[o.client] = append(copies[o.client], o)
	}
	for _, c := range snap.clients {
		got := copies[c.id]
		if len(got) != 1 {
			var sks []string
			for _, o := range got {
				sks = append(sks, o.sk)
			}
			slices.Sort(sks)
			v.addf("client %s has %d list copies %v, want 1 (%s)", c.id, len(got), sks, orderSK(c))
			continue
		}
		if got[0].sk != orderSK(c) {
			v.addf("client %s (Seq %d): its list copy is %s, want %s", c.id, c.seq, got[0].sk, orderSK(c))
		}
		if diff := sameAttrs(c.attrs, got[0].attrs); len(diff) > 0 {
			v.addf("client %s: its list copy differs from the client item in %v", c.id, diff)
		}
	}
	return v
}

// tagInvariants: a tags list reads the tag entries. Each client has one
// entry per tag it carries, TAG#<kind>#<b64(tag)>#<its Seq>, and none for
// a tag it no longer carries; no entry outlives its client (a tags list
// would show a wrong client, a wrong Total-Count). The one exception is an
// entry the client item records as stale (StaleTags: an update with more
// tag changes than fit in its transaction whose second write failed),
// which the client's next write removes; the operation's own check shows
// that it does.
func tagInvariants(snap snapshot) violations {
	var v violations
	checksMade.Add(1)
	want := map[string]string{} // SK: client id
	for _, c := range snap.clients {
		for _, tag := range c.tags {
			want[tagSK(c, tag)] = c.id
			e, ok := snap.tags[tagSK(c, tag)]
			switch {
			case !ok:
				v.addf("client %s carries tag %q but has no tag entry %s", c.id, tag, tagSK(c, tag))
			case e.client != c.id:
				v.addf("tag entry %s of client %s names client %q", e.sk, c.id, e.client)
			}
		}
	}
	for _, e := range snap.tags {
		if _, ok := want[e.sk]; ok {
			continue
		}
		c, ok := snap.clients[e.client]
		if !ok {
			v.addf("tag entry %s names client %q, which does not exist", e.sk, e.client)
			continue
		}
		tag := "?"
		rest, _ := strings.CutPrefix(e.sk, "TAG#"+kindPrefix(c.kind))
		if i := strings.LastIndex(rest, "#"); i >= 0 {
			if raw, err := base64.RawURLEncoding.DecodeString(rest[:i]); err == nil {
				tag = string(raw)
			}
		}
		if slices.Contains(c.staleTags, tag) && e.sk == tagSK(c, tag) {
			continue
		}
		v.addf("tag entry %s puts client %s under tag %q, which it does not carry (its tags %v, Seq %d)", e.sk, c.id, tag, c.tags, c.seq)
	}
	return v
}

// validQueue reports whether q is a queue of the index ByExpiry.
func validQueue(q string) bool {
	switch q {
	case "EXPIRY", "NOEXPIRY", "SWEPT":
		return true
	}
	k, err := strconv.Atoi(strings.TrimPrefix(q, "PENDING#"))
	return strings.HasPrefix(q, "PENDING#") && err == nil && k >= 0 && k <= sweep.MaxWarningWindows
}

// expiryInvariants: the sweeper reads only the index ByExpiry. Every
// secret record is in one of its queues, in the shard of its id, at the
// time the queue is ordered by: a soft-deleted record in EXPIRY at its
// deletion, a swept one in SWEPT, an active one without expiration in
// NOEXPIRY, one with an expiration in EXPIRY or PENDING#k at it. A record
// anywhere else is invisible to the sweeper: its material would outlive
// its expiration or deletion.
func expiryInvariants(snap snapshot) violations {
	var v violations
	checksMade.Add(1)
	for _, rec := range snap.secrets {
		if rec.expiryPK == "" {
			v.addf("secret record %s has no ExpiryPK: the sweeper never sees it", rec.id)
			continue
		}
		if !rec.hasExpiresAt {
			v.addf("secret record %s (%s) has no numeric ExpiresAt: the sweeper never sees it", rec.id, rec.expiryPK)
		}
		i := strings.LastIndex(rec.expiryPK, "#")
		queue, shard := rec.expiryPK, ""
		if i >= 0 {
			queue, shard = rec.expiryPK[:i], rec.expiryPK[i+1:]
		}
		if !validQueue(queue) {
			v.addf("secret record %s: ExpiryPK %q is no queue of the sweeper", rec.id, rec.expiryPK)
			continue
		}
		if want := fmt.Sprintf("%02d", expiryShard(rec.id)); shard != want {
			v.addf("secret record %s: ExpiryPK %q is in shard %q, its id's shard is %s", rec.id, rec.expiryPK, shard, want)
		}
		switch {
		case rec.swept:
			if queue != "SWEPT" {
				v.addf("secret record %s is swept but in queue %s", rec.id, queue)
			}
		case rec.deleted:
			if queue != "EXPIRY" || rec.expiresAt != rec.deletedUnix {
				v.addf("soft-deleted secret record %s is in %s at %d, want EXPIRY at its deletion %d", rec.id, queue, rec.expiresAt, rec.deletedUnix)
			}
		case rec.expiration == nil:
			if queue != "NOEXPIRY" || rec.expiresAt != neverExpires {
				v.addf("secret record %s never expires but is in %s at %d, want NOEXPIRY at %d", rec.id, queue, rec.expiresAt, int64(neverExpires))
			}
		default:
			if queue != "EXPIRY" && !strings.HasPrefix(queue, "PENDING#") || rec.expiresAt != rec.expiration.Unix() {
				v.addf("secret record %s expires at %d but is in %s at %d", rec.id, rec.expiration.Unix(), queue, rec.expiresAt)
			}
		}
	}
	return v
}
