package main

// Sign-in's routes: a person signs in at the tenant's upstream (the local
// provider of infra/localidp, in this process), so the fixtures are real
// sessions, codes and refresh tokens made through the functions
// themselves, uncounted (the meter keeps only the measured requests).

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"golang.org/x/oauth2"

	"identityservice/infra/localidp"
	"identityservice/shared/identity"
	"identityservice/shared/signin"
	"identityservice/shared/signinapi"
	"identityservice/shared/vault"
)

const (
	signInF      = "functions/signin"
	siRedirect   = "https://app.example.com/signin-oidc"
	siScopes     = "openid profile offline_access"
	authorizeKey = "GET /identity/connect/authorize"
)

// signInFixtures are the sign-in scenarios' setting: the read tenant's
// upstream, a Hybrid client with offline access whose person consented,
// and a session of that person.
type signInFixtures struct {
	idp     *localidp.IdP
	client  fixtureClient
	session string // the session cookie's value
}

// prepareSignIn starts the local upstream, sets it as the read tenant's,
// and signs its person in once (consenting).
func (b *bench) prepareSignIn(ctx context.Context) error {
	// The local provider (zitadel's example) logs every request it serves
	// through the process's default logger: thousands of lines for the
	// callbacks' fixtures. Its warnings and errors still show.
	slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	idp, err := localidp.Start(ctx, localidp.Config{RedirectURIs: []string{"https://" + domain + signin.CallbackPath}})
	if err != nil {
		return err
	}
	app := b.s.fn(signInF).app
	tenant := b.fx.read.tenant
	if err := app.Upstreams().PutUpstream(ctx, idp.Upstream(tenant)); err != nil {
		return err
	}
	if err := vault.NewUpstreams(app.Clients.SecretsManager, b.s.cfg.SecretPrefix).PutUpstreamSecret(ctx, tenant, idp.ClientSecret); err != nil {
		return err
	}
	c, err := b.s.service().CreateClient(ctx, tenant, identity.NewClient{Kind: identity.Hybrid, Name: "bench sign-in",
		RedirectURIs: []string{siRedirect}, AllowOfflineAccess: true})
	if err != nil {
		return err
	}
	b.si = &signInFixtures{idp: idp, client: fixtureClient{id: c.Client.ID, secrets: []string{c.Secret.ID}, secret: c.SecretString}}
	cb, _, err := b.pendingCallback(ctx)
	if err != nil {
		return err
	}
	res, err := b.s.fn(signInF).invoke(ctx, cb.event())
	if err != nil {
		return err
	}
	b.si.session = cookieOf(res, signinapi.SessionCookie)
	if res.StatusCode != http.StatusOK || b.si.session == "" {
		return fmt.Errorf("first sign-in: want the consent page, got %d: %s", res.StatusCode, truncate(res.Body, 300))
	}
	form := url.Values{"decision": {"allow"}}
	for _, name := range []string{"interaction", "csrf"} {
		_, after, _ := strings.Cut(res.Body, `name="`+name+`" value="`)
		v, _, _ := strings.Cut(after, `"`)
		form.Set(name, v)
	}
	res, err = b.s.fn(signInF).invoke(ctx, request{method: "POST", path: signinapi.ConsentPath, body: form.Encode(),
		header: map[string]string{"content-type": "application/x-www-form-urlencoded", "cookie": signinapi.SessionCookie + "=" + b.si.session}}.event())
	if err != nil {
		return err
	}
	if codeIn(res) == "" {
		return fmt.Errorf("consent: %d %s", res.StatusCode, res.Headers["Location"])
	}
	return nil
}

func cookieOf(res events.APIGatewayV2HTTPResponse, name string) string {
	for _, c := range res.Cookies {
		if v, ok := strings.CutPrefix(c, name+"="); ok {
			v, _, _ = strings.Cut(v, ";")
			return v
		}
	}
	return ""
}

// codeIn is the code of an answer that sent the browser to the client.
func codeIn(res events.APIGatewayV2HTTPResponse) string {
	if res.StatusCode != http.StatusFound {
		return ""
	}
	return localidp.CodeAt(res.Headers["Location"], siRedirect)
}

