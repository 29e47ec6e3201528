package signinapi_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"identityservice/shared/identity"
	"identityservice/shared/signin"
	"identityservice/shared/signinapi"
)

// signIn runs a sign-in in browser b up to the relying party's redirect
// URI (allowing on the consent page when it shows) and returns what
// reached it, with the PKCE verifier used.
func signIn(t *testing.T, s *stack, b *http.Client, relying *rp, rt, state string, extra ...oauth2.AuthCodeOption) (url.Values, string) {
	t.Helper()
	verifier := oauth2.GenerateVerifier()
	opts := append([]oauth2.AuthCodeOption{oidc.Nonce("nonce-1"), oauth2.SetAuthURLParam("response_type", rt), oauth2.S256ChallengeOption(verifier)}, extra...)
	res, body := get(t, b, relying.oauth.AuthCodeURL(state, opts...))
	if res.StatusCode == http.StatusOK && strings.Contains(body, `name="interaction"`) {
		f := formFields(body)
		f.Set("decision", "allow")
		res, _ = postForm(t, b, s.URL+signinapi.ConsentPath, f)
	}
	return answer(t, res), verifier
}

// personStack is a stack whose tenant's upstream signs person in, a
// Hybrid client (no tokens via the browser, no offline access) and its
// relying party.
func personStack(t *testing.T) (*stack, identity.CreatedClient, *rp) {
	t.Helper()
	s := newStack(t)
	s.setUpstream(t, nil)
	s.Upstream.Person = person
	c := s.hybrid(t, false, false)
	return s, c, newRP(t, s.URL+"/identity", c.Client.ID, c.SecretString)
}

// getClientWith reads a Hybrid client of the stack's tenant through the
// management API with a bearer token, and returns the status.
func (s *stack) getClientWith(t *testing.T, token, clientID string) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, s.URL+"/api/Tenants/"+s.Tenant+"/HybridClient/"+clientID, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res.StatusCode
}

// person is the upstream's demo person, an administrator by the mapping.
var person = signin.UpstreamIdentity{Subject: "upstream-7", Name: "Grace Hopper", Email: "grace@corp.example", EmailVerified: true, RoleClaimValues: []string{adminRoleTag}}

