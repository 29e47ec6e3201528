package auth_test

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"identityservice/shared/auth"
	"identityservice/shared/identity"
	"identityservice/shared/store"
	"identityservice/shared/vault"
)

// testClock is the service clock of these tests: they move it instead of
// sleeping.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// deployment is a key store pair with managers and a verifier on one clock.
type deployment struct {
	prefix, table string
	clock         *testClock
	pub           *store.Dynamo
}

func newDeployment(t *testing.T) *deployment {
	return &deployment{prefix: "life-" + identity.NewID(), table: freshTable(t), clock: &testClock{t: time.Now()}}
}

// manager is one process's KeyManager (a token function, or the operator's CLI).
func (d *deployment) manager() *auth.KeyManager {
	return &auth.KeyManager{Private: vault.NewSigningKeys(env.Clients.SecretsManager, d.prefix), Public: store.New(env.Clients.DynamoDB, d.table).Keys, Now: d.clock.Now}
}

func (d *deployment) verifier() *auth.Verifier {
	return &auth.Verifier{Keys: store.New(env.Clients.DynamoDB, d.table).Keys, Now: d.clock.Now}
}

func (d *deployment) publishedKids(t *testing.T) map[string]bool {
	t.Helper()
	raw, err := store.New(env.Clients.DynamoDB, d.table).Keys.JWKS(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(raw, &set); err != nil {
		t.Fatal(err)
	}
	kids := map[string]bool{}
	for _, k := range set.Keys {
		kids[k.KeyID] = true
	}
	return kids
}

const iss = "https://id.example.com/identity"

// A retired key leaves the published set by itself once every token it
// signed has expired: no second rotation, only the token function's
// periodic reload; and verifiers refuse it from then on even if nothing
// is published again.
func TestRetiredKeyLeavesWithoutASecondRotation(t *testing.T) {
	ctx := context.Background()
	d := newDeployment(t)
	tokenFn := d.manager()
	first, err := tokenFn.KeySet(ctx)
	if err != nil {
		t.Fatal(err)
	}
	oldToken, _, err := (&auth.Issuer{Keys: tokenFn, Now: d.clock.Now}).Issue(ctx, iss, client())
	if err != nil {
		t.Fatal(err)
	}
	rotated, err := d.manager().Rotate(ctx) // the operator
	if err != nil {
		t.Fatal(err)
	}
	v := d.verifier()
	if !d.publishedKids(t)[first.Active] || !d.publishedKids(t)[rotated.Active] {
		t.Fatalf("right after rotation the JWKS holds %v, want both keys", d.publishedKids(t))
	}
	// Within the token lifetime the old key's tokens verify.
	d.clock.Advance(auth.TokenLifetime - time.Minute)
	if _, err := v.Verify(ctx, oldToken, iss); err != nil {
		t.Fatalf("a token of the retired key, within its lifetime: %v", err)
	}
	// A verifier that read the set while the key was published refuses
	// it once it retires, with no new publication: the JWKS says when.
	d.clock.Advance(auth.RetiredKeyKept - auth.TokenLifetime + 2*time.Minute)
	firstKey, _ := first.ActiveKey()
	forged := signAt(t, firstKey, d.clock.Now()) // as if the retired key had leaked
	if _, err := v.Verify(ctx, forged, iss); !errors.Is(err, auth.ErrInvalidToken) {
		t.Fatalf("a token signed by a retired key past its retirement: %v, want ErrInvalidToken", err)
	}
	// The warm token function reloads (its KeyRefresh has passed) and
	// publishes the set without the retired key.
	if _, err := tokenFn.KeySet(ctx); err != nil {
		t.Fatal(err)
	}
	if kids := d.publishedKids(t); kids[first.Active] || !kids[rotated.Active] || len(kids) != 1 {
		t.Fatalf("after retirement the JWKS holds %v, want only %s", kids, rotated.Active)
	}
}

// signAt signs a fresh token at instant now with k.
func signAt(t *testing.T, k auth.SigningKey, now time.Time) string {
	t.Helper()
	return sign(t, k, map[string]any{"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(time.Hour).Unix()})
}

// keys revoke withdraws a key at once: it leaves the published set, and a
// verifier that cached the set refuses its tokens once its KeyRefresh
// (60 s) has passed. Revoking the active key rotates first, so a
// replacement signs; an unknown kid is an error.
func TestRevokeWithdrawsAKeyWithinTheRefreshInterval(t *testing.T) {
	ctx := context.Background()
	d := newDeployment(t)
	tokenFn := d.manager()
	issuer := &auth.Issuer{Keys: tokenFn, Now: d.clock.Now}
	first, err := tokenFn.KeySet(ctx)
	if err != nil {
		t.Fatal(err)
	}
	compromised, _, err := issuer.Issue(ctx, iss, client())
	if err != nil {
		t.Fatal(err)
	}
	v := d.verifier()
	if _, err := v.Verify(ctx, compromised, iss); err != nil {
		t.Fatal(err)
	}
	// The active key itself is revoked: a new key takes over in the same change.
	after, err := d.manager().Revoke(ctx, first.Active)
	if err != nil {
		t.Fatal(err)
	}
	if after.Active == first.Active || len(after.Keys) != 1 || after.Version != first.Version+1 {
		t.Fatalf("after revoking the active key: active %s (was %s), %d keys, version %d", after.Active, first.Active, len(after.Keys), after.Version)
	}
	if kids := d.publishedKids(t); kids[first.Active] || !kids[after.Active] {
		t.Fatalf("published right after revocation: %v", kids)
	}
	// Every verifier refuses it within KeyRefresh, its cache notwithstanding.
	d.clock.Advance(auth.KeyRefresh)
	if _, err := v.Verify(ctx, compromised, iss); !errors.Is(err, auth.ErrInvalidToken) {
		t.Fatalf("a token of the revoked key after %s: %v, want ErrInvalidToken", auth.KeyRefresh, err)
	}
	// The warm token function signs with the replacement once it reloads.
	tok, _, err := issuer.Issue(ctx, iss, client())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(ctx, tok, iss); err != nil {
		t.Fatalf("a token of the replacement key: %v", err)
	}
	if _, err := d.manager().Revoke(ctx, "no-such-kid"); !errors.Is(err, auth.ErrUnknownKey) {
		t.Fatalf("revoking an unknown kid: %v, want ErrUnknownKey", err)
	}
	// A retired (not active) key is revoked without a rotation.
	rotated, err := d.manager().Rotate(ctx)
	if err != nil {
		t.Fatal(err)
	}
	revoked, err := d.manager().Revoke(ctx, after.Active)
	if err != nil || revoked.Active != rotated.Active || len(revoked.Keys) != 1 {
		t.Fatalf("revoking the retired key: %+v, %v", revoked, err)
	}
}

// A process that loaded the key set before a revocation cannot publish
// the revoked key again: its publish finds the newer set, re-reads the key
// set and adopts it.
func TestStaleProcessCannotRepublishARevokedKey(t *testing.T) {
	ctx := context.Background()
	d := newDeployment(t)
	first, err := d.manager().KeySet(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.manager().Rotate(ctx); err != nil {
		t.Fatal(err)
	}
	stale := d.manager()
	staleSet, err := stale.KeySet(ctx) // holds both keys
	if err != nil || len(staleSet.Keys) != 2 {
		t.Fatalf("%+v %v", staleSet, err)
	}
	revoked, err := d.manager().Revoke(ctx, first.Active)
	if err != nil {
		t.Fatal(err)
	}
	// The stale process publishes what it holds, after its refresh.
	raw, err := staleSet.PublishedJWKS(d.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	var newer *auth.NewerJWKSError
	if err := store.New(env.Clients.DynamoDB, d.table).Keys.PublishJWKS(ctx, raw, staleSet.Version); !errors.As(err, &newer) {
		t.Fatalf("publishing the pre-revocation set: %v, want NewerJWKSError", err)
	}
	d.clock.Advance(auth.KeyRefresh)
	got, err := stale.KeySet(ctx)
	if err != nil || got.Version != revoked.Version {
		t.Fatalf("the stale process after its refresh: version %d, %v; want %d", got.Version, err, revoked.Version)
	}
	if d.publishedKids(t)[first.Active] {
		t.Fatal("the revoked key is published again")
	}
}

// A published set this service did not write (a key of someone's own,
// with a version beyond ours, as anyone with write access to the table
// could put there) is an error for the token function, not a silent
// success; the operator's rotation replaces it and says so.
func TestForeignJWKSIsAnErrorAndRotationReplacesIt(t *testing.T) {
	ctx := context.Background()
	d := newDeployment(t)
	ours, err := d.manager().KeySet(ctx)
	if err != nil {
		t.Fatal(err)
	}
	attacker, err := auth.NewKeySet(d.clock.Now(), auth.RS256)
	if err != nil {
		t.Fatal(err)
	}
	forged, err := attacker.PublishedJWKS(d.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := store.New(env.Clients.DynamoDB, d.table).Keys.ReplaceJWKS(ctx, forged, 1<<40); err != nil {
		t.Fatal(err)
	}
	forgedToken := signAt(t, attacker.Keys[0], d.clock.Now())
	var foreign *auth.ForeignJWKSError
	if _, err := d.manager().KeySet(ctx); !errors.As(err, &foreign) || foreign.Replaced || len(foreign.Kids) != 1 || foreign.Kids[0] != attacker.Active {
		t.Fatalf("a token function meeting the forged set: %v, want ForeignJWKSError naming %s", err, attacker.Active)
	}
	rotated, err := d.manager().Rotate(ctx)
	if !errors.As(err, &foreign) || !foreign.Replaced {
		t.Fatalf("keys rotate over the forged set: %v, want ForeignJWKSError with Replaced", err)
	}
	kids := d.publishedKids(t)
	if kids[attacker.Active] || !kids[rotated.Active] || !kids[ours.Active] {
		t.Fatalf("after the rotation the JWKS holds %v, want ours (%s, %s) only", kids, rotated.Active, ours.Active)
	}
	if _, err := d.verifier().Verify(ctx, forgedToken, iss); !errors.Is(err, auth.ErrInvalidToken) {
		t.Fatalf("the forged key's token after the repair: %v", err)
	}
	// And the token function is well again.
	if _, err := d.manager().KeySet(ctx); err != nil {
		t.Fatal(err)
	}
}
