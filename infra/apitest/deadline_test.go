package apitest

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"identityservice/infra/local/server"
	"identityservice/infra/testenv"
	"identityservice/infra/testenv/apiclient"
	"identityservice/shared/config"
	"identityservice/shared/httpapi"
)

// stalledAPI is the whole API as the local server mounts it (each route
// with its function's Timeout from template.yaml), with DynamoDB or
// Secrets Manager pointed at a listener that never answers. deadlines
// records the stalled store's calls.
func stalledAPI(t *testing.T, s *stack, store string) (apiclient.Client, *testenv.Deadlines) {
	t.Helper()
	stall := testenv.Stall(t)
	deadlines := &testenv.Deadlines{}
	dynamoCfg, smCfg := env.AWS.Copy(), env.AWS.Copy()
	var dynamoOpts []func(*dynamodb.Options)
	var smOpts []func(*secretsmanager.Options)
	switch store {
	case "DynamoDB":
		dynamoCfg.APIOptions = append(dynamoCfg.APIOptions, deadlines.Middleware)
		dynamoOpts = append(dynamoOpts, func(o *dynamodb.Options) { o.BaseEndpoint = &stall })
	case "SecretsManager":
		smCfg.APIOptions = append(smCfg.APIOptions, deadlines.Middleware)
		smOpts = append(smOpts, func(o *secretsmanager.Options) { o.BaseEndpoint = &stall })
	default:
		t.Fatalf("store %q", store)
	}
	clients := config.Clients{DynamoDB: dynamodb.NewFromConfig(dynamoCfg, dynamoOpts...), SecretsManager: secretsmanager.NewFromConfig(smCfg, smOpts...)}
	app := config.NewApp(s.app.Config, clients, s.app.Config.Logger(io.Discard))
	h, err := server.Handler(s.tpl, app)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return apiclient.Client{BaseURL: srv.URL}, deadlines
}