// authorizeRequest asks for a code with PKCE, in a browser with the
// session cookie (none: ""); it returns the request and the verifier.
func (b *bench) authorizeRequest(session string, extra ...string) (request, string) {
	verifier := oauth2.GenerateVerifier()
	q := url.Values{"client_id": {b.si.client.id}, "redirect_uri": {siRedirect}, "response_type": {"code"}, "scope": {siScopes},
		"state": {"st"}, "nonce": {"n"}, "code_challenge": {oauth2.S256ChallengeFromVerifier(verifier)}, "code_challenge_method": {"S256"}}
	for i := 0; i+1 < len(extra); i += 2 {
		q.Set(extra[i], extra[i+1])
	}
	r := request{method: "GET", path: signinapi.AuthorizePath, query: q, header: map[string]string{}}
	if session != "" {
		r.header["cookie"] = signinapi.SessionCookie + "=" + session
	}
	return r, verifier
}

// pendingCallback starts a sign-in (authorize, not signed in), signs in
// at the upstream's login form and returns the callback request the
// upstream sent the browser back with, and the code verifier.
func (b *bench) pendingCallback(ctx context.Context) (request, string, error) {
	req, verifier := b.authorizeRequest("")
	res, err := b.s.fn(signInF).invoke(ctx, req.event())
	if err != nil {
		return request{}, "", err
	}
	to := res.Headers["Location"]
	if res.StatusCode != http.StatusFound || !strings.HasPrefix(to, b.si.idp.Issuer) {
		return request{}, "", fmt.Errorf("authorize: %d %q, want a redirect to the upstream", res.StatusCode, to)
	}
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar, Timeout: 30 * time.Second, CheckRedirect: localidp.StopAt("https://" + domain)}
	back, err := localidp.SignIn(ctx, browser, to, b.si.idp.Admin)
	if err != nil {
		return request{}, "", err
	}
	back.Body.Close()
	cb, err := url.Parse(back.Header.Get("Location"))
	if err != nil || cb.Path != signin.CallbackPath {
		return request{}, "", fmt.Errorf("the upstream answered %d %q, want the callback", back.StatusCode, back.Header.Get("Location"))
	}
	return request{method: "GET", path: cb.Path, query: cb.Query(),
		header: map[string]string{"cookie": signinapi.InteractionCookie + "=" + cookieOf(res, signinapi.InteractionCookie)}}, verifier, nil
}

// codes makes n codes of the signed-in person (authorize with the
// session), with their verifiers.
func (b *bench) codes(ctx context.Context, n int) ([][2]string, error) {
	out := make([][2]string, n)
	err := parallel(n, 4, func(i int) error {
		req, verifier := b.authorizeRequest(b.si.session)
		res, err := b.s.fn(signInF).invoke(ctx, req.event())
		if err != nil {
			return err
		}
		if out[i] = [2]string{codeIn(res), verifier}; out[i][0] == "" {
			return fmt.Errorf("authorize, signed in: %d %q", res.StatusCode, res.Headers["Location"])
		}
		return nil
	})
	return out, err
}

// exchangeRequest redeems a code (client_secret_basic).
func (b *bench) exchangeRequest(code, verifier string) request {
	form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {siRedirect}, "code_verifier": {verifier}}
	return b.hybridTokenRequest(form)
}

func (b *bench) hybridTokenRequest(form url.Values) request {
	basic := (&http.Request{Header: http.Header{}})
	basic.SetBasicAuth(url.QueryEscape(b.si.client.id), url.QueryEscape(b.si.client.secret))
	return request{method: "POST", path: "/identity/connect/token", body: form.Encode(),
		header: map[string]string{"content-type": "application/x-www-form-urlencoded", "authorization": basic.Header.Get("Authorization")}}
}

// refreshTokens makes n refresh tokens, each of a code of its own.
func (b *bench) refreshTokens(ctx context.Context, n int) ([]string, error) {
	cs, err := b.codes(ctx, n)
	if err != nil {
		return nil, err
	}
	out := make([]string, n)
	err = parallel(n, 4, func(i int) error {
		res, err := b.s.fn("functions/token").invoke(ctx, b.exchangeRequest(cs[i][0], cs[i][1]).event())
		if err != nil {
			return err
		}
		_, after, _ := strings.Cut(res.Body, `"refresh_token":"`)
		if out[i], _, _ = strings.Cut(after, `"`); out[i] == "" {
			return fmt.Errorf("code exchange: %d %s", res.StatusCode, truncate(res.Body, 300))
		}
		return nil
	})
	return out, err
}

