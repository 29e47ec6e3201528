package ocsapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"identityservice/infra/testenv"
	"identityservice/infra/testenv/apiclient"
	"identityservice/shared/httpapi"
	"identityservice/shared/identity"
	"identityservice/shared/ocsapi"
)

var env *testenv.Env

func TestMain(m *testing.M) { testenv.Main(m, &env) }

// api is the Client Credential Clients function's handler on a test server.
type api struct {
	t      *testing.T
	client apiclient.Client
	svc    *identity.Service
}

func newAPI(t *testing.T) *api {
	t.Helper()
	svc := env.Service(nil)
	return newAPIWith(t, svc, ocsapi.ClientCredentialClientRoutes(svc))
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

// response is an answer of the API, with the OCS checks below.
type response struct{ apiclient.Response }

// do sends a request; a string body is sent as is, nil sends no body,
// anything else is sent as JSON.
func (a *api) do(method, path string, body any) response {
	a.t.Helper()
	return response{a.client.Do(a.t, method, path, "", body)}
}

// ocsError checks an OCS error answer: the status, every field of the
// body filled, the OperationId equal to the Operation-Id header, and the
// Reason mentioning what was wrong.
func (r response) ocsError(t *testing.T, want int, reasonContains string) httpapi.ErrorBody {
	t.Helper()
	var e httpapi.ErrorBody
	r.JSON(t, want, &e)
	if e.OperationId == "" || e.OperationId != r.Header.Get("Operation-Id") {
		t.Fatalf("OperationId %q, header %q", e.OperationId, r.Header.Get("Operation-Id"))
	}
	if e.Error == "" || e.Reason == "" || e.Resolution == "" {
		t.Fatalf("error body has empty fields: %+v", e)
	}
	if unformatted.MatchString(e.Reason + e.Resolution) {
		t.Fatalf("error text has an unformatted verb: %q / %q", e.Reason, e.Resolution)
	}
	if !strings.Contains(e.Error+" "+e.Reason, reasonContains) {
		t.Fatalf("error %q / %q does not mention %q", e.Error, e.Reason, reasonContains)
	}
	var raw map[string]any
	_ = json.Unmarshal(r.Body, &raw)
	if len(raw) != 4 {
		t.Fatalf("error body has %d properties, want OperationId, Error, Reason, Resolution: %s", len(raw), r.Body)
	}
	return e
}

// unformatted finds a printf verb left in, or fmt's complaint about one.
var unformatted = regexp.MustCompile(`%!|%[sdvq]\b|%[sdvq]\W`)

func cccPath(tenantID string, rest ...string) string {
	p := "/api/v1-preview/Tenants/" + tenantID + "/ClientCredentialClients"
	for _, r := range rest {
		p += "/" + r
	}
	return p
}

// newFullAPI serves the secret routes of both kinds, the obsolete secret
// routes and both client families on one handler, as the local server does.
func newFullAPI(t *testing.T) *api {
	t.Helper()
	svc := env.Service(nil)
	return newAPIWith(t, svc, ocsapi.ClientSecretRoutes(svc), ocsapi.ClientCredentialClientRoutes(svc), ocsapi.HybridClientRoutes(svc))
}

// newAPIWith serves the given route sets of svc on one handler.
func newAPIWith(t *testing.T, svc *identity.Service, routeSets ...[]httpapi.Route) *api {
	t.Helper()
	var routes []httpapi.Route
	for _, rs := range routeSets {
		routes = append(routes, rs...)
	}
	srv := httptest.NewServer(env.Tagged(httpapi.NewHandler(svc.Log, routes, httpapi.WithoutAuthentication())))
	t.Cleanup(srv.Close)
	return &api{t: t, client: apiclient.Client{BaseURL: srv.URL, HTTP: srv.Client()}, svc: svc}
}

func hybridPath(tenantID string, rest ...string) string {
	p := "/api/Tenants/" + tenantID + "/HybridClient"
	for _, r := range rest {
		p += "/" + r
	}
	return p
}

// obsolete stands for the obsolete routes, which serve either kind, in
// secretsPath.
const obsolete identity.ClientKind = 0

// secretsPath is a client's secret collection on its kind's route, or on
// the obsolete route for kind obsolete.
func secretsPath(kind identity.ClientKind, tenantID, clientID string, rest ...string) string {
	family := map[identity.ClientKind]string{identity.ClientCredential: "ClientCredentialClients", identity.Hybrid: "HybridClients", obsolete: "Clients"}[kind]
	p := "/api/v1-preview/Tenants/" + tenantID + "/" + family + "/" + clientID + "/Secret"
	for _, r := range rest {
		p += "/" + r
	}
	return p
}

// newClient creates a client of a kind through its own route and returns
// its id, its first secret's id and that secret's plain text.
func (a *api) newClient(kind identity.ClientKind, tenantID string, body map[string]any) (clientID, secretID, secret string) {
	a.t.Helper()
	if body == nil {
		body = map[string]any{"Name": "client"}
	}
	path := cccPath(tenantID)
	if kind == identity.Hybrid {
		path = hybridPath(tenantID)
	}
	var c struct{ ClientId, SecretId, ClientSecret string }
	a.do(http.MethodPost, path, body).JSON(a.t, http.StatusCreated, &c)
	return c.ClientId, c.SecretId, c.ClientSecret
}

// storedText is everything at rest: every string of every DynamoDB item
// and every Secrets Manager value. It also returns how many items and
// values it read, so a caller can tell an empty haystack.
func storedText(t *testing.T) (text string, items, values int) {
	t.Helper()
	ctx := context.Background()
	var haystack strings.Builder
	scan := dynamodb.NewScanPaginator(env.Clients.DynamoDB, &dynamodb.ScanInput{TableName: &env.Config.Table})
	for scan.HasMorePages() {
		out, err := scan.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range out.Items {
			items++
			fmt.Fprintf(&haystack, "%#v\n", it)
			for _, v := range it {
				switch av := v.(type) {
				case *ddbtypes.AttributeValueMemberS:
					haystack.WriteString(av.Value + "\n")
				case *ddbtypes.AttributeValueMemberL:
					for _, e := range av.Value {
						if sv, ok := e.(*ddbtypes.AttributeValueMemberS); ok {
							haystack.WriteString(sv.Value + "\n")
						}
					}
				}
			}
		}
	}
	list := secretsmanager.NewListSecretsPaginator(env.Clients.SecretsManager, env.OwnSecrets())
	for list.HasMorePages() {
		out, err := list.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range out.SecretList {
			v, err := env.Clients.SecretsManager.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: s.ARN})
			if err != nil {
				t.Fatal(err)
			}
			values++
			haystack.WriteString(aws.ToString(s.Description) + "\n" + aws.ToString(v.SecretString) + "\n")
			for _, tag := range s.Tags {
				haystack.WriteString(aws.ToString(tag.Value) + "\n")
			}
		}
	}
	return haystack.String(), items, values
}
