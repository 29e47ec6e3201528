package faultmatrix

// Sign-in's mutating operations in the matrix (issues 16 and 17): a
// session's start (the upstream's callback, which also issues a code) and
// end (sign-out), a code's issue (authorize, signed in) and redemption, a
// refresh token's rotation and the revocation of its family on reuse.
// People sign in at a local upstream provider (infra/localidp) through
// the real federation; the faults hit every DynamoDB and Secrets Manager
// call of the operation, as for the management routes. After each run,
// signInInvariants checks:
//
//  10. no code is redeemed twice (the run's codes are presented again);
//  11. no session outlives its end: an ended session authorizes nothing
//      (no code at authorize, nothing at userinfo) and its refresh token
//      families issue nothing;
//  12. no refresh token family has two live tokens;
//  13. no revoked family issues anything.

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"golang.org/x/oauth2"

	"identityservice/infra/localidp"
	"identityservice/shared/identity"
	"identityservice/shared/signin"
	"identityservice/shared/signinapi"
	"identityservice/shared/tokenapi"
	"identityservice/shared/vault"
)

// signInOperations are sign-in's operations; each is one more entry here.
func signInOperations() []operation {
	return []operation{
		sessionStartOp(),
		codeIssueOp(),
		codeRedemptionOp(),
		refreshRotationOp(),
		refreshReuseOp(),
		sessionEndOp(),
	}
}

const (
	// siHost is the host of the world's in-process requests
	// (httptest.NewRequest's): the issuer is siHost + "/identity".
	siHost      = "http://example.com"
	siRedirect  = "https://app.example.com/signin"
	siSignedOut = "https://app.example.com/signed-out"
	siScopes    = "openid profile offline_access"
)

// signInFixture is a world's sign-in setting: the tenant's upstream (a
// local provider) and a Hybrid client with offline access, whose person
// has consented once.
type signInFixture struct {
	idp    *localidp.IdP
	client identity.CreatedClient
}

var (
	fixturesMu sync.Mutex
	fixtures   = map[*world]*signInFixture{}
)

// signInFor returns the world's sign-in fixture, made on first use: the
// upstream, the client, a first sign-in with consent (clean), then one
// whole round on the injected app (sign-in, code exchange, refresh,
// sign-out), so that its caches (the upstream's discovery and secret, the
// client's material, the keys) are warm and a dry run counts the calls
// of the operation itself.
func signInFor(w *world) *signInFixture {
	w.t.Helper()
	fixturesMu.Lock()
	defer fixturesMu.Unlock()
	if f := fixtures[w]; f != nil {
		return f
	}
	ctx := context.Background()
	f := &signInFixture{idp: localidp.ForTest(w.t, localidp.Config{RedirectURIs: []string{siHost + signin.CallbackPath}})}
	if err := w.clean.Upstreams().PutUpstream(ctx, f.idp.Upstream(w.tenant)); err != nil {
		w.t.Fatal(err)
	}
	if err := vault.NewUpstreams(env.Clients.SecretsManager, w.prefix).PutUpstreamSecret(ctx, w.tenant, f.idp.ClientSecret); err != nil {
		w.t.Fatal(err)
	}
	c, err := w.clean.Service.CreateClient(ctx, w.tenant, identity.NewClient{Kind: identity.Hybrid, Name: "fault matrix sign-in",
		RedirectURIs: []string{siRedirect}, PostLogoutRedirectURIs: []string{siSignedOut}, AllowOfflineAccess: true})
	if err != nil {
		w.t.Fatal(err)
	}
	f.client = c
	fixtures[w] = f
	w.t.Cleanup(func() {
		fixturesMu.Lock()
		delete(fixtures, w)
		fixturesMu.Unlock()
	})
	run := &signInRun{f: f}
	run.signIn(w, w.cleanH, true)
	warm := &signInRun{f: f}
	if res := warm.exchange(w, w.h, ctx, warm.signIn(w, w.h, false)); res.Status != http.StatusOK {
		w.t.Fatalf("warm-up code exchange: %s", res)
	}
	g := warm.grants[0]
	if res := warm.refresh(w, w.h, g.refresh); res.Status != http.StatusOK {
		w.t.Fatalf("warm-up refresh: %s", res)
	}
	if res := warm.endSession(w, w.h, g.idToken, g.cookie); res.Status != http.StatusFound {
		w.t.Fatalf("warm-up sign-out: %s", res)
	}
	return f
}

