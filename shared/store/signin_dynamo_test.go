package store_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"identityservice/shared/identity"
	"identityservice/shared/signin"
	"identityservice/shared/store"
)

// A code is redeemed once, even by requests at the same instant: exactly
// one of them gets it, the others see a replay. An expired code, another
// client's code and an unknown one are invalid, and stay as they were.
func TestSignInCodesAreSingleUse(t *testing.T) {
	ctx := context.Background()
	st := store.NewSignIn(env.Clients.DynamoDB, env.Config.Table)
	now := time.Now()
	client := identity.NewID()
	code := signin.Code{Hash: signin.HashKey(identity.NewID()), ClientID: client, SessionID: "s1", Subject: "p", Expires: now.Add(signin.CodeLifetime)}
	if err := st.CreateCode(ctx, code); err != nil {
		t.Fatal(err)
	}
	// The same code again is the SDK's retry of the write (codes are 256
	// random bits): no error, and the code stays as first stored.
	again := code
	again.SessionID = "other"
	if err := st.CreateCode(ctx, again); err != nil {
		t.Fatalf("the write again: %v", err)
	}
	if _, err := st.RedeemCode(ctx, code.Hash, identity.NewID(), now); !errors.Is(err, signin.ErrCodeInvalid) {
		t.Fatalf("another client: %v", err)
	}
	const racers = 8
	var wg sync.WaitGroup
	var mu sync.Mutex
	won, replayed := 0, 0
	for range racers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := st.RedeemCode(ctx, code.Hash, client, now)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil && c.SessionID == "s1":
				won++
			case errors.Is(err, signin.ErrCodeReplayed) && c.SessionID == "s1":
				replayed++ // the replay names the session to end
			default:
				t.Errorf("redeem: %+v %v", c, err)
			}
		}()
	}
	wg.Wait()
	if won != 1 || replayed != racers-1 {
		t.Fatalf("%d redemptions won, %d replays; want 1 and %d", won, replayed, racers-1)
	}

	expired := signin.Code{Hash: signin.HashKey(identity.NewID()), ClientID: client, Expires: now.Add(-time.Second)}
	if err := st.CreateCode(ctx, expired); err != nil {
		t.Fatal(err)
	}
	if _, err := st.RedeemCode(ctx, expired.Hash, client, now); !errors.Is(err, signin.ErrCodeInvalid) {
		t.Fatalf("expired code: %v", err)
	}
	if _, err := st.RedeemCode(ctx, signin.HashKey("unknown"), client, now); !errors.Is(err, signin.ErrCodeInvalid) {
		t.Fatalf("unknown code: %v", err)
	}
	// The item carries the TTL attribute DynamoDB expires it by.
	out, err := env.Clients.DynamoDB.GetItem(ctx, &dynamodb.GetItemInput{TableName: &env.Config.Table,
		Key: map[string]types.AttributeValue{"PK": &types.AttributeValueMemberS{Value: "CODE#" + code.Hash}, "SK": &types.AttributeValueMemberS{Value: "#CODE"}}, ConsistentRead: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	if ttl, ok := out.Item["TTL"].(*types.AttributeValueMemberN); !ok || ttl.Value == "" {
		t.Fatalf("code item without TTL: %v", out.Item)
	}
}

// An interaction is taken once; an expired one is not found. A session
// ended is not revived by a late touch, and one past its end is not found
// though TTL has not removed it yet. A person keeps the subject of their
// first sign-in.
func TestSignInInteractionsSessionsPeople(t *testing.T) {
	ctx := context.Background()
	st := store.NewSignIn(env.Clients.DynamoDB, env.Config.Table)
	now := time.Now()
	it := signin.Interaction{Hash: signin.HashKey(identity.NewID()), Nonce: "n", Expires: now.Add(time.Minute)}
	if err := st.CreateInteraction(ctx, it); err != nil {
		t.Fatal(err)
	}
	if got, err := st.TakeInteraction(ctx, it.Hash, now); err != nil || got.Nonce != "n" {
		t.Fatalf("take: %+v %v", got, err)
	}
	if _, err := st.TakeInteraction(ctx, it.Hash, now); !errors.Is(err, signin.ErrNotFound) {
		t.Fatalf("second take: %v", err)
	}
	old := signin.Interaction{Hash: signin.HashKey(identity.NewID()), Expires: now.Add(-time.Second)}
	if err := st.CreateInteraction(ctx, old); err != nil {
		t.Fatal(err)
	}
	if _, err := st.TakeInteraction(ctx, old.Hash, now); !errors.Is(err, signin.ErrNotFound) {
		t.Fatalf("expired interaction: %v", err)
	}

	se := signin.Session{ID: identity.NewID(), Subject: "p", Created: now, LastSeen: now}
	if err := st.CreateSession(ctx, se); err != nil {
		t.Fatal(err)
	}
	if err := st.EndSession(ctx, se.ID); err != nil {
		t.Fatal(err)
	}
	if err := st.TouchSession(ctx, se, now); !errors.Is(err, signin.ErrNotFound) {
		t.Fatalf("touch after the end: %v", err)
	}
	if _, err := st.GetSession(ctx, se.ID); !errors.Is(err, signin.ErrNotFound) {
		t.Fatalf("ended session read: %v", err)
	}
	stale := signin.Session{ID: identity.NewID(), Created: now.Add(-signin.SessionAbsolute), LastSeen: now.Add(-time.Minute)}
	if err := st.CreateSession(ctx, stale); err != nil {
		t.Fatal(err)
	}
	if _, err := st.GetSession(ctx, stale.ID); !errors.Is(err, signin.ErrNotFound) {
		t.Fatalf("session past its absolute end: %v", err)
	}

	tenant := identity.NewID()
	p := signin.Person{TenantID: tenant, Issuer: "https://idp.example", UpstreamSubject: "u1", Name: "First"}
	first, err := st.SavePerson(ctx, p, "sub-1")
	if err != nil || first.Subject != "sub-1" {
		t.Fatalf("first sign-in: %+v %v", first, err)
	}
	p.Name = "Renamed"
	again, err := st.SavePerson(ctx, p, "sub-2")
	if err != nil || again.Subject != "sub-1" || again.Name != "Renamed" {
		t.Fatalf("second sign-in: %+v %v", again, err)
	}
	p.Issuer = "https://other-idp.example"
	other, err := st.SavePerson(ctx, p, "sub-3")
	if err != nil || other.Subject != "sub-3" {
		t.Fatalf("same upstream sub at another issuer: %+v %v", other, err)
	}
}

// retried sends every UpdateItem twice, as the SDK's retryer does when an
// attempt's answer is lost after DynamoDB applied it, and answers the
// second.
type retried struct{ *dynamodb.Client }

func (r retried) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	if _, err := r.Client.UpdateItem(ctx, in, opts...); err != nil {
		return nil, err
	}
	return r.Client.UpdateItem(ctx, in, opts...)
}

