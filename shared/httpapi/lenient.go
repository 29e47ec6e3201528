package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"reflect"
	"sort"
	"strings"

	"identityservice/shared/identity"
)

// DecodeJSONIgnoringUnknown reads a JSON object into dst as DecodeJSON
// does (size, media type, UTF-8, types, one object), except that a
// property dst has no field for is ignored, as ASP.NET Core's model
// binding ignored it in the service the v1 routes reproduce
// (docs/api.md, "Unknown properties"). It returns the names it ignored,
// which the caller logs.
func DecodeJSONIgnoringUnknown(w http.ResponseWriter, r *http.Request, dst any) (ignored []string, err error) {
	raw, err := ReadJSONBody(w, r)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	if err := dec.Decode(dst); err != nil {
		return nil, decodeError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, identity.Invalid("The request body has data after its JSON object.", "Send exactly one JSON object.")
	}
	var props map[string]json.RawMessage
	if json.Unmarshal(raw, &props) != nil {
		return nil, nil // not an object: dst's decode has refused it already
	}
	known := fieldNames(dst)
	for name := range props {
		if !containsFold(known, name) {
			ignored = append(ignored, name)
		}
	}
	sort.Strings(ignored)
	if len(ignored) > 0 {
		Logger(r.Context()).InfoContext(r.Context(), "request properties ignored", "properties", ignored)
	}
	return ignored, nil
}

// fieldNames are the JSON names of a struct's fields (dst points to it).
func fieldNames(dst any) []string {
	t := reflect.TypeOf(dst)
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	var names []string
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		names = append(names, name)
	}
	return names
}

// containsFold reports whether names holds name in any letter
// case, the way encoding/json matches property names to fields.
func containsFold(names []string, name string) bool {
	for _, n := range names {
		if strings.EqualFold(n, name) {
			return true
		}
	}
	return false
}
