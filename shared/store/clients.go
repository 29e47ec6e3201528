package store

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"identityservice/shared/identity"
	"identityservice/shared/store/layout"
)

// Clients keeps clients: the client item (by id), its list copy (by
// creation order), its tag entries, its registration and the tenant's
// counters, written together. See the package comment and
// docs/storage.md.
type Clients struct{ base }

var _ identity.Clients = (*Clients)(nil)

// maxSeqAttempts bounds the retries of a create whose sequence number lost
// to a concurrent create in the same tenant (each retry takes a number
// after the winner's).
const maxSeqAttempts = 20

// CreateClient writes, in one transaction: the client, its list copy and
// tag entries, its registration (unique across tenants; the token item),
// the tenant's counters (the limit is checked there, so concurrent creates
// cannot pass it; the kind's count is a list's Total-Count), and the first
// secret record. The client's place in the creation order (Seq) is after
// every client created before: the tenant's LastSeq is raised in the same
// transaction, conditional on being below it.
func (d *Clients) CreateClient(ctx context.Context, c identity.Client, first identity.Secret, defaultLimit int) error {
	first.Kind = c.Kind
	seq := time.Now().UnixMicro()
	for attempt := 1; ; attempt++ {
		c.Seq = seq
		items := []types.TransactWriteItem{
			{Put: &types.Put{TableName: &d.table, Item: layout.RegistrationItem(c, first), ConditionExpression: aws.String("attribute_not_exists(PK)")}},
			{Update: &types.Update{
				TableName:        &d.table,
				Key:              layout.Key(layout.TenantPK(c.TenantID), layout.SkTenant),
				UpdateExpression: aws.String("SET ClientCount = ClientCount + :one, #kc = if_not_exists(#kc, :zero) + :one, LastSeq = :seq"),
				ConditionExpression: aws.String("attribute_exists(PK) AND ((attribute_not_exists(ClientLimit) AND ClientCount < :default) OR ClientCount < ClientLimit)" +
					" AND (attribute_not_exists(LastSeq) OR LastSeq < :seq)"),
				ExpressionAttributeNames: map[string]string{"#kc": layout.KindCountAttr(c.Kind)},
				ExpressionAttributeValues: item{
					":one":     layout.N(1),
					":zero":    layout.N(0),
					":default": layout.N(int64(defaultLimit)),
					":seq":     layout.N(seq),
				},
				ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
			}},
			{Put: &types.Put{TableName: &d.table, Item: layout.ClientItem(c), ConditionExpression: aws.String("attribute_not_exists(PK)")}},
			{Put: &types.Put{TableName: &d.table, Item: layout.SecretItem(first), ConditionExpression: aws.String("attribute_not_exists(PK)")}},
			{Put: &types.Put{TableName: &d.table, Item: layout.OrderItem(c)}},
		}
		for _, tag := range c.Tags {
			items = append(items, types.TransactWriteItem{Put: &types.Put{TableName: &d.table, Item: layout.TagItem(c, tag)}})
		}
		reasons, err := d.transact(ctx, items)
		if err != nil {
			return err
		}
		switch {
		case reasons == nil:
			return nil
		case failed(reasons, 0) || failed(reasons, 2):
			return identity.ErrClientIDExists
		case failed(reasons, 1):
			old := reasons[1].Item
			if old == nil {
				return identity.ErrTenantNotFound
			}
			r := layout.Reader{It: old}
			count, limit, last := r.Num("ClientCount", false), r.Num("ClientLimit", false), r.Num("LastSeq", false)
			if limit == 0 {
				limit = int64(defaultLimit)
			}
			if count >= limit {
				return identity.ErrClientLimit
			}
			if attempt == maxSeqAttempts {
				return identity.ErrConcurrentUpdate
			}
			// Another create took a later place: take one after it, after a
			// little jitter, so that simultaneous losers do not collide again.
			select {
			case <-ctx.Done():
				return storageError("create client", ctx.Err())
			case <-time.After(time.Duration(rand.IntN(5*attempt+5)) * time.Millisecond):
			}
			seq = max(time.Now().UnixMicro(), last+1)
		default:
			return identity.Internal("create client", errors.New("transaction cancelled: "+reasonCodes(reasons)))
		}
	}
}

