package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"identityservice/shared/auth"
	"identityservice/shared/identity"
	"identityservice/shared/store"
)

type keysOutput struct {
	ActiveKid           string
	PublishedKids       []string
	RevokedKid          string
	ReplacedForeignKids []string
}

func admin(t *testing.T, args ...string) (keysOutput, error) {
	t.Helper()
	var out bytes.Buffer
	err := run(context.Background(), args, &out)
	var k keysOutput
	if out.Len() > 0 {
		if jerr := json.Unmarshal(out.Bytes(), &k); jerr != nil {
			t.Fatalf("output %s: %v", out.String(), jerr)
		}
	}
	return k, err
}

// keys rotate and keys revoke as the operator types them: rotate
// publishes both keys; revoke withdraws one at once; an unknown kid is a
// clear error; a published set the service did not write makes rotate
// fail loudly after replacing it, never a silent success.
func TestKeysRotateAndRevoke(t *testing.T) {
	first, err := admin(t, "keys", "rotate") // no set yet: creates the first
	if err != nil {
		t.Fatal(err)
	}
	second, err := admin(t, "keys", "rotate")
	if err != nil {
		t.Fatal(err)
	}
	if second.ActiveKid == first.ActiveKid || len(second.PublishedKids) != 2 {
		t.Fatalf("after rotating: %+v (first %s)", second, first.ActiveKid)
	}
	revoked, err := admin(t, "keys", "revoke", "--kid", first.ActiveKid)
	if err != nil {
		t.Fatal(err)
	}
	if revoked.RevokedKid != first.ActiveKid || len(revoked.PublishedKids) != 1 || revoked.PublishedKids[0] != second.ActiveKid {
		t.Fatalf("after revoking %s: %+v", first.ActiveKid, revoked)
	}
	if _, err := admin(t, "keys", "revoke", "--kid", "nope"); err == nil || !strings.Contains(err.Error(), `no signing key has kid "nope"`) {
		t.Fatalf("revoking an unknown kid: %v", err)
	}
	if _, err := admin(t, "keys", "revoke"); err == nil || !strings.Contains(err.Error(), "--kid") {
		t.Fatalf("revoke without --kid: %v", err)
	}

	// Someone with write access to the table publishes a key of their own.
	attacker, err := auth.NewKeySet(time.Now(), auth.RS256)
	if err != nil {
		t.Fatal(err)
	}
	forged, _ := attacker.PublishedJWKS(time.Now())
	if err := store.New(env.Clients.DynamoDB, env.Config.Table).Keys.ReplaceJWKS(context.Background(), forged, 1<<40); err != nil {
		t.Fatal(err)
	}
	repaired, err := admin(t, "keys", "rotate")
	if err == nil || !strings.Contains(err.Error(), "not written by this service") {
		t.Fatalf("rotate over a forged JWKS: %v, want an error saying so", err)
	}
	if len(repaired.ReplacedForeignKids) != 1 || repaired.ReplacedForeignKids[0] != attacker.Active {
		t.Fatalf("output %+v: want ReplacedForeignKids [%s]", repaired, attacker.Active)
	}
	raw, err := store.New(env.Clients.DynamoDB, env.Config.Table).Keys.JWKS(context.Background())
	if err != nil || strings.Contains(string(raw), attacker.Active) || !strings.Contains(string(raw), repaired.ActiveKid) {
		t.Fatalf("published after the repair: %s (%v)", raw, err)
	}
}

// keys rotate makes a key of --alg, else of SIGNING_ALG, else RS256; the
// output says each published key's algorithm; an algorithm the service
// does not sign with is a clear error that changes nothing.
func TestKeysRotateTakesTheAlgorithm(t *testing.T) {
	ctx := context.Background()
	table := "algs-" + strings.ReplaceAll(identity.NewID(), "-", "")[:12]
	if err := env.CreateTable(ctx, table); err != nil {
		t.Fatal(err)
	}
	t.Setenv("TABLE_NAME", table)
	t.Setenv("SECRET_PREFIX", "algs-"+identity.NewID())
	t.Setenv("SIGNING_ALG", "")
	type out struct {
		ActiveKid     string
		ActiveAlg     string
		PublishedAlgs map[string]string
	}
	rotate := func(args ...string) (out, error) {
		t.Helper()
		var buf bytes.Buffer
		err := run(ctx, append([]string{"keys", "rotate"}, args...), &buf)
		var o out
		if buf.Len() > 0 {
			if jerr := json.Unmarshal(buf.Bytes(), &o); jerr != nil {
				t.Fatalf("output %s: %v", buf.String(), jerr)
			}
		}
		return o, err
	}
	first, err := rotate() // the default
	if err != nil || first.ActiveAlg != "RS256" {
		t.Fatalf("keys rotate with no algorithm configured: %+v, %v; want RS256", first, err)
	}
	second, err := rotate("--alg", "ES256")
	if err != nil || second.ActiveAlg != "ES256" || second.PublishedAlgs[first.ActiveKid] != "RS256" || len(second.PublishedAlgs) != 2 {
		t.Fatalf("keys rotate --alg ES256: %+v, %v; want an ES256 key beside the RS256 one", second, err)
	}
	t.Setenv("SIGNING_ALG", "ES256")
	third, err := rotate()
	if err != nil || third.ActiveAlg != "ES256" || third.ActiveKid == second.ActiveKid {
		t.Fatalf("keys rotate with SIGNING_ALG=ES256: %+v, %v", third, err)
	}
	back, err := rotate("--alg", "RS256") // the flag wins over SIGNING_ALG
	if err != nil || back.ActiveAlg != "RS256" || len(back.PublishedAlgs) != 4 {
		t.Fatalf("keys rotate --alg RS256 under SIGNING_ALG=ES256: %+v, %v", back, err)
	}
	if _, err := rotate("--alg", "HS256"); err == nil || !strings.Contains(err.Error(), "want RS256 or ES256") {
		t.Fatalf("keys rotate --alg HS256: %v, want an error naming the algorithms", err)
	}
	t.Setenv("SIGNING_ALG", "none")
	if _, err := rotate(); err == nil || !strings.Contains(err.Error(), "SIGNING_ALG") {
		t.Fatalf("keys rotate with SIGNING_ALG=none: %v, want an error naming SIGNING_ALG", err)
	}
	raw, err := store.New(env.Clients.DynamoDB, table).Keys.JWKS(ctx)
	if err != nil || strings.Count(string(raw), `"kid"`) != 4 {
		t.Fatalf("published after the refused rotations: %s (%v), want the 4 keys", raw, err)
	}
}
