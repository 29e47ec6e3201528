package portal_test

import (
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
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/eventbridge"

	"identityservice/infra/local/server"
	"identityservice/infra/localidp"
	"identityservice/infra/template"
	"identityservice/infra/testenv"
	"identityservice/infra/testenv/apiclient"
	"identityservice/shared/config"
	"identityservice/shared/eventbus"
	"identityservice/shared/identity"
	"identityservice/shared/portal"
	"identityservice/shared/signin"
	"identityservice/shared/sweep"
	"identityservice/shared/tokenapi"
	"identityservice/shared/vault"
)

var env *testenv.Env

func TestMain(m *testing.M) { testenv.Main(m, &env) }

// stack is the whole API as `make run` serves it (every function of
// template.yaml, the portal included) on a test server, with a tenant the
// tests sign in to and clients whose secrets expire on known days.
type stack struct {
	srv    *httptest.Server
	client apiclient.Client
	app    *config.App
	today  time.Time // midnight UTC of the day the stack was built

	tenant string
	// idp is the tenant's upstream provider (the local one of make run):
	// its person Admin (ada) is an Account Administrator of the tenant,
	// NoRole (nora) has no role.
	idp       *localidp.IdP
	dashboard string // the tenant's dashboard client
	admin     seeded // an Account Administrator client (the API checks of the tests)
	member    seeded // Account Member of the same tenant
	// A Cluster Operator of another tenant, who picks the tenant to show.
	opsTenant string
	operator  seeded
	// The seeded clients, by name, and the sweep that ran after seeding.
	clients map[string]seeded
	sweep   sweep.Counts
}

// seeded is a client the stack created, with its secrets.
type seeded struct {
	ID      string
	Name    string
	Kind    identity.ClientKind
	Secret  string            // the first secret's value
	Secrets map[string]string // secret id -> expiration day (YYYY-MM-DD, "" for never)
}

var (
	stackOnce sync.Once
	theStack  *stack
	stackErr  error
)

func api(t *testing.T) *stack {
	t.Helper()
	stackOnce.Do(func() { theStack, stackErr = newStack(context.Background()) })
	if stackErr != nil {
		t.Fatalf("build the stack: %v", stackErr)
	}
	return theStack
}

// day returns midnight UTC n days after the stack's day.
func (s *stack) day(n int) time.Time { return s.today.AddDate(0, 0, n) }

// seedSpec is one client to seed and the days (from today) its secrets
// expire; -1 for a secret that never expires.
type seedSpec struct {
	name     string
	kind     identity.ClientKind
	days     []int
	operator bool // created with a cluster role, as the admin CLI does
}

var seeds = []seedSpec{
	{name: "billing-service", kind: identity.ClientCredential, days: []int{5, 20}},
	{name: "reporting-job", kind: identity.ClientCredential, days: []int{45}},
	{name: "customer-portal", kind: identity.Hybrid, days: []int{75, -1}},
	{name: "legacy-batch", kind: identity.ClientCredential, days: []int{200}},
	{name: "cluster-operator", kind: identity.ClientCredential, days: []int{-1}, operator: true},
}

