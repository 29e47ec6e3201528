package httpapi

import (
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"identityservice/shared/identity"
)

// TestErrorFormatsByFamily: one handler error, each family's own body, and
// the OAuth family's 405 and 401 in RFC 6749 form.
func TestErrorFormatsByFamily(t *testing.T) {
	fail := func(err error) Handler {
		return func(w http.ResponseWriter, r *http.Request) (Response, error) { return Response{}, err }
	}
	notFound := &identity.Error{Kind: identity.KindNotFound, Code: identity.CodeClientNotFound, Message: "No client."}
	h := NewHandler(slog.New(slog.NewTextHandler(io.Discard, nil)), []Route{
		{Method: http.MethodGet, Path: "/ocs", Family: OCS, Handler: fail(notFound)},
		{Method: http.MethodGet, Path: "/kr", Family: KeyRotation, Handler: fail(notFound)},
		{Method: http.MethodPost, Path: "/token", Family: OAuth, Handler: fail(&OAuthError{Status: 401, Code: "invalid_client", Description: "Client authentication failed."})},
		{Method: http.MethodGet, Path: "/jwks", Family: OAuth, Handler: fail(&OAuthError{Status: 500, Code: "server_error", Description: "retry", Err: errors.New("cause")})},
		{Method: http.MethodGet, Path: "/ok", Family: OCS, Handler: func(w http.ResponseWriter, r *http.Request) (Response, error) {
			return Response{Status: 201, Body: map[string]int{"n": 1}, Header: map[string]string{"Location": "/ok/1"}}, nil
		}},
		{Method: http.MethodGet, Path: "/raw", Family: OAuth, Handler: func(w http.ResponseWriter, r *http.Request) (Response, error) {
			return Response{Status: 200, Raw: []byte(`{"keys":[]}`), ContentType: "application/json"}, nil
		}},
	}, WithoutAuthentication())
	do := func(method, path string) (*httptest.ResponseRecorder, map[string]any) {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(method, path, nil))
		var body map[string]any
		_ = json.Unmarshal(rec.Body.Bytes(), &body)
		return rec, body
	}
	for _, c := range []struct {
		method, path string
		status       int
		ctype        string
		keys         []string
	}{
		{"GET", "/ocs", 404, "application/json; charset=utf-8", []string{"OperationId", "Error", "Reason", "Resolution"}},
		{"GET", "/kr", 404, "application/problem+json", []string{"type", "title", "status", "detail", "instance"}},
		{"POST", "/token", 401, "application/json; charset=utf-8", []string{"error", "error_description"}},
		{"GET", "/jwks", 500, "application/json; charset=utf-8", []string{"error", "error_description"}},
		{"PUT", "/token", 405, "application/json; charset=utf-8", []string{"error", "error_description"}},
		{"PUT", "/ocs", 405, "application/json; charset=utf-8", []string{"OperationId", "Error", "Reason", "Resolution"}},
	} {
		rec, body := do(c.method, c.path)
		if rec.Code != c.status || rec.Header().Get("Content-Type") != c.ctype || len(body) != len(c.keys) {
			t.Errorf("%s %s: %d %q %s, want %d %q with %v", c.method, c.path, rec.Code, rec.Header().Get("Content-Type"), rec.Body, c.status, c.ctype, c.keys)
			continue
		}
		for _, k := range c.keys {
			if _, ok := body[k]; !ok {
				t.Errorf("%s %s: body %s lacks %s", c.method, c.path, rec.Body, k)
			}
		}
	}
	if rec, body := do("POST", "/token"); rec.Header().Get("WWW-Authenticate") != `Basic realm="identity", charset="UTF-8"` || body["error"] != "invalid_client" {
		t.Errorf("token 401: WWW-Authenticate %q, body %s", rec.Header().Get("WWW-Authenticate"), rec.Body)
	}
	if rec, body := do("GET", "/jwks"); body["error_description"] != "retry" || rec.Header().Get("WWW-Authenticate") != "" {
		t.Errorf("jwks 500 body %s: the cause must not be sent", rec.Body)
	}
	if rec, body := do("PUT", "/token"); body["error"] != "invalid_request" || rec.Header().Get("Allow") != "POST" {
		t.Errorf("token 405: Allow %q, body %s", rec.Header().Get("Allow"), rec.Body)
	}
	if rec, body := do("GET", "/ok"); rec.Code != 201 || rec.Header().Get("Location") != "/ok/1" || body["n"] != float64(1) {
		t.Errorf("success: %d %v %s", rec.Code, rec.Header(), rec.Body)
	}
	if rec, _ := do("GET", "/raw"); rec.Code != 200 || rec.Header().Get("Content-Type") != "application/json" || rec.Body.String() != `{"keys":[]}` {
		t.Errorf("raw: %d %v %s", rec.Code, rec.Header(), rec.Body)
	}
}
