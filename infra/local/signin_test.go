package main

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"identityservice/infra/localidp"
	"identityservice/infra/testenv"
	"identityservice/shared/identity"
	"identityservice/shared/signin"
	"identityservice/shared/store"
	"identityservice/shared/vault"
)

var env *testenv.Env

func TestMain(m *testing.M) { testenv.Main(m, &env) }

// What make run seeds for a person's sign-in: the demo tenant's upstream
// is the local provider (its secret in Secrets Manager), which sends the
// demo administrator back to this service's callback; a Hybrid client
// with the demo redirect URIs; an authorization URL whose PKCE challenge
// is the printed verifier's; the demo person's credentials.
func TestMakeRunSeedsTheSignIn(t *testing.T) {
	ctx := context.Background()
	*upstreamAddr = "127.0.0.1:0"
	cfg := env.Config
	cfg.Issuer = "http://127.0.0.1:3000/identity"
	svc := env.Service(nil)
	tenant, err := svc.CreateTenant(ctx, "", "make run test", 0)
	if err != nil {
		t.Fatal(err)
	}
	apiURL := "http://127.0.0.1:3000"
	boot := map[string]string{}
	stop, err := startSignIn(ctx, cfg, env.Clients, svc, tenant.ID, apiURL, boot)
	if err != nil {
		t.Fatal(err)
	}
	defer stop()

	for _, k := range []string{"HybridClientId", "HybridClientSecret", "HybridRedirectUri", "HybridPostLogoutRedirectUri", "AuthorizeUrl", "UpstreamUsername", "UpstreamPassword", "UpstreamNoRoleUsername", "UpstreamNoRolePassword"} {
		if boot[k] == "" {
			t.Errorf("bootstrap has no %s", k)
		}
	}
	hybrid, err := svc.GetClient(ctx, tenant.ID, identity.Hybrid, boot["HybridClientId"])
	if err != nil {
		t.Fatal(err)
	}
	if !hybrid.AllowOfflineAccess || !hybrid.AllowAccessTokensViaBrowser || len(hybrid.RedirectURIs) != 1 || hybrid.RedirectURIs[0] != boot["HybridRedirectUri"] ||
		len(hybrid.PostLogoutRedirectURIs) != 1 || hybrid.PostLogoutRedirectURIs[0] != boot["HybridPostLogoutRedirectUri"] {
		t.Fatalf("the demo Hybrid client: %+v", hybrid)
	}
	authorize, err := url.Parse(boot["AuthorizeUrl"])
	if err != nil {
		t.Fatal(err)
	}
	q := authorize.Query()
	if authorize.Path != "/identity/connect/authorize" || q.Get("response_type") != "code" || q.Get("client_id") != hybrid.ID ||
		q.Get("redirect_uri") != boot["HybridRedirectUri"] || q.Get("code_challenge_method") != "S256" ||
		q.Get("code_challenge") != oauth2.S256ChallengeFromVerifier(boot["AuthorizeCodeVerifier"]) || q.Get("state") == "" || q.Get("nonce") == "" ||
		!strings.Contains(q.Get("scope"), "openid") {
		t.Fatalf("AuthorizeUrl %s", authorize)
	}

	// The demo tenant's dashboard client: its people sign in to the
	// dashboard, which finds the client's secret in Secrets Manager.
	dc, err := vault.NewDashboardClients(env.Clients.SecretsManager, cfg.SecretPrefix).DashboardClient(ctx, tenant.ID)
	if err != nil {
		t.Fatalf("the demo tenant's dashboard client: %v", err)
	}
	dash, err := svc.GetClient(ctx, tenant.ID, identity.Hybrid, dc.ClientID)
	if err != nil || boot["DashboardUrl"] != apiURL+"/_/op-dashboard" || len(dash.RedirectURIs) != 1 || dash.RedirectURIs[0] != apiURL+"/_/op-dashboard/callback" ||
		dash.AllowAccessTokensViaBrowser || dash.AllowOfflineAccess {
		t.Fatalf("the dashboard client %+v (%v), DashboardUrl %q", dash, err, boot["DashboardUrl"])
	}

	up, err := store.NewUpstreams(env.Clients.DynamoDB, cfg.Table).GetUpstream(ctx, tenant.ID)
	if err != nil || up.Issuer != boot["UpstreamIssuer"] || up.RoleClaim != localidp.RoleClaim || len(up.RoleMap[localidp.AdminGroup]) != 2 {
		t.Fatalf("the demo tenant's upstream: %+v (%v)", up, err)
	}
	secret, err := vault.NewUpstreams(env.Clients.SecretsManager, cfg.SecretPrefix).UpstreamSecret(ctx, tenant.ID)
	if err != nil {
		t.Fatal(err)
	}
	// The demo administrator signs in at the upstream and is sent back to
	// this service's callback.
	callback := "http://127.0.0.1:3000" + signin.CallbackPath
	conf := oauth2.Config{ClientID: up.ClientID, ClientSecret: secret, RedirectURL: callback, Scopes: []string{"openid"},
		Endpoint: oauth2.Endpoint{AuthURL: up.Issuer + "/auth"}}
	// So does the person without a role, with the credentials printed
	// for her (the dashboard then shows her the no-access page: shared/portal).
	for _, who := range []localidp.Person{
		{Username: boot["UpstreamUsername"], Password: boot["UpstreamPassword"]},
		{Username: boot["UpstreamNoRoleUsername"], Password: boot["UpstreamNoRolePassword"]},
	} {
		jar, _ := cookiejar.New(nil)
		res, err := localidp.SignIn(ctx, &http.Client{Jar: jar, CheckRedirect: localidp.StopAt(callback)},
			conf.AuthCodeURL("s", oauth2.S256ChallengeOption(oauth2.GenerateVerifier())), who)
		if err != nil {
			t.Fatalf("%s: %v", who.Username, err)
		}
		res.Body.Close()
		if loc := res.Header.Get("Location"); !strings.HasPrefix(loc, callback+"?code=") {
			t.Fatalf("%s, after the upstream's login form: HTTP %d to %q, want the callback with a code", who.Username, res.StatusCode, loc)
		}
	}

	// The demo client's redirect page shows what it got, escaped.
	rec := httptest.NewRecorder()
	demoPages(http.NotFoundHandler()).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, demoCallbackPath+"?code=c0de&state=%3Cscript%3E", nil))
	body, _ := io.ReadAll(rec.Body)
	if !strings.Contains(string(body), "c0de") || strings.Contains(string(body), "<script>") {
		t.Fatalf("the demo callback page: %s", body)
	}
}
