// Package apitest drives the whole API as `make run` serves it —
// server.Handler over every function's routes in template.yaml, bearer
// tokens verified by the shared middleware — over HTTP, against DynamoDB
// Local and the Secrets Manager emulator. It holds the acceptance tests of
// tokens, authentication and role-based authorization (issue 4): who may
// call which route with which token, how tokens are issued, verified and
// revoked, and which roles a client may be given.
package apitest

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
	"identityservice/shared/config"
	"identityservice/shared/identity"
	"identityservice/shared/tokenapi"
)

var env *testenv.Env

func TestMain(m *testing.M) { testenv.Main(m, &env) }

// Names of the callers every test can use. Each is a Client Credential
// client with a real token from the token endpoint.
const (
	accountAdmin      = "Account Administrator"
	accountMember     = "Account Member"
	clusterOperator   = "Cluster Operator"
	clusterSupport    = "Cluster Support"
	otherTenantsAdmin = "another tenant's Account Administrator"
)

// caller is a client the tests act as.
type caller struct {
	name     string
	tenantID string
	clientID string
	secret   string
	roles    []string // role names, as the spec lists them
	token    string   // an access token from the token endpoint
}

// stack is the API on a test server, plus the tenants and callers the
// tests share. It is built once per test binary.
type stack struct {
	srv    *httptest.Server
	client apiclient.Client // requests to srv
	app    *config.App
	tpl    *template.Template
	clock  *clock

	tenant      string // the tenant the tests act in
	otherTenant string // a second tenant, with its own administrator
	opsTenant   string // the tenant of the cluster-role clients
	callers     map[string]*caller
}

// clock is the service's clock: the real time plus an offset a test can
// move forward, so expiry is tested without sleeping.
type clock struct{ offset atomic.Int64 }

func (c *clock) Now() time.Time { return time.Now().Add(time.Duration(c.offset.Load())) }

// advance moves the service's clock forward until the test ends.
func (c *clock) advance(t *testing.T, d time.Duration) {
	t.Helper()
	c.offset.Add(int64(d))
	t.Cleanup(func() { c.offset.Add(-int64(d)) })
}

var (
	sharedOnce  sync.Once
	sharedStack *stack
	sharedErr   error
)

// api returns the shared stack, building it on first use.
func api(t *testing.T) *stack {
	t.Helper()
	sharedOnce.Do(func() { sharedStack, sharedErr = newStack(context.Background()) })
	if sharedErr != nil {
		t.Fatalf("build the API: %v", sharedErr)
	}
	return sharedStack
}

func newStack(ctx context.Context) (*stack, error) {
	// The same configuration path as every function and the local server:
	// testenv has set TABLE_NAME, SECRET_PREFIX and the emulator endpoints.
	cfg, err := config.FromEnv()
	if err != nil {
		return nil, err
	}
	cfg.LogLevel = slog.LevelWarn
	app := config.NewApp(cfg, env.Clients, cfg.Logger(io.Discard))
	clk := &clock{}
	app.Service.Now = clk.Now
	tpl, err := template.Load(filepath.Join(env.Root, "template.yaml"))
	if err != nil {
		return nil, err
	}
	h, err := server.Handler(tpl, app)
	if err != nil {
		return nil, err
	}
	srv := httptest.NewServer(env.Tagged(h))
	s := &stack{srv: srv, client: apiclient.Client{BaseURL: srv.URL}, app: app, tpl: tpl, clock: clk, callers: map[string]*caller{}}
	// The server lives as long as the test binary; TestMain's exit ends it.

	for _, ten := range []*string{&s.tenant, &s.otherTenant, &s.opsTenant} {
		t, err := app.Service.CreateTenant(ctx, "", "apitest tenant", 0)
		if err != nil {
			return nil, err
		}
		*ten = t.ID
	}
	// Tenant roles as the tenant API grants them; cluster roles as the
	// admin CLI does (OperatorRoles), the only way to grant them.
	for _, c := range []struct {
		name     string
		tenant   string
		roles    []string
		operator bool
	}{
		{accountAdmin, s.tenant, []string{accountAdmin, accountMember}, false},
		{accountMember, s.tenant, []string{accountMember}, false},
		{clusterOperator, s.opsTenant, []string{clusterOperator}, true},
		{clusterSupport, s.opsTenant, []string{clusterSupport}, true},
		{otherTenantsAdmin, s.otherTenant, []string{accountAdmin, accountMember}, false},
	} {
		ids := make([]string, len(c.roles))
		for i, name := range c.roles {
			role, ok := identity.RoleByName(name)
			if !ok {
				return nil, fmt.Errorf("unknown role %q", name)
			}
			ids[i] = role.ID
		}
		created, err := app.Service.CreateClient(ctx, c.tenant, identity.NewClient{
			Kind: identity.ClientCredential, Name: "apitest " + c.name, RoleIDs: &ids, OperatorRoles: c.operator,
		})
		if err != nil {
			return nil, fmt.Errorf("create the %s client: %w", c.name, err)
		}
		cl := &caller{name: c.name, tenantID: c.tenant, clientID: created.Client.ID, secret: created.SecretString, roles: c.roles}
		res, err := s.postToken(ctx, clientSecretBasic, cl.clientID, cl.secret)
		if err != nil {
			return nil, err
		}
		var tok tokenResponse
		if res.Status != http.StatusOK || json.Unmarshal(res.Body, &tok) != nil || tok.AccessToken == "" {
			return nil, fmt.Errorf("token for the %s client: %d %s", c.name, res.Status, res.Body)
		}
		cl.token = tok.AccessToken
		s.callers[c.name] = cl
	}
	return s, nil
}

