package config_test

import (
	"strings"
	"testing"

	"identityservice/shared/auth"
	"identityservice/shared/config"
)

// SIGNING_ALG chooses the algorithm of new signing keys: RS256 unless set,
// ES256 when asked, anything else a start-up error naming the variable;
// the token function's key manager creates keys of it.
func TestSigningAlgFromEnv(t *testing.T) {
	t.Setenv("TABLE_NAME", "t")
	t.Setenv("SECRET_PREFIX", "p")
	for v, want := range map[string]auth.Alg{"": auth.RS256, "RS256": auth.RS256, "ES256": auth.ES256} {
		t.Setenv("SIGNING_ALG", v)
		c, err := config.FromEnv()
		if err != nil || c.SigningAlg != want {
			t.Fatalf("SIGNING_ALG=%q: %q, %v; want %s", v, c.SigningAlg, err, want)
		}
		if km := config.NewApp(c, config.Clients{}, nil).KeyManager(); km.Alg != want {
			t.Fatalf("SIGNING_ALG=%q: the key manager makes %q keys", v, km.Alg)
		}
	}
	for _, v := range []string{"HS256", "none", "es256", "RS512"} {
		t.Setenv("SIGNING_ALG", v)
		if _, err := config.FromEnv(); err == nil || !strings.Contains(err.Error(), "SIGNING_ALG") || !strings.Contains(err.Error(), "RS256 or ES256") {
			t.Fatalf("SIGNING_ALG=%q: %v, want an error naming the variable and the algorithms", v, err)
		}
	}
}
