package httpapi_test

import (
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"identityservice/shared/httpapi"
	"identityservice/shared/identity"
)

func TestDecodeJSONIgnoringUnknown(t *testing.T) {
	type body struct {
		Name     *string
		Lifetime *int `json:"AccessTokenLifetime"`
	}
	for _, tc := range []struct {
		name, in    string
		wantIgnored []string
		wantErr     string // in the error's reason; "" for none
	}{
		{"known, any case", `{"name": "a", "accesstokenlifetime": 60}`, nil, ""},
		{"unknown ignored", `{"Name": "a", "ClientId": "x", "Zed": [1, {"b": 2}]}`, []string{"ClientId", "Zed"}, ""},
		{"a wrong type is still a 400", `{"Name": "a", "AccessTokenLifetime": "3600"}`, nil, "AccessTokenLifetime"},
		{"not an object", `[1]`, nil, "JSON object"},
		{"trailing data", `{"Name": "a"} {}`, nil, "after its JSON object"},
		{"empty", ``, nil, "empty"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("POST", "/", strings.NewReader(tc.in))
			r.Header.Set("Content-Type", "application/json")
			var b body
			ignored, err := httpapi.DecodeJSONIgnoringUnknown(httptest.NewRecorder(), r, &b)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || identity.KindOf(err) != identity.KindInvalid {
					t.Fatalf("error %v, want an invalid-input error mentioning %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if b.Name == nil || *b.Name != "a" {
				t.Errorf("Name not decoded: %+v", b)
			}
			if !slices.Equal(ignored, tc.wantIgnored) {
				t.Errorf("ignored %v, want %v", ignored, tc.wantIgnored)
			}
		})
	}
}
