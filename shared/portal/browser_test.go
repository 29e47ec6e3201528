package portal_test

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"identityservice/infra/localidp"
	"identityservice/shared/httpapi"
	"identityservice/shared/identity"
	"identityservice/shared/portal"
)

// browser is a headless Chromium (Debian's chromium package, which
// `make deps` installs) driven over the DevTools protocol.
type browser struct {
	t   *testing.T
	ctx context.Context
	mu  sync.Mutex
	// exceptions are the uncaught script errors of every page.
	exceptions []string
	shots      string // the screenshot directory (.local/ of the repo)
}

func newBrowser(t *testing.T) *browser {
	t.Helper()
	path, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatal("chromium is not installed: `make deps` installs it (apt-get install chromium, as root)")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.NoSandbox, // the test may run as root, where Chromium's sandbox refuses to start
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.WindowSize(1280, 800),
	)
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(alloc)
	ctx, cancelTimeout := context.WithTimeout(ctx, 4*time.Minute)
	t.Cleanup(func() { cancelTimeout(); cancelCtx(); cancelAlloc() })
	b := &browser{t: t, ctx: ctx, shots: filepath.Join(env.Root, ".local")}
	if err := os.MkdirAll(b.shots, 0o755); err != nil {
		t.Fatal(err)
	}
	exceptions := chromedp.Events(ctx, runtime.ExceptionThrown)
	go func() {
		for ev, err := range exceptions {
			if err != nil {
				return // the browser is gone: the test is over
			}
			b.mu.Lock()
			b.exceptions = append(b.exceptions, (&chromedp.ExceptionError{ExceptionDetails: ev.ExceptionDetails}).Error())
			b.mu.Unlock()
		}
	}()
	// Every page records the Content-Security-Policy violations it meets.
	if _, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: `window.__csp = [];
document.addEventListener('securitypolicyviolation', (e) => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));`}); err != nil {
		t.Fatalf("browser: %v", err)
	}
	b.run(chromedp.EmulateViewport(1280, 800))
	return b
}

// run runs actions, each bounded by a minute (a bound for a hang, not a
// measurement).
func (b *browser) run(actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, time.Minute)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		b.mu.Lock()
		defer b.mu.Unlock()
		b.t.Fatalf("browser: %v (script errors so far: %v)", err, b.exceptions)
	}
}

// eval evaluates a JavaScript expression in the page into v.
func eval[T any](b *browser, js string) T {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[T](js))
	if err != nil {
		b.t.Fatalf("browser: evaluate %s: %v", js, err)
	}
	return v
}

// eval evaluates a JavaScript expression and decodes its value (through
// JSON) into v.
func (b *browser) eval(js string, v any) {
	b.t.Helper()
	raw := eval[string](b, "JSON.stringify("+js+")")
	if err := json.Unmarshal([]byte(raw), v); err != nil {
		b.t.Fatalf("browser: %s gave %s: %v", js, raw, err)
	}
}

// text is the text of the first element sel matches, spaces collapsed.
// It reads the text in the page's own script, in one evaluation, rather
// than by a DOM node id: a node the page re-renders between a query and
// its read ("Could not find node with given id") made the test flaky.
func (b *browser) text(sel string) string {
	b.t.Helper()
	q, err := json.Marshal(sel)
	if err != nil {
		b.t.Fatal(err)
	}
	b.poll(fmt.Sprintf(`document.querySelector(%s) !== null`, q))
	var s string
	b.eval(fmt.Sprintf(`document.querySelector(%s).textContent`, q), &s)
	return strings.Join(strings.Fields(s), " ")
}

// click clicks the first element sel matches once it is rendered, in the
// page's own script (HTMLElement.click: the element's handlers, a form's
// submit). A mouse event at a node's coordinates, as chromedp.Click sends,
// missed when the page moved between the box's measure and the click.
func click(sel string) chromedp.Action[chromedp.Void] {
	q, err := json.Marshal(sel)
	if err != nil {
		panic(err)
	}
	return chromedp.Poll[chromedp.Void](fmt.Sprintf(`(() => { const e = document.querySelector(%s);
	  if (!e || e.disabled || e.getClientRects().length === 0) return false; e.click(); return true; })()`, q),
		chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(time.Minute))
}

// signIn signs a person in to the dashboard as a person would: the
// tenant's id in the dashboard's form, then the upstream provider's login
// form, then (the first time) the consent page. Nothing else is typed.
func (b *browser) signIn(origin, tenant string, who localidp.Person) {
	b.t.Helper()
	b.run(chromedp.Navigate(origin+portal.DashboardPath), chromedp.WaitVisible(chromedp.CSS(`#signin-form`)),
		chromedp.SetValue(chromedp.CSS(`#tenant`), tenant), click(`#signin-submit`))
	b.upstreamLogin(origin, who)
}

// upstreamLogin fills in the local upstream provider's login form, waits
// to be back at origin, and allows on the consent page if it is shown.
func (b *browser) upstreamLogin(origin string, who localidp.Person) {
	b.t.Helper()
	b.waitFor(`document.readyState === 'complete' && document.getElementById('username') !== null`)
	b.run(chromedp.SetValue(chromedp.CSS(`#username`), who.Username), chromedp.SetValue(chromedp.CSS(`#password`), who.Password),
		chromedp.Evaluate[chromedp.Void](`document.getElementById('password').form.submit()`))
	o, _ := json.Marshal(origin)
	b.waitFor(fmt.Sprintf(`location.origin === %s && document.readyState === 'complete'`, o))
	if eval[bool](b, `document.getElementById('allow') !== null`) {
		b.run(click(`#allow`))
	}
}