// Every rule of the authorization request: an error before the redirect
// URI is known to be the client's is a page and never a redirect; after,
// the error goes to the redirect URI with the state unchanged.
func TestAuthorizationRequestRules(t *testing.T) {
	s := newStack(t)
	s.setUpstream(t, nil)
	s.Upstream.Person = person
	plain := s.hybrid(t, false, false)   // no tokens via the browser, no offline access
	browsing := s.hybrid(t, true, false) // tokens via the browser
	challenge := s256(oauth2.GenerateVerifier())
	base := func(clientID string) url.Values {
		return url.Values{"client_id": {clientID}, "redirect_uri": {rpCallback}, "response_type": {"code"}, "scope": {"openid"},
			"state": {"s&t=1"}, "nonce": {"n"}, "code_challenge": {challenge}, "code_challenge_method": {"S256"}}
	}
	cases := []struct {
		name   string
		client string
		change func(url.Values)
		// page: shown to the person, never redirected; else the error
		// code the redirect URI gets, and whether in the fragment.
		page     bool
		code     string
		fragment bool
	}{
		{name: "unregistered redirect URI", change: func(v url.Values) { v.Set("redirect_uri", "https://evil.example/callback") }, page: true},
		{name: "redirect URI not exactly registered", change: func(v url.Values) { v.Set("redirect_uri", rpCallback+"/") }, page: true},
		{name: "redirect URI with a query added", change: func(v url.Values) { v.Set("redirect_uri", rpCallback+"?x=1") }, page: true},
		{name: "no redirect URI", change: func(v url.Values) { v.Del("redirect_uri") }, page: true},
		{name: "redirect URI twice", change: func(v url.Values) { v.Add("redirect_uri", rpCallback) }, page: true},
		{name: "unknown client", change: func(v url.Values) { v.Set("client_id", identity.NewID()) }, page: true},
		{name: "no client", change: func(v url.Values) { v.Del("client_id") }, page: true},
		{name: "code token without AllowAccessTokensViaBrowser", change: func(v url.Values) { v.Set("response_type", "code token") }, code: "unauthorized_client", fragment: true},
		{name: "id_token token without AllowAccessTokensViaBrowser", change: func(v url.Values) {
			v.Set("response_type", "id_token token")
			v.Del("code_challenge")
			v.Del("code_challenge_method")
		}, code: "unauthorized_client", fragment: true},
		{name: "code id_token token without AllowAccessTokensViaBrowser", change: func(v url.Values) { v.Set("response_type", "token code id_token") }, code: "unauthorized_client", fragment: true},
		{name: "bare token", change: func(v url.Values) { v.Set("response_type", "token") }, code: "unsupported_response_type", fragment: true},
		{name: "offline_access without AllowOfflineAccess", change: func(v url.Values) { v.Set("scope", "openid offline_access") }, code: "invalid_scope"},
		{name: "no openid scope", change: func(v url.Values) { v.Set("scope", "profile") }, code: "invalid_scope"},
		{name: "unknown scope", change: func(v url.Values) { v.Set("scope", "openid payroll") }, code: "invalid_scope"},
		{name: "missing nonce with an ID token in the front channel", client: "browsing", change: func(v url.Values) { v.Set("response_type", "code id_token"); v.Del("nonce") }, code: "invalid_request", fragment: true},
		{name: "missing nonce with id_token token", client: "browsing", change: func(v url.Values) {
			v.Set("response_type", "id_token token")
			v.Del("nonce")
			v.Del("code_challenge")
			v.Del("code_challenge_method")
		}, code: "invalid_request", fragment: true},
		{name: "code without PKCE", change: func(v url.Values) { v.Del("code_challenge"); v.Del("code_challenge_method") }, code: "invalid_request"},
		{name: "PKCE plain", change: func(v url.Values) { v.Set("code_challenge_method", "plain") }, code: "invalid_request"},
		{name: "PKCE without a method (plain by default)", change: func(v url.Values) { v.Del("code_challenge_method") }, code: "invalid_request"},
		{name: "PKCE challenge not S256-shaped", change: func(v url.Values) { v.Set("code_challenge", "short") }, code: "invalid_request"},
		{name: "query mode for an ID token", client: "browsing", change: func(v url.Values) { v.Set("response_type", "code id_token"); v.Set("response_mode", "query") }, code: "invalid_request", fragment: true},
		{name: "unknown response mode", change: func(v url.Values) { v.Set("response_mode", "jwt") }, code: "invalid_request"},
		{name: "unknown prompt", change: func(v url.Values) { v.Set("prompt", "select_account") }, code: "invalid_request"},
		{name: "prompt none with login", change: func(v url.Values) { v.Set("prompt", "none login") }, code: "invalid_request"},
		{name: "negative max_age", change: func(v url.Values) { v.Set("max_age", "-1") }, code: "invalid_request"},
		{name: "request object", change: func(v url.Values) { v.Set("request", "eyJ") }, code: "request_not_supported"},
		{name: "parameter twice", change: func(v url.Values) { v.Add("scope", "openid") }, code: "invalid_request", fragment: true},
		{name: "prompt none without a session", change: func(v url.Values) { v.Set("prompt", "none") }, code: "login_required"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			id := plain.Client.ID
			if tc.client == "browsing" {
				id = browsing.Client.ID
			}
			q := base(id)
			tc.change(q)
			res, body := get(t, browser(t), s.URL+signinapi.AuthorizePath+"?"+q.Encode())
			if tc.page {
				if res.StatusCode != http.StatusBadRequest || res.Header.Get("Location") != "" || !strings.Contains(body, `id="error"`) {
					t.Fatalf("status %d, Location %q: want a 400 page and no redirect\n%s", res.StatusCode, res.Header.Get("Location"), body)
				}
				return
			}
			loc := res.Header.Get("Location")
			got := answer(t, res)
			if got.Get("error") != tc.code || got.Get("error_description") == "" || got.Get("state") != "s&t=1" {
				t.Fatalf("got %v, want error %s with a description and state unchanged", got, tc.code)
			}
			if strings.Contains(loc, "#") != tc.fragment {
				t.Fatalf("Location %s: in the fragment %v, want %v", loc, strings.Contains(loc, "#"), tc.fragment)
			}
		})
	}
}

