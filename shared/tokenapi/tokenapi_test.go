package tokenapi_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"identityservice/infra/testenv"
	"identityservice/shared/auth"
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

// discoveryAlgs is what the discovery document says of the algorithms.
type discoveryAlgs struct {
	AccessToken []string `json:"access_token_signing_alg_values_supported"`
	IDToken     []string `json:"id_token_signing_alg_values_supported"`
}

func getJSON(t *testing.T, url string, v any) {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK || json.NewDecoder(res.Body).Decode(v) != nil {
		t.Fatalf("GET %s: status %d", url, res.StatusCode)
	}
}

// A warm token function serves the published JWKS, so a key rotated in by
// the operator is visible at once, before the function's own cached key
// set expires. The rotation is the switch RS256 -> ES256 (SigningAlg):
// the JWKS then gives each key its alg (and crv for EC), and discovery
// names the algorithms of the published keys, the active key's first, in
// access_token_signing_alg_values_supported (id_token_... says the same).
func TestJWKSShowsARotatedKeyAtOnce(t *testing.T) {
	log := slog.New(slog.NewJSONHandler(io.Discard, nil))
	app := config.NewApp(env.Config, env.Clients, log)
	srv := httptest.NewServer(env.Tagged(httpapi.NewHandler(log, tokenRoutes(app))))
	t.Cleanup(srv.Close)

	before := jwksKids(t, srv.URL)
	if len(before) != 1 {
		t.Fatalf("first JWKS holds %v, want the one first key", before)
	}
	var d discoveryAlgs
	getJSON(t, srv.URL+tokenapi.DiscoveryPath, &d)
	if !slices.Equal(d.AccessToken, []string{"RS256"}) || !slices.Equal(d.IDToken, d.AccessToken) {
		t.Fatalf("discovery of an RS256 stack: %+v", d)
	}
	// The operator's rotation (make admin ARGS='keys rotate --alg ES256')
	// runs in another process: another App, another KeyManager.
	cfg := env.Config
	cfg.SigningAlg = auth.ES256
	rotated, err := config.NewApp(cfg, env.Clients, log).KeyManager().Rotate(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var set struct {
		Keys []struct{ Kid, Kty, Alg, Crv string }
	}
	getJSON(t, srv.URL+tokenapi.JWKSPath, &set)
	kinds := map[string]string{}
	for _, k := range set.Keys {
		kinds[k.Kid] = k.Kty + " " + k.Alg + " " + k.Crv
	}
	if kinds[rotated.Active] != "EC ES256 P-256" || kinds[before[0]] != "RSA RS256 " {
		t.Fatalf("JWKS after the rotation to ES256: %v", kinds)
	}
	cold := httptest.NewServer(env.Tagged(httpapi.NewHandler(log, tokenRoutes(config.NewApp(env.Config, env.Clients, log)))))
	t.Cleanup(cold.Close)
	getJSON(t, cold.URL+tokenapi.DiscoveryPath, &d)
	if !slices.Equal(d.AccessToken, []string{"ES256", "RS256"}) || !slices.Equal(d.IDToken, d.AccessToken) {
		t.Fatalf("discovery after the rotation to ES256: %+v, want [ES256 RS256]", d)
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

// A JWKS answer may be cached no longer than a revocation takes to reach
// this service's own verifiers (auth.KeyRefresh): a cache in between must
// not keep a revoked key trusted past that.
func TestJWKSCacheDoesNotOutliveTheRevocationInterval(t *testing.T) {
	log := slog.New(slog.NewJSONHandler(io.Discard, nil))
	srv := httptest.NewServer(env.Tagged(httpapi.NewHandler(log, tokenRoutes(config.NewApp(env.Config, env.Clients, log)))))
	t.Cleanup(srv.Close)
	res, err := http.Get(srv.URL + tokenapi.JWKSPath)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	cc := res.Header.Get("Cache-Control")
	var maxAge int
	for _, part := range strings.Split(cc, ",") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(part), "max-age="); ok {
			maxAge, err = strconv.Atoi(v)
		}
	}
	if res.StatusCode != http.StatusOK || err != nil || maxAge <= 0 || time.Duration(maxAge)*time.Second > auth.KeyRefresh {
		t.Fatalf("JWKS %d, Cache-Control %q: want a max-age of at most %s", res.StatusCode, cc, auth.KeyRefresh)
	}
}
