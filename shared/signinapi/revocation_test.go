package signinapi_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"
	"golang.org/x/oauth2"

	"identityservice/shared/identity"
	"identityservice/shared/tokenapi"
)

// revokeEvent sends form to the revocation endpoint as API Gateway sends
// it to the token function: a payload 2.0 event whose form body is
// base64-encoded, through the Lambda adapter. basic, when set, is the
// client (and secret) of an HTTP Basic header; otherwise the form carries
// whatever credentials it has.
func (s *stack) revokeEvent(t *testing.T, form url.Values, basicID, basicSecret string) (int, map[string]any, events.APIGatewayV2HTTPResponse) {
	t.Helper()
	body := form.Encode()
	headers := map[string]string{"content-type": "application/x-www-form-urlencoded", "host": "abcd1234.execute-api.us-east-1.amazonaws.com"}
	if basicID != "" {
		headers["authorization"] = "Basic " + base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(basicID)+":"+url.QueryEscape(basicSecret)))
	}
	ev := events.APIGatewayV2HTTPRequest{
		Version: "2.0", RouteKey: "POST " + tokenapi.RevocationPath, RawPath: tokenapi.RevocationPath, Headers: headers,
		Body: base64.StdEncoding.EncodeToString([]byte(body)), IsBase64Encoded: true,
		RequestContext: events.APIGatewayV2HTTPRequestContext{APIID: "abcd1234", DomainName: "abcd1234.execute-api.us-east-1.amazonaws.com", Stage: "$default",
			RequestID: "revocation-test", RouteKey: "POST " + tokenapi.RevocationPath,
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: http.MethodPost, Path: tokenapi.RevocationPath, Protocol: "HTTP/1.1", SourceIP: "203.0.113.10"}},
	}
	out, err := httpadapter.NewV2(s.Handler).ProxyWithContext(context.Background(), ev)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if out.Body != "" {
		if err := json.Unmarshal([]byte(out.Body), &m); err != nil {
			t.Fatalf("revocation answer %d %q: %v", out.StatusCode, out.Body, err)
		}
	}
	return out.StatusCode, m, out
}

// offlineSignIn signs person in for c with offline_access and returns the
// refresh token.
func offlineSignIn(t *testing.T, s *stack, c identity.CreatedClient, state string) string {
	t.Helper()
	relying := newRP(t, s.URL+"/identity", c.Client.ID, c.SecretString, "offline_access")
	got, verifier := signIn(t, s, browser(t), relying, "code", state)
	tok, err := relying.oauth.Exchange(context.Background(), got.Get("code"), oauth2.VerifierOption(verifier))
	if err != nil || tok.RefreshToken == "" {
		t.Fatalf("offline sign-in: no refresh token (%v)", err)
	}
	return tok.RefreshToken
}

// RFC 7009 at /identity/connect/revocation, with API Gateway v2 events
// against DynamoDB Local and moto: a client revokes its refresh token (its
// whole family: the token rotated from it no longer refreshes); another
// client's token is refused and keeps working; a wrong secret is the token
// endpoint's 401 invalid_client; a missing token is 400; unknown tokens
// and unknown hints are 200; an access token is unsupported_token_type.
func TestRevocation(t *testing.T) {
	s := newStack(t)
	s.setUpstream(t, nil)
	s.Upstream.Person = person
	c := s.hybrid(t, false, true)
	other := s.hybrid(t, false, true)
	mine := offlineSignIn(t, s, c, "mine")
	theirs := offlineSignIn(t, s, other, "theirs")
	revoke := func(token string) url.Values {
		return url.Values{"token": {token}, "token_type_hint": {"refresh_token"}}
	}

	// Another client's token: refused, and it still refreshes.
	if status, body, _ := s.revokeEvent(t, revoke(theirs), c.Client.ID, c.SecretString); status != http.StatusBadRequest || body["error"] != "unauthorized_client" {
		t.Fatalf("revoking another client's token: %d %v", status, body)
	}
	status, body := refresh(t, s, other, theirs, "")
	if status != http.StatusOK || body["refresh_token"] == "" {
		t.Fatalf("the other client's token after a refused revocation: %d %v", status, body)
	}

	// A wrong secret: the token endpoint's answer, and nothing revoked.
	status, body, out := s.revokeEvent(t, revoke(mine), c.Client.ID, "not-the-secret")
	if status != http.StatusUnauthorized || body["error"] != "invalid_client" || !strings.HasPrefix(eventHeader(out, "WWW-Authenticate"), "Basic") {
		t.Fatalf("wrong secret: %d %v %v", status, body, out.Headers)
	}
	if status, body, _ := s.revokeEvent(t, url.Values{"token_type_hint": {"refresh_token"}}, c.Client.ID, c.SecretString); status != http.StatusBadRequest || body["error"] != "invalid_request" {
		t.Fatalf("no token: %d %v", status, body)
	}
	status, body = refresh(t, s, c, mine, "")
	next, _ := body["refresh_token"].(string)
	if status != http.StatusOK || next == "" {
		t.Fatalf("refresh after the refused revocations: %d %v", status, body)
	}

	// Revoking the spent first token (client_secret_post this time)
	// revokes its family: the token rotated from it is refused.
	form := revoke(mine)
	form.Set("client_id", c.Client.ID)
	form.Set("client_secret", c.SecretString)
	status, body, out = s.revokeEvent(t, form, "", "")
	if status != http.StatusOK || out.Body != "" || eventHeader(out, "Cache-Control") != "no-store" {
		t.Fatalf("revocation: %d %v %q %v", status, body, out.Body, out.Headers)
	}
	if status, body := refresh(t, s, c, next, ""); status != http.StatusBadRequest || body["error"] != "invalid_grant" {
		t.Fatalf("refresh after revocation: %d %v", status, body)
	}
	// Again: still 200, and still revoked.
	if status, body, _ := s.revokeEvent(t, revoke(next), c.Client.ID, c.SecretString); status != http.StatusOK {
		t.Fatalf("revoking a revoked family: %d %v", status, body)
	}

	for _, tc := range []struct {
		name   string
		form   url.Values
		status int
		code   string
	}{
		{"unknown token", revoke("Xq3v0c9mJtR2yq8sV5bN1wK7eH4pL6dA0fG2iU9oZ1s"), 200, ""},
		{"unknown hint", url.Values{"token": {"Xq3v0c9mJtR2yq8sV5bN1wK7eH4pL6dA0fG2iU9oZ1s"}, "token_type_hint": {"id_token"}}, 200, ""},
		{"no hint", url.Values{"token": {"Xq3v0c9mJtR2yq8sV5bN1wK7eH4pL6dA0fG2iU9oZ1s"}}, 200, ""},
		{"access token", url.Values{"token": {"eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln"}, "token_type_hint": {"access_token"}}, 400, "unsupported_token_type"},
		{"token twice", url.Values{"token": {"a", "b"}}, 400, "invalid_request"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, body, _ := s.revokeEvent(t, tc.form, c.Client.ID, c.SecretString)
			if status != tc.status || (tc.code != "" && body["error"] != tc.code) {
				t.Fatalf("%d %v, want %d %s", status, body, tc.status, tc.code)
			}
		})
	}
}

// eventHeader is a header of a Lambda adapter's answer, by any letter case.
func eventHeader(out events.APIGatewayV2HTTPResponse, name string) string {
	for k, v := range out.Headers {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	for k, v := range out.MultiValueHeaders {
		if strings.EqualFold(k, name) && len(v) > 0 {
			return v[0]
		}
	}
	return ""
}