// A code is single-use, for its own client, with its PKCE verifier; a
// second redemption fails and revokes what the first issued (its session
// ends: userinfo refuses the first access token).
func TestCodeRedemptionRules(t *testing.T) {
	s := newStack(t)
	s.setUpstream(t, nil)
	s.Upstream.Person = person
	c := s.hybrid(t, false, false)
	other := s.hybrid(t, false, false)
	relying := newRP(t, s.URL+"/identity", c.Client.ID, c.SecretString, "email")
	intruder := newRP(t, s.URL+"/identity", other.Client.ID, other.SecretString)
	ctx := context.Background()
	b := browser(t)

	t.Run("wrong PKCE verifier", func(t *testing.T) {
		got, _ := signIn(t, s, b, relying, "code", "a")
		_, err := relying.oauth.Exchange(ctx, got.Get("code"), oauth2.VerifierOption(oauth2.GenerateVerifier()))
		wantOAuthError(t, err, "invalid_grant")
	})
	t.Run("missing PKCE verifier", func(t *testing.T) {
		got, _ := signIn(t, s, b, relying, "code", "b")
		_, err := relying.oauth.Exchange(ctx, got.Get("code"))
		wantOAuthError(t, err, "invalid_grant")
	})
	t.Run("another client's code", func(t *testing.T) {
		got, verifier := signIn(t, s, b, relying, "code", "c")
		_, err := intruder.oauth.Exchange(ctx, got.Get("code"), oauth2.VerifierOption(verifier))
		wantOAuthError(t, err, "invalid_grant")
		if _, err := relying.oauth.Exchange(ctx, got.Get("code"), oauth2.VerifierOption(verifier)); err != nil {
			t.Fatalf("the code's own client after another tried it: %v", err)
		}
	})
	t.Run("other redirect URI", func(t *testing.T) {
		got, verifier := signIn(t, s, b, relying, "code", "d")
		_, err := relying.oauth.Exchange(ctx, got.Get("code"), oauth2.VerifierOption(verifier), oauth2.SetAuthURLParam("redirect_uri", "https://rp.example/other"))
		wantOAuthError(t, err, "invalid_grant")
	})
	t.Run("replay", func(t *testing.T) {
		got, verifier := signIn(t, s, b, relying, "code", "e")
		first, err := relying.oauth.Exchange(ctx, got.Get("code"), oauth2.VerifierOption(verifier))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := relying.provider.UserInfo(ctx, oauth2.StaticTokenSource(first)); err != nil {
			t.Fatalf("userinfo before the replay: %v", err)
		}
		_, err = relying.oauth.Exchange(ctx, got.Get("code"), oauth2.VerifierOption(verifier))
		wantOAuthError(t, err, "invalid_grant")
		if _, err := relying.provider.UserInfo(ctx, oauth2.StaticTokenSource(first)); err == nil {
			t.Fatal("userinfo answers the first redemption's token after the code was replayed")
		}
	})
}

func wantOAuthError(t *testing.T, err error, code string) {
	t.Helper()
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) || re.ErrorCode != code || re.ErrorDescription == "" {
		t.Fatalf("got %v, want OAuth error %s with a description", err, code)
	}
}

// Revocation follows the records on the very next request: a client
// disabled, or its secret deleted, or the tenant's upstream removed
// between authorize and the code exchange gets no tokens.
func TestRevocationBetweenAuthorizeAndExchange(t *testing.T) {
	s := newStack(t)
	s.setUpstream(t, nil)
	s.Upstream.Person = person
	ctx := context.Background()
	svc := s.App.Service
	cases := []struct {
		name   string
		revoke func(t *testing.T, c identity.CreatedClient)
		want   string
	}{
		{"client disabled", func(t *testing.T, c identity.CreatedClient) {
			off := false
			if _, err := svc.UpdateClient(ctx, s.Tenant, identity.Hybrid, c.Client.ID, identity.ClientPatch{Enabled: &off}); err != nil {
				t.Fatal(err)
			}
		}, "invalid_client"},
		{"secret deleted", func(t *testing.T, c identity.CreatedClient) {
			if err := svc.DeleteSecret(ctx, s.Tenant, identity.Hybrid, c.Client.ID, c.Secret.ID); err != nil {
				t.Fatal(err)
			}
		}, "invalid_client"},
		{"upstream removed", func(t *testing.T, c identity.CreatedClient) {
			if err := s.Upstreams.DeleteUpstream(ctx, s.Tenant); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.setUpstream(t, nil) })
		}, "invalid_grant"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := s.hybrid(t, false, false)
			relying := newRP(t, s.URL+"/identity", c.Client.ID, c.SecretString)
			got, verifier := signIn(t, s, browser(t), relying, "code", "x")
			tc.revoke(t, c)
			_, err := relying.oauth.Exchange(ctx, got.Get("code"), oauth2.VerifierOption(verifier))
			wantOAuthError(t, err, tc.want)
			// And no new code either.
			res, _ := get(t, browser(t), relying.oauth.AuthCodeURL("y", oidc.Nonce("n"), oauth2.S256ChallengeOption(verifier)))
			if loc := res.Header.Get("Location"); strings.Contains(loc, "code=") {
				t.Fatalf("a new code after the revocation: %s", loc)
			}
		})
	}
}

