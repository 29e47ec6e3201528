package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"identityservice/infra/tableops"
	"identityservice/shared/identity"
	"identityservice/shared/vault"
)

// `seal rotate` on the emulators: tokens keep working through every step
// (a client authenticating all along, another's token item rewritten by
// the client function all along, one created midway, with services that
// read the keys every 300 ms); afterwards the key version is one up, no
// other key is kept, every item is sealed with the new key; an item
// sealed with the retired key (its seal of before, written back) gets no
// token; a second rotation works the same from there.
func TestSealRotateKeepsTokensAndRetiresTheOldKey(t *testing.T) {
	ctx := context.Background()
	refresh := 300 * time.Millisecond
	t.Setenv("SEAL_KEY_REFRESH", refresh.String())
	newService := func() *identity.Service {
		svc := env.Service(nil)
		svc.SealKeyRefresh, svc.AuthFailureFloor = refresh, time.Millisecond
		return svc
	}
	svc := newService()
	keys := vault.NewSealKey(env.Clients.SecretsManager, env.Config.SecretPrefix)
	tenant, err := svc.CreateTenant(ctx, identity.NewID(), "sealed tenant", 0)
	if err != nil {
		t.Fatal(err)
	}
	create := func(svc *identity.Service) identity.CreatedClient {
		t.Helper()
		c, err := svc.CreateClient(ctx, tenant.ID, identity.NewClient{Kind: identity.ClientCredential, Name: "sealed"})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	steady, rewritten := create(svc), create(svc)
	seal := func(clientID string) []byte {
		t.Helper()
		out, err := env.Clients.DynamoDB.GetItem(ctx, &dynamodb.GetItemInput{TableName: &env.Config.Table, ConsistentRead: aws.Bool(true),
			Key: map[string]av{"PK": sv("CLIENT#" + clientID), "SK": sv("#CLIENT")}})
		if err != nil {
			t.Fatal(err)
		}
		b, _ := out.Item["Seal"].(*types.AttributeValueMemberB)
		if b == nil {
			t.Fatalf("client %s: token item has no seal", clientID)
		}
		return b.Value
	}
	before, err := keys.State(ctx)
	if err != nil {
		t.Fatal(err)
	}
	oldSeal := seal(steady.Client.ID)
	if v, _ := identity.SealVersion(oldSeal); v != before.Current.Version {
		t.Fatalf("a new item's seal names key version %d, the current key is %d", v, before.Current.Version)
	}

	// Through the rotation: one service authenticates all along, another
	// (a client function) rewrites a token item all along.
	var failures, auths, writes atomic.Int64
	var lastErr atomic.Value
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			auths.Add(1)
			if _, err := svc.AuthenticateClient(ctx, steady.Client.ID, steady.SecretString); err != nil {
				failures.Add(1)
				lastErr.Store(err.Error())
			}
			time.Sleep(10 * time.Millisecond)
		}
	}()
	writer := newService()
	go func() {
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			lifetime := 1800 + 60*(i%2)
			if _, err := writer.UpdateClient(ctx, tenant.ID, identity.ClientCredential, rewritten.Client.ID, identity.ClientPatch{AccessTokenLifetime: &lifetime}); err != nil {
				failures.Add(1)
				lastErr.Store("update: " + err.Error())
			}
			writes.Add(1)
			if _, err := writer.AuthenticateClient(ctx, rewritten.Client.ID, rewritten.SecretString); err != nil {
				failures.Add(1)
				lastErr.Store("rewritten: " + err.Error())
			}
			time.Sleep(20 * time.Millisecond)
		}
	}()
	rotate := func() tableops.SealRotationReport {
		t.Helper()
		var out bytes.Buffer
		if err := run(ctx, []string{"seal", "rotate"}, &out); err != nil {
			t.Fatalf("admin seal rotate: %v (printed %s)", err, out.String())
		}
		var rep tableops.SealRotationReport
		if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
			t.Fatalf("seal rotate printed %q: %v", out.String(), err)
		}
		return rep
	}
	rep := rotate()
	midway := create(newService())
	close(stop)
	wg.Wait()
	t.Logf("rotation: %+v; %d authentications and %d token item writes during it", rep, auths.Load(), writes.Load())
	if n := failures.Load(); n > 0 {
		t.Fatalf("%d failures during the rotation, the last: %v", n, lastErr.Load())
	}
	if auths.Load() < 10 || writes.Load() < 5 {
		t.Fatalf("only %d authentications and %d writes during the rotation", auths.Load(), writes.Load())
	}
	after, err := keys.State(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if after.Current.Version != before.Current.Version+1 || after.Next != nil || after.Previous != nil || rep.Current != after.Current.Version || rep.Retired != before.Current.Version {
		t.Fatalf("after the rotation: key %d, next %v, previous %v (report %+v); want key %d alone, %d retired", after.Current.Version, after.Next, after.Previous, rep, before.Current.Version+1, before.Current.Version)
	}
	if rep.Reseal.Resealed < 1 || rep.Reseal.Pending != 0 {
		t.Fatalf("reseal: %+v; want the items of before sealed again, none pending", rep.Reseal)
	}
	for _, c := range []identity.CreatedClient{steady, rewritten, midway} {
		if v, _ := identity.SealVersion(seal(c.Client.ID)); v != after.Current.Version {
			t.Errorf("client %s: sealed with key version %d, want %d", c.Client.ID, v, after.Current.Version)
		}
		if _, err := newService().AuthenticateClient(ctx, c.Client.ID, c.SecretString); err != nil {
			t.Errorf("client %s after the rotation: %v", c.Client.ID, err)
		}
	}

	// The item sealed with the retired key (its seal of before, as a
	// restored backup would have it) gets no token: not from a new process,
	// nor from the warm one once it has read the keys again.
	if _, err := env.Clients.DynamoDB.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: &env.Config.Table,
		Key:              map[string]av{"PK": sv("CLIENT#" + steady.Client.ID), "SK": sv("#CLIENT")},
		UpdateExpression: aws.String("SET Seal = :s"), ExpressionAttributeValues: map[string]av{":s": &types.AttributeValueMemberB{Value: oldSeal}}}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(refresh + 50*time.Millisecond)
	for name, s := range map[string]*identity.Service{"a new process": newService(), "the warm process": svc} {
		if _, err := s.AuthenticateClient(ctx, steady.Client.ID, steady.SecretString); !errors.Is(err, identity.ErrInvalidClient) {
			t.Errorf("%s: an item sealed with the retired key: %v, want %v", name, err, identity.ErrInvalidClient)
		}
	}

	// Again from there: the next version; the restored item's seal names
	// a key that no longer exists, so it is left (Broken), not sealed again.
	again := rotate()
	if again.Current != after.Current.Version+1 || again.Retired != after.Current.Version || again.Reseal.Broken < 1 {
		t.Fatalf("second rotation: %+v; want key %d, %d retired, the restored item left broken", again, after.Current.Version+1, after.Current.Version)
	}
	if _, err := newService().AuthenticateClient(ctx, steady.Client.ID, steady.SecretString); !errors.Is(err, identity.ErrInvalidClient) {
		t.Fatalf("a rotation sealed again an item whose seal did not hold: %v", err)
	}
	if _, err := newService().AuthenticateClient(ctx, midway.Client.ID, midway.SecretString); err != nil {
		t.Fatalf("after the second rotation: %v", err)
	}
}