// waitFor waits until the expression is true, across navigations (a
// chromedp.Poll ends with its page): at most a minute, a bound for a
// hang, not a measurement.
func (b *browser) waitFor(js string) {
	b.t.Helper()
	deadline := time.Now().Add(time.Minute)
	var last error
	for time.Now().Before(deadline) {
		ok, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool](js))
		if err == nil && ok {
			return
		}
		last = err
		time.Sleep(100 * time.Millisecond)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.t.Fatalf("browser: waiting for %s: %v (at %s, which says %q; script errors so far: %v)", js, last, eval[string](b, `location.href`),
		eval[string](b, `document.body ? document.body.innerText.slice(0, 600) : ''`), b.exceptions)
}

// poll waits until the expression is true (at most a minute, a bound
// for a hang, not a measurement).
func (b *browser) poll(js string) {
	b.t.Helper()
	if _, err := chromedp.Run(b.ctx, chromedp.Poll[chromedp.Void](js, chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(time.Minute))); err != nil {
		b.mu.Lock()
		defer b.mu.Unlock()
		b.t.Fatalf("browser: waiting for %s: %v (script errors so far: %v)", js, err, b.exceptions)
	}
}

// loads is how many times the dashboard has finished loading its data.
func (b *browser) loads() int {
	b.t.Helper()
	v, _ := strconv.Atoi(eval[string](b, `document.getElementById('dashboard').dataset.loads || '0'`))
	return v
}

// afterReload runs actions and waits until the dashboard has loaded its
// data again.
func (b *browser) afterReload(actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	before := b.loads()
	b.run(actions...)
	b.poll(fmt.Sprintf(`Number(document.getElementById('dashboard').dataset.loads || 0) > %d && document.getElementById('dashboard').dataset.ready === 'true'`, before))
}

// screenshot saves the viewport (full: the whole page) as .local/<name>.png.
func (b *browser) screenshot(name string, full bool) {
	b.t.Helper()
	shot := chromedp.CaptureScreenshot()
	if full {
		shot = chromedp.FullScreenshot(100)
	}
	buf, err := chromedp.Run(b.ctx, shot)
	if err != nil {
		b.t.Fatalf("browser: screenshot: %v", err)
	}
	if err := os.WriteFile(filepath.Join(b.shots, name+".png"), buf, 0o644); err != nil {
		b.t.Fatal(err)
	}
}

// elementShot saves one element as .local/<name>.png.
func (b *browser) elementShot(name, sel string) {
	b.t.Helper()
	buf, err := chromedp.Run(b.ctx, chromedp.Screenshot(chromedp.CSS(sel)))
	if err != nil {
		b.t.Fatalf("browser: screenshot of %s: %v", sel, err)
	}
	if err := os.WriteFile(filepath.Join(b.shots, name+".png"), buf, 0o644); err != nil {
		b.t.Fatal(err)
	}
}

// clean checks that the current page broke no CSP rule and threw nothing.
func (b *browser) clean(where string) {
	b.t.Helper()
	csp := eval[[]string](b, `window.__csp || []`)
	if len(csp) > 0 {
		b.t.Errorf("%s: Content-Security-Policy violations: %v", where, csp)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.exceptions) > 0 {
		b.t.Errorf("%s: script errors: %v", where, b.exceptions)
		b.exceptions = nil
	}
}

// noHorizontalScroll checks the page is no wider than the window.
func (b *browser) noHorizontalScroll(where string) {
	b.t.Helper()
	w := eval[struct{ Scroll, Inner int }](b, `({Scroll: document.documentElement.scrollWidth, Inner: window.innerWidth})`)
	if w.Scroll > w.Inner {
		b.t.Errorf("%s: the page scrolls sideways: scrollWidth %d > innerWidth %d", where, w.Scroll, w.Inner)
	}
}

// clientRow is a row of the dashboard's client table.
type clientRow struct {
	ID, Kind, Enabled, Name, Count, Next, State string
}

const clientRowsJS = `[...document.querySelectorAll('#clients tbody tr[data-client-id]')].map((tr) => ({
  ID: tr.dataset.clientId, Kind: tr.dataset.kind, Enabled: tr.dataset.enabled,
  Name: tr.querySelector('.client-name').textContent,
  Count: (tr.querySelector('.secret-count') || {textContent: ''}).textContent,
  Next: tr.querySelector('.next-expiry').dataset.next, State: tr.children[2].textContent }))`

func (b *browser) clientRows() map[string]clientRow {
	b.t.Helper()
	rows := eval[[]clientRow](b, clientRowsJS)
	out := map[string]clientRow{}
	for _, r := range rows {
		out[r.Name] = r
	}
	return out
}

// shownChange is a "Last changed by" note of the dashboard: the actor's
// kind and name as the page holds them, its text, and its time.
type shownChange struct{ Kind, By, Text, At string }

// change reads the "Last changed by" note sel matches.
func (b *browser) change(sel string) shownChange {
	b.t.Helper()
	q, err := json.Marshal(sel)
	if err != nil {
		b.t.Fatal(err)
	}
	b.poll(fmt.Sprintf(`document.querySelector(%s) !== null`, q))
	var c shownChange
	b.eval(fmt.Sprintf(`(() => { const e = document.querySelector(%s); const at = e.querySelector('time');
	  return {Kind: e.dataset.byKind || '', By: e.dataset.by || '', Text: e.textContent.replace(/\s+/g, ' ').trim(), At: at ? at.getAttribute('datetime') : ''}; })()`, q), &c)
	return c
}

