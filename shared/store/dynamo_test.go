package store_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"identityservice/infra/testenv"
	"identityservice/shared/identity"
	"identityservice/shared/store"
)

var env *testenv.Env

func TestMain(m *testing.M) { testenv.Main(m, &env) }

// conflicting is the real DynamoDB Local client, except that its first
// conflicts transactions are cancelled with TransactionConflict, which the
// emulator never produces but real DynamoDB does under contention.
type conflicting struct {
	*dynamodb.Client
	conflicts atomic.Int32
	calls     atomic.Int32
}

func (c *conflicting) TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, opts ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	c.calls.Add(1)
	if c.conflicts.Add(-1) >= 0 {
		reasons := make([]types.CancellationReason, len(in.TransactItems))
		for i := range reasons {
			reasons[i] = types.CancellationReason{Code: aws.String("None")}
		}
		reasons[0].Code = aws.String("TransactionConflict")
		return nil, &types.TransactionCanceledException{Message: aws.String("Transaction cancelled"), CancellationReasons: reasons}
	}
	return c.Client.TransactWriteItems(ctx, in, opts...)
}

func newClient(tenantID string) (identity.Client, identity.Secret) {
	now := time.Now().UTC()
	c := identity.Client{TenantID: tenantID, ID: identity.NewID(), Kind: identity.ClientCredential, Name: "c", Enabled: true,
		RoleIDs: []string{identity.RoleAccountMember}, Tags: []string{}, Version: 1, CreatedAt: now, UpdatedAt: now}
	return c, identity.Secret{TenantID: tenantID, ClientID: c.ID, ID: identity.NewID(), CreatedAt: now}
}

func TestTransactionConflictsAreRetried(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name      string
		conflicts int32
		wantErr   error
		wantCalls int32
	}{
		{name: "two conflicts then success", conflicts: 2, wantCalls: 3},
		{name: "conflicts past the bound", conflicts: 100, wantErr: identity.ErrConcurrentUpdate, wantCalls: 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			api := &conflicting{Client: env.Clients.DynamoDB}
			api.conflicts.Store(tc.conflicts)
			st := store.New(api, env.Config.Table)
			tenant := identity.Tenant{ID: identity.NewID(), Name: "t", CreatedAt: time.Now()}
			if err := st.Tenants.CreateTenant(ctx, tenant); err != nil {
				t.Fatal(err)
			}
			c, sec := newClient(tenant.ID)
			err := st.Clients.CreateClient(ctx, c, sec, 10)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("err %v, want %v", err, tc.wantErr)
			}
			if got := api.calls.Load(); got != tc.wantCalls {
				t.Fatalf("%d transaction calls, want %d", got, tc.wantCalls)
			}
			_, getErr := st.Clients.GetClient(ctx, tenant.ID, identity.ClientCredential, c.ID)
			if (tc.wantErr == nil) != (getErr == nil) {
				t.Fatalf("client stored = %v, want %v", getErr == nil, tc.wantErr == nil)
			}
		})
	}
}

func TestCreateTenantTwice(t *testing.T) {
	st := store.New(env.Clients.DynamoDB, env.Config.Table)
	tenant := identity.Tenant{ID: identity.NewID(), Name: "t", CreatedAt: time.Now()}
	if err := st.Tenants.CreateTenant(context.Background(), tenant); err != nil {
		t.Fatal(err)
	}
	if err := st.Tenants.CreateTenant(context.Background(), tenant); identity.KindOf(err) != identity.KindConflict {
		t.Fatalf("second create: %v", err)
	}
}

// Each read of the API costs one DynamoDB request (docs/design.md, "Budgets"):
// counted here by wrapping the real client.
func TestRequestsPerRead(t *testing.T) {
	ctx := context.Background()
	counting := &countingAPI{API: env.Clients.DynamoDB}
	st := store.New(counting, env.Config.Table)
	tenant := identity.Tenant{ID: identity.NewID(), Name: "t", CreatedAt: time.Now()}
	if err := st.Tenants.CreateTenant(ctx, tenant); err != nil {
		t.Fatal(err)
	}
	c, sec := newClient(tenant.ID)
	for _, step := range []struct {
		name string
		run  func() error
		want int32
	}{
		{"create is one transaction", func() error { return st.Clients.CreateClient(ctx, c, sec, 10) }, 1},
		{"get", func() error {
			var err error
			c, err = st.Clients.GetClient(ctx, tenant.ID, identity.ClientCredential, c.ID)
			return err
		}, 1},
		{"list is the counter and one query", func() error {
			_, err := st.Clients.ListClients(ctx, tenant.ID, identity.ClientCredential, identity.ListOptions{Count: 10})
			return err
		}, 2},
		{"update is one transaction", func() error {
			next := c
			next.Name, next.Version = "n", c.Version+1
			return st.Clients.UpdateClient(ctx, c, next)
		}, 1},
		{"delete is two reads and one transaction", func() error {
			_, err := st.Clients.DeleteClient(ctx, tenant.ID, identity.ClientCredential, c.ID)
			return err
		}, 3},
	} {
		counting.n.Store(0)
		if err := step.run(); err != nil {
			t.Fatalf("%s: %v", step.name, err)
		}
		if got := counting.n.Load(); got != step.want {
			t.Errorf("%s: %d DynamoDB requests, want %d", step.name, got, step.want)
		}
	}
}

type countingAPI struct {
	store.API
	n atomic.Int32
}

func (c *countingAPI) GetItem(ctx context.Context, in *dynamodb.GetItemInput, o ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	c.n.Add(1)
	return c.API.GetItem(ctx, in, o...)
}
func (c *countingAPI) BatchGetItem(ctx context.Context, in *dynamodb.BatchGetItemInput, o ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error) {
	c.n.Add(1)
	return c.API.BatchGetItem(ctx, in, o...)
}
func (c *countingAPI) PutItem(ctx context.Context, in *dynamodb.PutItemInput, o ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	c.n.Add(1)
	return c.API.PutItem(ctx, in, o...)
}
func (c *countingAPI) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, o ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	c.n.Add(1)
	return c.API.UpdateItem(ctx, in, o...)
}
func (c *countingAPI) Query(ctx context.Context, in *dynamodb.QueryInput, o ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	c.n.Add(1)
	return c.API.Query(ctx, in, o...)
}
func (c *countingAPI) TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, o ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	c.n.Add(1)
	return c.API.TransactWriteItems(ctx, in, o...)
}
