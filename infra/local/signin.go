package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strings"

	"golang.org/x/oauth2"

	"identityservice/infra/localidp"
	"identityservice/shared/config"
	"identityservice/shared/identity"
	"identityservice/shared/portal"
	"identityservice/shared/signin"
	"identityservice/shared/store"
	"identityservice/shared/vault"
)

var upstreamAddr = flag.String("upstream", "127.0.0.1:3001", "address of the local upstream OpenID Provider where the demo people sign in")

// The demo Hybrid client returns to these pages of the local server (no
// function serves them: they stand for the client application).
const (
	demoCallbackPath  = "/_/demo/callback"
	demoSignedOutPath = "/_/demo/signed-out"
)

// startSignIn starts the local upstream provider, makes it the demo
// tenant's upstream (its groups claim: AdminGroup gives Account
// Administrator and Account Member), seeds a demo Hybrid client and adds
// to boot what a person needs to sign in: the authorization URL (PKCE
// S256, its verifier beside it), the client, the demo person.
func startSignIn(ctx context.Context, cfg config.Config, clients config.Clients, svc *identity.Service, tenantID, apiURL string, boot map[string]string) (stop func(), err error) {
	issuer, err := url.Parse(cfg.Issuer)
	if err != nil || issuer.Host == "" {
		return nil, fmt.Errorf("ISSUER %q is not a URL", cfg.Issuer)
	}
	callback := issuer.Scheme + "://" + issuer.Host + signin.CallbackPath
	idp, err := localidp.Start(ctx, localidp.Config{Addr: *upstreamAddr, RedirectURIs: []string{callback}})
	if err != nil {
		return nil, fmt.Errorf("%w (is another `make run` running? -upstream ADDR picks another address)", err)
	}
	defer func() {
		if err != nil {
			idp.Stop()
		}
	}()

	if err := vault.NewUpstreams(clients.SecretsManager, cfg.SecretPrefix).PutUpstreamSecret(ctx, tenantID, idp.ClientSecret); err != nil {
		return nil, err
	}
	upstreams := store.NewUpstreams(clients.DynamoDB, cfg.Table)
	u := idp.Upstream(tenantID)
	if current, err := upstreams.GetUpstream(ctx, tenantID); err == nil {
		u.Version = current.Version
	}
	if err := upstreams.PutUpstream(ctx, u); err != nil {
		return nil, fmt.Errorf("set the demo tenant's upstream: %w", err)
	}

	redirect, postLogout := apiURL+demoCallbackPath, apiURL+demoSignedOutPath
	hybrid, err := svc.CreateClient(ctx, tenantID, identity.NewClient{
		Kind: identity.Hybrid, Name: "demo web application",
		RedirectURIs: []string{redirect}, PostLogoutRedirectURIs: []string{postLogout},
		AllowOfflineAccess: true, AllowAccessTokensViaBrowser: true,
		ClientURI:         apiURL + "/_/demo",
		SecretDescription: "seeded by make run",
	})
	if err != nil {
		return nil, fmt.Errorf("seed the demo Hybrid client: %w", err)
	}
	// The operations dashboard's client of the demo tenant: its people sign
	// in to /_/op-dashboard as themselves.
	if _, err := portal.Register(ctx, svc, vault.NewDashboardClients(clients.SecretsManager, cfg.SecretPrefix), tenantID, apiURL); err != nil {
		return nil, fmt.Errorf("register the demo tenant's dashboard client: %w", err)
	}
	boot["DashboardUrl"] = apiURL + portal.DashboardPath
	verifier := oauth2.GenerateVerifier()
	authorize := url.Values{
		"client_id": {hybrid.Client.ID}, "response_type": {"code"}, "scope": {"openid profile email"},
		"redirect_uri": {redirect}, "state": {"demo-" + oauth2.GenerateVerifier()[:12]}, "nonce": {oauth2.GenerateVerifier()[:22]},
		"code_challenge": {oauth2.S256ChallengeFromVerifier(verifier)}, "code_challenge_method": {"S256"},
	}
	boot["HybridClientId"] = hybrid.Client.ID
	boot["HybridClientSecret"] = hybrid.SecretString
	boot["HybridRedirectUri"] = redirect
	boot["HybridPostLogoutRedirectUri"] = postLogout
	boot["AuthorizeUrl"] = strings.TrimSuffix(cfg.Issuer, "/") + "/connect/authorize?" + authorize.Encode()
	boot["AuthorizeCodeVerifier"] = verifier
	boot["UpstreamIssuer"] = idp.Issuer
	boot["UpstreamUsername"] = idp.Admin.Username
	boot["UpstreamPassword"] = idp.Admin.Password
	boot["UpstreamNoRoleUsername"] = idp.NoRole.Username
	boot["UpstreamNoRolePassword"] = idp.NoRole.Password
	return idp.Stop, nil
}