// changedBy checks that a note names who as a person, at about now.
func changedBy(t *testing.T, what string, c shownChange, who string) {
	t.Helper()
	at, err := time.Parse(time.RFC3339, c.At)
	if c.Kind != "person" || c.By != who || !strings.HasPrefix(c.Text, "Last changed by "+who+" at ") || err != nil || time.Since(at) > 10*time.Minute || time.Until(at) > time.Minute {
		t.Errorf("%s: the page shows %+v, want \"Last changed by %s at <now>\" (a person)", what, c, who)
	}
}

// mark is one mark of the expiry timeline.
type mark struct {
	Secret, Client, Kind, Expiration, Days, Bucket, Label, Title, Shape string
}

const marksJS = `[...document.querySelectorAll('#timeline .mark')].map((g) => ({
  Secret: g.dataset.secretId, Client: g.dataset.clientId, Kind: g.dataset.kind, Expiration: g.dataset.expiration,
  Days: g.dataset.days, Bucket: g.dataset.bucket, Label: g.querySelector('.mark-label').textContent,
  Title: g.querySelector('title').textContent, Shape: g.querySelector('.shape').tagName }))`

func (b *browser) marks() map[string]mark {
	b.t.Helper()
	ms := eval[[]mark](b, marksJS)
	out := map[string]mark{}
	for _, m := range ms {
		out[m.Secret] = m
	}
	return out
}

// wantMark is what the timeline must show for a secret expiring in days.
func (s *stack) wantMark(c seeded, secretID string, days int) mark {
	bucket := "later"
	switch {
	case days <= 7:
		bucket = "urgent"
	case days <= 30:
		bucket = "soon"
	}
	shape := "circle"
	if c.Kind == identity.Hybrid {
		shape = "polygon"
	}
	return mark{Secret: secretID, Client: c.ID, Kind: c.Kind.String(), Expiration: s.day(days).Format(time.DateOnly),
		Days: strconv.Itoa(days), Bucket: bucket, Label: strconv.Itoa(days) + " d", Shape: shape}
}

func checkMarks(t *testing.T, got map[string]mark, want []mark) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("the timeline has %d marks, want %d: %+v", len(got), len(want), got)
	}
	for _, w := range want {
		g, ok := got[w.Secret]
		if !ok {
			t.Errorf("no mark for secret %s (expires %s)", w.Secret, w.Expiration)
			continue
		}
		title := g.Title
		g.Title = ""
		if g != w {
			t.Errorf("mark of secret %s:\n got %+v\nwant %+v", w.Secret, g, w)
		}
		if !strings.Contains(title, w.Expiration) || !strings.Contains(title, "in "+w.Days+" day") {
			t.Errorf("mark title %q does not name the date %s and days left %s", title, w.Expiration, w.Days)
		}
	}
}

