// Package faultmatrix breaks the two stores on purpose (issue 9): it fails
// every DynamoDB and Secrets Manager call of each mutating operation in
// turn, races writers against each other, and reads every log line and
// error body of a full API run, checking after each that the service kept
// its promises (invariants.go lists them). The stores are DynamoDB Local
// and the Secrets Manager emulator; faults come from the SDK middleware of
// infra/testenv/faults on the clients the code under test uses.
package faultmatrix

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"identityservice/infra/local/server"
	"identityservice/infra/template"
	"identityservice/infra/testenv"
	"identityservice/infra/testenv/apiclient"
	"identityservice/infra/testenv/faults"
	"identityservice/shared/config"
	"identityservice/shared/identity"
	"identityservice/shared/store/layout"
	"identityservice/shared/sweep"
	"identityservice/shared/tokenapi"
)

var env *testenv.Env

// TestMain narrows the expiry index to 2 shards on this binary's own
// tables: every check ends with a sweep, and a sweep queries each shard of
// 8 queues twice (due records, then the reconciliation's active records),
// mostly empty. On 16 shards those empty queries were half the matrix's CPU
// (211 s of CPU on 2 cores, 113 s on 2 shards); faultAt fails the first and
// the last of a run of them either way. The spread over 16 shards is
// proved by shared/sweep (TestSweepReadsProportionalToTheWork) and the
// store's tests, which keep the deployed number.
func TestMain(m *testing.M) {
	layout.ExpiryShards = 2
	testenv.Main(m, &env)
}

// clock is a world's service clock: the real time plus an offset that only
// grows, so that expiry and the sweeper's grace period pass without sleeping.
type clock struct{ offset atomic.Int64 }

func (c *clock) Now() time.Time          { return time.Now().Add(time.Duration(c.offset.Load())) }
func (c *clock) Advance(d time.Duration) { c.offset.Add(int64(d)) }

// lockedBuffer collects log output written concurrently.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

var (
	tplOnce sync.Once
	tpl     *template.Template
	tplErr  error
	worlds  atomic.Int32
)

func loadTemplate(t testing.TB) *template.Template {
	t.Helper()
	tplOnce.Do(func() { tpl, tplErr = template.Load(filepath.Join(env.Root, "template.yaml")) })
	if tplErr != nil {
		t.Fatal(tplErr)
	}
	return tpl
}

// world is one table and one Secrets Manager prefix with the whole API on
// them twice: app and h run on clients with the fault injector (the code
// under test), clean and cleanH on plain clients (setup and checks).
type world struct {
	t      testing.TB
	table  string
	prefix string
	inj    *faults.Injector
	clock  *clock
	logs   *lockedBuffer

	cfg    config.Config
	app    *config.App
	h      http.Handler
	clean  *config.App
	cleanH http.Handler

	tenant     string
	adminToken string // an Account Administrator of tenant, for the API calls
}

// newWorld makes a world; table "" creates a new table. Each world has its
// own prefix, so its signing keys and its material are its own.
func newWorld(t testing.TB, table string) *world {
	t.Helper()
	ctx := context.Background()
	id := fmt.Sprintf("faults-%d-%d", time.Now().UnixNano()%1e7, worlds.Add(1))
	if table == "" {
		table = id
		if err := env.CreateTable(ctx, table); err != nil {
			t.Fatal(err)
		}
	}
	w := &world{t: t, table: table, prefix: id, inj: &faults.Injector{}, clock: &clock{}, logs: &lockedBuffer{}}
	w.cfg = config.Config{Table: table, SecretPrefix: id, DefaultClientLimit: identity.DefaultClientLimit, LogLevel: slog.LevelDebug}
	w.app = w.newApp(env.ClientsWith(w.inj.Middleware), w.logs)
	w.clean = w.newApp(env.Clients, io.Discard)
	var err error
	if w.h, err = server.Handler(loadTemplate(t), w.app); err != nil {
		t.Fatal(err)
	}
	if w.cleanH, err = server.Handler(loadTemplate(t), w.clean); err != nil {
		t.Fatal(err)
	}
	ten, err := w.clean.Service.CreateTenant(ctx, "", "fault matrix", 0)
	if err != nil {
		t.Fatal(err)
	}
	w.tenant = ten.ID
	return w
}

// newApp wires an App on the world's table and prefix with its clock.
func (w *world) newApp(clients config.Clients, logTo io.Writer) *config.App {
	app := config.NewApp(w.cfg, clients, w.cfg.Logger(logTo))
	app.Service.Now = w.clock.Now
	return app
}

// hangsCleanup shortens the material cleanup's deadline of the world's app
// under test, for the tests that fail each call in turn: a timeout fault
// on a material destruction hangs until that deadline, 2 s rather than
// 5 s, the same path (the tries give up, the log line, the sweeper's
// reconciliation) with less waiting; at 5 s those hangs were most of the
// leak test's 59 s. The race tests keep the default: their concurrent
// pack writes can take longer than 2 s on a loaded machine.
func (w *world) hangsCleanup() *world {
	w.app.Service.CleanupTimeout = 2 * time.Second
	return w
}

