package keyrotationapi_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"

	"identityservice/infra/testenv"
	"identityservice/infra/testenv/apiclient"
	"identityservice/shared/httpapi"
	"identityservice/shared/identity"
	"identityservice/shared/keyrotationapi"
	"identityservice/shared/ocsapi"
)

var env *testenv.Env

func TestMain(m *testing.M) { testenv.Main(m, &env) }

// api serves the Key Rotation routes beside the OCS client and secret
// routes, so a test sees the same clients through both APIs.
type api struct {
	t      *testing.T
	client apiclient.Client
	svc    *identity.Service
}

func newAPI(t *testing.T) *api {
	t.Helper()
	svc := env.Service(nil)
	var routes []httpapi.Route
	routes = append(routes, keyrotationapi.Routes(svc)...)
	routes = append(routes, ocsapi.ClientSecretRoutes(svc)...)
	routes = append(routes, ocsapi.ClientCredentialClientRoutes(svc)...)
	routes = append(routes, ocsapi.HybridClientRoutes(svc)...)
	srv := httptest.NewServer(env.Tagged(httpapi.NewHandler(svc.Log, routes, httpapi.WithoutAuthentication())))
	t.Cleanup(srv.Close)
	return &api{t: t, client: apiclient.Client{BaseURL: srv.URL, HTTP: srv.Client()}, svc: svc}
}

func (a *api) tenant() string {
	a.t.Helper()
	ten, err := a.svc.CreateTenant(context.Background(), "", "test tenant", 0)
	if err != nil {
		a.t.Fatal(err)
	}
	return ten.ID
}

// response is an answer of the API, with the ProblemDetails check below.
type response struct{ apiclient.Response }

// do sends a request; a string body is sent as is, nil sends no body,
// anything else is sent as JSON.
func (a *api) do(method, path string, body any) response {
	a.t.Helper()
	return response{a.client.Do(a.t, method, path, "", body)}
}

// problem checks a ProblemDetails answer: the status, the media type,
// exactly the five RFC 7807 members, all filled, status equal to the HTTP
// status, instance the request path, and detail mentioning what was wrong.
func (r response) problem(t *testing.T, want int, path, detailContains string) httpapi.ProblemDetails {
	t.Helper()
	var p httpapi.ProblemDetails
	r.JSON(t, want, &p)
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/problem+json") {
		t.Fatalf("Content-Type %q, want application/problem+json", ct)
	}
	var raw map[string]any
	_ = json.Unmarshal(r.Body, &raw)
	for _, k := range []string{"type", "title", "status", "detail", "instance"} {
		if _, ok := raw[k]; !ok {
			t.Fatalf("ProblemDetails lacks %s: %s", k, r.Body)
		}
	}
	if len(raw) != 5 {
		t.Fatalf("ProblemDetails has %d members, want 5: %s", len(raw), r.Body)
	}
	if p.Type == "" || p.Title == "" || p.Detail == "" || p.Status != want || p.Instance != path {
		t.Fatalf("ProblemDetails %+v (status want %d, instance want %s)", p, want, path)
	}
	if strings.Contains(p.Detail, "%!") {
		t.Fatalf("detail has an unformatted verb: %q", p.Detail)
	}
	if !strings.Contains(p.Title+" "+p.Detail, detailContains) {
		t.Fatalf("problem %q / %q does not mention %q", p.Title, p.Detail, detailContains)
	}
	return p
}

func secretsPath(tenantID, clientID string, rest ...string) string {
	p := "/api/tenants/" + tenantID + "/applications/" + clientID + "/secrets"
	for _, r := range rest {
		p += "/" + r
	}
	return p
}

func ocsSecretsPath(kind identity.ClientKind, tenantID, clientID string, rest ...string) string {
	family := map[identity.ClientKind]string{identity.ClientCredential: "ClientCredentialClients", identity.Hybrid: "HybridClients"}[kind]
	p := "/api/v1-preview/Tenants/" + tenantID + "/" + family + "/" + clientID + "/Secret"
	for _, r := range rest {
		p += "/" + r
	}
	return p
}

// authenticates reports whether a client id and secret pass client
// authentication (what the token endpoint checks), through the service that
// serves the test's routes, verifier cache included.
func (a *api) authenticates(clientID, secret string) bool {
	a.t.Helper()
	_, err := a.svc.AuthenticateClient(context.Background(), clientID, secret)
	if err != nil && !errors.Is(err, identity.ErrInvalidClient) {
		a.t.Fatal(err)
	}
	return err == nil
}

// with returns the api reporting to t, for use inside a subtest.
func (a *api) with(t *testing.T) *api {
	c := *a
	c.t = t
	return &c
}
