package httpapi_test

import (
	"errors"
	"strings"
	"testing"

	"identityservice/shared/httpapi"
	"identityservice/shared/identity"
)

// A wrong type names the JSON property only, not the Go name of the
// embedded struct that holds it (ocsapi's hybridFields).
func TestDecodeErrorNamesPropertiesNotEmbeddedStructs(t *testing.T) {
	type inner struct{ RedirectUris *[]string }
	type body struct {
		inner
		Name *string
		Sub  *struct {
			inner
		}
	}
	for raw, want := range map[string]string{
		`{"RedirectUris": 5}`:          "Property RedirectUris must be",
		`{"Sub": {"RedirectUris": 5}}`: "Property Sub.RedirectUris must be",
		`{"Name": 5}`:                  "Property Name must be",
	} {
		var dst body
		err := httpapi.DecodeJSONBytes([]byte(raw), &dst)
		var e *identity.Error
		if !errors.As(err, &e) || !strings.Contains(e.Message, want) || strings.Contains(e.Message, "inner") {
			t.Errorf("%s: %v, want a message with %q and no Go name", raw, err, want)
		}
	}
	var dst body
	if err := httpapi.DecodeJSONBytes([]byte(`{"RedirectUris": ["https://a.example/cb"]}`), &dst); err != nil || dst.RedirectUris == nil || (*dst.RedirectUris)[0] != "https://a.example/cb" {
		t.Fatalf("an embedded struct's property: %+v %v", dst, err)
	}
}