// The tenant's rules: a person outside the allowed domains, or without a
// mapped role where one is required, lands on the no-access page with the
// relying party's state; no code is issued. A person admitted without a
// role signs in, but the management API refuses their token.
func TestTenantRulesForPeople(t *testing.T) {
	s := newStack(t)
	c := s.hybrid(t, false, false)
	relying := newRP(t, s.URL+"/identity", c.Client.ID, c.SecretString)
	cases := []struct {
		name     string
		upstream func(*signin.Upstream)
		who      signin.UpstreamIdentity
		admitted bool
	}{
		{"outside the allowed domains", func(u *signin.Upstream) { u.AllowedDomains = []string{"corp.example"} },
			signin.UpstreamIdentity{Subject: "x1", Email: "eve@elsewhere.example", RoleClaimValues: []string{adminRoleTag}}, false},
		{"a subdomain is not the domain", func(u *signin.Upstream) { u.AllowedDomains = []string{"corp.example"} },
			signin.UpstreamIdentity{Subject: "x2", Email: "eve@evil.corp.example.net"}, false},
		{"no email where domains are required", func(u *signin.Upstream) { u.AllowedDomains = []string{"corp.example"} },
			signin.UpstreamIdentity{Subject: "x3"}, false},
		{"no mapped role where one is required", func(u *signin.Upstream) { u.RoleRequired = true },
			signin.UpstreamIdentity{Subject: "x4", Email: "bob@corp.example", RoleClaimValues: []string{"interns"}}, false},
		{"inside the allowed domains, any case", func(u *signin.Upstream) { u.AllowedDomains = []string{"Corp.Example"} },
			signin.UpstreamIdentity{Subject: "x5", Email: "Ann@CORP.example"}, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s.setUpstream(t, tc.upstream)
			s.Upstream.Person = tc.who
			verifier := oauth2.GenerateVerifier()
			res, _ := get(t, browser(t), relying.oauth.AuthCodeURL("st&1", oauth2.S256ChallengeOption(verifier)))
			if !tc.admitted {
				if res.StatusCode != http.StatusFound || res.Header.Get("Location") != signinapi.NoAccessPath+"?state=st%261" {
					t.Fatalf("status %d Location %q: want the no-access page with the state", res.StatusCode, res.Header.Get("Location"))
				}
				return
			}
			// Consent, then the code; the person has no role.
			_, body := get(t, browser(t), relying.oauth.AuthCodeURL("st&1", oauth2.S256ChallengeOption(verifier)))
			if !strings.Contains(body, `name="interaction"`) {
				t.Fatalf("admitted person: no consent page\n%s", body)
			}
		})
	}
	t.Run("admitted without a role: the management API refuses", func(t *testing.T) {
		s.setUpstream(t, nil)
		s.Upstream.Person = signin.UpstreamIdentity{Subject: "x6", Name: "No Role", Email: "nr@corp.example"}
		got, verifier := signIn(t, s, browser(t), relying, "code", "z")
		tok, err := relying.oauth.Exchange(context.Background(), got.Get("code"), oauth2.VerifierOption(verifier))
		if err != nil {
			t.Fatal(err)
		}
		if status := s.getClientWith(t, tok.AccessToken, c.Client.ID); status != http.StatusForbidden {
			t.Fatalf("status %d, want 403 for a person with no role", status)
		}
	})
}