// response is an HTTP answer, read in full.
type response = apiclient.Response

// do sends a request to the API. authorization is the Authorization header
// ("" for none); body is nil, a string sent as is, or a value sent as JSON.
func (s *stack) do(t *testing.T, method, path, authorization string, body any) response {
	t.Helper()
	return s.client.Do(t, method, path, authorization, body)
}

// as sends a request with the caller's bearer token.
func (s *stack) as(t *testing.T, c *caller, method, path string, body any) response {
	t.Helper()
	return s.do(t, method, path, "Bearer "+c.token, body)
}

// authMethod is a token endpoint client authentication method.
type authMethod string

const (
	clientSecretBasic authMethod = "client_secret_basic"
	clientSecretPost  authMethod = "client_secret_post"
)

type tokenResponse struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresIn   int    `json:"expires_in"`
}

// postToken asks the token endpoint for a client credentials token.
func (s *stack) postToken(ctx context.Context, m authMethod, clientID, secret string) (response, error) {
	form := url.Values{"grant_type": {"client_credentials"}}
	if m == clientSecretPost {
		form.Set("client_id", clientID)
		form.Set("client_secret", secret)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.srv.URL+tokenapi.TokenPath, strings.NewReader(form.Encode()))
	if err != nil {
		return response{}, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if m == clientSecretBasic {
		// RFC 6749 2.3.1: form-encoded, then Basic.
		req.SetBasicAuth(url.QueryEscape(clientID), url.QueryEscape(secret))
	}
	return s.client.Send(req)
}

func (s *stack) tokenRequest(t *testing.T, m authMethod, clientID, secret string) response {
	t.Helper()
	res, err := s.postToken(context.Background(), m, clientID, secret)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// mustToken returns an access token for the client, failing the test if
// the token endpoint refuses it.
func (s *stack) mustToken(t *testing.T, m authMethod, clientID, secret string) string {
	t.Helper()
	res := s.tokenRequest(t, m, clientID, secret)
	var tok tokenResponse
	if res.Status != http.StatusOK || json.Unmarshal(res.Body, &tok) != nil || tok.AccessToken == "" || tok.TokenType != "Bearer" {
		t.Fatalf("token request (%s) for %s: %s", m, clientID, res)
	}
	return tok.AccessToken
}

// createdClient is a Client Credential client created through the tenant API.
type createdClient struct {
	ClientId     string
	ClientSecret string
	SecretId     string
	RoleIds      []string
}

const cccPath = "/api/v1-preview/Tenants/%s/ClientCredentialClients"

// createClient creates a Client Credential client in the test tenant
// through the API, as its Account Administrator.
func (s *stack) createClient(t *testing.T, body map[string]any) createdClient {
	t.Helper()
	res := s.as(t, s.callers[accountAdmin], http.MethodPost, fmt.Sprintf(cccPath, s.tenant), body)
	var c createdClient
	if res.Status != http.StatusCreated || json.Unmarshal(res.Body, &c) != nil || c.ClientSecret == "" {
		t.Fatalf("create client: %s", res)
	}
	return c
}

// decodeStrict decodes a JSON body into v, refusing properties v lacks, so
// a body of the wrong format does not pass for the right one.
func decodeStrict(body []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return fmt.Errorf("trailing data after the JSON value")
	}
	return nil
}