// signInRun is what a run of a sign-in operation holds: every code,
// session and refresh token it was given, and what became of them.
type signInRun struct {
	f *signInFixture
	// pending is a callback from the upstream not yet served: its URL and
	// the browser's interaction cookie.
	pending   struct{ url, cookie string }
	codes     []*heldCode
	grants    []*heldGrant // what code exchanges returned
	refreshes []string     // every refresh token handed out
	ended     map[string]bool
	// callbacks counts the successes of the pending callback, whose code
	// verifier is verifier.
	callbacks int
	verifier  string
	// rounds counts signInInvariants' calls: an operation's own checks of
	// the store hold before the first, whose probes revoke and spend.
	rounds int
}

type heldCode struct {
	code, verifier, cookie string
	redeemed               int // successful redemptions
}

type heldGrant struct {
	access, idToken, refresh, cookie string
}

func runOf(r *mrun) *signInRun {
	if r.state == nil {
		r.state = &signInRun{f: signInFor(r.w)}
	}
	return r.state.(*signInRun)
}

// serve sends one browser request to h: method, path with query, the
// session or interaction cookies, a form body, and client_secret_basic.
func (s *signInRun) serve(w *world, h http.Handler, ctx context.Context, method, target string, cookies map[string]string, form url.Values, basic bool) response {
	var req *http.Request
	if form != nil {
		req = httptest.NewRequestWithContext(ctx, method, target, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	} else {
		req = httptest.NewRequestWithContext(ctx, method, target, nil)
	}
	for name, v := range cookies {
		if v != "" {
			req.AddCookie(&http.Cookie{Name: name, Value: v})
		}
	}
	if basic {
		req.SetBasicAuth(url.QueryEscape(s.f.client.Client.ID), url.QueryEscape(s.f.client.SecretString))
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return response{Status: rec.Code, Header: rec.Header(), Body: rec.Body.Bytes()}
}

func setCookie(res response, name string) string {
	for _, c := range (&http.Response{Header: res.Header}).Cookies() {
		if c.Name == name {
			return c.Value
		}
	}
	return ""
}

// authorize asks for a code (PKCE S256) in a browser with the session
// cookie (none: ""); it returns the answer and the code verifier.
func (s *signInRun) authorize(w *world, h http.Handler, ctx context.Context, cookie string) (response, string) {
	verifier := oauth2.GenerateVerifier()
	q := url.Values{"client_id": {s.f.client.Client.ID}, "redirect_uri": {siRedirect}, "response_type": {"code"}, "scope": {siScopes},
		"state": {"st"}, "nonce": {"n"}, "code_challenge": {oauth2.S256ChallengeFromVerifier(verifier)}, "code_challenge_method": {"S256"}}
	return s.serve(w, h, ctx, http.MethodGet, signinapi.AuthorizePath+"?"+q.Encode(), map[string]string{signinapi.SessionCookie: cookie}, nil, false), verifier
}

// codeOf reads the code of an answer that sent the browser to the
// client's redirect URI ("" if it did not).
func codeOf(res response) string {
	if res.Status != http.StatusFound {
		return ""
	}
	return localidp.CodeAt(res.Header.Get("Location"), siRedirect)
}

// startSignIn takes a browser from authorize (clean) through the local
// provider's login form to the callback it is sent back with, and keeps
// that callback pending; it returns the code verifier.
func (s *signInRun) startSignIn(w *world) string {
	w.t.Helper()
	res, verifier := s.authorize(w, w.cleanH, context.Background(), "")
	to := res.Header.Get("Location")
	if res.Status != http.StatusFound || !strings.HasPrefix(to, s.f.idp.Issuer) {
		w.t.Fatalf("authorize, not signed in: %s (Location %q), want a redirect to the upstream", res, to)
	}
	jar, _ := cookiejar.New(nil)
	b := &http.Client{Jar: jar, Timeout: 30 * time.Second, CheckRedirect: localidp.StopAt(siHost)}
	back, err := localidp.SignIn(context.Background(), b, to, s.f.idp.Admin)
	if err != nil {
		w.t.Fatal(err)
	}
	back.Body.Close()
	cb := back.Header.Get("Location")
	if !strings.HasPrefix(cb, siHost+signin.CallbackPath) {
		w.t.Fatalf("the upstream answered %d %q, want a redirect to the callback", back.StatusCode, cb)
	}
	s.pending.url, s.pending.cookie = strings.TrimPrefix(cb, siHost), setCookie(res, signinapi.InteractionCookie)
	return verifier
}

// callback serves the pending callback on h.
func (s *signInRun) callback(w *world, h http.Handler, ctx context.Context) response {
	return s.serve(w, h, ctx, http.MethodGet, s.pending.url, map[string]string{signinapi.InteractionCookie: s.pending.cookie}, nil, false)
}

var formValue = regexp.MustCompile(`name="(interaction|csrf)" value="([^"]*)"`)

// signIn signs the person in on h (consenting when asked, with consent)
// and returns the code the client received, held by the run.
func (s *signInRun) signIn(w *world, h http.Handler, consent bool) *heldCode {
	w.t.Helper()
	verifier := s.startSignIn(w)
	res := s.callback(w, h, context.Background())
	cookie := setCookie(res, signinapi.SessionCookie)
	if consent && res.Status == http.StatusOK {
		f := url.Values{"decision": {"allow"}}
		for _, m := range formValue.FindAllStringSubmatch(string(res.Body), -1) {
			f.Set(m[1], m[2])
		}
		res = s.serve(w, h, context.Background(), http.MethodPost, signinapi.ConsentPath, map[string]string{signinapi.SessionCookie: cookie}, f, false)
	}
	code := codeOf(res)
	if code == "" || cookie == "" {
		w.t.Fatalf("sign-in answered %s (Location %q)", res, res.Header.Get("Location"))
	}
	s.callbacks++
	c := &heldCode{code: code, verifier: verifier, cookie: cookie}
	s.codes = append(s.codes, c)
	return c
}

// exchange redeems a held code on h, keeping what it returns.
func (s *signInRun) exchange(w *world, h http.Handler, ctx context.Context, c *heldCode) response {
	res := s.serve(w, h, ctx, http.MethodPost, tokenapi.TokenPath, nil, url.Values{"grant_type": {"authorization_code"}, "code": {c.code},
		"redirect_uri": {siRedirect}, "code_verifier": {c.verifier}}, true)
	var out struct{ AccessToken, IDToken, RefreshToken string }
	if res.Status == http.StatusOK {
		c.redeemed++
		if err := json.Unmarshal(res.Body, &struct {
			A *string `json:"access_token"`
			I *string `json:"id_token"`
			R *string `json:"refresh_token"`
		}{&out.AccessToken, &out.IDToken, &out.RefreshToken}); err != nil {
			w.t.Fatal(err)
		}
		s.grants = append(s.grants, &heldGrant{access: out.AccessToken, idToken: out.IDToken, refresh: out.RefreshToken, cookie: c.cookie})
		if out.RefreshToken != "" {
			s.refreshes = append(s.refreshes, out.RefreshToken)
		}
	}
	return res
}

// grant signs in (clean) and redeems the code on h: the tokens of a
// session, a refresh token among them.
func (s *signInRun) grant(w *world, h http.Handler) *heldGrant {
	w.t.Helper()
	c := s.signIn(w, w.cleanH, false)
	if res := s.exchange(w, h, context.Background(), c); res.Status != http.StatusOK {
		w.t.Fatalf("code exchange: %s", res)
	}
	g := s.grants[len(s.grants)-1]
	if g.refresh == "" {
		w.t.Fatal("code exchange with offline_access returned no refresh token")
	}
	return g
}

// refreshWith rotates a refresh token on h with ctx, keeping the new one.
func (s *signInRun) refreshWith(w *world, h http.Handler, ctx context.Context, rt string) response {
	res := s.serve(w, h, ctx, http.MethodPost, tokenapi.TokenPath, nil, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}, true)
	var out struct {
		R string `json:"refresh_token"`
	}
	if res.Status == http.StatusOK && json.Unmarshal(res.Body, &out) == nil && out.R != "" {
		s.refreshes = append(s.refreshes, out.R)
	}
	return res
}

func (s *signInRun) refresh(w *world, h http.Handler, rt string) response {
	return s.refreshWith(w, h, context.Background(), rt)
}

// endSession signs out on h with the ID token as hint, in the browser of
// the session's cookie, to the client's post-logout URI.
func (s *signInRun) endSessionWith(w *world, h http.Handler, ctx context.Context, hint, cookie string) response {
	q := url.Values{"id_token_hint": {hint}, "post_logout_redirect_uri": {siSignedOut}, "state": {"bye"}}
	return s.serve(w, h, ctx, http.MethodGet, signinapi.EndSessionPath+"?"+q.Encode(), map[string]string{signinapi.SessionCookie: cookie}, nil, false)
}

func (s *signInRun) endSession(w *world, h http.Handler, hint, cookie string) response {
	return s.endSessionWith(w, h, context.Background(), hint, cookie)
}

func (s *signInRun) end(sid string) {
	if s.ended == nil {
		s.ended = map[string]bool{}
	}
	s.ended[sid] = true
}

// sessionID is the session id of a session cookie.
func sessionID(cookie string) string {
	id, _, _ := signin.SplitSessionCookie(cookie)
	return id
}

// signInItems is the sign-in part of a world's table.
type signInItems struct {
	refresh  map[string]refreshRow // by hash
	families map[string]bool       // revoked family ids
	sessions map[string]string     // session id: "live", "ended" (absent: gone or never)
	redeemed map[string]bool       // code hash: redeemed
}

type refreshRow struct {
	family, session string
	spent           bool
	expires         time.Time
}

func hashOf(v string) string {
	sum := sha256.Sum256([]byte(v))
	return hex.EncodeToString(sum[:])
}

// readSignIn scans the world's table for sign-in's items.
func readSignIn(w *world) signInItems {
	w.t.Helper()
	items := signInItems{refresh: map[string]refreshRow{}, families: map[string]bool{}, sessions: map[string]string{}, redeemed: map[string]bool{}}
	p := dynamodb.NewScanPaginator(env.Clients.DynamoDB, &dynamodb.ScanInput{TableName: aws.String(w.table), ConsistentRead: aws.Bool(true)})
	for p.HasMorePages() {
		out, err := p.NextPage(context.Background())
		if err != nil {
			w.t.Fatalf("scan %s: %v", w.table, err)
		}
		for _, it := range out.Items {
			pk := str(it, "PK")
			kind, key, _ := strings.Cut(pk, "#")
			switch kind {
			case "REFRESH":
				var t signin.RefreshToken
				if err := json.Unmarshal([]byte(str(it, "Data")), &t); err != nil {
					w.t.Fatalf("refresh item %s: %v", pk, err)
				}
				_, spent := it["Spent"]
				items.refresh[key] = refreshRow{family: t.FamilyID, session: t.SessionID, spent: spent, expires: t.Expires}
			case "FAMILY":
				items.families[key] = true
			case "SESSION":
				items.sessions[key] = "live"
				if _, ended := it["Ended"]; ended {
					items.sessions[key] = "ended"
				}
			case "CODE":
				_, items.redeemed[key] = it["Redeemed"]
			}
		}
	}
	return items
}

// signInInvariants checks invariants 10 to 13 after a run; it is called
// twice per run (after the fault and after a sweep), so every probe it
// makes may be made again.
func signInInvariants(r *mrun) violations {
	var v violations
	s := runOf(r)
	w := r.w
	ctx := context.Background()
	items := readSignIn(w)
	// 11. An ended session authorizes nothing.
	checksMade.Add(1)
	for sid := range s.ended {
		if st := items.sessions[sid]; st == "live" {
			v.addf("session %s ended but stored live", sid)
		}
		if _, err := w.clean.SignIn().GetSession(ctx, sid); !errors.Is(err, signin.ErrNotFound) {
			v.addf("session %s ended but read as %v", sid, err)
		}
	}
	for _, g := range s.grants {
		if !s.ended[sessionID(g.cookie)] {
			continue
		}
		req := httptest.NewRequest(http.MethodGet, signinapi.UserinfoPath, nil)
		req.Header.Set("Authorization", "Bearer "+g.access)
		rec := httptest.NewRecorder()
		w.cleanH.ServeHTTP(rec, req)
		if rec.Code != http.StatusUnauthorized {
			v.addf("userinfo answers %d for a token of ended session %s", rec.Code, sessionID(g.cookie))
		}
		if res, _ := s.authorize(w, w.cleanH, ctx, g.cookie); codeOf(res) != "" {
			v.addf("authorize issued a code to the cookie of ended session %s", sessionID(g.cookie))
		}
	}
	// 11, 13. No refresh token of an ended session or a revoked family
	// issues anything; 12. no family has two live tokens.
	checksMade.Add(2)
	live := map[string]int{}
	for _, rt := range s.refreshes {
		row, ok := items.refresh[hashOf(rt)]
		if !ok {
			continue // an answer's token whose write failed: unknown, refused
		}
		if !items.families[row.family] && items.sessions[row.session] != "ended" && !s.ended[row.session] {
			continue
		}
		if res := s.refresh(w, w.cleanH, rt); res.Status != http.StatusBadRequest {
			v.addf("a refresh token of a revoked family or an ended session answered %d (family revoked %v, session %q)", res.Status, items.families[row.family], items.sessions[row.session])
		}
	}
	items = readSignIn(w)
	for _, row := range items.refresh {
		if !row.spent && time.Now().Before(row.expires) && !items.families[row.family] && items.sessions[row.session] != "ended" {
			live[row.family]++
		}
	}
	for fam, n := range live {
		if n > 1 {
			v.addf("refresh token family %s has %d live tokens", fam, n)
		}
	}
	// 10. Every code held is presented again: at most one redemption ever
	// succeeds; a refused one of a code redeemed before ends its session.
	// Last, as a replay ends a session and revokes a family, which the
	// checks above would then see instead of the operation's effect (the
	// second call checks what the replays ended).
	checksMade.Add(1)
	for _, c := range s.codes {
		for range 2 {
			if res := s.exchange(w, w.cleanH, ctx, c); res.Status != http.StatusOK && res.Status != http.StatusBadRequest {
				v.addf("code presented again: %s", res)
			}
		}
		if c.redeemed > 1 {
			v.addf("code redeemed %d times", c.redeemed)
		}
		if readSignIn(w).redeemed[hashOf(c.code)] && c.redeemed == 0 {
			// Redeemed where the answer was lost: presented again, it was
			// a replay, which ends its session.
			s.end(sessionID(c.cookie))
		} else if c.redeemed > 0 {
			s.end(sessionID(c.cookie)) // presented again after a success
		}
	}
	s.rounds++
	return v
}

// sessionStartOp serves the upstream's callback: the session starts and,
// consent being remembered, the code is issued at once.
func sessionStartOp() operation {
	held := func(s *signInRun, res response) {
		if c := codeOf(res); c != "" {
			s.callbacks++
			s.codes = append(s.codes, &heldCode{code: c, verifier: s.verifier, cookie: setCookie(res, signinapi.SessionCookie)})
		}
	}
	return operation{
		name: "sign-in: session start (upstream callback)", family: -1, ok: http.StatusFound,
		setup: func(r *mrun) { s := runOf(r); s.verifier = s.startSignIn(r.w) },
		do: func(r *mrun) response {
			s := runOf(r)
			res := s.callback(r.w, r.w.h, r.ctx)
			held(s, res)
			return res
		},
		answer: func(r *mrun, res response, snap snapshot) violations {
			var v violations
			s := runOf(r)
			if res.Status == http.StatusFound && codeOf(res) == "" {
				v.addf("callback answered a redirect without a code: Location %q", res.Header.Get("Location"))
			}
			if sid := sessionID(setCookie(res, signinapi.SessionCookie)); sid != "" && !s.ended[sid] {
				if _, err := r.w.clean.SignIn().GetSession(context.Background(), sid); err != nil {
					v.addf("the answer set the cookie of session %s, which is not readable: %v", sid, err)
				}
			}
			// The upstream's answer is single-use: served again, it starts
			// no second session.
			held(s, s.callback(r.w, r.w.cleanH, context.Background()))
			if s.callbacks > 1 {
				v.addf("one upstream answer started %d sessions", s.callbacks)
			}
			return append(v, signInInvariants(r)...)
		},
	}
}

// codeIssueOp asks for a code in a browser already signed in (consent
// remembered): authorize reads the session and issues the code.
func codeIssueOp() operation {
	return operation{
		name: "sign-in: code issue (authorize, signed in)", family: -1, ok: http.StatusFound,
		setup: func(r *mrun) {
			s := runOf(r)
			r.id = s.signIn(r.w, r.w.cleanH, false).cookie
			s.codes = nil // that code is not this run's subject; its session is
		},
		do: func(r *mrun) response {
			s := runOf(r)
			res, verifier := s.authorize(r.w, r.w.h, r.ctx, r.id)
			if c := codeOf(res); c != "" {
				s.codes = append(s.codes, &heldCode{code: c, verifier: verifier, cookie: r.id})
			}
			return res
		},
		answer: func(r *mrun, res response, snap snapshot) violations {
			var v violations
			if res.Status == http.StatusFound && codeOf(res) == "" && len(runOf(r).codes) == 0 {
				v.addf("authorize, signed in and consented, redirected without a code: %q", res.Header.Get("Location"))
			}
			return append(v, signInInvariants(r)...)
		},
	}
}

// codeRedemptionOp redeems a code (with offline_access: a refresh token
// family starts).
func codeRedemptionOp() operation {
	return operation{
		name: "sign-in: code redemption", family: oauthFamily, ok: http.StatusOK,
		setup: func(r *mrun) { runOf(r).signIn(r.w, r.w.cleanH, false) },
		do: func(r *mrun) response {
			s := runOf(r)
			return s.exchange(r.w, r.w.h, r.ctx, s.codes[0])
		},
		answer: func(r *mrun, res response, snap snapshot) violations {
			var v violations
			s := runOf(r)
			if res.Status == http.StatusOK && len(s.grants) > 0 && s.rounds == 0 {
				g := s.grants[0]
				if row, ok := readSignIn(r.w).refresh[hashOf(g.refresh)]; !ok || row.spent {
					v.addf("redemption answered 200 but its refresh token is stored %v (spent %v)", ok, row.spent)
				}
			}
			return append(v, signInInvariants(r)...)
		},
	}
}

// refreshRotationOp rotates a refresh token; the spent one, presented
// again, revokes the family.
func refreshRotationOp() operation {
	return operation{
		name: "sign-in: refresh token rotation", family: oauthFamily, ok: http.StatusOK,
		setup: func(r *mrun) { r.token = runOf(r).grant(r.w, r.w.cleanH).refresh },
		do:    func(r *mrun) response { return runOf(r).refreshWith(r.w, r.w.h, r.ctx, r.token) },
		answer: func(r *mrun, res response, snap snapshot) violations {
			var v violations
			s := runOf(r)
			items := readSignIn(r.w)
			old := items.refresh[hashOf(r.token)]
			if res.Status == http.StatusOK && s.rounds == 0 {
				next := items.refresh[hashOf(s.refreshes[len(s.refreshes)-1])]
				if !old.spent || next.spent || next.family != old.family {
					v.addf("rotation answered 200 but the old token is spent=%v, the new one spent=%v of family %q (want %q)", old.spent, next.spent, next.family, old.family)
				}
			}
			// A token the rotation spent, presented again, is a reuse.
			if old.spent {
				if again := s.refresh(r.w, r.w.cleanH, r.token); again.Status != http.StatusBadRequest {
					v.addf("spent refresh token presented again: %s", again)
				}
				if !readSignIn(r.w).families[old.family] {
					v.addf("reuse of a spent token left family %s unrevoked", old.family)
				}
			}
			return append(v, signInInvariants(r)...)
		},
	}
}

// refreshReuseOp presents a spent refresh token whose family has a live
// one: the family is revoked (the answer is invalid_grant).
func refreshReuseOp() operation {
	return operation{
		name: "sign-in: refresh token reuse (family revocation)", family: oauthFamily, ok: http.StatusBadRequest,
		setup: func(r *mrun) {
			s := runOf(r)
			r.token = s.grant(r.w, r.w.cleanH).refresh
			if res := s.refresh(r.w, r.w.cleanH, r.token); res.Status != http.StatusOK {
				r.w.t.Fatalf("rotation: %s", res)
			}
		},
		do: func(r *mrun) response { return runOf(r).refreshWith(r.w, r.w.h, r.ctx, r.token) },
		answer: func(r *mrun, res response, snap snapshot) violations {
			var v violations
			s := runOf(r)
			fam := readSignIn(r.w).refresh[hashOf(r.token)].family
			if res.Status == http.StatusBadRequest && !readSignIn(r.w).families[fam] {
				v.addf("reuse answered 400 but family %s is not revoked", fam)
			}
			if res.Status != http.StatusBadRequest {
				// The client (or the thief) presents it again: the reuse is
				// detected then.
				if again := s.refresh(r.w, r.w.cleanH, r.token); again.Status != http.StatusBadRequest || !readSignIn(r.w).families[fam] {
					v.addf("reuse presented again after a fault: %s, family revoked %v", again, readSignIn(r.w).families[fam])
				}
			}
			return append(v, signInInvariants(r)...)
		},
	}
}

// sessionEndOp signs out with an ID token hint: the session ends, and
// with it what it authorized.
func sessionEndOp() operation {
	return operation{
		name: "sign-in: session end (sign-out)", family: -1, ok: http.StatusFound,
		setup: func(r *mrun) {
			g := runOf(r).grant(r.w, r.w.cleanH)
			r.id, r.token = g.cookie, g.idToken
		},
		do: func(r *mrun) response { return runOf(r).endSessionWith(r.w, r.w.h, r.ctx, r.token, r.id) },
		answer: func(r *mrun, res response, snap snapshot) violations {
			var v violations
			s := runOf(r)
			if res.Status == http.StatusFound {
				if to := res.Header.Get("Location"); to != siSignedOut+"?state=bye" {
					v.addf("sign-out redirected to %q", to)
				}
				if st := readSignIn(r.w).sessions[sessionID(r.id)]; st != "ended" {
					v.addf("sign-out answered a redirect but the session is stored %q", st)
				}
			} else if again := s.endSession(r.w, r.w.cleanH, r.token, r.id); again.Status != http.StatusFound {
				v.addf("sign-out retried after a fault: %s", again)
			}
			s.end(sessionID(r.id))
			return append(v, signInInvariants(r)...)
		},
	}
}