func newStack(ctx context.Context) (*stack, error) {
	cfg, err := config.FromEnv()
	if err != nil {
		return nil, err
	}
	app := config.NewApp(cfg, env.Clients, slog.New(slog.NewJSONHandler(io.Discard, nil)))
	tpl, err := template.Load(filepath.Join(env.Root, "template.yaml"))
	if err != nil {
		return nil, err
	}
	h, err := server.Handler(tpl, app)
	if err != nil {
		return nil, err
	}
	// Tagged: each request's AWS calls are checked against its function's
	// policy (AWSCALLS_DIR), the dashboard's sign-in included.
	srv := httptest.NewServer(env.Tagged(h))
	s := &stack{srv: srv, client: apiclient.Client{BaseURL: srv.URL}, app: app, today: time.Now().UTC().Truncate(24 * time.Hour), clients: map[string]seeded{}}
	svc := app.Service

	ten, err := svc.CreateTenant(ctx, "", "Portal test tenant", 0)
	if err != nil {
		return nil, err
	}
	s.tenant = ten.ID
	// People of the tenant sign in at the local upstream, as with make run.
	if s.idp, err = localidp.Start(ctx, localidp.Config{RedirectURIs: []string{srv.URL + signin.CallbackPath}}); err != nil {
		return nil, err
	}
	if err := app.Upstreams().PutUpstream(ctx, s.idp.Upstream(s.tenant)); err != nil {
		return nil, err
	}
	if err := vault.NewUpstreams(env.Clients.SecretsManager, cfg.SecretPrefix).PutUpstreamSecret(ctx, s.tenant, s.idp.ClientSecret); err != nil {
		return nil, err
	}
	reg, err := portal.Register(ctx, svc, app.DashboardClients(), s.tenant, srv.URL)
	if err != nil {
		return nil, err
	}
	s.dashboard = reg.ClientID
	admin, err := svc.CreateClient(ctx, s.tenant, identity.NewClient{Kind: identity.ClientCredential, Name: "dashboard admin",
		RoleIDs: &[]string{identity.RoleAccountAdministrator, identity.RoleAccountMember}})
	if err != nil {
		return nil, err
	}
	s.admin = seeded{ID: admin.Client.ID, Name: admin.Client.Name, Kind: identity.ClientCredential, Secret: admin.SecretString}
	member, err := svc.CreateClient(ctx, s.tenant, identity.NewClient{Kind: identity.ClientCredential, Name: "dashboard member"})
	if err != nil {
		return nil, err
	}
	s.member = seeded{ID: member.Client.ID, Name: member.Client.Name, Kind: identity.ClientCredential, Secret: member.SecretString}
	ops, err := svc.CreateTenant(ctx, "", "Operations tenant", 0)
	if err != nil {
		return nil, err
	}
	s.opsTenant = ops.ID
	op, err := svc.CreateClient(ctx, s.opsTenant, identity.NewClient{Kind: identity.ClientCredential, Name: "night operator",
		RoleIDs: &[]string{identity.RoleClusterOperator}, OperatorRoles: true})
	if err != nil {
		return nil, err
	}
	s.operator = seeded{ID: op.Client.ID, Name: op.Client.Name, Kind: identity.ClientCredential, Secret: op.SecretString}

	for _, sp := range seeds {
		exp := func(d int) *time.Time {
			if d < 0 {
				return nil
			}
			t := s.day(d)
			return &t
		}
		day := func(d int) string {
			if d < 0 {
				return ""
			}
			return s.day(d).Format(time.DateOnly)
		}
		in := identity.NewClient{Kind: sp.kind, Name: sp.name, SecretDescription: fmt.Sprintf("%s key 1", sp.name), SecretExpiration: exp(sp.days[0]), OperatorRoles: sp.operator}
		if sp.kind == identity.Hybrid {
			in.RedirectURIs = []string{"https://portal.example.com/signin-oidc"}
		}
		if sp.operator {
			in.RoleIDs = &[]string{identity.RoleClusterOperator}
		}
		c, err := svc.CreateClient(ctx, s.tenant, in)
		if err != nil {
			return nil, fmt.Errorf("seed %s: %w", sp.name, err)
		}
		sd := seeded{ID: c.Client.ID, Name: sp.name, Kind: sp.kind, Secret: c.SecretString, Secrets: map[string]string{c.Secret.ID: day(sp.days[0])}}
		for i, d := range sp.days[1:] {
			added, err := svc.AddSecret(ctx, s.tenant, sp.kind, c.Client.ID, fmt.Sprintf("%s key %d", sp.name, i+2), "Description", exp(d), "Expiration")
			if err != nil {
				return nil, fmt.Errorf("seed a secret of %s: %w", sp.name, err)
			}
			sd.Secrets[added.Secret.ID] = day(d)
		}
		s.clients[sp.name] = sd
	}

	// One sweep, as SweeperFunction runs it (config.Sweeper), so that the
	// dashboard has a last run to show: it warns of the secrets expiring
	// within 30 days.
	events := eventbus.New(eventbridge.NewFromConfig(env.AWS), "default", "identity-test.portal")
	set := sweep.DefaultSettings()
	set.Budget = 2 * time.Minute
	sw := cfg.Sweeper(env.Clients, events, set, slog.New(slog.NewJSONHandler(io.Discard, nil)), slog.New(slog.NewJSONHandler(io.Discard, nil)))
	if s.sweep, err = sw.Run(ctx); err != nil {
		return nil, fmt.Errorf("sweep: %w", err)
	}
	return s, nil
}

// token gets an access token for a client from the token endpoint.
func (s *stack) token(t *testing.T, clientID, secret string) string {
	t.Helper()
	res := s.tokenRequest(t, clientID, secret)
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	res.JSON(t, http.StatusOK, &tok)
	return tok.AccessToken
}

func (s *stack) tokenRequest(t *testing.T, clientID, secret string) apiclient.Response {
	t.Helper()
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {clientID}, "client_secret": {secret}}
	req, err := http.NewRequest(http.MethodPost, s.srv.URL+tokenapi.TokenPath, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	res, err := s.client.Send(req)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// as sends a request with a bearer token.
func (s *stack) as(t *testing.T, token, method, path string, body any) apiclient.Response {
	t.Helper()
	return s.client.Do(t, method, path, "Bearer "+token, body)
}

// decode unmarshals a JSON body, failing the test.
func decode(t *testing.T, body []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(body, v); err != nil {
		t.Fatalf("body %s: %v", body, err)
	}
}
