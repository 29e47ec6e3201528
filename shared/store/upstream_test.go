package store_test

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"identityservice/shared/identity"
	"identityservice/shared/signin"
	"identityservice/shared/store"
)

// A tenant's upstream round-trips through DynamoDB Local with every field,
// under its own partition; every write is conditional on the version it
// was read at, so of two operators setting it at once one is refused.
func TestUpstreamStore(t *testing.T) {
	ctx := context.Background()
	st := store.NewUpstreams(env.Clients.DynamoDB, env.Config.Table)
	tenant := identity.NewID()

	if _, err := st.GetUpstream(ctx, tenant); !errors.Is(err, signin.ErrUpstreamNotFound) {
		t.Fatalf("get before set: %v, want ErrUpstreamNotFound", err)
	}
	want := signin.Upstream{
		TenantID: tenant, Issuer: "https://login.example.com/tenant-a", ClientID: "identity-service",
		AllowedDomains: []string{"example.com", "example.org"},
		RoleClaim:      "groups",
		RoleMap:        map[string][]string{"admins": {identity.RoleAccountAdministrator, identity.RoleAccountMember}, "staff": {identity.RoleAccountMember}},
		RoleRequired:   true,
		Updated:        time.Date(2026, 12, 5, 9, 0, 0, 123, time.UTC),
	}
	if err := st.PutUpstream(ctx, want); err != nil {
		t.Fatal(err)
	}
	got, err := st.GetUpstream(ctx, tenant)
	if err != nil {
		t.Fatal(err)
	}
	want.Version = 1
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("read back\n%+v\nwant\n%+v", got, want)
	}

	// The item is in the UPSTREAM# partition, which the sign-in function's
	// policy names (docs/storage.md).
	out, err := env.Clients.DynamoDB.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(env.Config.Table), Key: map[string]types.AttributeValue{
		"PK": &types.AttributeValueMemberS{Value: "UPSTREAM#" + tenant}, "SK": &types.AttributeValueMemberS{Value: "#UPSTREAM"}}})
	if err != nil || out.Item == nil {
		t.Fatalf("the item is not at UPSTREAM#%s / #UPSTREAM: %v", tenant, err)
	}

	t.Run("a create over an existing upstream is refused", func(t *testing.T) {
		again := want
		again.Version = 0
		again.ClientID = "someone-else"
		if err := st.PutUpstream(ctx, again); !errors.Is(err, signin.ErrUpstreamChanged) {
			t.Fatalf("put with version 0 over version 1: %v, want ErrUpstreamChanged", err)
		}
	})
	t.Run("a replace at the version read succeeds once", func(t *testing.T) {
		first, second := got, got
		first.AllowedDomains, first.RoleMap, first.RoleClaim, first.RoleRequired = nil, nil, "", false
		second.ClientID = "late"
		if err := st.PutUpstream(ctx, first); err != nil {
			t.Fatal(err)
		}
		if err := st.PutUpstream(ctx, second); !errors.Is(err, signin.ErrUpstreamChanged) {
			t.Fatalf("second put at the same version: %v, want ErrUpstreamChanged", err)
		}
		now, err := st.GetUpstream(ctx, tenant)
		if err != nil {
			t.Fatal(err)
		}
		if now.Version != 2 || now.ClientID != want.ClientID || len(now.AllowedDomains) != 0 || len(now.RoleMap) != 0 || now.RoleRequired {
			t.Fatalf("after the replace: %+v, want version 2 without domains or roles", now)
		}
	})
	t.Run("delete, twice", func(t *testing.T) {
		for range 2 {
			if err := st.DeleteUpstream(ctx, tenant); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := st.GetUpstream(ctx, tenant); !errors.Is(err, signin.ErrUpstreamNotFound) {
			t.Fatalf("get after delete: %v, want ErrUpstreamNotFound", err)
		}
	})
	t.Run("an item that lost an attribute is an error naming it", func(t *testing.T) {
		other := identity.NewID()
		_, err := env.Clients.DynamoDB.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(env.Config.Table), Item: map[string]types.AttributeValue{
			"PK": &types.AttributeValueMemberS{Value: "UPSTREAM#" + other}, "SK": &types.AttributeValueMemberS{Value: "#UPSTREAM"},
			"TenantId": &types.AttributeValueMemberS{Value: other}}})
		if err != nil {
			t.Fatal(err)
		}
		_, err = st.GetUpstream(ctx, other)
		if err == nil || errors.Is(err, signin.ErrUpstreamNotFound) || !containsAll(err.Error(), "Issuer", "ClientId", "Version") {
			t.Fatalf("get of a broken item: %v, want an error naming the missing attributes", err)
		}
	})
}

func containsAll(s string, parts ...string) bool {
	for _, p := range parts {
		if !strings.Contains(s, p) {
			return false
		}
	}
	return true
}
