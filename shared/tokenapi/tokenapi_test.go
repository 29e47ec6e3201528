package tokenapi_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"identityservice/infra/testenv"
	"identityservice/shared/config"
	"identityservice/shared/httpapi"
	"identityservice/shared/tokenapi"
)

var env *testenv.Env

func TestMain(m *testing.M) { testenv.Main(m, &env) }

func jwksKids(t *testing.T, url string) []string {
	t.Helper()
	res, err := http.Get(url + tokenapi.JWKSPath)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var set struct {
		Keys []struct {
			Kid string `json:"kid"`
			D   string `json:"d"`
		} `json:"keys"`
	}
	if res.StatusCode != http.StatusOK || json.NewDecoder(res.Body).Decode(&set) != nil {
		t.Fatalf("JWKS: status %d", res.StatusCode)
	}
	var kids []string
	for _, k := range set.Keys {
		if k.D != "" {
			t.Fatal("the JWKS endpoint serves a private key")
		}
		kids = append(kids, k.Kid)
	}
	return kids
}

// A warm token function serves the published JWKS, so a key rotated in by
// the operator is visible at once, before the function's own cached key
// set expires.
func TestJWKSShowsARotatedKeyAtOnce(t *testing.T) {
	log := slog.New(slog.NewJSONHandler(io.Discard, nil))
	app := config.NewApp(env.Config, env.Clients, log)
	srv := httptest.NewServer(env.Tagged(httpapi.NewHandler(log, tokenapi.Routes(app))))
	t.Cleanup(srv.Close)

	before := jwksKids(t, srv.URL)
	if len(before) != 1 {
		t.Fatalf("first JWKS holds %v, want the one first key", before)
	}
	// The operator's rotation (make admin ARGS='keys rotate') runs in
	// another process: another App, another KeyManager.
	rotated, err := config.NewApp(env.Config, env.Clients, log).KeyManager().Rotate(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	after := jwksKids(t, srv.URL)
	has := map[string]bool{}
	for _, k := range after {
		has[k] = true
	}
	if len(after) != 2 || !has[before[0]] || !has[rotated.Active] {
		t.Fatalf("JWKS after rotation holds %v, want the old key %s and the new %s", after, before[0], rotated.Active)
	}
}
