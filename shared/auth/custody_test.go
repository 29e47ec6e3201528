package auth_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"identityservice/shared/auth"
	"identityservice/shared/identity"
	"identityservice/shared/vault"
)

// unreachable is a key store that Secrets Manager stops answering for.
type unreachable struct {
	auth.PrivateKeyStore
	down atomic.Bool
}

func (u *unreachable) LoadKeySet(ctx context.Context) (auth.KeySet, error) {
	if u.down.Load() {
		return auth.KeySet{}, errors.New("secrets manager: dial tcp: i/o timeout")
	}
	return u.PrivateKeyStore.LoadKeySet(ctx)
}

// A warm token function that cannot reach Secrets Manager past its key
// refresh keeps signing only with an active key that the published set
// (the table, which it can still read) still holds as active: once the
// operator revokes that key, or rotates so that it is retired, the
// function refuses to sign rather than issue tokens of it.
func TestUnreachableKeyStoreNeverSignsWithARevokedOrRetiredKey(t *testing.T) {
	ctx := context.Background()
	for _, change := range []string{"revoke", "rotate"} {
		t.Run(change, func(t *testing.T) {
			d := newDeployment(t)
			sm := &unreachable{PrivateKeyStore: vault.NewSigningKeys(env.Clients.SecretsManager, d.prefix)}
			warm := d.manager()
			warm.Private = sm
			issuer := &auth.Issuer{Keys: warm, Now: d.clock.Now}
			first, err := warm.KeySet(ctx)
			if err != nil {
				t.Fatal(err)
			}
			// Unreachable, nothing changed: the cached key still signs.
			sm.down.Store(true)
			d.clock.Advance(auth.KeyRefresh)
			if _, _, err := issuer.Issue(ctx, iss, client()); err != nil {
				t.Fatalf("unreachable, the active key still published: %v, want a token", err)
			}
			// The operator's change, from another process.
			switch change {
			case "revoke":
				_, err = d.manager().Revoke(ctx, first.Active)
			case "rotate":
				_, err = d.manager().Rotate(ctx)
			}
			if err != nil {
				t.Fatal(err)
			}
			d.clock.Advance(auth.KeyRefresh)
			tok, _, err := issuer.Issue(ctx, iss, client())
			if err == nil {
				kid := kidOf(t, tok)
				t.Fatalf("after %s of %s with Secrets Manager unreachable, the warm function signed with %s", change, first.Active, kid)
			}
			// Reachable again: it signs with the current key.
			sm.down.Store(false)
			tok, _, err = issuer.Issue(ctx, iss, client())
			if err != nil {
				t.Fatalf("Secrets Manager back: %v", err)
			}
			if kid := kidOf(t, tok); kid == first.Active {
				t.Fatalf("Secrets Manager back: signed with the old key %s", kid)
			}
		})
	}
}

// The signing keys' secret is created encrypted with the customer-managed
// KMS key the configuration names (SIGNING_KEYS_KMS_KEY), never with the
// account's default key.
func TestSigningKeysSecretIsCreatedWithTheConfiguredKMSKey(t *testing.T) {
	ctx := context.Background()
	prefix, table := "kms-"+identity.NewID(), freshTable(t)
	keyID := env.SigningKeysKMSKey(t)
	km := keyManager(t, prefix, table)
	km.Private = vault.NewSigningKeys(env.Clients.SecretsManager, prefix).EncryptedWith(keyID)
	if _, err := km.KeySet(ctx); err != nil {
		t.Fatal(err)
	}
	out, err := env.Clients.SecretsManager.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String(vault.SigningKeysName(prefix))})
	if err != nil {
		t.Fatal(err)
	}
	if got := aws.ToString(out.KmsKeyId); got == "" || !strings.Contains(got, keyID) {
		t.Fatalf("signing keys secret KmsKeyId %q, want the configured key %s", got, keyID)
	}
}

// kidOf returns the kid of a token's header.
func kidOf(t *testing.T, tok string) string {
	t.Helper()
	h, _, ok := strings.Cut(tok, ".")
	raw, err := base64.RawURLEncoding.DecodeString(h)
	var head struct{ Kid string }
	if !ok || err != nil || json.Unmarshal(raw, &head) != nil {
		t.Fatalf("token header %q unreadable", h)
	}
	return head.Kid
}

// template.yaml creates the signing keys' secret empty (so that its KMS
// key and resource policy exist before any key does): racing cold starts
// fill it once, and all sign with the same first key.
func TestEmptySigningKeysSecretIsFilledOnce(t *testing.T) {
	ctx := context.Background()
	prefix, table := "empty-"+identity.NewID(), freshTable(t)
	if _, err := env.Clients.SecretsManager.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String(vault.SigningKeysName(prefix)),
		KmsKeyId: aws.String(env.SigningKeysKMSKey(t))}); err != nil {
		t.Fatal(err)
	}
	const starts = 6
	actives := make(chan string, starts)
	var wg sync.WaitGroup
	for range starts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ks, err := keyManager(t, prefix, table).KeySet(ctx)
			if err != nil {
				t.Error(err)
				return
			}
			actives <- ks.Active
		}()
	}
	wg.Wait()
	close(actives)
	seen := map[string]bool{}
	for a := range actives {
		seen[a] = true
	}
	stored, err := vault.NewSigningKeys(env.Clients.SecretsManager, prefix).LoadKeySet(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(seen) != 1 || !seen[stored.Active] {
		t.Fatalf("cold starts on an empty secret use keys %v; the stored set's active key is %s", seen, stored.Active)
	}
}
