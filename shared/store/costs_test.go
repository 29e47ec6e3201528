package store_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"identityservice/infra/testenv/meter"
	"identityservice/shared/identity"
	"identityservice/shared/store"
	"identityservice/shared/vault"
)

// countingVault counts verifier reads (Secrets Manager GetSecretValue).
type countingVault struct {
	identity.Vault
	reads atomic.Int32
}

func (v *countingVault) Verifier(ctx context.Context, ref identity.MaterialRef) ([]byte, error) {
	v.reads.Add(1)
	return v.Vault.Verifier(ctx, ref)
}

// meteredService is a service whose DynamoDB reads are metered and whose
// verifier reads are counted.
func meteredService(t *testing.T) (*identity.Service, *meter.DynamoDB, *countingVault) {
	t.Helper()
	m := meter.New(env.Clients.DynamoDB)
	v := &countingVault{Vault: vault.New(env.Clients.SecretsManager, env.Config.SecretPrefix)}
	return &identity.Service{Stores: store.New(m, env.Config.Table).Identity(), Vault: v, SealKeys: vault.NewSealKey(env.Clients.SecretsManager, env.Config.SecretPrefix)}, m, v
}

// putItems writes items straight to the table, 25 per BatchWriteItem.
func putItems(t *testing.T, items []map[string]types.AttributeValue) {
	t.Helper()
	for start := 0; start < len(items); start += 25 {
		var reqs []types.WriteRequest
		for _, it := range items[start:min(start+25, len(items))] {
			reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: it}})
		}
		req := map[string][]types.WriteRequest{env.Config.Table: reqs}
		for len(req) > 0 {
			out, err := env.Clients.DynamoDB.BatchWriteItem(context.Background(), &dynamodb.BatchWriteItemInput{RequestItems: req})
			if err != nil {
				t.Fatal(err)
			}
			req = out.UnprocessedItems
		}
	}
}