// Consent is remembered per person, client and scopes; more scopes, or
// prompt=consent, ask again; a denial answers access_denied; prompt=none
// without consent answers consent_required; the consent form needs the
// session's CSRF token.
func TestConsent(t *testing.T) {
	s, c, _ := personStack(t)
	b := browser(t)
	v := s256(oauth2.GenerateVerifier())
	authURL := func(scope, prompt string) string {
		q := url.Values{"client_id": {c.Client.ID}, "redirect_uri": {rpCallback}, "response_type": {"code"}, "scope": {scope}, "state": {"s"},
			"code_challenge": {v}, "code_challenge_method": {"S256"}}
		if prompt != "" {
			q.Set("prompt", prompt)
		}
		return s.URL + signinapi.AuthorizePath + "?" + q.Encode()
	}
	res, body := get(t, b, authURL("openid", ""))
	f := formFields(body)
	if res.StatusCode != http.StatusOK || f.Get("csrf") == "" {
		t.Fatalf("first sign-in: status %d, no consent form", res.StatusCode)
	}
	bad := url.Values{"interaction": {f.Get("interaction")}, "csrf": {"forged"}, "decision": {"allow"}}
	if res, _ := postForm(t, b, s.URL+signinapi.ConsentPath, bad); res.StatusCode != http.StatusForbidden {
		t.Fatalf("consent with a forged CSRF token: status %d, want 403", res.StatusCode)
	}
	f.Set("decision", "deny")
	res, _ = postForm(t, b, s.URL+signinapi.ConsentPath, f)
	if got := answer(t, res); got.Get("error") != "access_denied" {
		t.Fatalf("denied: %v", got)
	}
	if res, _ := postForm(t, b, s.URL+signinapi.ConsentPath, f); res.StatusCode != http.StatusBadRequest {
		t.Fatalf("the same consent form twice: status %d, want 400", res.StatusCode)
	}
	res, _ = get(t, b, authURL("openid", "none"))
	if got := answer(t, res); got.Get("error") != "consent_required" {
		t.Fatalf("prompt=none without consent: %v", got)
	}
	_, body = get(t, b, authURL("openid", ""))
	f = formFields(body)
	f.Set("decision", "allow")
	res, _ = postForm(t, b, s.URL+signinapi.ConsentPath, f)
	if got := answer(t, res); got.Get("code") == "" {
		t.Fatalf("allowed: %v", got)
	}
	res, _ = get(t, b, authURL("openid", "none"))
	if got := answer(t, res); got.Get("code") == "" {
		t.Fatalf("remembered consent, prompt=none: %v", got)
	}
	if res, _ := get(t, b, authURL("openid", "consent")); res.StatusCode != http.StatusOK {
		t.Fatalf("prompt=consent: status %d, want the consent page", res.StatusCode)
	}
	if res, _ := get(t, b, authURL("openid email", "")); res.StatusCode != http.StatusOK {
		t.Fatalf("a scope more: status %d, want the consent page", res.StatusCode)
	}
	// prompt=login sends the person to the upstream again, asking it to
	// authenticate anew; login_hint is passed on.
	s.Upstream.Asked = signin.UpstreamRequest{}
	res, _ = get(t, b, authURL("openid", "login")+"&login_hint=grace%40corp.example")
	if s.Upstream.Asked.Prompt != signin.PromptLogin || s.Upstream.Asked.LoginHint != "grace@corp.example" || answer(t, res).Get("code") == "" {
		t.Fatalf("prompt=login: upstream asked %+v", s.Upstream.Asked)
	}
}