// login makes the world's Account Administrator and its token (clean), and
// warms the injected app's caches (JWKS, signing keys), so that a dry run
// counts the calls of the operation itself.
func (w *world) login() {
	w.t.Helper()
	admin := w.createClient(identity.ClientCredential, []string{identity.RoleAccountAdministrator, identity.RoleAccountMember}, "")
	w.adminToken = w.mustToken(w.cleanH, admin.Client.ID, admin.SecretString)
	// Warm the injected app: its token function loads the signing keys,
	// its bearer verifier the JWKS.
	w.mustToken(w.h, admin.Client.ID, admin.SecretString)
	res := w.request(w.h, context.Background(), http.MethodGet, fmt.Sprintf("/api/v1-preview/Tenants/%s/ClientCredentialClients?count=1", w.tenant), "Bearer "+w.adminToken, nil)
	if res.Status != http.StatusOK {
		w.t.Fatalf("warm-up list: %s", res)
	}
}

// createClient creates a client through the clean service.
func (w *world) createClient(kind identity.ClientKind, roles []string, description string) identity.CreatedClient {
	w.t.Helper()
	in := identity.NewClient{Kind: kind, Name: "fault matrix " + kind.String(), SecretDescription: description}
	if kind == identity.ClientCredential && roles != nil {
		in.RoleIDs = &roles
	}
	if kind == identity.Hybrid {
		in.RedirectURIs = []string{"https://app.example.com/signin"}
	}
	c, err := w.clean.Service.CreateClient(context.Background(), w.tenant, in)
	if err != nil {
		w.t.Fatal(err)
	}
	return c
}

// response is an HTTP answer.
type response struct {
	Status int
	Header http.Header
	Body   []byte
}

func (r response) String() string { return fmt.Sprintf("%d %s", r.Status, r.Body) }

// request serves one request on h with ctx; body is nil, a string or a
// value sent as JSON.
func (w *world) request(h http.Handler, ctx context.Context, method, path, authorization string, body any) response {
	rd := apiclient.Body(w.t, body)
	req := httptest.NewRequestWithContext(ctx, method, path, rd)
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return response{Status: rec.Code, Header: rec.Header(), Body: rec.Body.Bytes()}
}

// tokenRequest asks h's token endpoint for a token (client_secret_basic).
func (w *world) tokenRequest(h http.Handler, ctx context.Context, clientID, secret string) response {
	req := httptest.NewRequestWithContext(ctx, http.MethodPost, tokenapi.TokenPath, strings.NewReader("grant_type=client_credentials"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(clientID), url.QueryEscape(secret))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return response{Status: rec.Code, Header: rec.Header(), Body: rec.Body.Bytes()}
}

func accessToken(res response) string {
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if res.Status != http.StatusOK || json.Unmarshal(res.Body, &tok) != nil {
		return ""
	}
	return tok.AccessToken
}

func (w *world) mustToken(h http.Handler, clientID, secret string) string {
	w.t.Helper()
	res := w.tokenRequest(h, context.Background(), clientID, secret)
	tok := accessToken(res)
	if tok == "" {
		w.t.Fatalf("token for %s: %s", clientID, res)
	}
	return tok
}

// sweeper returns a sweeper on the world: on the injected clients, or on
// the clean ones. Warnings are off (the matrix is about material and
// records); one run walks all of the world's material and records.
func (w *world) sweeper(injected bool) *sweep.Sweeper {
	clients := env.Clients
	if injected {
		clients = env.ClientsWith(w.inj.Middleware)
	}
	set := sweep.DefaultSettings()
	set.WarningDays = nil
	set.ReconcileBatch = 10000
	set.Budget = time.Minute
	log := slog.New(slog.NewJSONHandler(w.logs, nil))
	sw := w.cfg.Sweeper(clients, noEvents{}, set, log, log)
	sw.Now = w.clock.Now
	return sw
}

// noEvents is the sweeper's publisher here: warnings are off.
type noEvents struct{}

func (noEvents) SecretExpiring(context.Context, sweep.Warning) error { return nil }

// deadlineCtx is a request context whose deadline arrives when the test
// says: when the fault injector reports a call hanging, or after a safety
// timeout. It ends with context.DeadlineExceeded, as a Lambda deadline
// does.
type deadlineCtx struct {
	context.Context
	deadline time.Time
	done     chan struct{}
	once     sync.Once
	timer    *time.Timer
}

func newDeadlineCtx() *deadlineCtx {
	c := &deadlineCtx{Context: context.Background(), deadline: time.Now().Add(30 * time.Second), done: make(chan struct{})}
	c.timer = time.AfterFunc(30*time.Second, c.expire)
	return c
}

func (c *deadlineCtx) Deadline() (time.Time, bool) { return c.deadline, true }
func (c *deadlineCtx) Done() <-chan struct{}       { return c.done }
func (c *deadlineCtx) Err() error {
	select {
	case <-c.done:
		return context.DeadlineExceeded
	default:
		return nil
	}
}
func (c *deadlineCtx) expire() { c.once.Do(func() { c.timer.Stop(); close(c.done) }) }
