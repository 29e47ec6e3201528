// The end-to-end sign-in through the local upstream provider (package
// localidp) and the real Federation: the HTML login form, then
// coreos/go-oidc as the relying party.

package signinapi_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"identityservice/infra/localidp"
	"identityservice/shared/config"
	"identityservice/shared/httpapi"
	"identityservice/shared/identity"
	"identityservice/shared/ocsapi"
	"identityservice/shared/signinapi"
	"identityservice/shared/tokenapi"
	"identityservice/shared/vault"
)

// The whole flow through the real upstream half: the local upstream
// provider's HTML login form, the go-oidc Federation, the DynamoDB
// UpstreamStore and the Secrets Manager upstream secret, wired as
// config.App wires them in the functions.
func TestEndToEndThroughTheLocalUpstream(t *testing.T) {
	ctx := context.Background()
	log := slog.New(slog.NewJSONHandler(io.Discard, nil))
	app := config.NewApp(env.Config, env.Clients, log)
	var routes []httpapi.Route
	routes = append(routes, signinapi.Routes(app)...)
	routes = append(routes, tokenapi.Routes(tokenapi.NewDeps(app.Service, app.TokenIssuer(), app.IssuerURL, app.SignIn(), app.Upstreams()))...)
	routes = append(routes, ocsapi.HybridClientRoutes(app.Service)...)
	srv := httptest.NewServer(env.Tagged(httpapi.NewHandler(log, routes, httpapi.WithAuthenticator(app.Authenticator))))
	t.Cleanup(srv.Close)
	idp := localidp.ForTest(t, localidp.Config{RedirectURIs: []string{srv.URL + "/identity/connect/upstream/callback"}})
	tenant := identity.NewID()
	if _, err := app.Service.CreateTenant(ctx, tenant, "e2e", 0); err != nil {
		t.Fatal(err)
	}
	if err := app.Upstreams().PutUpstream(ctx, idp.Upstream(tenant)); err != nil {
		t.Fatal(err)
	}
	if err := vault.NewUpstreams(env.Clients.SecretsManager, env.Config.SecretPrefix).PutUpstreamSecret(ctx, tenant, idp.ClientSecret); err != nil {
		t.Fatal(err)
	}
	s := &stack{URL: srv.URL, App: app, Tenant: tenant}
	c := s.hybrid(t, true, false)
	relying := newRP(t, srv.URL+"/identity", c.Client.ID, c.SecretString, "profile", "email")
	for _, rt := range []string{"code", "code id_token", "code token", "code id_token token", "id_token token"} {
		t.Run(rt, func(t *testing.T) {
			b := browser(t)
			b.CheckRedirect = localidp.StopAt("https://rp.example")
			verifier := oauth2.GenerateVerifier()
			opts := []oauth2.AuthCodeOption{oidc.Nonce("nonce-" + rt), oauth2.SetAuthURLParam("response_type", rt)}
			if strings.Contains(rt, "code") {
				opts = append(opts, oauth2.S256ChallengeOption(verifier))
			}
			res, err := localidp.SignIn(ctx, b, relying.oauth.AuthCodeURL("st-"+rt, opts...), idp.Admin)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode == http.StatusOK && strings.Contains(string(body), `name="interaction"`) {
				f := formFields(string(body))
				f.Set("decision", "allow")
				res, _ = postForm(t, b, srv.URL+signinapi.ConsentPath, f)
			}
			got := answer(t, res)
			if got.Get("state") != "st-"+rt {
				t.Fatalf("answer %v", got)
			}
			if raw := got.Get("id_token"); raw != "" {
				idt, err := relying.verifier.Verify(ctx, raw)
				if err != nil || idt.Nonce != "nonce-"+rt {
					t.Fatalf("front-channel ID token: %v", err)
				}
				var ch struct {
					CHash string `json:"c_hash"`
				}
				_ = idt.Claims(&ch)
				if code := got.Get("code"); code != "" && ch.CHash != leftHalfHash(code) {
					t.Fatalf("c_hash %q", ch.CHash)
				}
				if at := got.Get("access_token"); at != "" && idt.VerifyAccessToken(at) != nil {
					t.Fatal("at_hash")
				}
			}
			code := got.Get("code")
			if code == "" {
				return
			}
			tok, err := relying.oauth.Exchange(ctx, code, oauth2.VerifierOption(verifier))
			if err != nil {
				t.Fatalf("exchange: %v", err)
			}
			raw, _ := tok.Extra("id_token").(string)
			idt, err := relying.verifier.Verify(ctx, raw)
			if err != nil || idt.Nonce != "nonce-"+rt || idt.VerifyAccessToken(tok.AccessToken) != nil {
				t.Fatalf("ID token: %v", err)
			}
			var who struct{ Email string }
			_ = idt.Claims(&who)
			if who.Email != idp.Admin.Email {
				t.Fatalf("email %q, want %q", who.Email, idp.Admin.Email)
			}
			if status := s.getClientWith(t, tok.AccessToken, c.Client.ID); status != http.StatusOK {
				t.Fatalf("management route: %d", status)
			}
		})
	}
}