// perRequestFrom gives each request a fixture of its own, made by make.
func perRequestFrom[T any](make func(ctx context.Context, n int) ([]T, error), r func(T) request) func(context.Context, int, int) (func(int, int) request, error) {
	return func(ctx context.Context, c, per int) (func(int, int) request, error) {
		xs, err := make(ctx, c*per)
		if err != nil {
			return nil, err
		}
		return func(w, k int) request { return r(xs[w*per+k]) }, nil
	}
}

// signInScenarios adds the sign-in function's measured routes.
func (b *bench) signInScenarios(sc map[string]scenario) {
	authorize := func() request { r, _ := b.authorizeRequest(b.si.session); return r }
	sc[authorizeKey] = scenario{fn: signInF, note: "signed in, consent remembered: issues a code", prepare: constant(authorize)}
	sc["POST /identity/connect/authorize"] = scenario{fn: signInF, note: "form POST, signed in, consent remembered: issues a code",
		prepare: constant(func() request {
			r := authorize()
			r.method, r.body, r.query = "POST", r.query.Encode(), nil
			r.header["content-type"] = "application/x-www-form-urlencoded"
			return r
		})}
	sc["GET "+signin.CallbackPath] = scenario{fn: signInF, note: "the upstream's answer: its code redeemed at the local upstream, the ID token verified, a session started, a code issued",
		prepare: perRequestFrom(func(ctx context.Context, n int) ([]request, error) {
			out := make([]request, n)
			for i := range out {
				var err error
				if out[i], _, err = b.pendingCallback(ctx); err != nil {
					return nil, err
				}
			}
			return out, nil
		}, func(r request) request { return r })}
	b.moreSignInScenarios(sc)
}

// sessionGrants makes n sessions of their own (a sign-in at the upstream
// each, then the code exchanged): their ID tokens, to be ended.
func (b *bench) sessionGrants(ctx context.Context, n int) ([]string, error) {
	out := make([]string, n)
	for i := range out {
		cb, verifier, err := b.pendingCallback(ctx)
		if err != nil {
			return nil, err
		}
		res, err := b.s.fn(signInF).invoke(ctx, cb.event())
		if err != nil {
			return nil, err
		}
		code := codeIn(res)
		if code == "" {
			return nil, fmt.Errorf("callback: %d %q", res.StatusCode, res.Headers["Location"])
		}
		tok, err := b.s.fn("functions/token").invoke(ctx, b.exchangeRequest(code, verifier).event())
		if err != nil {
			return nil, err
		}
		_, after, _ := strings.Cut(tok.Body, `"id_token":"`)
		if out[i], _, _ = strings.Cut(after, `"`); out[i] == "" {
			return nil, fmt.Errorf("code exchange: %d %s", tok.StatusCode, truncate(tok.Body, 300))
		}
	}
	return out, nil
}

// accessToken is a person's access token of the fixture session.
func (b *bench) accessToken(ctx context.Context) (string, error) {
	cs, err := b.codes(ctx, 1)
	if err != nil {
		return "", err
	}
	res, err := b.s.fn("functions/token").invoke(ctx, b.exchangeRequest(cs[0][0], cs[0][1]).event())
	if err != nil {
		return "", err
	}
	_, after, _ := strings.Cut(res.Body, `"access_token":"`)
	at, _, _ := strings.Cut(after, `"`)
	if at == "" {
		return "", fmt.Errorf("code exchange: %d %s", res.StatusCode, truncate(res.Body, 300))
	}
	return at, nil
}

// interactions makes n authorize answers of the fixture session that wait
// for a second request: the consent page (prompt=consent: its form's
// fields) or the front-channel completion (code id_token: its URL).
func (b *bench) interactions(ctx context.Context, n int, extra ...string) ([]events.APIGatewayV2HTTPResponse, error) {
	out := make([]events.APIGatewayV2HTTPResponse, n)
	err := parallel(n, 4, func(i int) error {
		req, _ := b.authorizeRequest(b.si.session, extra...)
		res, err := b.s.fn(signInF).invoke(ctx, req.event())
		if err != nil {
			return err
		}
		if out[i] = res; res.StatusCode != http.StatusOK && res.StatusCode != http.StatusFound {
			return fmt.Errorf("authorize %v: %d %s", extra, res.StatusCode, truncate(res.Body, 300))
		}
		return nil
	})
	return out, err
}

