package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"identityservice/shared/identity"
	"identityservice/shared/store/layout"
	"identityservice/shared/sweep"
)

// The sweeper's side of the table: the queues of the index ByExpiry (see
// the package comment and docs/sweeper.md), warning claims on the records,
// and the reconciliation cursors. Every read of due work is a Query of one
// queue for what is due, so a run reads what it has to do and not the
// table; every write is conditional on the record being as it was read.

// SweepQueue is the sweeper's side of the secret records: the queues of
// the index ByExpiry, warning claims, and the reconciliation's walks and
// cursors.
type SweepQueue struct{ base }

var _ sweep.Store = (*SweepQueue)(nil)

const (
	pendingPartitionPrefix = layout.PendingPartitionPrefix
	sweptPartition         = layout.SweptPartition

	pkSweeper = "SWEEPER"
	skCursors = "#CURSORS"

	// warnAttrPrefix + window days names a record's warning claim: a map
	// {E: expiration (unix s), S: "pending" | "sent", At: claim time (unix ms)}.
	warnAttrPrefix = "Warn"
	claimPending   = "pending"
	claimSent      = "sent"

	// duePage is the page size of the sweeper's queries.
	duePage = 100
)

// queueName is a queue's name in the index, before its shard.
func queueName(q sweep.Queue) string {
	switch q.Stage {
	case sweep.Inbox:
		return layout.ExpiryPartition
	case sweep.Pending:
		return pendingPartitionPrefix + strconv.Itoa(q.Pending)
	default:
		return sweptPartition
	}
}

// partition is the ExpiryPK of record r's secret in queue q.
func partition(q sweep.Queue, secretID string) string { return layout.ExpiryPK(queueName(q), secretID) }

// queueOf reads the queue of an ExpiryPK (<queue>#<shard>).
func queueOf(pk string) (sweep.Queue, bool) {
	i := strings.LastIndex(pk, "#")
	if i < 0 {
		return sweep.Queue{}, false
	}
	if shard, err := strconv.Atoi(pk[i+1:]); err != nil || shard < 0 || shard >= layout.ExpiryShards {
		return sweep.Queue{}, false
	}
	p := pk[:i]
	switch {
	case p == layout.ExpiryPartition:
		return sweep.Queue{Stage: sweep.Inbox}, true
	case p == sweptPartition:
		return sweep.Queue{Stage: sweep.Swept}, true
	case strings.HasPrefix(p, pendingPartitionPrefix):
		k, err := strconv.Atoi(strings.TrimPrefix(p, pendingPartitionPrefix))
		return sweep.Queue{Stage: sweep.Pending, Pending: k}, err == nil && k >= 0
	}
	return sweep.Queue{}, false
}

func warnAttr(days int) string { return warnAttrPrefix + strconv.Itoa(days) }

// claimNames are the expression attribute names of a claim's map (At is a
// reserved word; all three go through names alike).
func claimNames(days int) map[string]string {
	return map[string]string{"#w": warnAttr(days), "#E": "E", "#S": "S", "#At": "At"}
}

// SecretRecordItem is the stored item of a secret record, for bulk loads
// (BatchWriteItem) such as the sweeper's scale test.
func SecretRecordItem(sec identity.Secret) map[string]types.AttributeValue {
	return layout.SecretItem(sec)
}

// Due returns a page of the records in queue q due at or before upTo: the
// queue's shards are queried in turn (the cursor says which and where),
// each in ExpiresAt order. A shard with nothing due costs one request that
// reads no item.
func (d *SweepQueue) Due(ctx context.Context, q sweep.Queue, upTo time.Time, after string) ([]sweep.Record, string, error) {
	var c walkCursor
	if after != "" {
		if err := json.Unmarshal([]byte(after), &c); err != nil || c.Partition < 0 || c.Partition >= layout.ExpiryShards {
			return nil, "", fmt.Errorf("due cursor %q: unreadable", after)
		}
	}
	shards := make([]string, layout.ExpiryShards)
	for n := range shards {
		shards[n] = layout.ShardKey(queueName(q), n)
	}
	return walkExpiry(ctx, d, shards, c, "ExpiryPK = :q AND ExpiresAt <= :t", upTo, duePage, func(it item) (sweep.Record, bool) {
		return decodeRecord(it), true
	})
}