// End session: post_logout_redirect_uri only with a valid id_token_hint
// and only one of its client's PostLogoutRedirectUris; the session ends
// server-side (userinfo refuses its tokens); without a hint the person
// confirms on a page whose form needs the session's CSRF token.
func TestEndSession(t *testing.T) {
	s, _, relying := personStack(t)
	ctx := context.Background()
	b := browser(t)
	got, verifier := signIn(t, s, b, relying, "code", "s")
	tok, err := relying.oauth.Exchange(ctx, got.Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatal(err)
	}
	hint, _ := tok.Extra("id_token").(string)
	end := func(q url.Values) (*http.Response, string) {
		return get(t, b, s.URL+signinapi.EndSessionPath+"?"+q.Encode())
	}
	for name, q := range map[string]url.Values{
		"foreign post-logout URI":     {"id_token_hint": {hint}, "post_logout_redirect_uri": {"https://evil.example/bye"}},
		"a redirect URI is not one":   {"id_token_hint": {hint}, "post_logout_redirect_uri": {rpCallback}},
		"post-logout URI, no hint":    {"post_logout_redirect_uri": {rpSignedOut}},
		"post-logout URI, bad hint":   {"id_token_hint": {hint[:len(hint)-4] + "AAAA"}, "post_logout_redirect_uri": {rpSignedOut}},
		"client_id other than hint's": {"id_token_hint": {hint}, "client_id": {identity.NewID()}},
	} {
		res, _ := end(q)
		if res.StatusCode != http.StatusBadRequest || res.Header.Get("Location") != "" {
			t.Fatalf("%s: status %d Location %q, want a 400 page", name, res.StatusCode, res.Header.Get("Location"))
		}
	}
	if _, err := relying.provider.UserInfo(ctx, oauth2.StaticTokenSource(tok)); err != nil {
		t.Fatalf("refused sign-outs ended the session: %v", err)
	}
	res, _ := end(url.Values{"id_token_hint": {hint}, "post_logout_redirect_uri": {rpSignedOut}, "state": {"bye&1"}})
	if res.StatusCode != http.StatusFound || res.Header.Get("Location") != rpSignedOut+"?state=bye%261" {
		t.Fatalf("status %d Location %q", res.StatusCode, res.Header.Get("Location"))
	}
	if _, err := relying.provider.UserInfo(ctx, oauth2.StaticTokenSource(tok)); err == nil {
		t.Fatal("userinfo answers after the session ended")
	}

	// Without a hint: a confirmation page, whose form needs the CSRF token.
	b2 := browser(t)
	got, verifier = signIn(t, s, b2, relying, "code", "t")
	tok, err = relying.oauth.Exchange(ctx, got.Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatal(err)
	}
	res, body := get(t, b2, s.URL+signinapi.EndSessionPath)
	f := formFields(body)
	if res.StatusCode != http.StatusOK || f.Get("csrf") == "" {
		t.Fatalf("no confirmation page: %d", res.StatusCode)
	}
	if res, _ := postForm(t, b2, s.URL+signinapi.EndSessionPath, url.Values{"csrf": {"forged"}}); res.StatusCode != http.StatusForbidden {
		t.Fatalf("forged CSRF: %d", res.StatusCode)
	}
	if _, err := relying.provider.UserInfo(ctx, oauth2.StaticTokenSource(tok)); err != nil {
		t.Fatalf("a forged sign-out ended the session: %v", err)
	}
	if res, body := postForm(t, b2, s.URL+signinapi.EndSessionPath, f); res.StatusCode != http.StatusOK || !strings.Contains(body, `id="signed-out"`) {
		t.Fatalf("confirmed sign-out: %d", res.StatusCode)
	}
	if _, err := relying.provider.UserInfo(ctx, oauth2.StaticTokenSource(tok)); err == nil {
		t.Fatal("userinfo answers after a confirmed sign-out")
	}
}

// The session cookie: HttpOnly, SameSite=Lax, path-scoped, not Secure on
// loopback only; its value is never stored (only its secret's hash).
func TestSessionCookie(t *testing.T) {
	s, _, relying := personStack(t)
	b := browser(t)
	b.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	res, _ := get(t, b, relying.oauth.AuthCodeURL("s", oauth2.S256ChallengeOption(oauth2.GenerateVerifier())))
	up := res.Header.Get("Location")
	res, _ = get(t, b, up)
	var session *http.Cookie
	for _, ck := range res.Cookies() {
		if ck.Name == signinapi.SessionCookie {
			session = ck
		}
	}
	if session == nil || !session.HttpOnly || session.SameSite != http.SameSiteLaxMode || session.Path != "/identity/connect" || session.Secure {
		t.Fatalf("session cookie %+v: want HttpOnly, SameSite=Lax, Path=/identity/connect, not Secure on loopback", session)
	}
	id, secret, ok := signin.SplitSessionCookie(session.Value)
	se, err := s.App.SignIn().GetSession(context.Background(), id)
	if !ok || err != nil || strings.Contains(se.SecretHash, secret) || !se.Matches(secret) {
		t.Fatalf("stored session %+v (%v)", se, err)
	}
}