// bootJSON is the bootstrap as indented JSON, URLs as they are (no
// \u0026 for &: a person copies the AuthorizeUrl from it).
func bootJSON(boot map[string]string) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	err := enc.Encode(boot)
	return b.Bytes(), err
}

// printSignIn tells a person how to sign in with the demo client.
func printSignIn(boot map[string]string) {
	fmt.Printf(`Sign in as a person: open this link in a browser, sign in at the local upstream provider (%[1]s)
as %[2]s / %[3]s, consent, and the browser lands on %[4]s with a code:
  %[5]s
Then exchange the code (within 60 s; CODE from the page):
  curl -s -u '%[6]s:%[7]s' -d grant_type=authorization_code -d code=CODE \
       --data-urlencode 'redirect_uri=%[4]s' -d code_verifier=%[8]s %[9]s

The operations dashboard: open %[10]s, sign in to tenant %[11]s as %[2]s
(the same upstream sign-in; no secret is typed into the dashboard). As %[12]s / %[13]s,
a person of the tenant whose group it maps to no role, you land on the no-access page instead.

`, boot["UpstreamIssuer"], boot["UpstreamUsername"], boot["UpstreamPassword"], boot["HybridRedirectUri"], boot["AuthorizeUrl"],
		boot["HybridClientId"], boot["HybridClientSecret"], boot["AuthorizeCodeVerifier"], boot["TokenUrl"], boot["DashboardUrl"], boot["TenantId"],
		boot["UpstreamNoRoleUsername"], boot["UpstreamNoRolePassword"])
}

var demoPage = template.Must(template.New("demo").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Demo client</title></head>
<body><h1>{{.Title}}</h1>
{{range .Fields}}<p>{{.Name}}: <code>{{.Value}}</code></p>{{end}}
<p>{{.Hint}}</p></body></html>`))

// demoPages serves the demo client's redirect and post-logout pages, and
// everything else with next.
func demoPages(next http.Handler) http.Handler {
	type field struct{ Name, Value string }
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var data struct {
			Title, Hint string
			Fields      []field
		}
		switch r.URL.Path {
		case demoCallbackPath:
			if err := r.ParseForm(); err != nil {
				http.Error(w, "bad form", http.StatusBadRequest)
				return
			}
			data.Title = "The demo client got an answer"
			for _, k := range []string{"error", "error_description", "code", "state", "id_token", "access_token", "token_type", "expires_in", "scope"} {
				if v := r.Form.Get(k); v != "" {
					data.Fields = append(data.Fields, field{k, v})
				}
			}
			data.Hint = "Exchange the code with the curl command that make run printed (a code lives 60 s and works once). With response_mode=fragment the answer is after the # in the address bar."
		case demoSignedOutPath:
			data.Title = "Signed out"
			if s := r.URL.Query().Get("state"); s != "" {
				data.Fields = append(data.Fields, field{"state", s})
			}
		default:
			next.ServeHTTP(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("Referrer-Policy", "no-referrer")
		w.Header().Set("Content-Security-Policy", "default-src 'none'")
		demoPage.Execute(w, data)
	})
}
