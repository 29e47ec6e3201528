package signin_test

import (
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"identityservice/shared/identity"
	"identityservice/shared/signin"
)

func TestAdmit(t *testing.T) {
	admin, member := identity.RoleAccountAdministrator, identity.RoleAccountMember
	up := signin.Upstream{RoleMap: map[string][]string{"admins": {admin, member}, "staff": {member}, "ops": {identity.RoleClusterOperator}}}
	cases := []struct {
		name    string
		up      func(*signin.Upstream)
		who     signin.UpstreamIdentity
		roles   []string
		refused bool
	}{
		{name: "no rules: admitted without roles", who: signin.UpstreamIdentity{Email: "a@x.example"}, roles: []string{}},
		{name: "mapped roles, without repeats, sorted", who: signin.UpstreamIdentity{RoleClaimValues: []string{"staff", "admins"}}, roles: sorted(admin, member)},
		{name: "a cluster role is never mapped", who: signin.UpstreamIdentity{RoleClaimValues: []string{"ops"}}, roles: []string{}},
		{name: "domain allowed", up: func(u *signin.Upstream) { u.AllowedDomains = []string{"corp.example"} }, who: signin.UpstreamIdentity{Email: "a@CORP.EXAMPLE"}, roles: []string{}},
		{name: "the last @ decides", up: func(u *signin.Upstream) { u.AllowedDomains = []string{"corp.example"} }, who: signin.UpstreamIdentity{Email: "a@corp.example@evil.example"}, refused: true},
		{name: "domain refused", up: func(u *signin.Upstream) { u.AllowedDomains = []string{"corp.example"} }, who: signin.UpstreamIdentity{Email: "a@other.example"}, refused: true},
		{name: "no email with domains", up: func(u *signin.Upstream) { u.AllowedDomains = []string{"corp.example"} }, who: signin.UpstreamIdentity{}, refused: true},
		{name: "role required, none", up: func(u *signin.Upstream) { u.RoleRequired = true }, who: signin.UpstreamIdentity{RoleClaimValues: []string{"ops"}}, refused: true},
		{name: "role required, one", up: func(u *signin.Upstream) { u.RoleRequired = true }, who: signin.UpstreamIdentity{RoleClaimValues: []string{"staff"}}, roles: []string{member}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			u := up
			if tc.up != nil {
				tc.up(&u)
			}
			roles, err := signin.Admit(u, tc.who)
			var denied *signin.DeniedError
			if tc.refused != errors.As(err, &denied) {
				t.Fatalf("err %v, want refused %v", err, tc.refused)
			}
			if !tc.refused && !slices.Equal(roles, tc.roles) {
				t.Fatalf("roles %v, want %v", roles, tc.roles)
			}
		})
	}
}

func sorted(xs ...string) []string { slices.Sort(xs); return xs }

func TestVerifyPKCE(t *testing.T) {
	verifier := strings.Repeat("a", 43)
	sum := sha256.Sum256([]byte(verifier))
	challenge := base64.RawURLEncoding.EncodeToString(sum[:])
	for _, tc := range []struct {
		verifier string
		ok       bool
	}{
		{verifier, true},
		{strings.Repeat("a", 44), false},
		{challenge, false},                     // the challenge itself (plain) is not the verifier
		{strings.Repeat("a", 42), false},       // too short
		{strings.Repeat("a", 42) + "!", false}, // not unreserved
		{"", false},
	} {
		if got := signin.VerifyPKCE(challenge, tc.verifier); got != tc.ok {
			t.Errorf("VerifyPKCE(%q) = %v, want %v", tc.verifier, got, tc.ok)
		}
	}
}

// The parts of a response type may come in any order; the request keeps
// the canonical one, and prompt values are read apart.
func TestAuthRequestReading(t *testing.T) {
	c := &identity.Client{ID: identity.NewID(), TenantID: identity.NewID(), Kind: identity.Hybrid, Enabled: true, AllowAccessTokensViaBrowser: true, AllowOfflineAccess: true,
		RedirectURIs: []string{"https://rp.example/cb"}}
	q := url.Values{"client_id": {c.ID}, "redirect_uri": {"https://rp.example/cb"}, "response_type": {"token id_token code"}, "nonce": {"n"},
		"scope": {"openid email openid offline_access"}, "prompt": {"login consent"}, "max_age": {"0"}, "state": {"a b"}}
	req, err := signin.ParseAuthRequest(q, c)
	if err != nil {
		t.Fatal(err)
	}
	if req.ResponseType != signin.ResponseCodeIDTokenToken || req.ResponseMode != signin.ModeFragment || !slices.Equal(req.Scopes, []string{"openid", "email", "offline_access"}) ||
		!req.Prompted(signin.PromptLogin) || !req.Prompted(signin.PromptConsent) || req.MaxAge == nil || *req.MaxAge != 0 || req.State != "a b" {
		t.Fatalf("read %+v", req)
	}
	// A disabled client is no client: a page, never a redirect.
	c.Enabled = false
	if _, err := signin.ParseAuthRequest(q, c); err == nil || err.Redirect {
		t.Fatalf("disabled client: %v", err)
	}
}

func TestSessionLifetimes(t *testing.T) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	se := signin.Session{Created: start, LastSeen: start}
	if !se.Live(start.Add(signin.SessionIdle-time.Second)) || se.Live(start.Add(signin.SessionIdle)) {
		t.Fatal("idle lifetime not held")
	}
	se.LastSeen = start.Add(signin.SessionAbsolute - time.Minute)
	if se.Live(start.Add(signin.SessionAbsolute)) {
		t.Fatal("a session used a minute before its absolute end outlives it")
	}
}
