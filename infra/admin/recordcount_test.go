package main

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"identityservice/shared/identity"
)

// A token item without RecordCount (written before it existed) keeps
// working: removals leave the count absent, the next add counts the
// records and writes it, and `admin migrate` sets it from the records
// (again: no change), also over a count that drifted.
func TestRecordCountWithoutCounter(t *testing.T) {
	ctx := context.Background()
	svc := env.Service(nil)
	ten, err := svc.CreateTenant(ctx, "", "record counts", 0)
	if err != nil {
		t.Fatal(err)
	}
	kind := identity.ClientCredential
	c, err := svc.CreateClient(ctx, ten.ID, identity.NewClient{Kind: kind, Name: "old"})
	if err != nil {
		t.Fatal(err)
	}
	clientID := c.Client.ID
	add := func() string {
		t.Helper()
		s, err := svc.AddSecret(ctx, ten.ID, kind, clientID, "", "Description", nil, "Expiration")
		if err != nil {
			t.Fatal(err)
		}
		return s.Secret.ID
	}
	set := func(update string, values map[string]types.AttributeValue) {
		t.Helper()
		in := &dynamodb.UpdateItemInput{TableName: &env.Config.Table, UpdateExpression: aws.String(update), ExpressionAttributeValues: values,
			Key: map[string]types.AttributeValue{"PK": sv("CLIENT#" + clientID), "SK": sv("#CLIENT")}}
		if _, err := env.Clients.DynamoDB.UpdateItem(ctx, in); err != nil {
			t.Fatal(err)
		}
	}
	counted := func(want int, present bool) {
		t.Helper()
		n, ok := env.RecordCount(t, clientID)
		if ok != present || (present && n != want) {
			t.Fatalf("RecordCount %d (present %v); want %d (present %v)", n, ok, want, present)
		}
	}
	soft, hard := add(), add()
	if _, err := svc.SoftDeleteSecret(ctx, ten.ID, kind, clientID, soft); err != nil {
		t.Fatal(err)
	}
	counted(3, true)

	set("REMOVE RecordCount", nil)
	if err := svc.DeleteSecret(ctx, ten.ID, kind, clientID, hard); err != nil {
		t.Fatalf("hard delete without a count: %v", err)
	}
	counted(0, false)
	if n := env.SecretItems(t, clientID); n != 2 {
		t.Fatalf("%d records after the hard delete, want 2", n)
	}
	// The sweeper's purge of the soft-deleted record, past the retention.
	env.Sweep(t, func() time.Time { return time.Now().Add(31 * 24 * time.Hour) })
	env.Sweep(t, func() time.Time { return time.Now().Add(31 * 24 * time.Hour) })
	counted(0, false)
	if n := env.SecretItems(t, clientID); n != 1 {
		t.Fatalf("%d records after the purge, want 1", n)
	}
	add()
	counted(2, true) // counted: the first secret and the new one

	migrate := func() {
		t.Helper()
		var out bytes.Buffer
		if err := run(ctx, []string{"migrate"}, &out); err != nil {
			t.Fatalf("admin migrate: %v", err)
		}
	}
	set("REMOVE RecordCount", nil)
	migrate()
	counted(2, true)
	migrate()
	counted(2, true)
	set("SET RecordCount = :n", map[string]types.AttributeValue{":n": nv(42)})
	migrate()
	counted(2, true)
	if n := env.SecretItems(t, clientID); n != 2 {
		t.Fatalf("%d records, want 2", n)
	}
}