// GetClient reads a client of a kind in a tenant: one strongly consistent
// GetItem.
func (d *Clients) GetClient(ctx context.Context, tenantID string, kind identity.ClientKind, clientID string) (identity.Client, error) {
	out, err := d.api.GetItem(ctx, &dynamodb.GetItemInput{TableName: &d.table, Key: layout.Key(layout.TenantPK(tenantID), layout.ClientSK(kind, clientID)), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return identity.Client{}, storageError("get client", err)
	}
	if out.Item == nil {
		return identity.Client{}, identity.ErrClientNotFound
	}
	c, err := layout.DecodeClient(out.Item)
	if err != nil {
		return identity.Client{}, identity.Internal("decode client "+clientID, err)
	}
	return c, nil
}

// ClientKind returns the kind of a tenant's client from its registration.
func (d *Clients) ClientKind(ctx context.Context, tenantID, clientID string) (identity.ClientKind, error) {
	out, err := d.api.GetItem(ctx, &dynamodb.GetItemInput{TableName: &d.table, Key: layout.Key(layout.ClientPK(clientID), layout.SkRegistration), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return 0, storageError("get registration", err)
	}
	if out.Item != nil && !layout.IsTombstone(out.Item) {
		reg, err := layout.DecodeRegistration(out.Item)
		if err != nil {
			return 0, identity.Internal("decode registration "+clientID, err)
		}
		if reg.TenantID == tenantID {
			return reg.Kind, nil
		}
	}
	return 0, identity.ErrClientNotFound
}

// ListClients returns a page of a tenant's clients of a kind, in creation
// order. Without tags it reads the kind's counter (the tenant item, one
// GetItem: it says whether the tenant exists) and, unless q.Skip is past
// the count, one Query of the list copies from the start to the end of
// the page: at most skip+count client items, whatever the tenant's size.
// With tags it reads the tag entries of the asked tags (small items: the
// clients that carry one, not the tenant), counts the distinct clients,
// and reads the page's clients by id (BatchGetItem).
func (d *Clients) ListClients(ctx context.Context, tenantID string, kind identity.ClientKind, q identity.ListOptions) (identity.ClientPage, error) {
	if len(q.Tags) > 0 {
		return d.listByTags(ctx, tenantID, kind, q)
	}
	t, err := (&Tenants{d.base}).GetTenant(ctx, tenantID)
	if errors.Is(err, identity.ErrTenantNotFound) {
		return identity.ClientPage{Tenant: identity.Absent, Clients: []identity.Client{}}, nil
	}
	if err != nil {
		return identity.ClientPage{}, err
	}
	page := identity.ClientPage{Tenant: identity.Present, Total: t.KindCounts[kind], Clients: []identity.Client{}}
	if q.Skip >= page.Total {
		return page, nil
	}
	want := q.Skip + q.Count
	in := &dynamodb.QueryInput{
		TableName:              &d.table,
		KeyConditionExpression: aws.String("PK = :pk AND begins_with(SK, :prefix)"),
		ExpressionAttributeValues: item{
			":pk":     layout.S(layout.TenantPK(tenantID)),
			":prefix": layout.S(layout.OrderPrefix(kind)),
		},
		ConsistentRead: aws.Bool(true),
	}
	seen := 0
	for seen < want {
		in.Limit = aws.Int32(int32(min(want-seen, math.MaxInt32)))
		out, err := d.api.Query(ctx, in)
		if err != nil {
			return identity.ClientPage{}, storageError("list clients", err)
		}
		for _, it := range out.Items {
			seen++
			if seen <= q.Skip {
				continue
			}
			addTo(&page, kind, it)
		}
		if out.LastEvaluatedKey == nil {
			break
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
	return page, nil
}

// addTo adds a stored client to a page, or its ItemError when it cannot
// be read.
func addTo(p *identity.ClientPage, kind identity.ClientKind, it item) {
	c, err := layout.DecodeClient(it)
	if err != nil || c.Kind != kind {
		r := layout.Reader{It: it}
		id := r.Str("ClientId", false)
		if id == "" {
			id = strings.TrimPrefix(r.Str(layout.AttrSK, false), layout.OrderPrefix(kind))
		}
		reason := "stored client is malformed"
		if err != nil {
			reason += ": " + err.Error()
		}
		p.Errors = append(p.Errors, identity.ItemError{ID: id, Reason: reason})
		return
	}
	p.Clients = append(p.Clients, c)
}

// listByTags pages the clients that carry at least one of the tags. Each
// client counts once, in creation order, however many of the tags it has.
func (d *Clients) listByTags(ctx context.Context, tenantID string, kind identity.ClientKind, q identity.ListOptions) (identity.ClientPage, error) {
	type entry struct {
		seq string
		id  string
	}
	byID := map[string]string{}
	for _, tag := range q.Tags {
		prefix := layout.TagPrefix(kind, tag)
		in := &dynamodb.QueryInput{
			TableName:                 &d.table,
			KeyConditionExpression:    aws.String("PK = :pk AND begins_with(SK, :prefix)"),
			ExpressionAttributeValues: item{":pk": layout.S(layout.TenantPK(tenantID)), ":prefix": layout.S(prefix)},
			ConsistentRead:            aws.Bool(true),
		}
		for {
			out, err := d.api.Query(ctx, in)
			if err != nil {
				return identity.ClientPage{}, storageError("list clients by tag", err)
			}
			for _, it := range out.Items {
				r := layout.Reader{It: it}
				byID[r.Str("ClientId", true)] = strings.TrimPrefix(r.Str(layout.AttrSK, true), prefix)
			}
			if out.LastEvaluatedKey == nil {
				break
			}
			in.ExclusiveStartKey = out.LastEvaluatedKey
		}
	}
	entries := make([]entry, 0, len(byID))
	for id, seq := range byID {
		entries = append(entries, entry{seq: seq, id: id})
	}
	slices.SortFunc(entries, func(a, b entry) int { return strings.Compare(a.seq+a.id, b.seq+b.id) })
	page := identity.ClientPage{Total: len(entries), Clients: []identity.Client{}}
	if q.Skip >= len(entries) {
		return page, nil
	}
	entries = entries[q.Skip:min(q.Skip+q.Count, len(entries))]
	keys := make([]item, len(entries))
	for i, e := range entries {
		keys[i] = layout.Key(layout.TenantPK(tenantID), layout.ClientSK(kind, e.id))
	}
	found := map[string]item{}
	for start := 0; start < len(keys); start += 100 {
		got, err := d.batchGet(ctx, keys[start:min(start+100, len(keys))])
		if err != nil {
			return identity.ClientPage{}, err
		}
		for _, it := range got {
			found[(&layout.Reader{It: it}).Str(layout.AttrSK, true)] = it
		}
	}
	for _, e := range entries {
		if it, ok := found[layout.ClientSK(kind, e.id)]; ok {
			addTo(&page, kind, it)
		}
	}
	return page, nil
}

// UpdateClient writes next over old in one transaction, conditional on
// old's version: the client item, its list copy, its tag entries when the
// tags change, and its registration when what a token request decides on
// changes (Enabled, RoleIds, AccessTokenLifetime).
//
// Entries of removed tags go last: if the change is too large for one
// transaction (more than 97 tag changes), the removals left over are
// recorded in the client item (StaleTags) and removed right after it
// (removeStaleTags). Until then a tags list may count the client under a
// tag it no longer has, but never misses one it has; should that second
// write fail, the client's next update (a retry of the same PUT) or its
// delete removes them, since they are recorded.
func (d *Clients) UpdateClient(ctx context.Context, old, next identity.Client) error {
	next.Seq = old.Seq
	var added, removed []string
	for _, tag := range next.Tags {
		if !slices.Contains(old.Tags, tag) {
			added = append(added, tag)
		}
	}
	for _, tag := range append(slices.Clone(old.Tags), old.StaleTags...) {
		if !slices.Contains(next.Tags, tag) && !slices.Contains(removed, tag) {
			removed = append(removed, tag)
		}
	}
	tokenChange := next.Enabled != old.Enabled || !slices.Equal(next.RoleIDs, old.RoleIDs) || next.AccessTokenLifetime != old.AccessTokenLifetime
	fixed := 2 + len(added)
	if tokenChange {
		fixed++
	}
	next.StaleTags = nil
	if room := max(maxTransactItems-fixed, 0); len(removed) > room {
		removed, next.StaleTags = removed[:room], removed[room:]
	}
	items := []types.TransactWriteItem{
		{Put: &types.Put{TableName: &d.table, Item: layout.ClientItem(next),
			ConditionExpression:       aws.String("Version = :v"),
			ExpressionAttributeValues: item{":v": layout.N(old.Version)}}},
		{Put: &types.Put{TableName: &d.table, Item: layout.OrderItem(next)}},
	}
	if tokenChange {
		// The seal covers the lifetime too, so the item says exactly what
		// next says: a lifetime next lacks is removed, and so is a seal
		// (an unsealed item gets no token).
		set, values := "SET Enabled = :en, RoleIds = :roles", item{":en": layout.B(next.Enabled), ":roles": layout.List(next.RoleIDs), ":tenant": layout.S(next.TenantID)}
		var remove []string
		if len(next.TokenSeal) > 0 {
			set, values[":seal"] = set+", "+layout.AttrSeal+" = :seal", &types.AttributeValueMemberB{Value: next.TokenSeal}
		} else {
			remove = append(remove, layout.AttrSeal)
		}
		if next.AccessTokenLifetime > 0 {
			set, values[":atl"] = set+", "+layout.AttrAccessTokenLifetime+" = :atl", layout.N(int64(next.AccessTokenLifetime))
		} else {
			remove = append(remove, layout.AttrAccessTokenLifetime)
		}
		if len(remove) > 0 {
			set += " REMOVE " + strings.Join(remove, ", ")
		}
		items = append(items, types.TransactWriteItem{Update: &types.Update{TableName: &d.table, Key: layout.Key(layout.ClientPK(next.ID), layout.SkRegistration),
			UpdateExpression:          aws.String(set),
			ConditionExpression:       aws.String("TenantId = :tenant"),
			ExpressionAttributeValues: values}})
	}
	for _, tag := range added {
		items = append(items, types.TransactWriteItem{Put: &types.Put{TableName: &d.table, Item: layout.TagItem(next, tag)}})
	}
	for _, tag := range removed {
		items = append(items, types.TransactWriteItem{Delete: &types.Delete{TableName: &d.table, Key: layout.Key(layout.TenantPK(old.TenantID), layout.TagSK(old.Kind, tag, old.Seq))}})
	}
	reasons, err := d.transact(ctx, items)
	switch {
	case err != nil:
		return err
	case failed(reasons, 0):
		return identity.ErrClientChanged
	case reasons != nil:
		return identity.Internal("update client", errors.New("transaction cancelled: "+reasonCodes(reasons)))
	}
	if len(next.StaleTags) > 0 {
		return d.removeStaleTags(ctx, next)
	}
	return nil
}

// removeStaleTags removes the entries of the tags a client item records as
// stale, and the record (client item and list copy), in one transaction on
// the condition that the client is still at the version that recorded them:
// a write since read them and removes them itself.
func (d *Clients) removeStaleTags(ctx context.Context, c identity.Client) error {
	items := []types.TransactWriteItem{
		{Update: &types.Update{TableName: &d.table, Key: layout.Key(layout.TenantPK(c.TenantID), layout.ClientSK(c.Kind, c.ID)),
			UpdateExpression: aws.String("REMOVE StaleTags"), ConditionExpression: aws.String("Version = :v"),
			ExpressionAttributeValues: item{":v": layout.N(c.Version)}}},
		{Update: &types.Update{TableName: &d.table, Key: layout.Key(layout.TenantPK(c.TenantID), layout.OrderSK(c.Kind, c.Seq)),
			UpdateExpression: aws.String("REMOVE StaleTags"), ConditionExpression: aws.String("Version = :v"),
			ExpressionAttributeValues: item{":v": layout.N(c.Version)}}},
	}
	for _, tag := range c.StaleTags {
		items = append(items, types.TransactWriteItem{Delete: &types.Delete{TableName: &d.table, Key: layout.Key(layout.TenantPK(c.TenantID), layout.TagSK(c.Kind, tag, c.Seq))}})
	}
	_, err := d.transact(ctx, items)
	return err
}

// DeleteClient removes, in one transaction, the client, its list copy, its
// tag entries, its secret records and its counts in the tenant, and
// replaces its registration with a tombstone that keeps the id taken. The registration's SecretsVersion guards against a secret added
// meanwhile, the client's Version against a change of its tags.
func (d *Clients) DeleteClient(ctx context.Context, tenantID string, kind identity.ClientKind, clientID string) ([]identity.Secret, error) {
	for attempt := 0; attempt < maxTransactAttempts; attempt++ {
		reg, secrets, err := d.clientRecords(ctx, clientID)
		if err != nil {
			return nil, err
		}
		if reg == nil || reg.TenantID != tenantID || reg.Kind != kind {
			return nil, identity.ErrClientNotFound
		}
		c, err := d.GetClient(ctx, tenantID, kind, clientID)
		if err != nil {
			return nil, err
		}
		items := []types.TransactWriteItem{
			// The registration becomes the id's tombstone (layout/tombstone.go).
			{Put: &types.Put{TableName: &d.table, Item: layout.TombstoneItem(tenantID, kind, clientID, time.Now()),
				ConditionExpression:       aws.String("SecretsVersion = :v"),
				ExpressionAttributeValues: item{":v": layout.N(reg.SecretsVersion)}}},
			{Delete: &types.Delete{TableName: &d.table, Key: layout.Key(layout.TenantPK(tenantID), layout.ClientSK(kind, clientID)),
				ConditionExpression:       aws.String("Version = :v"),
				ExpressionAttributeValues: item{":v": layout.N(c.Version)}}},
			{Update: &types.Update{TableName: &d.table, Key: layout.Key(layout.TenantPK(tenantID), layout.SkTenant),
				UpdateExpression:          aws.String("SET ClientCount = ClientCount - :one, #kc = #kc - :one"),
				ConditionExpression:       aws.String("attribute_exists(PK) AND ClientCount > :zero AND #kc > :zero"),
				ExpressionAttributeNames:  map[string]string{"#kc": layout.KindCountAttr(kind)},
				ExpressionAttributeValues: item{":one": layout.N(1), ":zero": layout.N(0)}}},
			{Delete: &types.Delete{TableName: &d.table, Key: layout.Key(layout.TenantPK(tenantID), layout.OrderSK(kind, c.Seq))}},
		}
		for _, tag := range c.Tags {
			items = append(items, types.TransactWriteItem{Delete: &types.Delete{TableName: &d.table, Key: layout.Key(layout.TenantPK(tenantID), layout.TagSK(kind, tag, c.Seq))}})
		}
		// Entries of stale tags (an update's removals left over) go first:
		// the client no longer carries those tags.
		if len(c.StaleTags) > 0 {
			var stale []types.TransactWriteItem
			for _, tag := range c.StaleTags {
				stale = append(stale, types.TransactWriteItem{Delete: &types.Delete{TableName: &d.table, Key: layout.Key(layout.TenantPK(tenantID), layout.TagSK(kind, tag, c.Seq))}})
			}
			if _, err := d.transact(ctx, stale); err != nil {
				return nil, err
			}
		}
		// Secret records beyond what fits in the transaction go first, and
		// only records without an entry in the token item (retained:
		// soft-deleted, or expired and forgotten), which cannot
		// authenticate whatever happens next. A record with an entry goes
		// with the token item: removed before it, its entry would outlive
		// it and, should the delete then fail, still authenticate.
		inTx := withTokenEntriesFirst(reg, secrets)
		if room := maxTransactItems - len(items); len(inTx) > room {
			if err := d.deleteSecretRecords(ctx, clientID, inTx[room:]); err != nil {
				return nil, err
			}
			inTx = inTx[:room]
		}
		for _, sec := range inTx {
			items = append(items, types.TransactWriteItem{Delete: &types.Delete{TableName: &d.table, Key: layout.Key(layout.ClientPK(clientID), layout.SecretSK(sec.ID))}})
		}
		reasons, err := d.transact(ctx, items)
		if err != nil {
			return nil, err
		}
		if reasons == nil {
			return secrets, nil
		}
		if failed(reasons, 2) {
			return nil, identity.Internal("delete client", errors.New("tenant client counter already at zero"))
		}
		// The registration or the client changed (a secret added or
		// removed, an update, a concurrent delete): read again.
	}
	return nil, identity.ErrConcurrentUpdate
}

// withTokenEntriesFirst orders a client's secret records: those with an
// entry in its token item first (at most the secret limit's worth, plus
// expired ones until the next add forgets them), then the others.
func withTokenEntriesFirst(reg *layout.Registration, secrets []identity.Secret) []identity.Secret {
	entry := map[string]bool{}
	for _, sec := range reg.Secrets {
		entry[sec.ID] = true
	}
	out := make([]identity.Secret, 0, len(secrets))
	for _, sec := range secrets {
		if entry[sec.ID] {
			out = append(out, sec)
		}
	}
	for _, sec := range secrets {
		if !entry[sec.ID] {
			out = append(out, sec)
		}
	}
	return out
}

// deleteSecretRecords removes records of a client ahead of its delete, and
// counts them out of its RecordCount in the same transactions, so that the
// count stays true should the delete itself then fail.
func (d *Clients) deleteSecretRecords(ctx context.Context, clientID string, secrets []identity.Secret) error {
	for start := 0; start < len(secrets); start += maxTransactItems - 1 {
		end := min(start+maxTransactItems-1, len(secrets))
		var items []types.TransactWriteItem
		for _, sec := range secrets[start:end] {
			items = append(items, types.TransactWriteItem{Delete: &types.Delete{TableName: &d.table, Key: layout.Key(layout.ClientPK(sec.ClientID), layout.SecretSK(sec.ID))}})
		}
		items = append(items, d.uncounted(clientID, end-start))
		if _, err := d.transactCounted(ctx, items, len(items)-1, nil); err != nil {
			return err
		}
	}
	return nil
}
