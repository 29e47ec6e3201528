package testenv

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"identityservice/infra/testenv/awscalls"
	"identityservice/shared/sweep"
)

// RecordCount reads the RecordCount of a client's token item (the
// CLIENT#<id> / #CLIENT item); ok is false when the item has none.
func (e *Env) RecordCount(t testing.TB, clientID string) (count int, ok bool) {
	t.Helper()
	out, err := e.Clients.DynamoDB.GetItem(context.Background(), &dynamodb.GetItemInput{TableName: &e.Config.Table,
		Key:            map[string]ddbtypes.AttributeValue{"PK": &ddbtypes.AttributeValueMemberS{Value: "CLIENT#" + clientID}, "SK": &ddbtypes.AttributeValueMemberS{Value: "#CLIENT"}},
		ConsistentRead: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	v, ok := out.Item["RecordCount"].(*ddbtypes.AttributeValueMemberN)
	if !ok {
		return 0, false
	}
	n, err := strconv.Atoi(v.Value)
	if err != nil {
		t.Fatalf("RecordCount %q of client %s: %v", v.Value, clientID, err)
	}
	return n, true
}

// SecretItems counts a client's SECRET# items, retained ones included.
func (e *Env) SecretItems(t testing.TB, clientID string) int {
	t.Helper()
	p := dynamodb.NewQueryPaginator(e.Clients.DynamoDB, &dynamodb.QueryInput{TableName: &e.Config.Table,
		KeyConditionExpression: aws.String("PK = :pk AND begins_with(SK, :secret)"),
		ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{
			":pk": &ddbtypes.AttributeValueMemberS{Value: "CLIENT#" + clientID}, ":secret": &ddbtypes.AttributeValueMemberS{Value: "SECRET#"}},
		ConsistentRead: aws.Bool(true)})
	n := 0
	for p.HasMorePages() {
		out, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		n += len(out.Items)
	}
	return n
}

// ClientItems renders every item of a client's partition (its token item
// and secret records), in key order with sorted attributes, so that a test
// can tell whether a request changed any of them.
func (e *Env) ClientItems(t testing.TB, clientID string) string {
	t.Helper()
	p := dynamodb.NewQueryPaginator(e.Clients.DynamoDB, &dynamodb.QueryInput{TableName: &e.Config.Table,
		KeyConditionExpression:    aws.String("PK = :pk"),
		ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{":pk": &ddbtypes.AttributeValueMemberS{Value: "CLIENT#" + clientID}},
		ConsistentRead:            aws.Bool(true)})
	var b strings.Builder
	for p.HasMorePages() {
		out, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range out.Items {
			b.WriteString(render(&ddbtypes.AttributeValueMemberM{Value: it}) + "\n")
		}
	}
	return b.String()
}

func render(v ddbtypes.AttributeValue) string {
	switch v := v.(type) {
	case *ddbtypes.AttributeValueMemberS:
		return strconv.Quote(v.Value)
	case *ddbtypes.AttributeValueMemberN:
		return v.Value
	case *ddbtypes.AttributeValueMemberBOOL:
		return strconv.FormatBool(v.Value)
	case *ddbtypes.AttributeValueMemberL:
		parts := make([]string, len(v.Value))
		for i, e := range v.Value {
			parts[i] = render(e)
		}
		return "[" + strings.Join(parts, ",") + "]"
	case *ddbtypes.AttributeValueMemberM:
		names := make([]string, 0, len(v.Value))
		for k := range v.Value {
			names = append(names, k)
		}
		sort.Strings(names)
		parts := make([]string, len(names))
		for i, k := range names {
			parts[i] = k + ":" + render(v.Value[k])
		}
		return "{" + strings.Join(parts, ",") + "}"
	}
	return fmt.Sprintf("%T", v)
}

// Sweep runs the sweeper once on the environment's table at the clock's
// instant, as SweeperFunction (its calls are checked against its policy):
// expired and soft-deleted material is destroyed, records past the default
// retention are purged. Warnings and reconciliation are off.
func (e *Env) Sweep(t testing.TB, now func() time.Time) sweep.Counts {
	t.Helper()
	_, clients := e.As(awscalls.Tag{Function: "SweeperFunction", Stack: e.IAMStack("", "")})
	set := sweep.DefaultSettings()
	set.WarningDays = nil
	set.ReconcileBatch = 0
	log := slog.New(slog.NewJSONHandler(io.Discard, nil))
	sw := e.Config.Sweeper(clients, noWarnings{}, set, log, log)
	sw.Now = now
	c, err := sw.Run(context.Background())
	if err != nil {
		t.Fatalf("sweep: %v", err)
	}
	return c
}

// Reconcile runs the sweeper's reconciliation over all the material and
// records (as SweeperFunction) at the clock's instant, which should be
// past MaterialMinAge after the material to reconcile was written:
// material without a live record is destroyed.
func (e *Env) Reconcile(t testing.TB, now func() time.Time) sweep.Counts {
	t.Helper()
	_, clients := e.As(awscalls.Tag{Function: "SweeperFunction", Stack: e.IAMStack("", "")})
	set := sweep.DefaultSettings()
	set.WarningDays = nil
	set.ReconcileBatch = 1 << 20
	set.Budget = 10 * time.Minute
	log := slog.New(slog.NewJSONHandler(io.Discard, nil))
	sw := e.Config.Sweeper(clients, noWarnings{}, set, log, log)
	sw.Now = now
	c, err := sw.Run(context.Background())
	if err != nil {
		t.Fatalf("reconcile: %v", err)
	}
	return c
}

// noWarnings is the publisher of Sweep, whose warnings are off.
type noWarnings struct{}

func (noWarnings) SecretExpiring(context.Context, sweep.Warning) error { return nil }
