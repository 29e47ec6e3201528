package federation_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"

	"golang.org/x/oauth2"

	"identityservice/infra/localidp"
	"identityservice/infra/testenv"
	"identityservice/shared/federation"
	"identityservice/shared/identity"
	"identityservice/shared/signin"
	"identityservice/shared/vault"
)

var env *testenv.Env

func TestMain(m *testing.M) { testenv.Main(m, &env) }

const callback = "http://127.0.0.1:1" + signin.CallbackPath

// countingTransport counts the requests to each path.
type countingTransport struct {
	discovery atomic.Int32
}

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if strings.HasSuffix(r.URL.Path, "/.well-known/openid-configuration") {
		c.discovery.Add(1)
	}
	return http.DefaultTransport.RoundTrip(r)
}

// setup is a tenant whose upstream is a fresh local provider, with its
// client secret in Secrets Manager.
type setup struct {
	idp      *localidp.IdP
	upstream signin.Upstream
	fed      *federation.Federation
	http     *countingTransport
	secrets  *vault.Upstreams
}

func newSetup(t *testing.T, cfg localidp.Config) *setup {
	t.Helper()
	cfg.RedirectURIs = []string{callback}
	idp := localidp.ForTest(t, cfg)
	secrets := vault.NewUpstreams(env.Clients.SecretsManager, env.Config.SecretPrefix)
	tenant := identity.NewID()
	if err := secrets.PutUpstreamSecret(context.Background(), tenant, idp.ClientSecret); err != nil {
		t.Fatal(err)
	}
	ct := &countingTransport{}
	client := federation.HTTPClient()
	client.Transport = ct
	return &setup{idp: idp, http: ct, secrets: secrets, fed: federation.New(secrets, client),
		upstream: signin.Upstream{TenantID: tenant, Issuer: idp.Issuer, ClientID: idp.ClientID, RoleClaim: localidp.RoleClaim}}
}

// signIn sends who through the upstream's login form with the nonce and
// the verifier's challenge, and returns the code it came back with.
func (s *setup) signIn(t *testing.T, who localidp.Person, nonce, verifier string) string {
	t.Helper()
	ctx := context.Background()
	maxAge := 600
	authURL, err := s.fed.AuthCodeURL(ctx, s.upstream, signin.UpstreamRequest{State: "st-" + nonce, Nonce: nonce,
		CodeChallenge: oauth2.S256ChallengeFromVerifier(verifier), RedirectURI: callback, Prompt: "login", MaxAge: &maxAge, LoginHint: who.Username})
	if err != nil {
		t.Fatal(err)
	}
	q := mustURL(t, authURL).Query()
	for k, want := range map[string]string{"response_type": "code", "client_id": s.upstream.ClientID, "redirect_uri": callback, "scope": "openid email profile",
		"state": "st-" + nonce, "nonce": nonce, "code_challenge_method": "S256", "code_challenge": oauth2.S256ChallengeFromVerifier(verifier),
		"prompt": "login", "max_age": "600", "login_hint": who.Username} {
		if q.Get(k) != want {
			t.Fatalf("authorization URL %s: %s=%q, want %q", authURL, k, q.Get(k), want)
		}
	}
	jar, _ := cookiejar.New(nil)
	res, err := localidp.SignIn(ctx, &http.Client{Jar: jar, CheckRedirect: localidp.StopAt(callback)}, authURL, who)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	back := mustURL(t, res.Header.Get("Location")).Query()
	if back.Get("code") == "" || back.Get("state") != "st-"+nonce {
		t.Fatalf("came back with %v, want a code and the state", back)
	}
	return back.Get("code")
}

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// A person signs in at the upstream and Finish verifies the ID token and
// returns who they are, from the ID token or, where it lacks the profile
// and role claims, from userinfo.
func TestFinishReturnsTheVerifiedPerson(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  localidp.Config
	}{
		{"profile in the ID token", localidp.Config{}},
		{"profile only at userinfo", localidp.Config{ProfileInUserinfoOnly: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newSetup(t, tc.cfg)
			for _, who := range []localidp.Person{s.idp.Admin, s.idp.NoRole} {
				verifier := oauth2.GenerateVerifier()
				code := s.signIn(t, who, "nonce-"+who.Username, verifier)
				got, err := s.fed.Finish(context.Background(), s.upstream, code, verifier, "nonce-"+who.Username, callback)
				if err != nil {
					t.Fatal(err)
				}
				if got.AuthTime.IsZero() {
					t.Error("no AuthTime")
				}
				got.AuthTime = got.AuthTime.Truncate(0)
				want := signin.UpstreamIdentity{Issuer: s.idp.Issuer, Subject: who.Subject, Name: who.Name, Email: who.Email, EmailVerified: true,
					RoleClaimValues: who.Groups, AuthTime: got.AuthTime}
				if !reflect.DeepEqual(got, want) {
					t.Fatalf("Finish for %s:\n%+v\nwant\n%+v", who.Username, got, want)
				}
			}
		})
	}
}

