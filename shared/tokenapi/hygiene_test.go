package tokenapi_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"

	"identityservice/infra/local/server"
	"identityservice/shared/config"
	"identityservice/shared/httpapi"
	"identityservice/shared/identity"
	"identityservice/shared/tokenapi"
)

const pinned = "https://id.example.com/identity"

// tokenServer is the token function's handler with ISSUER pinned, and a
// Client Credential client to ask for tokens.
func tokenServer(t *testing.T, issuer string) (http.Handler, identity.CreatedClient, *config.App) {
	t.Helper()
	log := slog.New(slog.NewJSONHandler(io.Discard, nil))
	cfg := env.Config
	cfg.Issuer = issuer
	app := config.NewApp(cfg, env.Clients, log)
	ctx := context.Background()
	ten, err := app.Service.CreateTenant(ctx, "", "token hygiene", 0)
	if err != nil {
		t.Fatal(err)
	}
	c, err := app.Service.CreateClient(ctx, ten.ID, identity.NewClient{Kind: identity.ClientCredential, Name: "hygiene"})
	if err != nil {
		t.Fatal(err)
	}
	return env.Tagged(httpapi.NewHandler(log, tokenRoutes(app))), c, app
}

// tokenRoutes are the token function's routes wired as its main.go wires
// them (the generated table of infra/local/server copies main.go).
func tokenRoutes(app *config.App) []httpapi.Route {
	routes, ok := server.FunctionRoutes("functions/token", app)
	if !ok {
		panic("functions/token is not in the local server's table")
	}
	return routes
}

func post(h http.Handler, form string, headers map[string]string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodPost, tokenapi.TokenPath, strings.NewReader(form))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, v := range headers {
		if k == "Host" {
			r.Host = v
			continue
		}
		r.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func basic(c identity.CreatedClient) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(c.Client.ID)+":"+url.QueryEscape(c.SecretString)))
}

// claimIss reads the iss of a token (its signature is checked elsewhere).
func claimIss(t *testing.T, token string) string {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", token)
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var c struct{ Iss string }
	if err := json.Unmarshal(raw, &c); err != nil {
		t.Fatal(err)
	}
	return c.Iss
}

var spoofing = map[string]string{"Host": "evil.example.com", "X-Forwarded-Proto": "http", "X-Forwarded-Host": "evil.example.com", "Forwarded": "host=evil.example.com;proto=http"}

// With ISSUER set, no request header changes iss: not in tokens, not in
// discovery; and the token verifies for the pinned issuer only.
func TestPinnedIssuerIgnoresRequestHeaders(t *testing.T) {
	h, c, app := tokenServer(t, pinned)
	w := post(h, "grant_type=client_credentials", map[string]string{"Authorization": basic(c), "Host": spoofing["Host"], "X-Forwarded-Proto": "http", "X-Forwarded-Host": spoofing["Host"], "Forwarded": spoofing["Forwarded"]})
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if w.Code != http.StatusOK || json.Unmarshal(w.Body.Bytes(), &tok) != nil {
		t.Fatalf("token: %d %s", w.Code, w.Body)
	}
	if iss := claimIss(t, tok.AccessToken); iss != pinned {
		t.Fatalf("iss %q with spoofing headers, want the pinned %q", iss, pinned)
	}
	if _, err := app.Authenticator.Verifier.Verify(context.Background(), tok.AccessToken, pinned); err != nil {
		t.Fatalf("the token does not verify for the pinned issuer: %v", err)
	}
	r := httptest.NewRequest(http.MethodGet, tokenapi.DiscoveryPath, nil)
	r.Host = spoofing["Host"]
	for k, v := range spoofing {
		if k != "Host" {
			r.Header.Set(k, v)
		}
	}
	dw := httptest.NewRecorder()
	h.ServeHTTP(dw, r)
	var doc struct{ Issuer, TokenEndpoint, JwksURI string }
	var raw map[string]any
	_ = json.Unmarshal(dw.Body.Bytes(), &raw)
	doc.Issuer, _ = raw["issuer"].(string)
	doc.TokenEndpoint, _ = raw["token_endpoint"].(string)
	doc.JwksURI, _ = raw["jwks_uri"].(string)
	if doc.Issuer != pinned || doc.TokenEndpoint != "https://id.example.com"+tokenapi.TokenPath || doc.JwksURI != "https://id.example.com"+tokenapi.JWKSPath {
		t.Fatalf("discovery with spoofing headers: %+v", doc)
	}
}

