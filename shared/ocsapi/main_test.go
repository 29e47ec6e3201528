package ocsapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"identityservice/infra/testenv"
	"identityservice/shared/httpapi"
	"identityservice/shared/identity"
	"identityservice/shared/ocsapi"
)

var env *testenv.Env

func TestMain(m *testing.M) { testenv.Main(m, &env) }

// api is the Client Credential Clients function's handler on a test server.
type api struct {
	t   *testing.T
	srv *httptest.Server
	svc *identity.Service
}

func newAPI(t *testing.T) *api {
	t.Helper()
	svc := env.Service(nil)
	srv := httptest.NewServer(httpapi.NewHandler(svc.Log, ocsapi.ClientCredentialClientRoutes(svc)))
	t.Cleanup(srv.Close)
	return &api{t: t, srv: srv, svc: svc}
}

// tenant creates a tenant with the given client limit (0: default).
func (a *api) tenant(limit int) string {
	a.t.Helper()
	ten, err := a.svc.CreateTenant(context.Background(), "", "test tenant", limit)
	if err != nil {
		a.t.Fatal(err)
	}
	return ten.ID
}

type response struct {
	status int
	header http.Header
	body   []byte
}

func (a *api) do(method, path string, body any) response {
	a.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			a.t.Fatal(err)
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, a.srv.URL+path, rd)
	if err != nil {
		a.t.Fatal(err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := a.srv.Client().Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		a.t.Fatal(err)
	}
	return response{status: res.StatusCode, header: res.Header, body: raw}
}

// json decodes the body into v, failing on a status other than want.
func (r response) json(t *testing.T, want int, v any) {
	t.Helper()
	if r.status != want {
		t.Fatalf("status %d, want %d; body %s", r.status, want, r.body)
	}
	if v != nil {
		if err := json.Unmarshal(r.body, v); err != nil {
			t.Fatalf("body %s: %v", r.body, err)
		}
	}
}

// ocsError checks an OCS error answer: the status, every field of the
// body filled, the OperationId equal to the Operation-Id header, and the
// Reason mentioning what was wrong.
func (r response) ocsError(t *testing.T, want int, reasonContains string) httpapi.ErrorBody {
	t.Helper()
	var e httpapi.ErrorBody
	r.json(t, want, &e)
	if e.OperationId == "" || e.OperationId != r.header.Get("Operation-Id") {
		t.Fatalf("OperationId %q, header %q", e.OperationId, r.header.Get("Operation-Id"))
	}
	if e.Error == "" || e.Reason == "" || e.Resolution == "" {
		t.Fatalf("error body has empty fields: %+v", e)
	}
	if !strings.Contains(e.Error+" "+e.Reason, reasonContains) {
		t.Fatalf("error %q / %q does not mention %q", e.Error, e.Reason, reasonContains)
	}
	var raw map[string]any
	_ = json.Unmarshal(r.body, &raw)
	if len(raw) != 4 {
		t.Fatalf("error body has %d properties, want OperationId, Error, Reason, Resolution: %s", len(raw), r.body)
	}
	return e
}

func cccPath(tenantID string, rest ...string) string {
	p := "/api/v1-preview/Tenants/" + tenantID + "/ClientCredentialClients"
	for _, r := range rest {
		p += "/" + r
	}
	return p
}