// response_mode=form_post: a page whose form posts the answer (code,
// state, iss; with an ID token for code id_token, finished by the token
// function) to the redirect URI, works without script (a button), and
// whose CSP lets its form go there and nowhere else.
func TestFormPost(t *testing.T) {
	s, _, relying := personStack(t)
	b := browser(t)
	for _, rt := range []string{"code", "code id_token"} {
		t.Run(rt, func(t *testing.T) {
			verifier := oauth2.GenerateVerifier()
			res, body := get(t, b, relying.oauth.AuthCodeURL("fp<1>", oidc.Nonce("n1"), oauth2.S256ChallengeOption(verifier),
				oauth2.SetAuthURLParam("response_type", rt), oauth2.SetAuthURLParam("response_mode", "form_post")))
			if strings.Contains(body, `name="interaction"`) {
				f := formFields(body)
				f.Set("decision", "allow")
				res, body = postForm(t, b, s.URL+signinapi.ConsentPath, f)
			}
			f := formFields(body)
			if res.StatusCode != http.StatusOK || !strings.Contains(body, `<form method="post" action="`+rpCallback+`">`) || !strings.Contains(body, `<button type="submit">`) ||
				f.Get("code") == "" || f.Get("state") != "fp<1>" || (f.Get("id_token") != "") != (rt == "code id_token") {
				t.Fatalf("form_post page: status %d fields %v\n%s", res.StatusCode, f, body)
			}
			if csp := res.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "form-action https://rp.example") || strings.Contains(csp, "'unsafe-inline'") {
				t.Fatalf("CSP %q", csp)
			}
			if _, err := relying.oauth.Exchange(context.Background(), f.Get("code"), oauth2.VerifierOption(verifier)); err != nil {
				t.Fatalf("the posted code: %v", err)
			}
		})
	}
}

// max_age older than the session's authentication sends the person to the
// upstream again (asked to authenticate anew); a client disabled while the
// consent page is open gets nothing from the answer: the person sees a
// page, and nothing goes to the redirect URI.
func TestMaxAgeAndRevocationDuringConsent(t *testing.T) {
	s, _, relying := personStack(t)
	b := browser(t)
	signIn(t, s, b, relying, "code", "first")
	s.Upstream.Asked = signin.UpstreamRequest{}
	got, _ := signIn(t, s, b, relying, "code", "again", oauth2.SetAuthURLParam("max_age", "0"))
	if got.Get("code") == "" || s.Upstream.Asked.Prompt != signin.PromptLogin || s.Upstream.Asked.MaxAge == nil || *s.Upstream.Asked.MaxAge != 0 {
		t.Fatalf("max_age=0 after a sign-in: upstream asked %+v, answer %v", s.Upstream.Asked, got)
	}

	other := s.hybrid(t, false, false)
	rp2 := newRP(t, s.URL+"/identity", other.Client.ID, other.SecretString)
	res, body := get(t, b, rp2.oauth.AuthCodeURL("c", oauth2.S256ChallengeOption(oauth2.GenerateVerifier())))
	f := formFields(body)
	if res.StatusCode != http.StatusOK || f.Get("interaction") == "" {
		t.Fatalf("no consent page for a new client: %d", res.StatusCode)
	}
	off := false
	if _, err := s.App.Service.UpdateClient(context.Background(), s.Tenant, identity.Hybrid, other.Client.ID, identity.ClientPatch{Enabled: &off}); err != nil {
		t.Fatal(err)
	}
	f.Set("decision", "allow")
	res, _ = postForm(t, b, s.URL+signinapi.ConsentPath, f)
	if res.StatusCode != http.StatusBadRequest || res.Header.Get("Location") != "" {
		t.Fatalf("consent for a client disabled meanwhile: status %d Location %q", res.StatusCode, res.Header.Get("Location"))
	}
}

// refresh asks the token endpoint for a refresh (client_secret_basic).
func refresh(t *testing.T, s *stack, c identity.CreatedClient, rt, scope string) (int, map[string]any) {
	t.Helper()
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}
	if scope != "" {
		form.Set("scope", scope)
	}
	req, _ := http.NewRequest(http.MethodPost, s.URL+"/identity/connect/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(c.Client.ID), url.QueryEscape(c.SecretString))
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var body map[string]any
	_ = json.NewDecoder(res.Body).Decode(&body)
	return res.StatusCode, body
}

