package httpapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"identityservice/shared/identity"
)

// MaxBodyBytes bounds a request body.
const MaxBodyBytes = 64 << 10

// DecodeJSON reads a JSON object into dst. Property names match in any
// letter case; an unknown property, a wrong type, malformed JSON, an empty
// body or trailing data is an invalid-input error that says what and where.
func DecodeJSON(w http.ResponseWriter, r *http.Request, dst any) error {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return decodeError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return identity.Invalid("The request body has data after its JSON object.", "Send exactly one JSON object.")
	}
	return nil
}

func decodeError(err error) error {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	var tooBig *http.MaxBytesError
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
	case errors.As(err, &tooBig):
		return identity.Invalid("The request body is larger than %d bytes.", "Send a smaller body.", MaxBodyBytes)
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
