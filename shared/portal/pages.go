package portal

import (
	"fmt"
	"html"
	"io/fs"
	"net/url"
	"regexp"
	"strings"
)

// The pages are HTML files under web/pages with five markers, filled in
// per request:
//
//	{{head}}, {{banner}}  the shared parts, web/pages/parts/head.html and banner.html
//	{{state}}             the state parameter in a quoted attribute (data-state):
//	                      HTML-escaped (html.EscapeString)
//	{{state-query}}       "?state=" and the state, query-escaped (url.QueryEscape,
//	                      whose output needs no HTML escaping), or "" without state
//	{{request-error}}     a notice about the request itself, HTML-escaped, or ""
//	{{tenant}}            the tenant of the dashboard's sign-in form (a GUID, or ""),
//	                      HTML-escaped
//
// They are not html/template templates on purpose: executing a
// text/template makes the linker keep every exported method of every
// linked type (it can call methods by name), which made PortalFunction
// about 4.5 MB larger than the other functions and over the 15 MB budget.
// Four fixed markers in known contexts need no template engine; the
// escaping is the standard library's.

// pageData is what a page is filled in with.
type pageData struct {
	State  string // the request's state, carried in the page's links ("" when absent)
	Error  string // a message about the request itself, e.g. a state that is too long
	Tenant string // the tenant the sign-in form proposes: of the last sign-in, or the one just tried
}

// pageSet holds each page with its shared parts already in place.
type pageSet map[string]string

var marker = regexp.MustCompile(`\{\{[^}]*\}\}`)

// loadPages reads every page of dir and checks that it holds only the
// known markers.
func loadPages(fsys fs.FS, dir string) (pageSet, error) {
	part := func(name string) (string, error) {
		b, err := fs.ReadFile(fsys, dir+"/"+name)
		return strings.TrimRight(string(b), "\n"), err
	}
	head, err := part("parts/head.html")
	if err != nil {
		return nil, err
	}
	banner, err := part("parts/banner.html")
	if err != nil {
		return nil, err
	}
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, err
	}
	set := pageSet{}
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !strings.HasSuffix(name, ".html") {
			continue
		}
		b, err := fs.ReadFile(fsys, dir+"/"+name)
		if err != nil {
			return nil, err
		}
		page := strings.NewReplacer("{{head}}", head, "{{banner}}", banner).Replace(string(b))
		for _, m := range marker.FindAllString(page, -1) {
			if m != "{{state}}" && m != "{{state-query}}" && m != "{{request-error}}" && m != "{{tenant}}" {
				return nil, fmt.Errorf("page %s: unknown marker %s", name, m)
			}
		}
		set[name] = page
	}
	return set, nil
}

// render fills in page name. The replacer makes one pass, so nothing the
// state holds is read as a marker.
func (p pageSet) render(name string, d pageData) (string, error) {
	page, ok := p[name]
	if !ok {
		return "", fmt.Errorf("no page %s", name)
	}
	query := ""
	if d.State != "" {
		query = "?state=" + url.QueryEscape(d.State)
	}
	notice := ""
	if d.Error != "" {
		notice = `<p class="notice error" role="alert" id="request-error">` + html.EscapeString(d.Error) + `</p>`
	}
	return strings.NewReplacer("{{state}}", html.EscapeString(d.State), "{{state-query}}", query, "{{request-error}}", notice,
		"{{tenant}}", html.EscapeString(d.Tenant)).Replace(page), nil
}
