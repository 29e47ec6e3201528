package apiclient

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestDo checks what a request carries for each kind of body and that the
// answer comes back in full.
func TestDo(t *testing.T) {
	type seen struct{ method, path, contentType, authorization, body string }
	var got seen
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got = seen{r.Method, r.URL.Path, r.Header.Get("Content-Type"), r.Header.Get("Authorization"), string(b)}
		w.Header().Set("X-Answer", "yes")
		w.WriteHeader(http.StatusTeapot)
		_, _ = w.Write([]byte(`{"a":1}`))
	}))
	defer srv.Close()
	c := Client{BaseURL: srv.URL, HTTP: srv.Client()}
	for _, tc := range []struct {
		name string
		auth string
		body any
		want seen
	}{
		{"no body", "", nil, seen{http.MethodGet, "/p", "", "", ""}},
		{"string sent as is", "Bearer x", `{"raw"`, seen{http.MethodGet, "/p", "application/json", "Bearer x", `{"raw"`}},
		{"value sent as JSON", "", map[string]int{"n": 2}, seen{http.MethodGet, "/p", "application/json", "", `{"n":2}`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := c.Do(t, http.MethodGet, "/p", tc.auth, tc.body)
			if got != tc.want {
				t.Fatalf("server saw %+v, want %+v", got, tc.want)
			}
			if res.Status != http.StatusTeapot || res.Header.Get("X-Answer") != "yes" || string(res.Body) != `{"a":1}` {
				t.Fatalf("response %s, header %v", res, res.Header)
			}
			if s := res.String(); s != `418 {"a":1}` {
				t.Fatalf("String() %q", s)
			}
			var v struct{ A int }
			res.JSON(t, http.StatusTeapot, &v)
			if v.A != 1 {
				t.Fatalf("decoded %+v", v)
			}
		})
	}
}

// TestSendChecksTheContract: an answer on a documented route that the
// document does not describe is an error; one it describes is not.
func TestSendChecksTheContract(t *testing.T) {
	body, status, opID := `{"foo":1}`, http.StatusOK, "3f1c2a6e-9d4b-4c1a-8e2f-1a2b3c4d5e6f"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if opID != "" {
			w.Header().Set("Operation-Id", opID)
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}))
	defer srv.Close()
	c := Client{BaseURL: srv.URL, HTTP: srv.Client()}
	send := func() error {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+"/identity/.well-known/openid-configuration/jwks", nil)
		_, err := c.Send(req)
		return err
	}
	if err := send(); err == nil || !strings.Contains(err.Error(), "docs/openapi.yaml") {
		t.Fatalf("Send of a JWKS answer without keys = %v, want a contract error", err)
	}
	body = `{"keys":[{"kty":"RSA","kid":"k1","n":"AQAB","e":"AQAB"}]}`
	if err := send(); err != nil {
		t.Fatalf("Send of a valid JWKS answer: %v", err)
	}
	status = http.StatusTeapot
	if err := send(); err == nil {
		t.Fatal("Send of an undocumented status passed")
	}
	status, opID = http.StatusOK, ""
	if err := send(); err == nil {
		t.Fatal("Send of an answer without Operation-Id passed")
	}
	opID = "3f1c2a6e-9d4b-4c1a-8e2f-1a2b3c4d5e6f"
	// A route the document does not have is not checked here.
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/not/documented", nil)
	if _, err := c.Send(req); err != nil {
		t.Fatalf("Send to an undocumented path: %v", err)
	}
}
