package keyrotationapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"identityservice/infra/testenv"
	"identityservice/shared/httpapi"
	"identityservice/shared/identity"
)

// FuzzExpirationDate holds the Key Rotation POST body's decoding (an
// object, a bare string, null or nothing) to: no panic; a refusal is a 400
// ProblemDetails; an accepted date sent back in either form (object or bare
// string, formatted as the API shows dates) decodes to the same instant.
// Seeds: the bodies of the sample events.
func FuzzExpirationDate(f *testing.F) {
	events, err := testenv.Events("applicationsecrets")
	if err != nil {
		f.Fatal(err)
	}
	for _, e := range events {
		f.Add(e.Body)
	}
	for _, s := range []string{`null`, `{}`, `{"expirationDate":null}`, `"2031-06-30"`, `{"ExpirationDate":"2031-06-30"}`, `"\u0000"`, `[]`, `{"expirationDate":"2031-06-30"}{}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		got, err := decodeDate(body)
		if err != nil {
			var e *identity.Error
			if !errors.As(err, &e) || e.Kind != identity.KindInvalid {
				t.Fatalf("body %q: %v: want an invalid-input error", body, err)
			}
			rec := httptest.NewRecorder()
			r := httptest.NewRequest(http.MethodPost, "/", nil)
			httpapi.WriteError(rec, r.WithContext(httpapi.WithFamily(r.Context(), httpapi.KeyRotation)), err)
			var pd httpapi.ProblemDetails
			if rec.Code != http.StatusBadRequest || json.Unmarshal(rec.Body.Bytes(), &pd) != nil || pd.Status != 400 || pd.Title == "" || pd.Detail == "" {
				t.Fatalf("body %q: answered %d %s: want a 400 ProblemDetails", body, rec.Code, rec.Body)
			}
			return
		}
		if got == nil {
			return
		}
		shown := got.UTC().Format(time.RFC3339Nano)
		asObject, _ := json.Marshal(map[string]string{"expirationDate": shown})
		asString, _ := json.Marshal(shown)
		for _, again := range [][]byte{asObject, asString} {
			back, err := decodeDate(again)
			if err != nil || back == nil || !back.Equal(*got) {
				t.Fatalf("body %q: date %v, sent back as %s: %v, %v", body, got, again, back, err)
			}
		}
	})
}

func decodeDate(body []byte) (*time.Time, error) {
	r := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	return expirationDate(httptest.NewRecorder(), r)
}