// The dashboard in a real browser: sign-in, the seeded clients and their
// expiring secrets on the timeline, the last sweep, every action checked
// through the API, the phone-sized layout, sign-out and expiry, and the
// two UI routes with a hostile state.
func TestDashboardInABrowser(t *testing.T) {
	s := api(t)
	b := newBrowser(t)
	dashboard := s.srv.URL + portal.DashboardPath
	adminToken := s.token(t, s.admin.ID, s.admin.Secret)
	billing, reporting, hybrid, legacy, operator := s.clients["billing-service"], s.clients["reporting-job"], s.clients["customer-portal"], s.clients["legacy-batch"], s.clients["cluster-operator"]
	secretByDay := func(c seeded, d int) string {
		for id, day := range c.Secrets {
			if day == s.day(d).Format(time.DateOnly) {
				return id
			}
		}
		t.Fatalf("%s has no secret expiring in %d days", c.Name, d)
		return ""
	}

	// A person whose upstream gives a name that is markup last changed
	// legacy-batch's tags: the page must show the name as text.
	hostileActor := identity.Actor{ClientID: s.dashboard, Subject: "mallory-subject", Name: `<img src=x onerror="window.__xss=3">Mallory`}
	if _, err := s.app.Service.UpdateClient(identity.WithActor(context.Background(), hostileActor), s.tenant, identity.ClientCredential, legacy.ID,
		identity.ClientPatch{Tags: &[]string{"legacy"}}); err != nil {
		t.Fatal(err)
	}

	// --- Sign-in as a person: the tenant's id, then the upstream's own
	// login form. The dashboard has no secret or password field.
	b.run(chromedp.Navigate(dashboard), chromedp.WaitVisible(chromedp.CSS(`#signin-form`)))
	b.screenshot("portal-signin-1280x800", false)
	if n := eval[int](b, `document.querySelectorAll('input[type=password], input[name*=secret i], input[id*=secret i]:not([readonly])').length`); n != 0 {
		t.Errorf("the dashboard's sign-in page has %d secret or password fields, want none", n)
	}
	b.signIn(s.srv.URL, s.tenant, s.idp.Admin)
	b.waitFor(`document.getElementById('dashboard') !== null && document.getElementById('dashboard').dataset.ready === 'true'`)
	var where struct {
		Session, Local int
		Cookie         string
	}
	b.eval(`({Session: sessionStorage.length, Local: localStorage.length, Cookie: document.cookie})`, &where)
	if where.Session != 0 || where.Local != 0 || where.Cookie != "" {
		t.Errorf("after sign-in: sessionStorage %d items, localStorage %d, script-readable cookies %q: want the tokens on the server only (an HttpOnly cookie names the session)", where.Session, where.Local, where.Cookie)
	}
	if who := b.text(`#who`); !strings.Contains(who, s.idp.Admin.Name) || !strings.Contains(who, s.idp.Admin.Email) || !strings.Contains(who, s.tenant) || !strings.Contains(who, "Account Administrator") {
		t.Errorf("who is signed in: %q, want %s (%s) of tenant %s, Account Administrator", who, s.idp.Admin.Name, s.idp.Admin.Email, s.tenant)
	}

	// --- The clients: kind, state, secret count, next expiry.
	rows := b.clientRows()
	for _, c := range []struct {
		seeded
		count, next string
	}{
		{billing, "2", s.day(5).Format(time.DateOnly)},
		{reporting, "1", s.day(45).Format(time.DateOnly)},
		{hybrid, "2", s.day(75).Format(time.DateOnly)},
		{legacy, "1", s.day(200).Format(time.DateOnly)},
		{operator, "1", ""},
		{s.admin, "1", ""},
		{s.member, "1", ""},
		{seeded{ID: s.dashboard, Name: portal.DashboardClientName, Kind: identity.Hybrid}, "1", ""},
	} {
		want := clientRow{ID: c.ID, Kind: c.Kind.String(), Enabled: "true", Name: c.Name, Count: c.count, Next: c.next, State: "Enabled"}
		if got := rows[c.Name]; got != want {
			t.Errorf("client row %s:\n got %+v\nwant %+v", c.Name, got, want)
		}
	}
	if len(rows) != 8 {
		t.Errorf("the table shows %d clients, want the tenant's 8: %v", len(rows), rows)
	}

	// --- The timeline: a mark per secret expiring within 90 days, none for
	// the 200-day or never-expiring ones.
	checkMarks(t, b.marks(), []mark{
		s.wantMark(billing, secretByDay(billing, 5), 5),
		s.wantMark(billing, secretByDay(billing, 20), 20),
		s.wantMark(reporting, secretByDay(reporting, 45), 45),
		s.wantMark(hybrid, secretByDay(hybrid, 75), 75),
	})
	var chart struct {
		AxisTitles, Legend, ClientLabels, Ticks []string
		Listed                                  int
	}
	b.eval(`({AxisTitles: [...document.querySelectorAll('#timeline .axis-title')].map((e) => e.textContent),
	  Legend: [...document.querySelectorAll('#legend li')].map((e) => e.textContent),
	  ClientLabels: [...document.querySelectorAll('#timeline .client-label')].map((e) => e.dataset.clientId),
	  Ticks: [...document.querySelectorAll('#timeline .tick.sub')].map((e) => e.textContent),
	  Listed: document.querySelectorAll('#expiring tbody tr[data-secret-id]').length})`, &chart)
	if !slices.Contains(chart.AxisTitles, "Client") || !slices.ContainsFunc(chart.AxisTitles, func(s string) bool { return strings.HasPrefix(s, "Expiration date") }) {
		t.Errorf("axis titles %v", chart.AxisTitles)
	}
	for _, want := range []string{"Circle: Client Credential client", "Diamond: Hybrid client", "Solid: expires within 7 days", "Hatched: expires 8 to 30 days", "Outline: expires 31 to 90 days"} {
		if !slices.Contains(chart.Legend, want) {
			t.Errorf("legend %v lacks %q", chart.Legend, want)
		}
	}
	if want := []string{billing.ID, reporting.ID, hybrid.ID}; !slices.Equal(chart.ClientLabels, want) {
		t.Errorf("timeline rows %v, want %v (soonest first)", chart.ClientLabels, want)
	}
	if !slices.Contains(chart.Ticks, "+90 d") || chart.Listed != 4 {
		t.Errorf("ticks %v (want one at +90 d), %d secrets listed under the chart (want 4)", chart.Ticks, chart.Listed)
	}

	// --- Who last changed each client: the seeded ones recorded no actor
	// (the test wrote them through the service), legacy-batch a person
	// whose name is markup, shown as text.
	if c := b.change(fmt.Sprintf(`tr[data-client-id=%q] .client-changed`, billing.ID)); c.Kind != "unknown" || !strings.HasPrefix(c.Text, "Last changed at ") || !strings.HasSuffix(c.Text, "(who was not recorded)") {
		t.Errorf("a client written without an actor shows %+v, want the time and that who was not recorded", c)
	}
	if c := b.change(fmt.Sprintf(`tr[data-client-id=%q] .client-changed`, legacy.ID)); c.Kind != "person" || c.By != hostileActor.Name || !strings.HasPrefix(c.Text, "Last changed by "+hostileActor.Name+" at ") {
		t.Errorf("legacy-batch's last change shows %+v, want %q as text", c, hostileActor.Name)
	}
	if n := eval[int](b, `document.querySelectorAll('#clients img, #clients [onerror]').length + (window.__xss === undefined ? 0 : 100)`); n != 0 {
		t.Errorf("an actor's name became markup in the page (%d)", n)
	}

	// --- The last sweep: its counts cover every tenant, so the tenant's
	// administrator reads why it sees none (the operator, below, sees them).
	if txt := b.text(`#sweep`); !strings.Contains(txt, "only a cluster role") || strings.Contains(txt, "Finished ") {
		t.Errorf("an Account Administrator's last sweep box says %q, want the note that only cluster roles see the counts", txt)
	}
	b.noHorizontalScroll("1280x800")
	b.elementShot("portal-chart-1280", "#chart")
	b.screenshot("portal-dashboard-1280x800", false)
	b.screenshot("portal-dashboard-1280-full", true)
	b.clean("dashboard")

	// --- Disable, then enable, a client; the token endpoint agrees.
	toggle := fmt.Sprintf(`tr[data-client-id=%q] button[data-action="toggle"]`, reporting.ID)
	b.afterReload(click(toggle))
	if r := b.clientRows()[reporting.Name]; r.Enabled != "false" || r.State != "Disabled" {
		t.Errorf("after Disable the row says %+v", r)
	}
	var got struct{ Enabled bool }
	s.as(t, adminToken, http.MethodGet, "/api/v1-preview/Tenants/"+s.tenant+"/ClientCredentialClients/"+reporting.ID, nil).JSON(t, http.StatusOK, &got)
	if got.Enabled {
		t.Error("Disable did not disable the client in the API")
	}
	if res := s.tokenRequest(t, reporting.ID, reporting.Secret); res.Status != http.StatusUnauthorized {
		t.Errorf("a disabled client got a token: %s", res)
	}
	b.afterReload(click(toggle))
	s.as(t, adminToken, http.MethodGet, "/api/v1-preview/Tenants/"+s.tenant+"/ClientCredentialClients/"+reporting.ID, nil).JSON(t, http.StatusOK, &got)
	if !got.Enabled || b.clientRows()[reporting.Name].Enabled != "true" {
		t.Error("Enable did not enable the client again")
	}
	s.token(t, reporting.ID, reporting.Secret)
	// Ada, signed in as herself, is named as who last changed it.
	changedBy(t, "reporting-job after Enable", b.change(fmt.Sprintf(`tr[data-client-id=%q] .client-changed`, reporting.ID)), s.idp.Admin.Name)

	// --- Add a secret: shown once, with a copy button and the warning; it works.
	b.run(click(fmt.Sprintf(`tr[data-client-id=%q] button[data-action="add-secret"]`, legacy.ID)),
		chromedp.WaitVisible(chromedp.CSS(`#add-dialog`)),
		chromedp.SetValue(chromedp.CSS(`#add-description`), "rotated by the browser test"),
		chromedp.SetValue(chromedp.CSS(`#add-expiration`), s.day(60).Format(time.DateOnly)),
		click(`#add-submit`),
		chromedp.WaitVisible(chromedp.CSS(`#secret-dialog`)))
	var newSecret string
	b.eval(`document.getElementById('secret-value').value`, &newSecret)
	if warning := b.text(`#secret-warning`); !strings.Contains(warning, "shown only this once") || !strings.Contains(warning, "cannot be shown again") {
		t.Errorf("the new secret's warning says %q", warning)
	}
	b.run(click(`#secret-copy`), chromedp.WaitVisible(chromedp.CSS(`#secret-copied`)))
	b.screenshot("portal-new-secret-1280x800", false)
	if newSecret == "" {
		t.Fatal("the new secret is not shown")
	}
	s.token(t, legacy.ID, newSecret) // the shown secret authenticates
	var secrets []struct {
		SecretId, Description string
		Expiration            *string
	}
	s.as(t, adminToken, http.MethodGet, "/api/v1-preview/Tenants/"+s.tenant+"/ClientCredentialClients/"+legacy.ID+"/Secret", nil).JSON(t, http.StatusOK, &secrets)
	newID := ""
	for _, sec := range secrets {
		if sec.Description == "rotated by the browser test" && sec.Expiration != nil && strings.HasPrefix(*sec.Expiration, s.day(60).Format(time.DateOnly)) {
			newID = sec.SecretId
		}
	}
	if newID == "" {
		t.Fatalf("the API does not list the added secret (expiring %s): %+v", s.day(60).Format(time.DateOnly), secrets)
	}
	b.afterReload(click(`#secret-close`))
	var leftover string
	b.eval(`document.getElementById('secret-value').value + document.body.innerText.includes(`+strconv.Quote(newSecret)+`)`, &leftover)
	if leftover != "false" {
		t.Error("the new secret is still in the page after its dialog closed")
	}
	if m, ok := b.marks()[newID]; !ok || m != withTitle(s.wantMark(legacy, newID, 60), m.Title) {
		t.Errorf("the timeline does not show the added secret: %+v", m)
	}
	// ... and as who added the secret; its first secret keeps its own.
	changedBy(t, "the added secret", b.change(fmt.Sprintf(`li[data-secret-id=%q] .secret-changed`, newID)), s.idp.Admin.Name)
	for id := range legacy.Secrets {
		if c := b.change(fmt.Sprintf(`li[data-secret-id=%q] .secret-changed`, id)); c.Kind != "unknown" {
			t.Errorf("legacy-batch's first secret shows %+v, want no actor recorded (the test seeded it)", c)
		}
	}
	b.run(click(fmt.Sprintf(`tr[data-client-id=%q] details summary`, legacy.ID)))
	b.elementShot("portal-changes-1280", fmt.Sprintf(`tr[data-client-id=%q]`, legacy.ID))
	b.clean("changes")

	// --- Soft-delete a secret (Key Rotation API): gone from the dashboard,
	// listed as deleted there, and it no longer authenticates.
	doomed := secretByDay(billing, 5)
	b.run(click(fmt.Sprintf(`tr[data-client-id=%q] details summary`, billing.ID)),
		click(fmt.Sprintf(`li[data-secret-id=%q] button[data-action="delete-secret"]`, doomed)),
		chromedp.WaitVisible(chromedp.CSS(`#confirm-dialog`)))
	b.afterReload(click(`#confirm-ok`))
	if _, ok := b.marks()[doomed]; ok {
		t.Error("the soft-deleted secret is still on the timeline")
	}
	if r := b.clientRows()[billing.Name]; r.Count != "1" || r.Next != s.day(20).Format(time.DateOnly) {
		t.Errorf("after the delete the billing row says %+v, want 1 secret, next expiry in 20 days", r)
	}
	var listed []struct {
		ClientSecretId string `json:"clientSecretId"`
		Deleted        bool   `json:"deleted"`
	}
	s.as(t, adminToken, http.MethodGet, "/api/tenants/"+s.tenant+"/applications/"+billing.ID+"/secrets", nil).JSON(t, http.StatusOK, &listed)
	if !slices.ContainsFunc(listed, func(l struct {
		ClientSecretId string `json:"clientSecretId"`
		Deleted        bool   `json:"deleted"`
	}) bool {
		return l.ClientSecretId == doomed && l.Deleted
	}) {
		t.Errorf("the Key Rotation API does not list %s as deleted: %+v", doomed, listed)
	}
	if res := s.tokenRequest(t, billing.ID, billing.Secret); res.Status != http.StatusUnauthorized {
		t.Errorf("the soft-deleted secret still gets a token: %s", res)
	}

	// --- An API error appears in words: the tenant API may not change a
	// cluster-role client.
	b.run(click(fmt.Sprintf(`tr[data-client-id=%q] button[data-action="toggle"]`, operator.ID)))
	b.poll(`document.getElementById('toast').classList.contains('error') && !document.getElementById('toast').hidden`)
	_, reason, resolution := httpapi.Describe(identity.ErrOperatorClient)
	if msg := b.text(`#toast-text`); !strings.Contains(msg, reason) || !strings.Contains(msg, resolution) || strings.ContainsAny(msg, "{}\"") {
		t.Errorf("the refused action says %q, want the API's Reason and Resolution in words", msg)
	}
	var link string
	b.eval(`document.querySelector('#toast-text a').pathname`, &link)
	if link != portal.NoAccessPath {
		t.Errorf("the 403 message links to %q, want %s", link, portal.NoAccessPath)
	}
	s.as(t, adminToken, http.MethodGet, "/api/v1-preview/Tenants/"+s.tenant+"/ClientCredentialClients/"+operator.ID, nil).JSON(t, http.StatusOK, &got)
	if !got.Enabled {
		t.Error("the refused action changed the client")
	}
	b.screenshot("portal-error-1280x800", false)
	// The same refusal of a secret add shows in the add dialog, in words.
	b.run(click(fmt.Sprintf(`tr[data-client-id=%q] button[data-action="add-secret"]`, operator.ID)),
		chromedp.WaitVisible(chromedp.CSS(`#add-dialog`)), click(`#add-submit`))
	b.poll(`!document.getElementById('add-error').hidden`)
	if msg := b.text(`#add-error`); !strings.Contains(msg, identity.ErrOperatorClient.Message) || !strings.HasSuffix(msg, "How to get access") || strings.ContainsAny(msg, "{}\"") {
		t.Errorf("the refused secret add says %q, want the API's words and a link to the no-access page", msg)
	}
	b.run(click(`#add-cancel`))
	var operatorSecrets []struct{ SecretId string }
	s.as(t, adminToken, http.MethodGet, "/api/v1-preview/Tenants/"+s.tenant+"/ClientCredentialClients/"+operator.ID+"/Secret", nil).JSON(t, http.StatusOK, &operatorSecrets)
	if len(operatorSecrets) != 1 {
		t.Errorf("the refused add changed the cluster-role client's secrets: %+v", operatorSecrets)
	}
	b.clean("dashboard actions")

	// --- Phone-sized window: the same data, no sideways scrolling.
	b.run(chromedp.EmulateViewport(390, 844))
	b.run(chromedp.Reload())
	b.poll(`document.getElementById('dashboard').dataset.ready === 'true'`)
	if n := len(b.clientRows()); n != 8 {
		t.Errorf("390x844: %d clients shown, want 8", n)
	}
	if n := len(b.marks()); n != 4 { // 20, 45, 75 and the added 60-day secret
		t.Errorf("390x844: %d marks, want 4", n)
	}
	b.noHorizontalScroll("390x844")
	b.elementShot("portal-chart-390", "#chart")
	b.screenshot("portal-dashboard-390x844", false)
	b.screenshot("portal-dashboard-390-full", true)
	b.clean("dashboard 390x844")

	// --- /profile and /no-access-callback with a hostile state.
	for _, pg := range []struct{ path, shot string }{{portal.ProfilePath, "portal-profile-390x844"}, {portal.NoAccessPath, "portal-no-access-390x844"}} {
		b.run(chromedp.Navigate(s.srv.URL + pg.path + "?state=" + url.QueryEscape(hostileState)))
		b.poll(`!document.getElementById('profile').hidden`)
		if got := b.text(`#profile-name`) + "|" + b.text(`#profile-email`); got != s.idp.Admin.Name+"|"+s.idp.Admin.Email {
			t.Errorf("%s shows %q, want the signed-in person", pg.path, got)
		}
		if tenant := b.text(`#profile-tenant`); !strings.Contains(tenant, s.tenant) || !strings.Contains(tenant, "Portal test tenant") {
			t.Errorf("%s tenant: %q", pg.path, tenant)
		}
		if pg.path == portal.ProfilePath {
			signedIn, err := time.Parse("2006-01-02 15:04 UTC", b.text(`#profile-signed-in`))
			if err != nil || time.Since(signedIn) > 10*time.Minute || time.Until(signedIn) > time.Minute {
				t.Errorf("the profile's sign-in time %q (%v), want about now", b.text(`#profile-signed-in`), err)
			}
			if eval[bool](b, `document.getElementById('profile-sign-out').hidden`) {
				t.Error("the profile has no sign-out form")
			}
		}
		var roles []string
		b.eval(`[...document.querySelectorAll('#profile-roles li')].map((li) => li.textContent)`, &roles)
		if len(roles) != 2 || !strings.HasPrefix(roles[0], "Account Administrator") || !strings.HasPrefix(roles[1], "Account Member") {
			t.Errorf("%s roles: %v", pg.path, roles)
		}
		var safe struct {
			XSS       bool
			Inline    int
			Links     int
			StateKept bool
		}
		b.eval(`({XSS: window.__xss !== undefined, Inline: document.querySelectorAll('script:not([src]), img, [onerror], [onmouseover]').length,
		  Links: [...document.querySelectorAll('a')].filter((a) => a.pathname === '/_/op-dashboard').length,
		  StateKept: [...document.querySelectorAll('a')].filter((a) => a.pathname === '/_/op-dashboard').every((a) => new URL(a.href).searchParams.get('state') === `+strconv.Quote(hostileState)+`)})`, &safe)
		if safe.XSS || safe.Inline != 0 || safe.Links == 0 || !safe.StateKept {
			t.Errorf("%s with a hostile state: %+v, want no injected script or element, and every dashboard link carrying the state", pg.path, safe)
		}
		b.noHorizontalScroll(pg.path + " 390x844")
		b.screenshot(pg.shot, true)
		b.clean(pg.path)
	}
	if h := b.text(`#noaccess-title`); !strings.Contains(h, "no access") {
		t.Errorf("no-access title %q", h)
	}
	if how := b.text(`main`); !strings.Contains(how, "Account Administrator") || !strings.Contains(how, "admin CLI") {
		t.Errorf("the no-access page does not say how to get access: %q", how)
	}

	// --- Sign-out: the dashboard's session ends, then the sign-in at the
	// service (end session with the ID token as hint), back to the
	// dashboard, whose form remembers the tenant.
	b.run(chromedp.EmulateViewport(1280, 800), chromedp.Navigate(dashboard+"?state=after-sign-out"))
	b.poll(`document.getElementById('dashboard').dataset.ready === 'true'`)
	b.run(click(`#sign-out`))
	b.waitFor(`location.pathname === '/_/op-dashboard' && document.readyState === 'complete' && document.getElementById('signin') !== null && !document.getElementById('signin').hidden`)
	if got := eval[string](b, `new URLSearchParams(location.search).get('state') + '|' + document.getElementById('tenant').value`); got != "after-sign-out|"+s.tenant {
		t.Errorf("after sign-out: state|remembered tenant = %q, want %q", got, "after-sign-out|"+s.tenant)
	}
	b.run(chromedp.Evaluate[chromedp.Void](`window.__status = 0; fetch('/_/op-dashboard/api/session').then((r) => { window.__status = r.status; })`))
	b.poll(`window.__status !== 0`)
	if status := eval[int](b, `window.__status`); status != http.StatusUnauthorized {
		t.Errorf("after sign-out the session answers %d, want 401", status)
	}
	b.clean("sign-out")

	// --- A person without a role lands on the no-access page, which names
	// the role and who gives it (the upstream group that maps to it).
	b.signIn(s.srv.URL, s.tenant, s.idp.NoRole)
	b.waitFor(`location.pathname === '/no-access-callback' && document.getElementById('profile') !== null && !document.getElementById('profile').hidden`)
	if role := eval[string](b, `new URLSearchParams(location.search).get('role')`); role != identity.RoleAccountAdministrator {
		t.Errorf("no-access ?role=%q, want Account Administrator's id", role)
	}
	if missing := b.text(`#missing-role`); !strings.Contains(missing, "Account Administrator") || !strings.Contains(missing, s.tenant) {
		t.Errorf("the no-access page says %q, want the missing role Account Administrator of tenant %s", missing, s.tenant)
	}
	if how := b.text(`#grant-upstream`); !strings.Contains(how, localidp.AdminGroup) || !strings.Contains(how, localidp.RoleClaim) || !strings.Contains(how, s.idp.Issuer) {
		t.Errorf("the no-access page says who grants it as %q, want the upstream %s and its group %s in claim %s", how, s.idp.Issuer, localidp.AdminGroup, localidp.RoleClaim)
	}
	if who := b.text(`#profile-name`); who != s.idp.NoRole.Name {
		t.Errorf("the no-access page shows %q signed in, want %s", who, s.idp.NoRole.Name)
	}
	b.screenshot("portal-no-access-person-1280x800", true)
	b.clean("no access")
	// Her session holds no role: the API refuses her the tenant's clients.
	b.run(chromedp.Navigate(dashboard))
	b.poll(`document.getElementById('dashboard').dataset.ready === 'true'`)
	if notes := b.text(`#client-errors`); !strings.Contains(notes, "roles do not allow") {
		t.Errorf("a person without a role sees %q on the dashboard, want the API's refusal in words", notes)
	}

	signInPerResponseType(t, s, b)
}

