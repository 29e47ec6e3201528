package signinapi

import (
	"html"
	"net/http"
	"net/url"
	"strings"

	"identityservice/shared/httpapi"
	"identityservice/shared/identity"
	"identityservice/shared/signin"
)

// The pages of sign-in are plain HTML forms: nothing on them needs script
// (form_post's page submits itself when script runs, and has a button when
// it does not). They carry the portal's security headers
// (shared/portal): a CSP that allows nothing but what the page needs,
// nosniff, no referrer (the URLs carry codes and states), no framing
// (clickjacking of the consent button).

// pageCSP allows this origin's stylesheet and forms posting here only.
const pageCSP = "default-src 'none'; style-src 'self'; img-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

func pageResponse(status int, title, body, csp string) httpapi.Response {
	doc := `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">` +
		`<title>` + html.EscapeString(title) + ` · Sign in</title><link rel="stylesheet" href="/_/op-dashboard/assets/portal.css"></head>` +
		`<body><main><section class="card">` + body + `</section></main></body></html>`
	return httpapi.Response{Status: status, Raw: []byte(doc), ContentType: "text/html; charset=utf-8", Header: map[string]string{
		"Cache-Control":              "no-store",
		"Pragma":                     "no-cache",
		"Content-Security-Policy":    csp,
		"X-Content-Type-Options":     "nosniff",
		"Referrer-Policy":            "no-referrer",
		"X-Frame-Options":            "DENY",
		"Cross-Origin-Opener-Policy": "same-origin",
	}}
}

// errorPage says what went wrong and what to do, to the person.
func errorPage(status int, title, message string) httpapi.Response {
	return pageResponse(status, title, `<h1>`+html.EscapeString(title)+`</h1><p class="notice error" role="alert" id="error">`+html.EscapeString(message)+`</p>`+
		`<p>Go back to the application you came from and start again.</p>`, pageCSP)
}

// scopeText says what each scope gives the client, on the consent page.
var scopeText = map[string]string{
	signin.ScopeOpenID:        "Know who you are (a stable identifier of your account here)",
	signin.ScopeProfile:       "Your name",
	signin.ScopeEmail:         "Your email address",
	signin.ScopeOfflineAccess: "Keep access while you are away",
}

// consentPage asks the person whether client may have the scopes. The
// form posts the interaction id and the session's CSRF token.
func consentPage(c identity.Client, se signin.Session, req signin.AuthRequest, interactionID string) httpapi.Response {
	var b strings.Builder
	b.WriteString(`<h1 id="consent-title">` + html.EscapeString(c.Name) + ` asks to sign you in</h1>`)
	csp := pageCSP
	if webURL(c.LogoURI) {
		b.WriteString(`<p><img id="client-logo" src="` + html.EscapeString(c.LogoURI) + `" alt="` + html.EscapeString(c.Name) + ` logo" width="64" height="64"></p>`)
		csp = strings.Replace(csp, "img-src 'self'", "img-src 'self' "+cspSource(c.LogoURI), 1)
	}
	if webURL(c.ClientURI) {
		b.WriteString(`<p>About the application: <a id="client-uri" href="` + html.EscapeString(c.ClientURI) + `" rel="noopener noreferrer">` + html.EscapeString(c.ClientURI) + `</a></p>`)
	}
	who := se.Name
	if se.Email != "" {
		who += " (" + se.Email + ")"
	}
	b.WriteString(`<p>You are signed in as <strong id="person">` + html.EscapeString(who) + `</strong>. The application asks to:</p><ul id="scopes">`)
	for _, s := range req.Scopes {
		b.WriteString(`<li data-scope="` + html.EscapeString(s) + `">` + html.EscapeString(scopeText[s]) + ` <code>` + html.EscapeString(s) + `</code></li>`)
	}
	b.WriteString(`</ul><form method="post" action="` + ConsentPath + `">` +
		`<input type="hidden" name="interaction" value="` + html.EscapeString(interactionID) + `">` +
		`<input type="hidden" name="csrf" value="` + html.EscapeString(se.CSRF) + `">` +
		`<button type="submit" name="decision" value="allow" id="allow">Allow</button> ` +
		`<button type="submit" name="decision" value="deny" id="deny">Deny</button></form>` +
		`<p>Your choice is remembered for this application and these permissions.</p>`)
	// The allowed answer redirects to the client: a browser holds a form's
	// redirects to form-action too.
	csp = strings.Replace(csp, "form-action 'self'", "form-action 'self' "+cspSource(req.RedirectURI), 1)
	return pageResponse(http.StatusOK, "Allow "+c.Name, b.String(), csp)
}

// webURL reports whether u is an http(s) URL: only those are linked or
// shown as images (a stored javascript: or data: URI never is).
func webURL(u string) bool {
	p, err := url.Parse(u)
	return err == nil && (p.Scheme == "https" || p.Scheme == "http") && p.Host != ""
}

// signOutPage asks the person to confirm signing out (a sign-out request
// without a valid id_token_hint could come from anywhere).
func signOutPage(se signin.Session) httpapi.Response {
	var b strings.Builder
	b.WriteString(`<h1>Sign out</h1><p>Sign out <strong>` + html.EscapeString(se.Name) + `</strong> of every application of this sign-in?</p>`)
	b.WriteString(`<form method="post" action="` + EndSessionPath + `"><input type="hidden" name="csrf" value="` + html.EscapeString(se.CSRF) + `">`)
	b.WriteString(`<button type="submit" id="sign-out">Sign out</button></form>`)
	return pageResponse(http.StatusOK, "Sign out", b.String(), pageCSP)
}

func signedOutPage() httpapi.Response {
	return pageResponse(http.StatusOK, "Signed out", `<h1 id="signed-out">You are signed out</h1><p>You can close this window.</p>`, pageCSP)
}