func decodeRecord(it item) sweep.Record {
	sec, err := layout.DecodeSecret(it)
	r := layout.Reader{It: it}
	rec := sweep.Record{Secret: sec, Problem: err, Warnings: map[int]sweep.Claim{}}
	p := r.Str(layout.AttrExpiryPK, true)
	q, ok := queueOf(p)
	if !ok && rec.Problem == nil {
		rec.Problem = fmt.Errorf("attribute %s: unknown queue %q", layout.AttrExpiryPK, p)
	}
	rec.Queue = q
	rec.DueAt = time.Unix(r.Num(layout.AttrExpiresAt, true), 0).UTC()
	for name, v := range it {
		days, err := strconv.Atoi(strings.TrimPrefix(name, warnAttrPrefix))
		if !strings.HasPrefix(name, warnAttrPrefix) || err != nil {
			continue
		}
		m, ok := v.(*types.AttributeValueMemberM)
		if !ok {
			continue
		}
		cr := layout.Reader{It: m.Value}
		rec.Warnings[days] = sweep.Claim{
			Expiration: time.Unix(cr.Num("E", true), 0).UTC(),
			Sent:       cr.Str("S", true) == claimSent,
			ClaimedAt:  time.UnixMilli(cr.Num("At", true)).UTC(),
		}
	}
	if rec.Problem == nil {
		rec.Problem = r.Err
	}
	return rec
}

func recordKey(r sweep.Record) item {
	return layout.Key(layout.ClientPK(r.Secret.ClientID), layout.SecretSK(r.Secret.ID))
}

// ClaimWarning claims r's warning for a window with a conditional write.
func (d *SweepQueue) ClaimWarning(ctx context.Context, r sweep.Record, days int, at, staleBefore time.Time) (bool, error) {
	if r.Secret.Expiration == nil {
		return false, nil
	}
	exp := r.Secret.Expiration.Unix()
	_, err := d.api.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:        &d.table,
		Key:              recordKey(r),
		UpdateExpression: aws.String("SET #w = :claim"),
		ConditionExpression: aws.String("ExpiresAt = :e AND attribute_not_exists(DeletedAt) AND attribute_not_exists(SweptAt)" +
			" AND (attribute_not_exists(#w) OR #w.#E <> :e OR (#w.#S = :pending AND #w.#At < :stale))"),
		ExpressionAttributeNames: claimNames(days),
		ExpressionAttributeValues: item{
			":claim":   &types.AttributeValueMemberM{Value: item{"E": layout.N(exp), "S": layout.S(claimPending), "At": layout.N(at.UnixMilli())}},
			":e":       layout.N(exp),
			":pending": layout.S(claimPending),
			":stale":   layout.N(staleBefore.UnixMilli()),
		},
	})
	return conditional("claim warning", err)
}

// claimHeld is the condition that the claim made at instant at is still
// this run's and not yet sent.
func claimHeld(r sweep.Record, days int, at time.Time) (string, map[string]string, item) {
	return "#w.#E = :e AND #w.#At = :at AND #w.#S = :pending",
		claimNames(days),
		item{":e": layout.N(r.Secret.Expiration.Unix()), ":at": layout.N(at.UnixMilli()), ":pending": layout.S(claimPending)}
}

// ConfirmWarning marks a claim sent. A claim taken over meanwhile is left
// to its new holder.
func (d *SweepQueue) ConfirmWarning(ctx context.Context, r sweep.Record, days int, at time.Time) error {
	cond, names, values := claimHeld(r, days, at)
	values[":sent"] = layout.S(claimSent)
	_, err := conditional("confirm warning", d.updateItem(ctx, r, "SET #w.#S = :sent", cond, names, values))
	return err
}