func withTitle(m mark, title string) mark {
	m.Title = title
	return m
}

// Issue 16 in a real browser: a person signs in through the local
// upstream once for each response type, with a Hybrid client that may
// receive tokens via the browser, and an independent relying party
// (coreos/go-oidc + x/oauth2) checks what came back: the ID token's
// signature against our JWKS, iss, aud, nonce, c_hash and at_hash; then
// the access token calls a management route. It shares the dashboard
// test's Chromium (one per package).
func signInPerResponseType(t *testing.T, s *stack, b *browser) {
	ctx := context.Background()
	rp := s.srv.URL + "/_/test/rp"
	c, err := s.app.Service.CreateClient(ctx, s.tenant, identity.NewClient{Kind: identity.Hybrid, Name: "browser relying party",
		RedirectURIs: []string{rp}, AllowAccessTokensViaBrowser: true})
	if err != nil {
		t.Fatal(err)
	}
	provider, err := oidc.NewProvider(ctx, s.srv.URL+"/identity")
	if err != nil {
		t.Fatalf("discovery: %v", err)
	}
	verifier := provider.Verifier(&oidc.Config{ClientID: c.Client.ID})
	relying := oauth2.Config{ClientID: c.Client.ID, ClientSecret: c.SecretString, Endpoint: provider.Endpoint(), RedirectURL: rp,
		Scopes: []string{oidc.ScopeOpenID, "profile", "email"}}
	leftHalf := func(v string) string {
		sum := sha256.Sum256([]byte(v))
		return base64.RawURLEncoding.EncodeToString(sum[:16])
	}
	for i, rt := range []string{"code", "code id_token", "code id_token token", "code token", "id_token token"} {
		state, nonce, pkce := fmt.Sprintf("st-%d", i), fmt.Sprintf("nonce-%d-%s", i, rand.Text()), oauth2.GenerateVerifier()
		opts := []oauth2.AuthCodeOption{oidc.Nonce(nonce), oauth2.SetAuthURLParam("response_type", rt)}
		if strings.Contains(rt, "code") {
			opts = append(opts, oauth2.S256ChallengeOption(pkce))
		}
		if rt != "code" {
			opts = append(opts, oauth2.SetAuthURLParam("response_mode", "fragment"))
		}
		if i == 0 {
			// The browser's sign-in session is nora's (the dashboard test
			// before): sign in anew, as ada.
			opts = append(opts, oauth2.SetAuthURLParam("prompt", "login"))
		}
		b.run(chromedp.Navigate(relying.AuthCodeURL(state, opts...)))
		if i == 0 {
			b.upstreamLogin(s.srv.URL, s.idp.Admin)
		}
		b.waitFor(`location.pathname === '/_/test/rp'`)
		href, err := url.Parse(eval[string](b, `location.href`))
		if err != nil {
			t.Fatal(err)
		}
		got := href.Query()
		if rt != "code" {
			if got, err = url.ParseQuery(href.Fragment); err != nil || href.RawQuery != "" {
				t.Fatalf("%s: the answer %s is not in the fragment alone", rt, href)
			}
		}
		if got.Get("state") != state || got.Get("error") != "" {
			t.Fatalf("%s: answer %v, want state %s and no error", rt, got, state)
		}
		for _, part := range strings.Fields(rt) {
			key := map[string]string{"code": "code", "id_token": "id_token", "token": "access_token"}[part]
			if got.Get(key) == "" {
				t.Errorf("%s: the answer has no %s", rt, key)
			}
		}
		accessToken := got.Get("access_token")
		if raw := got.Get("id_token"); raw != "" {
			idt, err := verifier.Verify(ctx, raw) // signature (our JWKS), iss, aud, exp
			if err != nil {
				t.Fatalf("%s: front-channel ID token: %v", rt, err)
			}
			var claims struct {
				CHash  string `json:"c_hash"`
				AtHash string `json:"at_hash"`
				Email  string `json:"email"`
			}
			if err := idt.Claims(&claims); err != nil {
				t.Fatal(err)
			}
			if idt.Nonce != nonce || claims.Email != s.idp.Admin.Email {
				t.Errorf("%s: ID token nonce %q email %q, want %q and %q", rt, idt.Nonce, claims.Email, nonce, s.idp.Admin.Email)
			}
			if code := got.Get("code"); code != "" && claims.CHash != leftHalf(code) {
				t.Errorf("%s: c_hash %q, want %q", rt, claims.CHash, leftHalf(code))
			}
			if accessToken != "" && (claims.AtHash == "" || idt.VerifyAccessToken(accessToken) != nil) {
				t.Errorf("%s: at_hash %q does not match the access token", rt, claims.AtHash)
			}
		}
		if code := got.Get("code"); code != "" {
			tok, err := relying.Exchange(ctx, code, oauth2.VerifierOption(pkce))
			if err != nil {
				t.Fatalf("%s: code exchange: %v", rt, err)
			}
			raw, _ := tok.Extra("id_token").(string)
			idt, err := verifier.Verify(ctx, raw)
			if err != nil || idt.Nonce != nonce || idt.VerifyAccessToken(tok.AccessToken) != nil {
				t.Fatalf("%s: the token endpoint's ID token: %v (nonce %v)", rt, err, idt != nil && idt.Nonce == nonce)
			}
			accessToken = tok.AccessToken
		}
		// Ada's token acts with her mapped roles on a management route.
		res := s.as(t, accessToken, http.MethodGet, "/api/v1-preview/Tenants/"+s.tenant+"/ClientCredentialClients", nil)
		if res.Status != http.StatusOK {
			t.Errorf("%s: a management route with the person's access token: %s", rt, res)
		}
	}
	b.clean("sign-in per response type")
}