// template.yaml's default ISSUER names the API by {apiId}; through the
// Lambda adapter, with a real API Gateway v2 event, the id comes from the
// request context, and the headers change nothing.
func TestTemplateIssuerComesFromTheAPIGatewayRequestContext(t *testing.T) {
	h, _, _ := tokenServer(t, "https://{apiId}.execute-api.us-east-1.amazonaws.com/identity")
	ev := events.APIGatewayV2HTTPRequest{
		Version: "2.0", RouteKey: "GET " + tokenapi.DiscoveryPath, RawPath: tokenapi.DiscoveryPath,
		Headers: map[string]string{"host": "evil.example.com", "x-forwarded-proto": "http", "x-forwarded-host": "evil.example.com"},
		RequestContext: events.APIGatewayV2HTTPRequestContext{APIID: "zz99yy88", DomainName: "evil.example.com", Stage: "$default",
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: http.MethodGet, Path: tokenapi.DiscoveryPath, Protocol: "HTTP/1.1", SourceIP: "203.0.113.1"}},
	}
	out, err := httpadapter.NewV2(h).ProxyWithContext(context.Background(), ev)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal([]byte(out.Body), &doc); err != nil {
		t.Fatalf("%d %s", out.StatusCode, out.Body)
	}
	if want := "https://zz99yy88.execute-api.us-east-1.amazonaws.com/identity"; doc["issuer"] != want {
		t.Fatalf("issuer %v, want %s", doc["issuer"], want)
	}
}

// RFC 6749 hygiene at the token endpoint: a parameter twice is
// invalid_request (3.2); an Authorization header that is present but not
// valid Basic is 401 invalid_client, not ignored in favour of the body
// (2.3.1); every answer, errors included, is no-store (5.1).
func TestTokenEndpointHygiene(t *testing.T) {
	h, c, _ := tokenServer(t, pinned)
	post_ := "grant_type=client_credentials&client_id=" + url.QueryEscape(c.Client.ID) + "&client_secret=" + url.QueryEscape(c.SecretString)
	for _, tc := range []struct {
		name    string
		form    string
		headers map[string]string
		status  int
		code    string
		mention string
	}{
		{"client_secret_post", post_, nil, 200, "", ""},
		{"client_secret_basic", "grant_type=client_credentials", map[string]string{"Authorization": basic(c)}, 200, "", ""},
		{"grant_type twice", post_ + "&grant_type=client_credentials", nil, 400, "invalid_request", "grant_type"},
		{"client_id twice", post_ + "&client_id=" + url.QueryEscape(c.Client.ID), nil, 400, "invalid_request", "client_id"},
		{"client_secret twice with Basic", "grant_type=client_credentials&client_secret=a&client_secret=b", map[string]string{"Authorization": basic(c)}, 400, "invalid_request", "client_secret"},
		{"Bearer instead of Basic, credentials in the body", post_, map[string]string{"Authorization": "Bearer abc"}, 401, "invalid_client", "Basic"},
		{"Basic that is not base64", post_, map[string]string{"Authorization": "Basic !!!"}, 401, "invalid_client", "Basic"},
		{"Basic without a colon", post_, map[string]string{"Authorization": "Basic " + base64.StdEncoding.EncodeToString([]byte("nocolon"))}, 401, "invalid_client", "Basic"},
		{"empty Authorization header", post_, map[string]string{"Authorization": ""}, 401, "invalid_client", "Basic"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := post(h, tc.form, tc.headers)
			if w.Code != tc.status {
				t.Fatalf("status %d, want %d: %s", w.Code, tc.status, w.Body)
			}
			if w.Header().Get("Cache-Control") != "no-store" || w.Header().Get("Pragma") != "no-cache" {
				t.Fatalf("Cache-Control %q, Pragma %q: want no-store, no-cache", w.Header().Get("Cache-Control"), w.Header().Get("Pragma"))
			}
			if tc.status == 200 {
				return
			}
			var e struct {
				Error       string `json:"error"`
				Description string `json:"error_description"`
			}
			if err := json.Unmarshal(w.Body.Bytes(), &e); err != nil || e.Error != tc.code || !strings.Contains(e.Description, tc.mention) {
				t.Fatalf("error %s: want %s mentioning %q", w.Body, tc.code, tc.mention)
			}
			if tc.status == 401 && !strings.HasPrefix(w.Header().Get("WWW-Authenticate"), "Basic") {
				t.Fatalf("401 without WWW-Authenticate: Basic: %v", w.Header())
			}
		})
	}
}
