package httpapi

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"identityservice/shared/identity"
)

// List paging limits.
const (
	DefaultCount = 100
	MaxCount     = 1000
)

// Page is the paging of a list request.
type Page struct {
	Skip, Count int
}

// ListParams reads skip (default 0, at least 0), count (default 100, 1 to
// 1000) and query, which the API documents as unsupported: a non-empty
// value is refused rather than silently ignored.
func ListParams(r *http.Request) (Page, error) {
	q := r.URL.Query()
	p := Page{Skip: 0, Count: DefaultCount}
	if v := strings.TrimSpace(q.Get("query")); v != "" {
		return p, identity.Invalid("The query parameter is not supported.", "Remove query; filter Client Credential clients with tags instead, and page with skip and count.")
	}
	var err error
	if p.Skip, err = intParam(q.Get("skip"), "skip", 0, 0, int(^uint32(0)>>1)); err != nil {
		return p, err
	}
	if p.Count, err = intParam(q.Get("count"), "count", DefaultCount, 1, MaxCount); err != nil {
		return p, err
	}
	return p, nil
}

func intParam(raw, name string, def, lo, hi int) (int, error) {
	if raw == "" {
		return def, nil
	}
	v, err := strconv.Atoi(raw)
	if err != nil || v < lo || v > hi {
		if hi == int(^uint32(0)>>1) {
			return 0, identity.Invalid("%s=%s is not valid: it must be an integer of at least %d.", fmt.Sprintf("Send a whole number such as %s=%d.", name, lo), name, raw, lo)
		}
		return 0, identity.Invalid("%s=%s is not valid: it must be an integer from %d to %d.", fmt.Sprintf("Send a whole number in that range, e.g. %s=%d.", name, def), name, raw, lo, hi)
	}
	return v, nil
}

// PathGUID reads a GUID path parameter, in lower case.
func PathGUID(r *http.Request, name string) (string, error) {
	return identity.ParseGUID(name, r.PathValue(name))
}
