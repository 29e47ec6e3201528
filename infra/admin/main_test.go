package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"identityservice/shared/auth"
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
	attacker, err := auth.NewKeySet(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	forged, _ := attacker.PublishedJWKS(time.Now())
	if err := store.New(env.Clients.DynamoDB, env.Config.Table).ReplaceJWKS(context.Background(), forged, 1<<40); err != nil {
		t.Fatal(err)
	}
	repaired, err := admin(t, "keys", "rotate")
	if err == nil || !strings.Contains(err.Error(), "not written by this service") {
		t.Fatalf("rotate over a forged JWKS: %v, want an error saying so", err)
	}
	if len(repaired.ReplacedForeignKids) != 1 || repaired.ReplacedForeignKids[0] != attacker.Active {
		t.Fatalf("output %+v: want ReplacedForeignKids [%s]", repaired, attacker.Active)
	}
	raw, err := store.New(env.Clients.DynamoDB, env.Config.Table).JWKS(context.Background())
	if err != nil || strings.Contains(string(raw), attacker.Active) || !strings.Contains(string(raw), repaired.ActiveKid) {
		t.Fatalf("published after the repair: %s (%v)", raw, err)
	}
}