// Every check of the upstream's answer holds: a token this sign-in did not
// ask for, for someone else, expired, or signed by a key outside the
// upstream's JWKS is refused with an error naming the check; so are a
// wrong PKCE verifier and a wrong client secret, whose error never shows
// the secret.
func TestFinishRefuses(t *testing.T) {
	ctx := context.Background()
	s := newSetup(t, localidp.Config{})
	for _, tc := range []struct {
		name          string
		faults        localidp.Faults
		nonce         string // sent to Finish instead of the one sent upstream
		verifier      string // sent to Finish instead of the right one
		secret        string // stored instead of the right one
		step, mention string
	}{
		{name: "a wrong nonce", nonce: "another-nonce", step: "nonce", mention: "nonce"},
		{name: "a wrong audience", faults: localidp.Faults{Audience: []string{"someone-else"}}, step: "ID token", mention: "audience"},
		{name: "an expired token", faults: localidp.Faults{ExpiredIDTokens: true}, step: "ID token", mention: "expired"},
		{name: "a token signed by another key", faults: localidp.Faults{ForeignKey: true}, step: "ID token", mention: "signature"},
		{name: "a token from another issuer", faults: localidp.Faults{Claims: map[string]any{"iss": "https://elsewhere.example"}}, step: "ID token", mention: "different provider"},
		{name: "a token issued to another party", faults: localidp.Faults{Audience: []string{s.upstream.ClientID, "other"}, Claims: map[string]any{"azp": "other"}}, step: "ID token", mention: "azp"},
		{name: "a token without a nonce", faults: localidp.Faults{Claims: map[string]any{"nonce": ""}}, step: "nonce", mention: "nonce"},
		{name: "a wrong PKCE verifier", verifier: oauth2.GenerateVerifier(), step: "code exchange", mention: "invalid_grant"},
		{name: "a wrong client secret", secret: "wrong-secret-0123456789", step: "code exchange", mention: "HTTP 401"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s.idp.SetFaults(tc.faults)
			defer s.idp.SetFaults(localidp.Faults{})
			if tc.secret != "" {
				if err := s.secrets.PutUpstreamSecret(ctx, s.upstream.TenantID, tc.secret); err != nil {
					t.Fatal(err)
				}
				defer s.secrets.PutUpstreamSecret(ctx, s.upstream.TenantID, s.idp.ClientSecret)
			}
			verifier := oauth2.GenerateVerifier()
			code := s.signIn(t, s.idp.Admin, "the-nonce", verifier)
			nonce, v := "the-nonce", verifier
			if tc.nonce != "" {
				nonce = tc.nonce
			}
			if tc.verifier != "" {
				v = tc.verifier
			}
			got, err := s.fed.Finish(ctx, s.upstream, code, v, nonce, callback)
			var fe *federation.Error
			if !errors.As(err, &fe) || fe.Step != tc.step || !strings.Contains(err.Error(), tc.mention) {
				t.Fatalf("Finish: %+v, %v; want a %q error mentioning %q", got, err, tc.step, tc.mention)
			}
			for _, secret := range []string{s.idp.ClientSecret, tc.secret} {
				if secret != "" && strings.Contains(err.Error(), secret) {
					t.Fatalf("the error shows the client secret: %v", err)
				}
			}
		})
	}
	t.Run("no client secret", func(t *testing.T) {
		u := s.upstream
		u.TenantID = identity.NewID()
		if _, err := s.fed.Finish(ctx, u, "code", "verifier", "nonce", callback); !errors.Is(err, signin.ErrUpstreamNotFound) {
			t.Fatalf("Finish without a secret: %v, want ErrUpstreamNotFound", err)
		}
	})
}

// The discovery document is read once per issuer, however many people
// sign in; an issuer that does not answer, or answers as another issuer,
// is a discovery error, and so is a failed Check.
func TestDiscovery(t *testing.T) {
	ctx := context.Background()
	s := newSetup(t, localidp.Config{})
	for range 3 {
		verifier := oauth2.GenerateVerifier()
		code := s.signIn(t, s.idp.Admin, "n", verifier)
		if _, err := s.fed.Finish(ctx, s.upstream, code, verifier, "n", callback); err != nil {
			t.Fatal(err)
		}
	}
	if n := s.http.discovery.Load(); n != 1 {
		t.Fatalf("three sign-ins read the discovery document %d times, want once", n)
	}
	if err := s.fed.Check(ctx, s.idp.Issuer); err != nil {
		t.Fatalf("Check of a working issuer: %v", err)
	}
	for _, issuer := range []string{"http://127.0.0.1:1", s.idp.Issuer + "/"} {
		u := s.upstream
		u.Issuer = issuer
		_, err := s.fed.AuthCodeURL(ctx, u, signin.UpstreamRequest{State: "s", Nonce: "n", CodeChallenge: "c", RedirectURI: callback})
		var fe *federation.Error
		if !errors.As(err, &fe) || fe.Step != "discovery" {
			t.Fatalf("AuthCodeURL at %s: %v, want a discovery error", issuer, err)
		}
		if err := s.fed.Check(ctx, issuer); !errors.As(err, &fe) || fe.Step != "discovery" {
			t.Fatalf("Check of %s: %v, want a discovery error", issuer, err)
		}
	}
	if _, err := s.fed.AuthCodeURL(ctx, signin.Upstream{}, signin.UpstreamRequest{}); !errors.Is(err, signin.ErrUpstreamNotFound) {
		t.Fatalf("AuthCodeURL without an upstream: %v", err)
	}
}

func TestRoleClaimValues(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   any
		want []string
	}{
		{"a string", "admins", []string{"admins"}},
		{"an array", []any{"a", "b"}, []string{"a", "b"}},
		{"an array with a number", []any{"a", 3.0}, []string{"a"}},
		{"an empty array", []any{}, []string{}},
		{"a number", 3.0, nil},
		{"absent", nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := federation.RoleClaimValues(tc.in); !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("%v: %v, want %v", tc.in, got, tc.want)
			}
		})
	}
}