// A redemption whose first attempt was applied but whose answer was lost
// (the SDK sends it again) is the redemption, not a replay; a later
// redemption is the replay.
func TestSignInRedemptionRetriedBySDKIsNotAReplay(t *testing.T) {
	ctx := context.Background()
	now := time.Now()
	client := identity.NewID()
	code := signin.Code{Hash: signin.HashKey(identity.NewID()), ClientID: client, SessionID: "s2", Expires: now.Add(signin.CodeLifetime)}
	plain := store.NewSignIn(env.Clients.DynamoDB, env.Config.Table)
	if err := plain.CreateCode(ctx, code); err != nil {
		t.Fatal(err)
	}
	got, err := store.NewSignIn(retried{env.Clients.DynamoDB}, env.Config.Table).RedeemCode(ctx, code.Hash, client, now)
	if err != nil || got.SessionID != "s2" {
		t.Fatalf("retried redemption: %+v %v", got, err)
	}
	if _, err := plain.RedeemCode(ctx, code.Hash, client, now); !errors.Is(err, signin.ErrCodeReplayed) {
		t.Fatalf("a second redemption: %v, want a replay", err)
	}
}

// RFC 7009 revocation of a refresh token revokes its family, once (a
// conditional write: a second revocation changes nothing); another
// client's token is refused and its family stays usable; an unknown or
// expired token is nothing to revoke.
func TestRevokeRefresh(t *testing.T) {
	ctx := context.Background()
	st := store.NewSignIn(env.Clients.DynamoDB, env.Config.Table)
	now := time.Now()
	client, other := identity.NewID(), identity.NewID()
	tok := func(c, family string, expires time.Time) signin.RefreshToken {
		rt := signin.RefreshToken{Hash: signin.HashKey(identity.NewID()), FamilyID: family, ClientID: c, TenantID: "t", Subject: "p", SessionID: "s", Expires: expires}
		if err := st.CreateRefresh(ctx, rt); err != nil {
			t.Fatal(err)
		}
		return rt
	}
	mine := tok(client, signin.HashKey(identity.NewID()), now.Add(time.Hour))
	sibling := tok(client, mine.FamilyID, now.Add(time.Hour))
	theirs := tok(other, signin.HashKey(identity.NewID()), now.Add(time.Hour))
	expired := tok(client, signin.HashKey(identity.NewID()), now.Add(-time.Second))

	if _, err := st.RevokeRefresh(ctx, theirs.Hash, client, now); !errors.Is(err, signin.ErrRefreshNotYours) {
		t.Fatalf("another client's token: %v", err)
	}
	if _, err := st.UseRefresh(ctx, theirs.Hash, other, nil, now); err != nil {
		t.Fatalf("the other client's token after a refused revocation: %v", err)
	}
	for name, h := range map[string]string{"unknown": signin.HashKey("unknown"), "expired": expired.Hash} {
		if _, err := st.RevokeRefresh(ctx, h, client, now); !errors.Is(err, signin.ErrRefreshInvalid) {
			t.Fatalf("%s token: %v", name, err)
		}
	}
	for range 2 {
		got, err := st.RevokeRefresh(ctx, mine.Hash, client, now)
		if err != nil || got.FamilyID != mine.FamilyID {
			t.Fatalf("revoke: %+v %v", got, err)
		}
	}
	if _, err := st.UseRefresh(ctx, sibling.Hash, client, nil, now); !errors.Is(err, signin.ErrRefreshInvalid) {
		t.Fatalf("a token of the revoked family: %v", err)
	}
}