// A warm token request reads one item, strongly consistent, of at most one
// read unit, and makes no Secrets Manager call, for a client with 10 active
// secrets and 100 retained records (soft-deleted and expired); validity is
// still live.
func TestTokenIsOneSmallRead(t *testing.T) {
	ctx := context.Background()
	svc, m, v := meteredService(t)
	ten, err := svc.CreateTenant(ctx, "", "token costs", 0)
	if err != nil {
		t.Fatal(err)
	}
	exp := time.Now().UTC().Add(48 * time.Hour)
	roles := []string{identity.RoleAccountAdministrator, identity.RoleAccountMember}
	created, err := svc.CreateClient(ctx, ten.ID, identity.NewClient{Kind: identity.ClientCredential, Name: "token costs", RoleIDs: &roles, SecretExpiration: &exp})
	if err != nil {
		t.Fatal(err)
	}
	clientID := created.Client.ID
	var last identity.CreatedSecret
	for range identity.MaxSecretsPerClient - 1 {
		if last, err = svc.AddSecret(ctx, ten.ID, identity.ClientCredential, clientID, "rotation", "Description", &exp, "Expiration"); err != nil {
			t.Fatal(err)
		}
	}
	// 100 retained records, below the API: 50 soft-deleted, 50 expired.
	var retained []map[string]types.AttributeValue
	past := time.Now().UTC().Add(-time.Hour)
	for i := range 100 {
		sec := identity.Secret{TenantID: ten.ID, ClientID: clientID, ID: identity.NewID(), Kind: identity.ClientCredential,
			Description: "retained", CreatedAt: past.Add(-24 * time.Hour), Expiration: &past}
		if i%2 == 0 {
			sec.Expiration, sec.DeletedAt = &exp, &past
		}
		retained = append(retained, store.SecretRecordItem(sec))
	}
	putItems(t, retained)
	if _, err := svc.AddSecret(ctx, ten.ID, identity.ClientCredential, clientID, "11th", "Description", nil, "Expiration"); !errors.Is(err, identity.ErrSecretLimit) {
		t.Fatalf("an 11th active secret: %v, want the secret limit", err)
	}

	// Cold: the verifiers come from Secrets Manager once.
	for _, secret := range []string{created.SecretString, last.SecretString} {
		if _, err := svc.AuthenticateClient(ctx, clientID, secret); err != nil {
			t.Fatal(err)
		}
	}
	m.Reset()
	v.reads.Store(0)
	// Warm.
	c, err := svc.AuthenticateClient(ctx, clientID, last.SecretString)
	if err != nil {
		t.Fatal(err)
	}
	r := m.Reset()
	t.Logf("warm token request, 10 active secrets and 100 retained records: %d read request(s), %d item(s), %.1f read units, %d verifier reads", r.Requests, r.Items, r.Units, v.reads.Load())
	if r.Requests != 1 || r.Items != 1 || r.Inconsistent != 0 || r.Units > 1 || r.Units <= 0 {
		t.Fatalf("warm token request read %+v; want one strongly consistent item of at most 1 read unit", r)
	}
	if r.Writes != 0 {
		t.Fatalf("warm token request in an hour already recorded made %d writes, want 0", r.Writes)
	}
	if n := v.reads.Load(); n != 0 {
		t.Fatalf("warm token request read %d verifiers from Secrets Manager, want 0", n)
	}
	if c.TenantID != ten.ID || !c.Enabled || len(c.RoleIDs) != 2 {
		t.Fatalf("authenticated client %+v", c)
	}

	// Validity stays live: disabling the client, or deleting the secret,
	// refuses the next request at once (cached verifier or not).
	disabled := false
	if _, err := svc.UpdateClient(ctx, ten.ID, identity.ClientCredential, clientID, identity.ClientPatch{Enabled: &disabled}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.AuthenticateClient(ctx, clientID, last.SecretString); !errors.Is(err, identity.ErrInvalidClient) {
		t.Fatalf("disabled client: %v, want invalid_client", err)
	}
	enabled := true
	if _, err := svc.UpdateClient(ctx, ten.ID, identity.ClientCredential, clientID, identity.ClientPatch{Enabled: &enabled}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.AuthenticateClient(ctx, clientID, last.SecretString); err != nil {
		t.Fatalf("enabled again: %v", err)
	}
	if err := svc.DeleteSecret(ctx, ten.ID, identity.ClientCredential, clientID, last.Secret.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.AuthenticateClient(ctx, clientID, last.SecretString); !errors.Is(err, identity.ErrInvalidClient) {
		t.Fatalf("deleted secret: %v, want invalid_client", err)
	}
	if _, err := svc.SoftDeleteSecret(ctx, ten.ID, identity.ClientCredential, clientID, created.Secret.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.AuthenticateClient(ctx, clientID, created.SecretString); !errors.Is(err, identity.ErrInvalidClient) {
		t.Fatalf("soft-deleted secret: %v, want invalid_client", err)
	}
	// Two secrets left the token item: two more can be added.
	for range 2 {
		if _, err := svc.AddSecret(ctx, ten.ID, identity.ClientCredential, clientID, "again", "Description", nil, "Expiration"); err != nil {
			t.Fatalf("add after two deletions: %v", err)
		}
	}
}

// LastUsed is the start of the hour of a secret's latest successful token
// request, written once per hour: the other requests of the hour read one
// item and write nothing.
func TestLastUsedOncePerHour(t *testing.T) {
	ctx := context.Background()
	svc, m, _ := meteredService(t)
	now := time.Date(2031, 5, 6, 10, 5, 0, 0, time.UTC)
	svc.Now = func() time.Time { return now }
	ten, err := svc.CreateTenant(ctx, "", "last used", 0)
	if err != nil {
		t.Fatal(err)
	}
	created, err := svc.CreateClient(ctx, ten.ID, identity.NewClient{Kind: identity.ClientCredential, Name: "used"})
	if err != nil {
		t.Fatal(err)
	}
	unused, err := svc.AddSecret(ctx, ten.ID, identity.ClientCredential, created.Client.ID, "never used", "Description", nil, "Expiration")
	if err != nil {
		t.Fatal(err)
	}
	lastUsed := func(secretID string) *time.Time {
		t.Helper()
		sec, err := svc.GetSecret(ctx, ten.ID, identity.ClientCredential, created.Client.ID, secretID)
		if err != nil {
			t.Fatal(err)
		}
		return sec.LastUsed
	}
	if lastUsed(created.Secret.ID) != nil {
		t.Fatal("a new secret has a LastUsed")
	}
	for _, step := range []struct {
		at     time.Time
		writes int
		want   time.Time
	}{
		{at: time.Date(2031, 5, 6, 10, 5, 0, 0, time.UTC), writes: 1, want: time.Date(2031, 5, 6, 10, 0, 0, 0, time.UTC)},
		{at: time.Date(2031, 5, 6, 10, 59, 59, 0, time.UTC), writes: 0, want: time.Date(2031, 5, 6, 10, 0, 0, 0, time.UTC)},
		{at: time.Date(2031, 5, 6, 11, 0, 1, 0, time.UTC), writes: 1, want: time.Date(2031, 5, 6, 11, 0, 0, 0, time.UTC)},
		{at: time.Date(2031, 5, 6, 11, 30, 0, 0, time.UTC), writes: 0, want: time.Date(2031, 5, 6, 11, 0, 0, 0, time.UTC)},
	} {
		now = step.at
		m.Reset()
		if _, err := svc.AuthenticateClient(ctx, created.Client.ID, created.SecretString); err != nil {
			t.Fatal(err)
		}
		r := m.Reset()
		if r.Writes != step.writes || r.Requests != 1 {
			t.Fatalf("token request at %s: %d writes, %d reads; want %d writes, 1 read", step.at.Format(time.TimeOnly), r.Writes, r.Requests, step.writes)
		}
		if got := lastUsed(created.Secret.ID); got == nil || !got.Equal(step.want) {
			t.Fatalf("after a token request at %s: LastUsed %v, want %s", step.at.Format(time.TimeOnly), got, step.want)
		}
	}
	if lastUsed(unused.Secret.ID) != nil {
		t.Fatal("a secret never used has a LastUsed")
	}
	// A failed authentication records nothing.
	now = now.Add(2 * time.Hour)
	if _, err := svc.AuthenticateClient(ctx, created.Client.ID, "wrong"); !errors.Is(err, identity.ErrInvalidClient) {
		t.Fatal(err)
	}
	if got := lastUsed(created.Secret.ID); !got.Equal(time.Date(2031, 5, 6, 11, 0, 0, 0, time.UTC)) {
		t.Fatalf("a failed request moved LastUsed to %v", got)
	}
	// Soft-deleted, the secret keeps its LastUsed (the Key Rotation list shows it).
	sec, err := svc.SoftDeleteSecret(ctx, ten.ID, identity.ClientCredential, created.Client.ID, created.Secret.ID)
	if err != nil || sec.LastUsed == nil {
		t.Fatalf("soft-deleted: %+v, %v", sec, err)
	}
}

// A secret add of a Client Credential client reads one item (its token
// item: the secrets, their version, the record count and the roles the
// cluster-role guard decides on) and writes twice: the tenant's verifier
// slot (one UpdateItem: the pack of the verifier) and one transaction;
// the guard of a cluster-role client still refuses it.
func TestSecretAddIsOneRead(t *testing.T) {
	ctx := context.Background()
	svc, m, _ := meteredService(t)
	ten, err := svc.CreateTenant(ctx, "", "add costs", 0)
	if err != nil {
		t.Fatal(err)
	}
	roles := []string{identity.RoleAccountMember}
	created, err := svc.CreateClient(ctx, ten.ID, identity.NewClient{Kind: identity.ClientCredential, Name: "add costs", RoleIDs: &roles})
	if err != nil {
		t.Fatal(err)
	}
	m.Reset()
	if _, err := svc.AddSecret(ctx, ten.ID, identity.ClientCredential, created.Client.ID, "second", "Description", nil, "Expiration"); err != nil {
		t.Fatal(err)
	}
	r := m.Reset()
	t.Logf("secret add: %d read request(s), %d item(s), %.1f read units, %d write request(s)", r.Requests, r.Items, r.Units, r.Writes)
	if r.Requests != 1 || r.Items != 1 || r.Inconsistent != 0 || r.Writes != 2 {
		t.Fatalf("secret add made %+v; want one strongly consistent read of one item and two writes (slot, transaction)", r)
	}

	opRoles := []string{identity.RoleClusterOperator, identity.RoleAccountMember}
	op, err := svc.CreateClient(ctx, ten.ID, identity.NewClient{Kind: identity.ClientCredential, Name: "operator", RoleIDs: &opRoles, OperatorRoles: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.AddSecret(ctx, ten.ID, identity.ClientCredential, op.Client.ID, "mine now", "Description", nil, "Expiration"); !errors.Is(err, identity.ErrOperatorClient) {
		t.Fatalf("secret add to a cluster-role client: %v, want ErrOperatorClient", err)
	}
}
