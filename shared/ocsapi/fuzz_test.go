package ocsapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"reflect"
	"testing"

	"identityservice/infra/testenv"
	"identityservice/shared/httpapi"
	"identityservice/shared/identity"
)

// ocsBodies are the OCS request bodies, by the index a fuzz input picks.
var ocsBodies = []func() any{
	func() any { return &clientCredentialClientCreate{} },
	func() any { return &clientCredentialClientUpdate{} },
	func() any { return &hybridClientCreate{} },
	func() any { return &hybridClientUpdate{} },
	func() any { return &clientSecretCreateOrUpdate{} },
	func() any { return &clientSecretObsoleteUpdate{} },
}

// FuzzOCSBody holds the decoding of every OCS request body to: no panic;
// a refusal is a 400 with the OCS error body, every field filled; an
// accepted body encodes and decodes again to the same value. Seeds: the
// bodies of the sample events, for every body type.
func FuzzOCSBody(f *testing.F) {
	for _, dir := range []string{"clientcredentialclients", "hybridclients", "clientsecrets"} {
		events, err := testenv.Events(dir)
		if err != nil {
			f.Fatal(err)
		}
		for _, e := range events {
			for kind := range ocsBodies {
				f.Add(uint8(kind), e.Body)
			}
		}
	}
	f.Add(uint8(0), []byte(`{"name":"a","NAME":"b","Tags":["x","x"]}`))
	f.Add(uint8(2), []byte(`{"RedirectUris":[[["deep"]]]}`))
	f.Fuzz(func(t *testing.T, kind uint8, body []byte) {
		newBody := ocsBodies[int(kind)%len(ocsBodies)]
		dst := newBody()
		err := decode(body, dst)
		if err != nil {
			var e *identity.Error
			if !errors.As(err, &e) || e.Kind != identity.KindInvalid {
				t.Fatalf("decode %q: %v: want an invalid-input error", body, err)
			}
			rec := httptest.NewRecorder()
			httpapi.WriteError(rec, httptest.NewRequest(http.MethodPost, "/", nil), err)
			var out httpapi.ErrorBody
			if rec.Code/100 != 4 || json.Unmarshal(rec.Body.Bytes(), &out) != nil || out.Error == "" || out.Reason == "" || out.Resolution == "" {
				t.Fatalf("decode %q: answered %d %s: want a 4xx OCS error body", body, rec.Code, rec.Body)
			}
			return
		}
		encoded, err := json.Marshal(dst)
		if err != nil {
			t.Fatalf("encode %#v: %v", dst, err)
		}
		again := newBody()
		if err := decode(encoded, again); err != nil {
			t.Fatalf("decode(encode(%q)) = %s: %v", body, encoded, err)
		}
		if !reflect.DeepEqual(dst, again) {
			t.Fatalf("decode(encode(%q)): %#v, want %#v", body, again, dst)
		}
	})
}

func decode(body []byte, dst any) error {
	r := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	return httpapi.DecodeJSON(httptest.NewRecorder(), r, dst)
}
