package vault_test

import (
	"context"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"identityservice/infra/testenv"
	"identityservice/shared/identity"
	"identityservice/shared/signin"
	"identityservice/shared/vault"
)

var env *testenv.Env

func TestMain(m *testing.M) { testenv.Main(m, &env) }

// The upstream client secret is kept as it was given (it is sent to the
// upstream), under <prefix>/upstreams/<tenant>; a second put replaces it,
// a delete destroys it at once, and reading a missing one says there is
// no upstream.
func TestUpstreamSecrets(t *testing.T) {
	ctx := context.Background()
	v := vault.NewUpstreams(env.Clients.SecretsManager, env.Config.SecretPrefix)
	tenant := identity.NewID()

	if _, err := v.UpstreamSecret(ctx, tenant); !errors.Is(err, signin.ErrUpstreamNotFound) {
		t.Fatalf("read before put: %v, want ErrUpstreamNotFound", err)
	}
	for _, secret := range []string{"first secret ✓", "second-secret"} {
		if err := v.PutUpstreamSecret(ctx, tenant, secret); err != nil {
			t.Fatal(err)
		}
		got, err := v.UpstreamSecret(ctx, tenant)
		if err != nil || got != secret {
			t.Fatalf("read back %q, %v; want %q", got, err, secret)
		}
	}
	out, err := env.Clients.SecretsManager.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(env.Config.SecretPrefix + "/upstreams/" + tenant)})
	if err != nil || aws.ToString(out.SecretString) != "second-secret" {
		t.Fatalf("the secret is not at %s/upstreams/%s as it was given: %v", env.Config.SecretPrefix, tenant, err)
	}
	if err := v.PutUpstreamSecret(ctx, tenant, ""); err == nil {
		t.Fatal("an empty secret was stored")
	}
	for range 2 {
		if err := v.DeleteUpstreamSecret(ctx, tenant); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := v.UpstreamSecret(ctx, tenant); !errors.Is(err, signin.ErrUpstreamNotFound) {
		t.Fatalf("read after delete: %v, want ErrUpstreamNotFound", err)
	}
	// Deleted without a recovery window: the name can be used again at once.
	if err := v.PutUpstreamSecret(ctx, tenant, "third"); err != nil {
		t.Fatalf("put after delete: %v", err)
	}
}