func (b *bench) sessionCookie() map[string]string {
	return map[string]string{"cookie": signinapi.SessionCookie + "=" + b.si.session}
}

func formRequest(method, path string, form url.Values, header map[string]string) request {
	h := map[string]string{"content-type": "application/x-www-form-urlencoded"}
	for k, v := range header {
		h[k] = v
	}
	return request{method: method, path: path, body: form.Encode(), header: h}
}

// moreSignInScenarios are userinfo, end session, consent and the
// front-channel completion.
func (b *bench) moreSignInScenarios(sc map[string]scenario) {
	bearer := func(method string) func(context.Context, int, int) (func(int, int) request, error) {
		return func(ctx context.Context, _, _ int) (func(int, int) request, error) {
			at, err := b.accessToken(ctx)
			if err != nil {
				return nil, err
			}
			req := request{method: method, path: signinapi.UserinfoPath, header: map[string]string{"authorization": "Bearer " + at}}
			return func(int, int) request { return req }, nil
		}
	}
	sc["GET "+signinapi.UserinfoPath] = scenario{fn: signInF, note: "a person's access token (scope profile): its session read", prepare: bearer("GET")}
	sc["POST "+signinapi.UserinfoPath] = scenario{fn: signInF, note: "as GET", prepare: bearer("POST")}
	sc["GET "+signinapi.EndSessionPath] = scenario{fn: signInF, note: "id_token_hint of a session of its own: the session ends",
		prepare: perRequestFrom(b.sessionGrants, func(hint string) request {
			return request{method: "GET", path: signinapi.EndSessionPath, query: url.Values{"id_token_hint": {hint}}}
		})}
	sc["POST "+signinapi.EndSessionPath] = scenario{fn: signInF, note: "as GET, a form",
		prepare: perRequestFrom(b.sessionGrants, func(hint string) request {
			return formRequest("POST", signinapi.EndSessionPath, url.Values{"id_token_hint": {hint}}, nil)
		})}
	sc["POST "+signinapi.ConsentPath] = scenario{fn: signInF, note: "allow (prompt=consent): the consent stored, a code issued",
		prepare: perRequestFrom(func(ctx context.Context, n int) ([]events.APIGatewayV2HTTPResponse, error) {
			return b.interactions(ctx, n, "prompt", "consent")
		}, func(page events.APIGatewayV2HTTPResponse) request {
			form := url.Values{"decision": {"allow"}}
			for _, name := range []string{"interaction", "csrf"} {
				_, after, _ := strings.Cut(page.Body, `name="`+name+`" value="`)
				v, _, _ := strings.Cut(after, `"`)
				form.Set(name, v)
			}
			return formRequest("POST", signinapi.ConsentPath, form, b.sessionCookie())
		})}
	sc["GET "+signinapi.CompletePath] = scenario{fn: "functions/token", note: "response_type=code id_token: the code stored, the ID token signed",
		prepare: perRequestFrom(func(ctx context.Context, n int) ([]events.APIGatewayV2HTTPResponse, error) {
			return b.interactions(ctx, n, "response_type", "code id_token")
		}, func(res events.APIGatewayV2HTTPResponse) request {
			u, _ := url.Parse(res.Headers["Location"])
			return request{method: "GET", path: u.Path, query: u.Query(), header: b.sessionCookie()}
		})}
}

// tokenVariants are the token route's other grants, each its own row.
func (b *bench) tokenVariants() []scenario {
	const tokF = "functions/token"
	return []scenario{
		{fn: tokF, variant: "authorization_code", note: "code with PKCE, offline_access: ID token, access token, refresh token stored",
			prepare: perRequestFrom(b.codes, func(c [2]string) request { return b.exchangeRequest(c[0], c[1]) })},
		{fn: tokF, variant: "refresh_token", note: "rotation: the token spent, its family and session read, the next stored",
			prepare: perRequestFrom(b.refreshTokens, func(rt string) request {
				return b.hybridTokenRequest(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}})
			})},
	}
}