// ReleaseWarning withdraws a claim, so that the next run sends the warning.
func (d *SweepQueue) ReleaseWarning(ctx context.Context, r sweep.Record, days int, at time.Time) error {
	cond, names, values := claimHeld(r, days, at)
	_, err := conditional("release warning", d.updateItem(ctx, r, "REMOVE #w", cond, names, values))
	return err
}

func (d *SweepQueue) updateItem(ctx context.Context, r sweep.Record, update, cond string, names map[string]string, values item) error {
	in := &dynamodb.UpdateItemInput{
		TableName:                 &d.table,
		Key:                       recordKey(r),
		UpdateExpression:          aws.String(update),
		ConditionExpression:       aws.String(cond),
		ExpressionAttributeValues: values,
	}
	if len(names) > 0 {
		in.ExpressionAttributeNames = names
	}
	_, err := d.api.UpdateItem(ctx, in)
	return err
}

// unchanged is the condition that a record is where and as the sweeper read
// it: same queue, same time in the index.
func unchanged(r sweep.Record) (string, item) {
	return "ExpiryPK = :q AND ExpiresAt = :due", item{":q": layout.S(partition(r.Queue, r.Secret.ID)), ":due": layout.N(r.DueAt.Unix())}
}

// Move puts r in another queue once the warnings of the windows sent are
// sent for its expiration.
func (d *SweepQueue) Move(ctx context.Context, r sweep.Record, to sweep.Queue, sent []int) (bool, error) {
	if r.Secret.Expiration == nil {
		return false, nil
	}
	cond, values := unchanged(r)
	cond += " AND attribute_not_exists(DeletedAt) AND attribute_not_exists(SweptAt)"
	names := map[string]string{}
	for _, days := range sent {
		alias := "#w" + strconv.Itoa(days)
		names[alias] = warnAttr(days)
		names["#E"], names["#S"] = "E", "S"
		cond += " AND " + alias + ".#E = :e AND " + alias + ".#S = :sent"
	}
	values[":to"] = layout.S(partition(to, r.Secret.ID))
	if len(sent) > 0 {
		values[":e"] = layout.N(r.Secret.Expiration.Unix())
		values[":sent"] = layout.S(claimSent)
	}
	return conditional("move secret record", d.updateItem(ctx, r, "SET ExpiryPK = :to", cond, names, values))
}

// MarkSwept moves r to the swept queue and records when.
func (d *SweepQueue) MarkSwept(ctx context.Context, r sweep.Record, at time.Time) (bool, error) {
	cond, values := unchanged(r)
	values[":swept"] = layout.S(partition(sweep.Queue{Stage: sweep.Swept}, r.Secret.ID))
	values[":at"] = layout.Ts(at)
	return conditional("mark secret swept", d.updateItem(ctx, r, "SET ExpiryPK = :swept, SweptAt = :at", cond, nil, values))
}

// Remove deletes a swept record, counts it out of its client's RecordCount
// and drops its entry from the token item (an expired secret keeps its
// entry until the client's next add), in one transaction, so that no entry
// outlives its record. A token item without the count, or no token item, is
// left alone.
func (d *SweepQueue) Remove(ctx context.Context, r sweep.Record) (bool, error) {
	cond, values := unchanged(r)
	reasons, err := d.transactCounted(ctx, []types.TransactWriteItem{
		{Delete: &types.Delete{TableName: &d.table, Key: recordKey(r),
			ConditionExpression: aws.String(cond), ExpressionAttributeValues: values}},
		d.forget(r.Secret.ClientID, r.Secret.ID, true),
	}, 1, nil)
	if err != nil {
		return false, err
	}
	return reasons == nil, nil
}

