package tokenapi

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"identityservice/infra/testenv"
)

// FuzzTokenRequest holds the token endpoint's reading of a request (the
// form body and the client_secret_basic Authorization header) to: no
// panic; a refusal says why; accepted credentials, sent again the way a
// client library sends them (form-encoded inside Basic, RFC 6749 2.3.1, or
// client_secret_post), read back the same. Seeds: the sample token events.
func FuzzTokenRequest(f *testing.F) {
	events, err := testenv.Events("token")
	if err != nil {
		f.Fatal(err)
	}
	for _, e := range events {
		auth := strings.ReplaceAll(e.Headers["authorization"], "REPLACE_WITH_BASIC_CREDENTIALS", "YTpi")
		f.Add(e.Body, auth)
	}
	f.Add([]byte("grant_type=client_credentials&client_id=a%2Bb&client_secret=%25%3A"), "")
	f.Add([]byte("grant_type=client_credentials"), "Basic YSUyMGI6YyUzQWQ=")
	f.Add([]byte("grant_type=client_credentials&client_id=x"), "Basic JTpi")
	f.Fuzz(func(t *testing.T, body []byte, authorization string) {
		id, secret, ok, err := read(body, authorization)
		if err != nil {
			if err.Error() == "" {
				t.Fatalf("body %q, Authorization %q: a refusal without a description", body, authorization)
			}
			return
		}
		if !ok {
			return
		}
		basic := "Basic " + basicCredentials(url.QueryEscape(id), url.QueryEscape(secret))
		if id2, secret2, ok2, err := read([]byte("grant_type=client_credentials"), basic); err != nil || !ok2 || id2 != id || secret2 != secret {
			t.Fatalf("Basic round trip of %q/%q: %q/%q %v %v", id, secret, id2, secret2, ok2, err)
		}
		if id == "" && secret == "" {
			return // empty Basic credentials have no client_secret_post twin
		}
		post := url.Values{"grant_type": {"client_credentials"}, "client_id": {id}, "client_secret": {secret}}.Encode()
		if id2, secret2, ok2, err := read([]byte(post), ""); err != nil || !ok2 || id2 != id || secret2 != secret {
			t.Fatalf("client_secret_post round trip of %q/%q: %q/%q %v %v", id, secret, id2, secret2, ok2, err)
		}
	})
}

// read parses a token request as the token handler does, up to the
// credentials.
func read(body []byte, authorization string) (id, secret string, ok bool, err error) {
	r := httptest.NewRequest(http.MethodPost, TokenPath, bytes.NewReader(body))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if authorization != "" {
		r.Header.Set("Authorization", authorization)
	}
	r.Body = http.MaxBytesReader(httptest.NewRecorder(), r.Body, 16<<10)
	if err := r.ParseForm(); err != nil {
		return "", "", false, err
	}
	return credentials(r)
}

func basicCredentials(id, secret string) string {
	r := httptest.NewRequest(http.MethodPost, "/", nil)
	r.SetBasicAuth(id, secret)
	return strings.TrimPrefix(r.Header.Get("Authorization"), "Basic ")
}