// TestStalledStoreAnsweredBeforeTimeout: with either store stalled, every
// route family answers 503 in its own error format before its function's
// Timeout (template.yaml, 10 s) has passed, because every call of the
// request carried a deadline no later than that Timeout.
func TestStalledStoreAnsweredBeforeTimeout(t *testing.T) {
	s := api(t)
	admin := s.callers[accountAdmin]
	bearer := "Bearer " + admin.token
	ccBase := "/api/v1-preview/Tenants/" + s.tenant + "/ClientCredentialClients/" + admin.clientID
	krBase := "/api/tenants/" + s.tenant + "/applications/" + admin.clientID + "/secrets"
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {admin.clientID}, "client_secret": {admin.secret}}.Encode()
	timeouts := map[string]time.Duration{}
	for _, f := range s.tpl.Functions() {
		timeouts[f.LogicalID] = f.Timeout
	}
	for _, c := range []struct {
		name, store, function  string
		method, path, ctype    string
		body                   string
		family                 httpapi.Family
		authorization          string
		wantOAuthError, wantCT string
	}{
		{name: "OCS get, bearer check reads DynamoDB", store: "DynamoDB", function: "ClientCredentialClientsFunction", method: "GET", path: ccBase, family: httpapi.OCS, authorization: bearer},
		{name: "OCS secret add, material write", store: "SecretsManager", function: "ClientSecretsFunction", method: "POST", path: ccBase + "/Secret", body: `{"Description":"stalled"}`, ctype: "application/json", family: httpapi.OCS, authorization: bearer},
		{name: "Hybrid list", store: "DynamoDB", function: "HybridClientsFunction", method: "GET", path: "/api/Tenants/" + s.tenant + "/HybridClient", family: httpapi.OCS, authorization: bearer},
		{name: "Key Rotation add, material write", store: "SecretsManager", function: "ApplicationSecretsFunction", method: "POST", path: krBase, body: `{}`, ctype: "application/json", family: httpapi.KeyRotation, authorization: bearer},
		{name: "Key Rotation list", store: "DynamoDB", function: "ApplicationSecretsFunction", method: "GET", path: krBase, family: httpapi.KeyRotation, authorization: bearer},
		{name: "token, client lookup", store: "DynamoDB", function: "TokenFunction", method: "POST", path: "/identity/connect/token", body: form, ctype: "application/x-www-form-urlencoded", family: httpapi.OAuth},
		{name: "JWKS, signing keys", store: "SecretsManager", function: "TokenFunction", method: "GET", path: "/identity/.well-known/openid-configuration/jwks", family: httpapi.OAuth},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			timeout := timeouts[c.function]
			if timeout <= 0 {
				t.Fatalf("no Timeout for %s in template.yaml", c.function)
			}
			client, deadlines := stalledAPI(t, s, c.store)
			var body io.Reader
			if c.body != "" {
				body = strings.NewReader(c.body)
			}
			req, err := http.NewRequest(c.method, client.BaseURL+c.path, body)
			if err != nil {
				t.Fatal(err)
			}
			// The tokens' issuer is the shared server's address.
			req.Host = strings.TrimPrefix(s.srv.URL, "http://")
			if c.ctype != "" {
				req.Header.Set("Content-Type", c.ctype)
			}
			if c.authorization != "" {
				req.Header.Set("Authorization", c.authorization)
			}
			start := time.Now()
			res, err := client.Send(req)
			elapsed := time.Since(start)
			if err != nil {
				t.Fatal(err)
			}
			// A correctness bound, not a timing measurement: Lambda would
			// have ended the invocation at the Timeout.
			if elapsed > timeout+2*time.Second {
				t.Fatalf("answered after %v; the function's Timeout is %v", elapsed, timeout)
			}
			if res.Status != http.StatusServiceUnavailable || res.Header.Get("Retry-After") == "" {
				t.Fatalf("answer %s (Retry-After %q), want 503 with Retry-After", res, res.Header.Get("Retry-After"))
			}
			checkTimeoutBody(t, c.family, c.path, res)
			calls := deadlines.Calls()
			if len(calls) == 0 {
				t.Fatalf("no %s call was made: the case does not stall what it names", c.store)
			}
			for _, call := range calls {
				if !call.HasDeadline || call.Deadline.After(start.Add(timeout)) {
					t.Fatalf("%s %s had deadline %v (set: %v), want one within the Timeout %v of the request's start %v",
						c.store, call.Operation, call.Deadline, call.HasDeadline, timeout, start)
				}
			}
		})
	}
}

// checkTimeoutBody checks a 503 timeout answer's body in the family's format.
func checkTimeoutBody(t *testing.T, family httpapi.Family, path string, res apiclient.Response) {
	t.Helper()
	switch family {
	case httpapi.OCS:
		var b httpapi.ErrorBody
		if err := decodeStrict(res.Body, &b); err != nil || b.Error != "Request timed out" || b.Reason == "" || b.Resolution == "" || b.OperationId != res.Header.Get("Operation-Id") {
			t.Fatalf("OCS body %s (%v): want Error \"Request timed out\", Reason, Resolution and the Operation-Id", res.Body, err)
		}
	case httpapi.KeyRotation:
		var p httpapi.ProblemDetails
		if err := decodeStrict(res.Body, &p); err != nil || p.Status != 503 || p.Title != "Request timed out" || p.Detail == "" || p.Instance != path ||
			res.Header.Get("Content-Type") != "application/problem+json" {
			t.Fatalf("ProblemDetails %s (%s, %v): want status 503, title \"Request timed out\", instance %s", res.Body, res.Header.Get("Content-Type"), err, path)
		}
	case httpapi.OAuth:
		var e map[string]string
		if err := json.Unmarshal(res.Body, &e); err != nil || e["error"] != "temporarily_unavailable" || e["error_description"] == "" || len(e) != 2 {
			t.Fatalf("token error %s (%v): want {\"error\":\"temporarily_unavailable\",\"error_description\":...}", res.Body, err)
		}
	}
}
