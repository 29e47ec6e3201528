package localidp

import (
	"context"
	"errors"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
)

// What a person's browser does at the provider's login page, for tests
// that sign in with an http.Client (keeping cookies, following redirects
// as it is set to): find the page's form, fill in the username and
// password, submit it.

// ErrNoLoginForm means the page is not the provider's login form.
var ErrNoLoginForm = errors.New("not the local provider's login form (no form with a username and a password field)")

// LoginForm is an HTML form as a browser would submit it.
type LoginForm struct {
	Action *url.URL   // resolved against the page's URL
	Fields url.Values // the hidden inputs
}

var (
	formTag  = regexp.MustCompile(`(?is)<form\b([^>]*)>(.*?)</form>`)
	inputTag = regexp.MustCompile(`(?is)<input\b([^>]*)>`)
	attr     = regexp.MustCompile(`(?is)\b([a-z-]+)\s*=\s*"([^"]*)"`)
)

func attrs(tag string) map[string]string {
	m := map[string]string{}
	for _, a := range attr.FindAllStringSubmatch(tag, -1) {
		m[strings.ToLower(a[1])] = html.UnescapeString(a[2])
	}
	return m
}

// ParseLoginForm finds the login form (the one with a password field) in
// a page served at pageURL.
func ParseLoginForm(pageURL *url.URL, body string) (LoginForm, error) {
	for _, f := range formTag.FindAllStringSubmatch(body, -1) {
		form := LoginForm{Fields: url.Values{}}
		var user, password bool
		for _, in := range inputTag.FindAllStringSubmatch(f[2], -1) {
			a := attrs(in[1])
			switch {
			case a["name"] == "username":
				user = true
			case a["type"] == "password":
				password = true
			case a["type"] == "hidden" && a["name"] != "":
				form.Fields.Set(a["name"], a["value"])
			}
		}
		if !user || !password {
			continue
		}
		action, err := pageURL.Parse(attrs(f[1])["action"])
		if err != nil {
			return LoginForm{}, fmt.Errorf("the login form's action: %w", err)
		}
		form.Action = action
		return form, nil
	}
	return LoginForm{}, ErrNoLoginForm
}

// SubmitLogin submits the login form of page (a response whose body is
// the provider's login page, not yet read) as username with password; the
// client follows the redirects that come back as it is set to. A wrong
// password answers the login page again (with its error), not an error.
func SubmitLogin(ctx context.Context, c *http.Client, page *http.Response, username, password string) (*http.Response, error) {
	body, err := io.ReadAll(io.LimitReader(page.Body, 1<<20))
	page.Body.Close()
	if err != nil {
		return nil, err
	}
	form, err := ParseLoginForm(page.Request.URL, string(body))
	if err != nil {
		return nil, fmt.Errorf("%s (HTTP %d): %w", page.Request.URL, page.StatusCode, err)
	}
	form.Fields.Set("username", username)
	form.Fields.Set("password", password)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, form.Action.String(), strings.NewReader(form.Fields.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return c.Do(req)
}

// SignIn opens startURL (an authorization request that leads, through
// redirects, to the provider's login page) and signs in as the person.
// It returns the response after the login form, as the client's redirect
// policy left it.
func SignIn(ctx context.Context, c *http.Client, startURL string, who Person) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, startURL, nil)
	if err != nil {
		return nil, err
	}
	page, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	return SubmitLogin(ctx, c, page, who.Username, who.Password)
}

// StopAt is a CheckRedirect that follows redirects until one goes to a
// URL starting with prefix (e.g. a callback no server answers in the
// test) and returns that redirect's response instead.
func StopAt(prefix string) func(*http.Request, []*http.Request) error {
	return func(req *http.Request, via []*http.Request) error {
		if strings.HasPrefix(req.URL.String(), prefix) {
			return http.ErrUseLastResponse
		}
		if len(via) >= 10 {
			return errors.New("stopped after 10 redirects")
		}
		return nil
	}
}

// CodeAt reads the authorization code of a redirect (location) to a
// relying party's redirectURI, in its query (response_mode query); "" when
// location is not one. The fault matrix and the bench, which serve
// requests without a browser, read their codes with it.
func CodeAt(location, redirectURI string) string {
	if !strings.HasPrefix(location, redirectURI+"?") {
		return ""
	}
	u, err := url.Parse(location)
	if err != nil {
		return ""
	}
	return u.Query().Get("code")
}
