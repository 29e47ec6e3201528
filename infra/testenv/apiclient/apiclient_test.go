package apiclient

import (
	"io"
	"net/http"
	"net/http/httptest"
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
