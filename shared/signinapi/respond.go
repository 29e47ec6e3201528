package signinapi

import (
	"crypto/sha256"
	"encoding/base64"
	"html"
	"net/http"
	"net/url"
	"sort"
	"strings"

	"identityservice/shared/httpapi"
	"identityservice/shared/signin"
)

// authorizationResponse sends params to the request's redirect URI in its
// response mode: the query, the fragment, or a form posted by the browser
// (OAuth 2.0 Form Post Response Mode). state is added unchanged, and iss
// (RFC 9207) so that a client can tell which provider answered.
func authorizationResponse(req signin.AuthRequest, iss string, params url.Values) httpapi.Response {
	if req.State != "" {
		params.Set("state", req.State)
	}
	params.Set("iss", iss)
	switch req.ResponseMode {
	case signin.ModeQuery:
		u, _ := url.Parse(req.RedirectURI) // a registered URI: it parses
		q := u.Query()
		for k, vs := range params {
			q[k] = vs
		}
		u.RawQuery = q.Encode()
		return redirect(u.String())
	case signin.ModeFormPost:
		return formPost(req.RedirectURI, params)
	}
	u, _ := url.Parse(req.RedirectURI)
	u.Fragment = ""
	return redirect(u.String() + "#" + params.Encode())
}

// authorizationError sends an error (OpenID Connect Core 3.1.2.6) to the
// redirect URI, or shows it when the URI is not to be trusted.
func authorizationError(e *signin.AuthError, iss string) httpapi.Response {
	if !e.Redirect {
		return errorPage(http.StatusBadRequest, "This sign-in request cannot be served", e.Description+" ("+e.Code+")")
	}
	return authorizationResponse(e.Request, iss, url.Values{"error": {e.Code}, "error_description": {e.Description}})
}

func redirect(to string) httpapi.Response {
	return httpapi.Response{Status: http.StatusFound, Header: httpapi.NoStore(map[string]string{"Location": to})}
}

// formPostScript submits the form when the page loads; without script the
// person presses the button. CSP allows exactly this script, by its hash.
const formPostScript = `document.forms[0].submit();`

var formPostScriptHash = func() string {
	sum := sha256.Sum256([]byte(formPostScript))
	return "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
}()

// formPost is the page of response_mode=form_post: a form of hidden fields
// that posts to the redirect URI.
func formPost(to string, params url.Values) httpapi.Response {
	keys := make([]string, 0, len(params))
	for k := range params {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString(`<form method="post" action="` + html.EscapeString(to) + `">`)
	for _, k := range keys {
		b.WriteString(`<input type="hidden" name="` + html.EscapeString(k) + `" value="` + html.EscapeString(params.Get(k)) + `">`)
	}
	b.WriteString(`<p>Signing you in to the application…</p><button type="submit">Continue</button></form>`)
	b.WriteString(`<script>` + formPostScript + `</script>`)
	csp := "default-src 'none'; script-src " + formPostScriptHash + "; style-src 'self'; base-uri 'none'; frame-ancestors 'none'; form-action " + cspSource(to)
	return pageResponse(http.StatusOK, "Signing in", b.String(), csp)
}

// cspSource is the CSP source of a URI's origin (its scheme alone for a
// custom scheme).
func cspSource(uri string) string {
	u, err := url.Parse(uri)
	if err != nil || u.Scheme == "" {
		return "'none'"
	}
	if u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return u.Scheme + ":"
	}
	return u.Scheme + "://" + u.Host
}
