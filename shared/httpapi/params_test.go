package httpapi

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// A list's parameters out of bounds answer a 400 that names which, before
// any read: 1,000 tags, a tag no client can carry, a skip past what a
// Query's int32 Limit holds.
func TestListParamsBounds(t *testing.T) {
	many := url.Values{}
	for i := range 1000 {
		many.Add("tags", "t"+strings.Repeat("x", i%5)+string(rune('a'+i%26))+strings.Repeat("y", i/26))
	}
	for _, tc := range []struct {
		name, query, mentions string
		tagParam              string
	}{
		{"1,000 tags", many.Encode(), "distinct tags", "tags"},
		{"a 5,000-character tag", "tags=" + strings.Repeat("x", 5000), "128", "tags"},
		{"skip past int32", "skip=2147482648&count=1000", "skip=2147482648", ""},
		{"count 0", "count=0", "count=0", ""},
		{"query", "query=x", "query parameter", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "/list?"+tc.query, nil)
			_, err := ListParams(r, tc.tagParam)
			if err == nil {
				t.Fatal("accepted")
			}
			rec := httptest.NewRecorder()
			WriteError(rec, r.WithContext(WithFamily(r.Context(), OCS)), err)
			var body ErrorBody
			if rec.Code != http.StatusBadRequest || json.Unmarshal(rec.Body.Bytes(), &body) != nil || body.Error != "Missing or invalid inputs" || !strings.Contains(body.Reason, tc.mentions) || body.Resolution == "" {
				t.Fatalf("%d %s; want a 400 whose Reason mentions %q, with a Resolution", rec.Code, rec.Body, tc.mentions)
			}
		})
	}
	r := httptest.NewRequest(http.MethodGet, "/list?skip=2147482647&count=1000&tags=a&tags=a", nil)
	o, err := ListParams(r, "tags")
	if err != nil || o.Skip != 2147482647 || len(o.Tags) != 1 {
		t.Fatalf("%+v, %v; want skip at its bound and the tags made distinct", o, err)
	}
}
