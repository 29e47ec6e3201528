package signinapi_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"strings"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"identityservice/shared/signin"
	"identityservice/shared/signinapi"
	"identityservice/shared/tokenapi"
)

// rp is an independent relying party: coreos/go-oidc and x/oauth2,
// configured from this service's discovery document.
type rp struct {
	provider *oidc.Provider
	oauth    oauth2.Config
	verifier *oidc.IDTokenVerifier
}

func newRP(t *testing.T, issuer, clientID, secret string, scopes ...string) *rp {
	t.Helper()
	p, err := oidc.NewProvider(context.Background(), issuer)
	if err != nil {
		t.Fatal(err)
	}
	return &rp{provider: p, verifier: p.Verifier(&oidc.Config{ClientID: clientID}),
		oauth: oauth2.Config{ClientID: clientID, ClientSecret: secret, Endpoint: p.Endpoint(), RedirectURL: rpCallback, Scopes: append([]string{oidc.ScopeOpenID}, scopes...)}}
}

// leftHalfHash is c_hash / at_hash computed here, not by the code under
// test: SHA-256 (the hash of RS256 and ES256), left half, base64url.
func leftHalfHash(v string) string {
	sum := sha256.Sum256([]byte(v))
	return base64.RawURLEncoding.EncodeToString(sum[:16])
}

// A person signs in through the tenant's upstream for every response
// type, consents once, and the relying party verifies what came back with
// go-oidc: the signature against this service's JWKS, iss, aud, nonce,
// c_hash (beside a code in the front channel), at_hash (beside an access
// token); it redeems the code with PKCE, reads userinfo, and the person's
// access token calls a management route with the role the tenant's
// mapping gave.
func TestSignInForEveryResponseType(t *testing.T) {
	s := newStack(t)
	s.setUpstream(t, nil)
	s.Upstream.Person = signin.UpstreamIdentity{Subject: "upstream-42", Name: "Ada Lovelace", Email: "ada@corp.example", EmailVerified: true, RoleClaimValues: []string{adminRoleTag}}
	client := s.hybrid(t, true, false)
	issuer := s.URL + "/identity"
	relying := newRP(t, issuer, client.Client.ID, client.SecretString, "profile", "email")
	ctx := context.Background()
	b := browser(t)
	var subject string
	for i, rt := range []string{signin.ResponseCode, signin.ResponseCodeIDToken, signin.ResponseCodeToken, signin.ResponseCodeIDTokenToken, signin.ResponseIDTokenToken} {
		t.Run(rt, func(t *testing.T) {
			state, nonce, verifier := "st<&>"+rt, "n-"+rt, oauth2.GenerateVerifier()
			opts := []oauth2.AuthCodeOption{oidc.Nonce(nonce), oauth2.SetAuthURLParam("response_type", rt)}
			if strings.Contains(rt, "code") {
				opts = append(opts, oauth2.S256ChallengeOption(verifier))
			}
			res, body := get(t, b, relying.oauth.AuthCodeURL(state, opts...))
			if i == 0 {
				// The first time: the consent page, with the client's
				// Name (escaped), logo and URI, and the scopes.
				if res.StatusCode != http.StatusOK || !strings.Contains(body, "Expense &lt;Reports&gt;") || !strings.Contains(body, "https://cdn.rp.example/logo.png") ||
					!strings.Contains(body, `href="https://rp.example/about"`) || !strings.Contains(body, `data-scope="email"`) {
					t.Fatalf("consent page: status %d\n%s", res.StatusCode, body)
				}
				if csp := res.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors 'none'") || res.Header.Get("X-Frame-Options") != "DENY" {
					t.Fatalf("consent page headers: %v", res.Header)
				}
				f := formFields(body)
				f.Set("decision", "allow")
				res, _ = postForm(t, b, s.URL+signinapi.ConsentPath, f)
			}
			got := answer(t, res)
			if got.Get("state") != state || got.Get("iss") != issuer {
				t.Fatalf("state %q iss %q, want %q and %q", got.Get("state"), got.Get("iss"), state, issuer)
			}
			if rt == signin.ResponseCode && res.Request != nil && strings.Contains(res.Header.Get("Location"), "#") {
				t.Fatal("response_type=code answered in the fragment; its default mode is query")
			}
			code, front, at := got.Get("code"), got.Get("id_token"), got.Get("access_token")
			if (code != "") != strings.Contains(rt, "code") || (front != "") != strings.Contains(rt, "id_token") || (at != "") != strings.HasSuffix(rt, "token") && rt != signin.ResponseCodeIDToken {
				t.Fatalf("%s returned code %v id_token %v access_token %v", rt, code != "", front != "", at != "")
			}
			if front != "" {
				idt, err := relying.verifier.Verify(ctx, front)
				if err != nil {
					t.Fatalf("front-channel ID token: %v", err)
				}
				var claims struct {
					CHash    string `json:"c_hash"`
					SID      string `json:"sid"`
					AuthTime int64  `json:"auth_time"`
				}
				if err := idt.Claims(&claims); err != nil {
					t.Fatal(err)
				}
				if idt.Nonce != nonce || idt.Issuer != issuer || idt.Audience[0] != client.Client.ID || claims.SID == "" || claims.AuthTime == 0 {
					t.Fatalf("ID token: nonce %q iss %q aud %v sid %q auth_time %d", idt.Nonce, idt.Issuer, idt.Audience, claims.SID, claims.AuthTime)
				}
				if code != "" && claims.CHash != leftHalfHash(code) {
					t.Fatalf("c_hash %q, want %q", claims.CHash, leftHalfHash(code))
				}
				if at != "" {
					if idt.AccessTokenHash == "" || idt.VerifyAccessToken(at) != nil {
						t.Fatalf("at_hash %q does not match the access token", idt.AccessTokenHash)
					}
				}
				subject = idt.Subject
			}
			if code == "" {
				return
			}
			var exOpts []oauth2.AuthCodeOption
			if strings.Contains(rt, "code") {
				exOpts = append(exOpts, oauth2.VerifierOption(verifier))
			}
			tok, err := relying.oauth.Exchange(ctx, code, exOpts...)
			if err != nil {
				t.Fatalf("code exchange: %v", err)
			}
			raw, _ := tok.Extra("id_token").(string)
			idt, err := relying.verifier.Verify(ctx, raw)
			if err != nil {
				t.Fatalf("ID token of the token endpoint: %v", err)
			}
			if idt.Nonce != nonce || idt.VerifyAccessToken(tok.AccessToken) != nil {
				t.Fatalf("token endpoint ID token: nonce %q (want %q), at_hash %q", idt.Nonce, nonce, idt.AccessTokenHash)
			}
			var profile struct {
				Name  string `json:"name"`
				Email string `json:"email"`
			}
			if err := idt.Claims(&profile); err != nil || profile.Name != "Ada Lovelace" || profile.Email != "ada@corp.example" {
				t.Fatalf("profile claims %+v (%v)", profile, err)
			}
			if subject != "" && idt.Subject != subject {
				t.Fatalf("sub %q, then %q: a person's subject is stable", subject, idt.Subject)
			}
			subject = idt.Subject
			info, err := relying.provider.UserInfo(ctx, oauth2.StaticTokenSource(tok))
			if err != nil || info.Subject != subject || info.Email != "ada@corp.example" {
				t.Fatalf("userinfo %+v: %v", info, err)
			}
			// The person's access token on a management route: the
			// tenant's mapping made them Account Administrator.
			if status := s.getClientWith(t, tok.AccessToken, client.Client.ID); status != http.StatusOK {
				t.Fatalf("management route with the person's token: %d", status)
			}
		})
	}
	if subject == "" || strings.Contains(subject, "upstream-42") {
		t.Fatalf("subject %q: want one of this service's own, not the upstream's", subject)
	}
}

