package store

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"identityservice/shared/identity"
	"identityservice/shared/store/layout"
	"identityservice/shared/sweep"
)

// The sweeper's last run: one item, SWEEPER / #LASTRUN, written by the
// sweeper at the end of every run and read by the operations dashboard.
// Summary holds the sweep.LastRun as JSON (the dashboard shows it whole);
// FinishedAt (unix nanoseconds) orders overlapping runs.
const skLastRun = "#LASTRUN"

// SweepRuns keeps the summary of the sweeper's last run.
type SweepRuns struct{ base }

var _ sweep.RunRecorder = (*SweepRuns)(nil)

// RecordRun stores r as the last run, unless a run that finished later is
// already stored.
func (d *SweepRuns) RecordRun(ctx context.Context, r sweep.LastRun) error {
	summary, err := json.Marshal(r)
	if err != nil {
		return identity.Internal("encode sweep summary", err)
	}
	it := layout.Key(pkSweeper, skLastRun)
	it["Type"] = layout.S("SweeperLastRun")
	it["Summary"] = layout.S(string(summary))
	it["FinishedAt"] = layout.N(r.FinishedAt.UnixNano())
	_, err = d.api.PutItem(ctx, &dynamodb.PutItemInput{TableName: &d.table, Item: it,
		ConditionExpression:       aws.String("attribute_not_exists(FinishedAt) OR FinishedAt <= :f"),
		ExpressionAttributeValues: item{":f": layout.N(r.FinishedAt.UnixNano())}})
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return nil // a later run's summary is stored
	}
	if err != nil {
		return storageError("put sweep summary", err)
	}
	return nil
}

// LastRun returns the last run's summary; false when no run has recorded
// one yet.
func (d *SweepRuns) LastRun(ctx context.Context) (sweep.LastRun, bool, error) {
	out, err := d.api.GetItem(ctx, &dynamodb.GetItemInput{TableName: &d.table, Key: layout.Key(pkSweeper, skLastRun),
		ProjectionExpression: aws.String("Summary")})
	if err != nil {
		return sweep.LastRun{}, false, storageError("get sweep summary", err)
	}
	if out.Item == nil {
		return sweep.LastRun{}, false, nil
	}
	r := layout.Reader{It: out.Item}
	raw := r.Str("Summary", true)
	if r.Err != nil {
		return sweep.LastRun{}, false, identity.Internal("decode sweep summary", r.Err)
	}
	var run sweep.LastRun
	if err := json.Unmarshal([]byte(raw), &run); err != nil {
		return sweep.LastRun{}, false, identity.Internal("decode sweep summary", err)
	}
	return run, true, nil
}