// RecordStates reads the records of up to 100 pieces of material in one
// strongly consistent BatchGetItem.
func (d *SweepQueue) RecordStates(ctx context.Context, refs []identity.MaterialRef) ([]sweep.RecordState, error) {
	if len(refs) > 100 {
		return nil, fmt.Errorf("record states of %d refs: at most 100", len(refs))
	}
	seen := map[string]bool{}
	var keys []item
	for _, ref := range refs {
		k := layout.ClientPK(ref.ClientID) + "|" + layout.SecretSK(ref.SecretID)
		if !seen[k] {
			seen[k] = true
			keys = append(keys, layout.Key(layout.ClientPK(ref.ClientID), layout.SecretSK(ref.SecretID)))
		}
	}
	states := make([]sweep.RecordState, len(refs))
	if len(keys) == 0 {
		return states, nil
	}
	found, err := d.batchGet(ctx, keys)
	if err != nil {
		return nil, err
	}
	byKey := map[string]item{}
	for _, it := range found {
		r := layout.Reader{It: it}
		byKey[r.Str(layout.AttrPK, true)+"|"+r.Str(layout.AttrSK, true)] = it
	}
	for i, ref := range refs {
		it, ok := byKey[layout.ClientPK(ref.ClientID)+"|"+layout.SecretSK(ref.SecretID)]
		r := layout.Reader{It: it}
		switch {
		case !ok || r.Str("TenantId", true) != ref.TenantID:
			states[i] = sweep.NoRecord
		case r.Num(layout.AttrPack, false) != int64(ref.Pack):
			// The record's material is elsewhere (a pack, since the
			// migration moved it; or another pack): this copy is no one's.
			states[i] = sweep.NoRecord
		case it["SweptAt"] != nil || it["DeletedAt"] != nil:
			states[i] = sweep.Finished
		default:
			states[i] = sweep.Live
		}
	}
	return states, nil
}

// activePartitions are the index partitions (queues and their shards)
// that may hold active records, in the order the records walk visits them.
func activePartitions() []string {
	queues := []string{layout.NoExpiryPartition, layout.ExpiryPartition}
	for k := 0; k <= sweep.MaxWarningWindows; k++ {
		queues = append(queues, queueName(sweep.Queue{Stage: sweep.Pending, Pending: k}))
	}
	var ps []string
	for _, q := range queues {
		for shard := range layout.ExpiryShards {
			ps = append(ps, layout.ShardKey(q, shard))
		}
	}
	return ps
}

// walkCursor is a position in the records walk: a partition and the last
// key read there.
type walkCursor struct {
	Partition int    `json:"p"`
	Key       string `json:"k,omitempty"`
}

// ActiveRecords returns the next page of the records walk: secrets that
// never expire, and those whose expiration is after now.
func (d *SweepQueue) ActiveRecords(ctx context.Context, cursor string, limit int, now time.Time) ([]identity.Secret, string, error) {
	var c walkCursor
	if cursor != "" {
		if err := json.Unmarshal([]byte(cursor), &c); err != nil {
			c = walkCursor{} // unreadable: start over
		}
	}
	parts := activePartitions()
	if c.Partition < 0 || c.Partition >= len(parts) {
		c = walkCursor{}
	}
	return walkExpiry(ctx, d, parts, c, "ExpiryPK = :q AND ExpiresAt > :t", now, int32(max(limit, 1)), func(it item) (identity.Secret, bool) {
		sec, err := layout.DecodeSecret(it)
		return sec, err == nil
	})
}

// walkExpiry returns the next page of a walk over the expiry index's
// partitions parts, from c: each partition is queried in ExpiresAt order
// with cond (:q the partition, :t the time), limit items a request; keep
// decodes an item (false: left out). A partition with nothing to give
// costs one request that reads no item, and the walk goes on to the next;
// the cursor is "" once the last partition is done.
func walkExpiry[T any](ctx context.Context, d *SweepQueue, parts []string, c walkCursor, cond string, t time.Time, limit int32, keep func(item) (T, bool)) ([]T, string, error) {
	for {
		p := parts[c.Partition]
		in := &dynamodb.QueryInput{
			TableName:                 &d.table,
			IndexName:                 aws.String(layout.ExpiryIndex),
			KeyConditionExpression:    aws.String(cond),
			ExpressionAttributeValues: item{":q": layout.S(p), ":t": layout.N(t.Unix())},
			Limit:                     aws.Int32(limit),
		}
		if c.Key != "" {
			k, err := decodeCursorKey(c.Key)
			if err != nil {
				return nil, "", err
			}
			in.ExclusiveStartKey = k
		}
		out, err := d.api.Query(ctx, in)
		if err != nil {
			return nil, "", storageError("query "+p, err)
		}
		page := make([]T, 0, len(out.Items))
		for _, it := range out.Items {
			if v, ok := keep(it); ok {
				page = append(page, v)
			}
		}
		if c.Key, err = encodeCursorKey(out.LastEvaluatedKey); err != nil {
			return nil, "", err
		}
		if c.Key == "" {
			c.Partition++
			if c.Partition == len(parts) {
				return page, "", nil // the walk is complete
			}
		}
		if len(page) > 0 {
			b, err := json.Marshal(c)
			return page, string(b), err
		}
	}
}

