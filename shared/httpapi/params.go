package httpapi

import (
	"net/http"
	"strings"

	"identityservice/shared/identity"
)

// ListParams reads a list's paging (identity.ParseListOptions: skip,
// count and, when tagged, the repeatable tags) and query, which the API
// documents as unsupported: a non-empty value is refused rather than
// silently ignored.
func ListParams(r *http.Request, tagParam string) (identity.ListOptions, error) {
	q := r.URL.Query()
	if v := strings.TrimSpace(q.Get("query")); v != "" {
		return identity.ListOptions{}, identity.Invalid("The query parameter is not supported.", "Remove query; filter Client Credential clients with tags instead, and page with skip and count.")
	}
	var tags []string
	if tagParam != "" {
		tags = q[tagParam]
	}
	return identity.ParseListOptions(q.Get("skip"), q.Get("count"), tags)
}

// PathGUID reads a GUID path parameter, in lower case.
func PathGUID(r *http.Request, name string) (string, error) {
	return identity.ParseGUID(name, r.PathValue(name))
}