// Offline access: a refresh token only with offline_access (which only a
// client with AllowOfflineAccess may ask); each refresh rotates it; a spent
// one used again revokes its whole family; a replayed code revokes the
// family it started; a refresh narrows scopes, never widens them.
func TestRefreshTokens(t *testing.T) {
	s := newStack(t)
	s.setUpstream(t, nil)
	s.Upstream.Person = person
	c := s.hybrid(t, false, true)
	relying := newRP(t, s.URL+"/identity", c.Client.ID, c.SecretString, "offline_access")
	plainRP := newRP(t, s.URL+"/identity", c.Client.ID, c.SecretString)
	ctx := context.Background()
	b := browser(t)

	got, verifier := signIn(t, s, b, plainRP, "code", "p")
	tok, err := plainRP.oauth.Exchange(ctx, got.Get("code"), oauth2.VerifierOption(verifier))
	if err != nil || tok.RefreshToken != "" {
		t.Fatalf("without offline_access: refresh token %q (%v)", tok.RefreshToken, err)
	}

	got, verifier = signIn(t, s, b, relying, "code", "o")
	tok, err = relying.oauth.Exchange(ctx, got.Get("code"), oauth2.VerifierOption(verifier))
	if err != nil || tok.RefreshToken == "" {
		t.Fatalf("with offline_access: no refresh token (%v)", err)
	}
	first := tok.RefreshToken
	status, body := refresh(t, s, c, first, "openid")
	second, _ := body["refresh_token"].(string)
	if status != http.StatusOK || second == "" || second == first || body["scope"] != "openid" {
		t.Fatalf("refresh: %d %v", status, body)
	}
	if raw, _ := body["id_token"].(string); raw == "" {
		t.Fatal("refresh: no ID token")
	} else if _, err := relying.verifier.Verify(ctx, raw); err != nil {
		t.Fatalf("refresh's ID token: %v", err)
	}
	if status, body := refresh(t, s, c, second, "openid email"); status != http.StatusBadRequest || body["error"] != "invalid_scope" {
		t.Fatalf("widening scope: %d %v", status, body)
	}
	// The refused widening spent nothing: the second token still
	// refreshes. The first, spent long before, used again is a reuse and
	// revokes the family, the third token with it.
	status, body = refresh(t, s, c, second, "")
	third, _ := body["refresh_token"].(string)
	if status != http.StatusOK || third == "" || body["scope"] != "openid offline_access" {
		t.Fatalf("refresh after a refused widening: %d %v", status, body)
	}
	if status, body := refresh(t, s, c, first, ""); status != http.StatusBadRequest || body["error"] != "invalid_grant" {
		t.Fatalf("reusing a spent refresh token: %d %v", status, body)
	}
	if status, body := refresh(t, s, c, third, ""); status != http.StatusBadRequest || body["error"] != "invalid_grant" {
		t.Fatalf("a token of the family a reuse revoked: %d %v", status, body)
	}

	// A replayed code revokes the family it started.
	got, verifier = signIn(t, s, b, relying, "code", "r")
	tok, err = relying.oauth.Exchange(ctx, got.Get("code"), oauth2.VerifierOption(verifier))
	if err != nil || tok.RefreshToken == "" {
		t.Fatal(err)
	}
	_, err = relying.oauth.Exchange(ctx, got.Get("code"), oauth2.VerifierOption(verifier))
	wantOAuthError(t, err, "invalid_grant")
	if status, body := refresh(t, s, c, tok.RefreshToken, ""); status != http.StatusBadRequest || body["error"] != "invalid_grant" {
		t.Fatalf("refresh token of a replayed code: %d %v", status, body)
	}

	// Sign-out ends the session's refresh token families: the live token
	// of a family that rotated fine before is refused after it.
	got, verifier = signIn(t, s, b, relying, "code", "e")
	tok, err = relying.oauth.Exchange(ctx, got.Get("code"), oauth2.VerifierOption(verifier))
	if err != nil || tok.RefreshToken == "" {
		t.Fatal(err)
	}
	status, body = refresh(t, s, c, tok.RefreshToken, "")
	live, _ := body["refresh_token"].(string)
	if status != http.StatusOK || live == "" {
		t.Fatalf("refresh before sign-out: %d %v", status, body)
	}
	hint, _ := tok.Extra("id_token").(string)
	if res, _ := get(t, b, s.URL+signinapi.EndSessionPath+"?"+url.Values{"id_token_hint": {hint}}.Encode()); res.StatusCode != http.StatusOK {
		t.Fatalf("sign-out: %d", res.StatusCode)
	}
	if status, body := refresh(t, s, c, live, ""); status != http.StatusBadRequest || body["error"] != "invalid_grant" {
		t.Fatalf("refresh after sign-out: %d %v", status, body)
	}
}