// StillActive reads a secret's record again, strongly consistent.
func (d *SweepQueue) StillActive(ctx context.Context, sec identity.Secret, now time.Time) (bool, error) {
	out, err := d.api.GetItem(ctx, &dynamodb.GetItemInput{TableName: &d.table, Key: layout.Key(layout.ClientPK(sec.ClientID), layout.SecretSK(sec.ID)), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return false, storageError("get secret", err)
	}
	if out.Item == nil || out.Item["SweptAt"] != nil {
		return false, nil
	}
	cur, err := layout.DecodeSecret(out.Item)
	if err != nil {
		return false, identity.Internal("decode secret "+sec.ID, err)
	}
	return cur.TenantID == sec.TenantID && cur.Active(now), nil
}

// LoadCursors reads the reconciliation cursors.
func (d *SweepQueue) LoadCursors(ctx context.Context) (sweep.Cursors, error) {
	out, err := d.api.GetItem(ctx, &dynamodb.GetItemInput{TableName: &d.table, Key: layout.Key(pkSweeper, skCursors), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return sweep.Cursors{}, storageError("get sweeper cursors", err)
	}
	r := layout.Reader{It: out.Item}
	return sweep.Cursors{Material: r.Str("Material", false), Records: r.Str("Records", false)}, nil
}

// SaveCursors stores the reconciliation cursors. Overlapping runs may
// overwrite each other's: the walks then repeat a little, which is harmless.
func (d *SweepQueue) SaveCursors(ctx context.Context, c sweep.Cursors) error {
	it := layout.Key(pkSweeper, skCursors)
	it["Type"] = layout.S("SweeperCursors")
	it["Material"] = layout.S(c.Material)
	it["Records"] = layout.S(c.Records)
	if _, err := d.api.PutItem(ctx, &dynamodb.PutItemInput{TableName: &d.table, Item: it}); err != nil {
		return storageError("put sweeper cursors", err)
	}
	return nil
}

// encodeCursorKey turns a LastEvaluatedKey (string and number attributes)
// into an opaque string; nil becomes "".
func encodeCursorKey(k item) (string, error) {
	if len(k) == 0 {
		return "", nil
	}
	m := map[string][2]string{}
	for name, v := range k {
		switch v := v.(type) {
		case *types.AttributeValueMemberS:
			m[name] = [2]string{"S", v.Value}
		case *types.AttributeValueMemberN:
			m[name] = [2]string{"N", v.Value}
		default:
			return "", fmt.Errorf("cursor key attribute %s: unsupported type %T", name, v)
		}
	}
	b, err := json.Marshal(m)
	return string(b), err
}

func decodeCursorKey(c string) (item, error) {
	var m map[string][2]string
	if err := json.Unmarshal([]byte(c), &m); err != nil {
		return nil, fmt.Errorf("cursor %q: %w", c, err)
	}
	k := item{}
	for name, v := range m {
		switch v[0] {
		case "S":
			k[name] = layout.S(v[1])
		case "N":
			k[name] = &types.AttributeValueMemberN{Value: v[1]}
		default:
			return nil, fmt.Errorf("cursor %q: attribute %s of type %q", c, name, v[0])
		}
	}
	return k, nil
}