// discovery lists what a relying party needs to find sign-in.
func TestDiscoveryListsSignIn(t *testing.T) {
	s := newStack(t)
	var d struct {
		Authorization string   `json:"authorization_endpoint"`
		Userinfo      string   `json:"userinfo_endpoint"`
		EndSession    string   `json:"end_session_endpoint"`
		Revocation    string   `json:"revocation_endpoint"`
		RevocationAM  []string `json:"revocation_endpoint_auth_methods_supported"`
		ResponseTypes []string `json:"response_types_supported"`
		ResponseModes []string `json:"response_modes_supported"`
		Scopes        []string `json:"scopes_supported"`
		PKCE          []string `json:"code_challenge_methods_supported"`
		Grants        []string `json:"grant_types_supported"`
		Claims        []string `json:"claims_supported"`
	}
	p, err := oidc.NewProvider(context.Background(), s.URL+"/identity")
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Claims(&d); err != nil {
		t.Fatal(err)
	}
	if d.Authorization != s.URL+signinapi.AuthorizePath || d.Userinfo != s.URL+signinapi.UserinfoPath || d.EndSession != s.URL+signinapi.EndSessionPath ||
		d.Revocation != s.URL+tokenapi.RevocationPath || strings.Join(d.RevocationAM, ",") != "client_secret_basic,client_secret_post" {
		t.Fatalf("endpoints %+v", d)
	}
	if strings.Join(d.PKCE, ",") != "S256" || !contains(d.Grants, "authorization_code") || !contains(d.ResponseTypes, "code id_token") ||
		!contains(d.ResponseModes, "form_post") || !contains(d.Scopes, "offline_access") || !contains(d.Claims, "c_hash") {
		t.Fatalf("discovery %+v", d)
	}
}

func contains(xs []string, x string) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}
