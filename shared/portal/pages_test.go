package portal

import (
	"html"
	"net/url"
	"strings"
	"testing"
	"testing/fstest"
)

// The page renderer puts the state in each place escaped for that place,
// reads nothing in the state as a marker, and refuses a page with a marker
// it does not know.
func TestPagesEscapeTheStateForEachPlace(t *testing.T) {
	fsys := fstest.MapFS{
		"p/parts/head.html":   {Data: []byte("<title>t</title>\n")},
		"p/parts/banner.html": {Data: []byte(`<a href="/home{{state-query}}">home</a>` + "\n")},
		"p/page.html":         {Data: []byte(`{{head}}<body data-state="{{state}}">{{banner}}{{request-error}}</body>`)},
	}
	set, err := loadPages(fsys, "p")
	if err != nil {
		t.Fatal(err)
	}
	state := `"><script>alert(1)</script>{{request-error}}&x=1 '`
	got, err := set.render("page.html", pageData{State: state, Error: `<b>too long</b>`})
	if err != nil {
		t.Fatal(err)
	}
	want := `<title>t</title><body data-state="` + html.EscapeString(state) + `"><a href="/home?state=` + url.QueryEscape(state) + `">home</a>` +
		`<p class="notice error" role="alert" id="request-error">&lt;b&gt;too long&lt;/b&gt;</p></body>`
	if got != want {
		t.Fatalf("rendered\n%s\nwant\n%s", got, want)
	}
	if strings.Contains(got, "<script>") || strings.Count(got, `id="request-error"`) != 1 {
		t.Fatalf("the state escaped its place: %s", got)
	}

	plain, err := set.render("page.html", pageData{})
	if err != nil {
		t.Fatal(err)
	}
	if plain != `<title>t</title><body data-state=""><a href="/home">home</a></body>` {
		t.Fatalf("without state or error: %s", plain)
	}
	if _, err := set.render("missing.html", pageData{}); err == nil {
		t.Fatal("a page that does not exist rendered")
	}

	fsys["p/bad.html"] = &fstest.MapFile{Data: []byte(`<p>{{.State}}</p>`)}
	if _, err := loadPages(fsys, "p"); err == nil || !strings.Contains(err.Error(), "{{.State}}") {
		t.Fatalf("a page with an unknown marker loaded: %v", err)
	}
}

// The embedded pages load (no unknown marker) and every route's page is
// there.
func TestEmbeddedPagesLoad(t *testing.T) {
	for _, name := range []string{"dashboard.html", "profile.html", "noaccess.html"} {
		page, ok := pages[name]
		if !ok {
			t.Fatalf("no page %s", name)
		}
		if strings.Contains(page, "{{head}}") || strings.Contains(page, "{{banner}}") {
			t.Fatalf("%s: shared parts not in place", name)
		}
	}
	// Sign-in sends a person the tenant does not admit to the no-access
	// page (shared/signinapi): it says so without script.
	if !strings.Contains(pages["noaccess.html"], `id="person-no-access"`) {
		t.Fatal("the no-access page says nothing to a person turned away at sign-in")
	}
}
