package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"unicode/utf8"

	"identityservice/shared/identity"
)

// MaxBodyBytes bounds a request body: a larger one is a 413.
const MaxBodyBytes = 64 << 10

// ReadJSONBody reads a JSON route's request body: at most MaxBodyBytes
// (413 otherwise), with Content-Type application/json, any +json type or
// none at all (415 otherwise), and valid UTF-8 (400 otherwise).
func ReadJSONBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
			return nil, &identity.Error{Kind: identity.KindMediaType, Code: codeMediaType,
				Message: fmt.Sprintf("The request body is %q; this route reads JSON.", truncate(ct, 64))}
		}
	}
	raw, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		return nil, &identity.Error{Kind: identity.KindTooLarge, Code: codeTooLarge, Limit: MaxBodyBytes,
			Message: fmt.Sprintf("The request body is larger than %d bytes.", MaxBodyBytes),
			Hint:    fmt.Sprintf("Send a body of at most %d bytes.", MaxBodyBytes)}
	case err != nil:
		return nil, identity.Invalid("The request body could not be read.", "Send the body again.")
	case !utf8.Valid(raw):
		return nil, identity.Invalid("The request body is not valid UTF-8.", "Encode the JSON body as UTF-8.")
	}
	return raw, nil
}

// DecodeJSON reads a JSON object into dst (ReadJSONBody, then
// DecodeJSONBytes).
func DecodeJSON(w http.ResponseWriter, r *http.Request, dst any) error {
	raw, err := ReadJSONBody(w, r)
	if err != nil {
		return err
	}
	return DecodeJSONBytes(raw, dst)
}

// DecodeJSONBytes decodes a JSON object into dst. Property names match in
// any letter case; an unknown property, a wrong type, malformed JSON, an
// empty body or trailing data is an invalid-input error that says what and
// where.
func DecodeJSONBytes(raw []byte, dst any) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		var typ *json.UnmarshalTypeError
		if errors.As(err, &typ) {
			typ.Field = withoutEmbedded(typ.Field, reflect.TypeOf(dst))
		}
		return decodeError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return identity.Invalid("The request body has data after its JSON object.", "Send exactly one JSON object.")
	}
	return nil
}

// withoutEmbedded drops from a JSON error's field path the Go names of the
// embedded structs of t (encoding/json names them, though their
// properties are the enclosing object's), so that the path names JSON
// properties only.
func withoutEmbedded(path string, t reflect.Type) string {
	embedded := map[string]bool{}
	var walk func(reflect.Type, int)
	walk = func(t reflect.Type, depth int) {
		for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Array || t.Kind() == reflect.Map {
			t = t.Elem()
		}
		if t.Kind() != reflect.Struct || depth > 8 {
			return
		}
		for i := range t.NumField() {
			f := t.Field(i)
			if f.Anonymous {
				embedded[f.Name] = true
			}
			walk(f.Type, depth+1)
		}
	}
	walk(t, 0)
	var kept []string
	for _, seg := range strings.Split(path, ".") {
		if !embedded[seg] {
			kept = append(kept, seg)
		}
	}
	return strings.Join(kept, ".")
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

func decodeError(err error) error {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.Is(err, io.EOF):
		return identity.Invalid("The request body is empty.", "Send a JSON object with Content-Type: application/json.")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return identity.Invalid("The request body is truncated JSON.", "Send a complete JSON object.")
	case errors.As(err, &syntax):
		return identity.Invalid("The request body is not valid JSON (error at byte %d: %s).", "Fix the JSON syntax.", syntax.Offset, syntax.Error())
	case errors.As(err, &typ):
		if typ.Field == "" {
			return identity.Invalid("The request body must be a JSON object, not %s.", "Send a JSON object such as {\"Name\": \"...\"}.", article(typ.Value))
		}
		return identity.Invalid("Property %s must be %s, not %s.", fmt.Sprintf("Send the right JSON type for %s.", typ.Field), typ.Field, typeName(typ.Type.String()), article(typ.Value))
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name, _ := strconv.Unquote(strings.TrimPrefix(err.Error(), "json: unknown field "))
		return identity.Invalid("Property %q is not part of this request.", "Remove it, or check its spelling against the API reference.", name)
	}
	return identity.Invalid("The request body could not be read: %s.", "Send a JSON object.", err.Error())
}

func article(v string) string {
	switch v {
	case "object", "array":
		return "an " + v
	case "number", "string":
		return "a " + v
	case "bool":
		return "a boolean"
	}
	return v
}

func typeName(goType string) string {
	t := strings.TrimLeft(goType, "*")
	switch {
	case t == "string":
		return "a string"
	case t == "bool":
		return "a boolean (true or false)"
	case strings.HasPrefix(t, "[]"):
		return fmt.Sprintf("an array of %s", strings.TrimPrefix(typeName(t[2:]), "a "))
	case strings.HasPrefix(t, "int"):
		return "an integer"
	}
	return "a " + t
}