// A refresh may narrow its scopes, never widen them: the spend is
// conditional on the token holding every scope asked for, so a refused
// widening leaves the token unspent and usable, and a narrowing spends it.
func TestUseRefreshHoldsScopes(t *testing.T) {
	ctx := context.Background()
	st := store.NewSignIn(env.Clients.DynamoDB, env.Config.Table)
	now := time.Now()
	client := identity.NewID()
	rt := signin.RefreshToken{Hash: signin.HashKey(identity.NewID()), FamilyID: signin.HashKey(identity.NewID()), ClientID: client, TenantID: "t", Subject: "p",
		Scopes: []string{"openid", "profile", "offline_access"}, Expires: now.Add(time.Hour)}
	if err := st.CreateRefresh(ctx, rt); err != nil {
		t.Fatal(err)
	}
	got, err := st.UseRefresh(ctx, rt.Hash, client, []string{"openid", "email"}, now)
	if !errors.Is(err, signin.ErrRefreshScope) || len(got.Scopes) != 3 {
		t.Fatalf("widening: %+v %v, want ErrRefreshScope with the token's scopes", got, err)
	}
	got, err = st.UseRefresh(ctx, rt.Hash, client, []string{"openid", "offline_access"}, now)
	if err != nil || got.FamilyID != rt.FamilyID {
		t.Fatalf("narrowing after a refused widening: %+v %v, want the token (unspent by the refusal)", got, err)
	}
	if _, err := st.UseRefresh(ctx, rt.Hash, client, []string{"openid"}, now); !errors.Is(err, signin.ErrRefreshReused) {
		t.Fatalf("the narrowed token used again: %v, want a reuse", err)
	}
}
