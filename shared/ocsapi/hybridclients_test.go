package ocsapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"identityservice/shared/identity"
	"identityservice/shared/ocsapi"
)

type hybridCreated = ocsapi.HybridClientResponseDto
type hybridDto = ocsapi.HybridClientDto

func newHybridAPI(t *testing.T) *api {
	t.Helper()
	svc := env.Service(nil)
	return newAPIWith(t, svc, ocsapi.HybridClientRoutes(svc))
}

func (a *api) createHybrid(tenantID string, body any) hybridCreated {
	a.t.Helper()
	var c hybridCreated
	a.do(http.MethodPost, hybridPath(tenantID), body).JSON(a.t, http.StatusCreated, &c)
	return c
}

func str(p *string) string {
	if p == nil {
		return "<null>"
	}
	return *p
}

func TestHybridCreate(t *testing.T) {
	a := newHybridAPI(t)
	tenantID := a.tenant(0)

	t.Run("every field", func(t *testing.T) {
		a := a.with(t)
		id := identity.NewID()
		res := a.do(http.MethodPost, hybridPath(tenantID), map[string]any{
			"ClientId": strings.ToUpper(id), "Name": "portal", "Enabled": false,
			"AllowOfflineAccess": true, "AllowAccessTokensViaBrowser": true,
			"RedirectUris":           []string{"https://app.example.com/callback", "http://localhost:5000/cb", "http://127.0.0.1/cb", "http://[::1]:8080/cb", "com.example.app:/oauth2redirect"},
			"PostLogoutRedirectUris": []string{"https://app.example.com/signed-out"},
			"ClientUri":              "https://app.example.com/", "LogoUri": "https://cdn.example.com/logo.png",
			"SecretDescription": "first", "SecretExpirationDate": "2031-04-30T11:35:12.3647771-07:00",
		})
		var c hybridCreated
		res.JSON(t, http.StatusCreated, &c)
		if c.ClientId != id || c.Name != "portal" || c.Enabled || !c.AllowOfflineAccess || !c.AllowAccessTokensViaBrowser {
			t.Fatalf("client %+v", c.HybridClientDto)
		}
		if len(c.RedirectUris) != 5 || c.RedirectUris[0] != "https://app.example.com/callback" || c.RedirectUris[4] != "com.example.app:/oauth2redirect" {
			t.Fatalf("RedirectUris %v", c.RedirectUris)
		}
		if len(c.PostLogoutRedirectUris) != 1 || c.PostLogoutRedirectUris[0] != "https://app.example.com/signed-out" {
			t.Fatalf("PostLogoutRedirectUris %v", c.PostLogoutRedirectUris)
		}
		if str(c.ClientUri) != "https://app.example.com/" || str(c.LogoUri) != "https://cdn.example.com/logo.png" {
			t.Fatalf("ClientUri %s LogoUri %s", str(c.ClientUri), str(c.LogoUri))
		}
		if len(c.ClientSecret) != 43 || c.SecretDescription != "first" || str(c.SecretExpirationDate) != "2031-04-30T18:35:12.3647771Z" {
			t.Fatalf("secret fields %q %q %s", c.ClientSecret, c.SecretDescription, str(c.SecretExpirationDate))
		}
		if loc := res.Header.Get("Location"); loc != hybridPath(tenantID, id) {
			t.Fatalf("Location %q", loc)
		}
		// Every property of HybridClientResponseDto, and SecretId a GUID
		// string (the reference's "SecretId": 0 is an error in it).
		var keys map[string]any
		_ = json.Unmarshal(res.Body, &keys)
		for _, k := range []string{"ClientSecret", "SecretId", "SecretDescription", "SecretExpirationDate", "AllowOfflineAccess", "AllowAccessTokensViaBrowser",
			"RedirectUris", "PostLogoutRedirectUris", "ClientUri", "LogoUri", "ClientId", "Name", "Enabled"} {
			if _, ok := keys[k]; !ok {
				t.Errorf("create response lacks %s: %s", k, res.Body)
			}
		}
		if len(keys) != 13 {
			t.Errorf("create response has %d properties, want 13: %s", len(keys), res.Body)
		}
		sid, ok := keys["SecretId"].(string)
		if !ok {
			t.Fatalf("SecretId is not a string: %s", res.Body)
		}
		if _, err := identity.ParseGUID("SecretId", sid); err != nil {
			t.Fatal(err)
		}
		if !env.MaterialExists(t, tenantID, id, c.SecretId) || !env.SecretWorks(t, tenantID, id, c.SecretId, c.ClientSecret) {
			t.Fatal("the returned secret does not match the stored material")
		}
		// GET shows the same client, and never the secret.
		get := a.do(http.MethodGet, hybridPath(tenantID, id), nil)
		var got map[string]any
		get.JSON(t, http.StatusOK, &got)
		if len(got) != 9 || got["ClientId"] != id || got["Name"] != "portal" || got["LogoUri"] != "https://cdn.example.com/logo.png" || strings.Contains(string(get.Body), c.ClientSecret) {
			t.Fatalf("GET body %s", get.Body)
		}
		for _, k := range []string{"ClientSecret", "SecretId", "SecretDescription", "SecretExpirationDate"} {
			if _, ok := got[k]; ok {
				t.Errorf("GET shows %s", k)
			}
		}
	})

	t.Run("defaults and generated id", func(t *testing.T) {
		a := a.with(t)
		res := a.do(http.MethodPost, hybridPath(tenantID), `{"name":"lower-case property names"}`)
		var c hybridCreated
		res.JSON(t, http.StatusCreated, &c)
		if _, err := identity.ParseGUID("ClientId", c.ClientId); err != nil {
			t.Fatal(err)
		}
		if !c.Enabled || c.AllowOfflineAccess || c.AllowAccessTokensViaBrowser || c.RedirectUris == nil || len(c.RedirectUris) != 0 ||
			c.PostLogoutRedirectUris == nil || len(c.PostLogoutRedirectUris) != 0 || c.ClientUri != nil || c.LogoUri != nil {
			t.Fatalf("defaults %s", res.Body)
		}
		if c.SecretExpirationDate != nil || c.SecretDescription != "" || len(c.ClientSecret) != 43 || c.Name != "lower-case property names" {
			t.Fatalf("%s", res.Body)
		}
	})

	t.Run("ten redirect URIs are allowed, duplicates are dropped", func(t *testing.T) {
		a := a.with(t)
		uris := make([]string, 10)
		for i := range uris {
			uris[i] = fmt.Sprintf("https://app.example.com/cb%d", i)
		}
		c := a.createHybrid(tenantID, map[string]any{"Name": "ten", "RedirectUris": uris, "PostLogoutRedirectUris": uris})
		if len(c.RedirectUris) != 10 || len(c.PostLogoutRedirectUris) != 10 {
			t.Fatalf("%d / %d URIs kept", len(c.RedirectUris), len(c.PostLogoutRedirectUris))
		}
		d := a.createHybrid(tenantID, map[string]any{"Name": "dup", "RedirectUris": []string{"https://a.example/cb", "https://a.example/cb"}})
		if len(d.RedirectUris) != 1 {
			t.Fatalf("duplicates kept: %v", d.RedirectUris)
		}
	})

	t.Run("client id exists, of either kind, in this or another tenant", func(t *testing.T) {
		a := a.with(t)
		full := newFullAPI(t)
		existing := a.createHybrid(tenantID, map[string]any{"Name": "first"}).ClientId
		cccID, _, _ := full.newClient(identity.ClientCredential, tenantID, nil)
		other := a.tenant(0)
		for _, ten := range []string{tenantID, other} {
			for _, id := range []string{existing, cccID} {
				a.do(http.MethodPost, hybridPath(ten), map[string]any{"Name": "copy", "ClientId": id}).ocsError(t, http.StatusConflict, "Client Id already exists")
			}
		}
		if n := tenantCount(t, a.svc, other); n != 0 {
			t.Fatalf("other tenant counts %d clients after refused creates", n)
		}
		if n := env.MaterialCount(t, other, ""); n != 0 {
			t.Fatalf("%d secret material left behind by refused creates", n)
		}
		var still ocsapi.ClientCredentialClientDto
		full.do(http.MethodGet, cccPath(tenantID, cccID), nil).JSON(t, http.StatusOK, &still)
	})

	t.Run("unknown tenant", func(t *testing.T) {
		a := a.with(t)
		ghost := identity.NewID()
		a.do(http.MethodPost, hybridPath(ghost), map[string]any{"Name": "x"}).ocsError(t, http.StatusNotFound, "Tenant not found")
		if n := env.MaterialCount(t, ghost, ""); n != 0 {
			t.Fatalf("%d secret material left behind for an unknown tenant", n)
		}
	})
}

// badURICases are redirect URIs a Hybrid client must not accept, with what
// the refusal must say.
func badURICases(field string) []struct{ name, body, reason string } {
	elevenURIs := make([]string, 11)
	for i := range elevenURIs {
		elevenURIs[i] = fmt.Sprintf("https://app.example.com/cb%d", i)
	}
	eleven, _ := json.Marshal(elevenURIs)
	one := func(u string) string {
		return `{"Name":"a","` + field + `":["https://ok.example.com/cb",` + mustJSON(u) + `]}`
	}
	return []struct{ name, body, reason string }{
		{field + " with a fragment", one("https://app.example.com/cb#frag"), field + "[1]"},
		{field + " with an empty fragment", one("https://app.example.com/cb#"), "has a fragment"},
		{field + " http on a public host", one("http://app.example.com/cb"), "not loopback"},
		{field + " http on a private address", one("http://10.0.0.1/cb"), "not loopback"},
		{field + " relative", one("/callback"), "not an absolute URI"},
		{field + " no scheme", one("app.example.com/cb"), "not an absolute URI"},
		{field + " https without host", one("https:///cb"), "has no host"},
		{field + " javascript scheme", one("javascript:alert(1)"), "javascript scheme"},
		{field + " 11 URIs", `{"Name":"a","` + field + `":` + string(eleven) + `}`, "has 11 URIs; the limit is 10"},
		{field + " not an array", `{"Name":"a","` + field + `":"https://app.example.com/cb"}`, field + " must be an array"},
	}
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

func TestHybridCreateRejectsBadInput(t *testing.T) {
	a := newHybridAPI(t)
	tenantID := a.tenant(0)
	type tc = struct{ name, body, reason string }
	cases := append(badURICases("RedirectUris"), badURICases("PostLogoutRedirectUris")...)
	cases = append(cases,
		tc{"ClientUri relative", `{"Name":"a","ClientUri":"/about"}`, "ClientUri \"/about\" is not an absolute http(s) URI"},
		tc{"ClientUri ftp", `{"Name":"a","ClientUri":"ftp://example.com/"}`, "ClientUri"},
		tc{"ClientUri custom scheme", `{"Name":"a","ClientUri":"com.example.app:/home"}`, "ClientUri"},
		tc{"LogoUri relative", `{"Name":"a","LogoUri":"logo.png"}`, "LogoUri \"logo.png\" is not an absolute http(s) URI"},
		tc{"LogoUri data", `{"Name":"a","LogoUri":"data:image/png;base64,AAAA"}`, "LogoUri"},
		tc{"name missing", `{"RedirectUris":["https://app.example.com/cb"]}`, "Name is required"},
		tc{"name too long", `{"Name":"` + strings.Repeat("n", 201) + `"}`, "the limit is 200"},
		tc{"name with a bidi override and a zero-width space", `{"Name":"demo administrator\u202e\u200b"}`, "Name contains the invisible formatting character U+202E"},
		tc{"client id not a GUID", `{"Name":"a","ClientId":"ClientId"}`, `ClientId "ClientId" is not a GUID`},
		tc{"past expiration", `{"Name":"a","SecretExpirationDate":"2020-01-01T00:00:00Z"}`, "not in the future"},
		tc{"bad date", `{"Name":"a","SecretExpirationDate":"tomorrow"}`, "not a date-time"},
		tc{"SecretId is not an input", `{"Name":"a","SecretId":0}`, `"SecretId" is not part of this request`},
		tc{"RoleIds are not a Hybrid property", `{"Name":"a","RoleIds":[]}`, `"RoleIds" is not part of this request`},
		tc{"Tags are not a Hybrid property", `{"Name":"a","Tags":["x"]}`, `"Tags" is not part of this request`},
		tc{"offline access is a boolean", `{"Name":"a","AllowOfflineAccess":"yes"}`, "AllowOfflineAccess must be a boolean"},
		tc{"malformed JSON", `{"Name":"a",`, "truncated JSON"},
		tc{"empty body", ``, "empty"},
	)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a := a.with(t)
			a.do(http.MethodPost, hybridPath(tenantID), c.body).ocsError(t, http.StatusBadRequest, c.reason)
		})
	}
	t.Run("RedirectUris http on a public host named 127.*", func(t *testing.T) {
		a := a.with(t)
		a.do(http.MethodPost, hybridPath(tenantID), `{"Name":"a","RedirectUris":["http://127.example.com/cb"]}`).ocsError(t, http.StatusBadRequest, "not loopback")
	})
	t.Run("tenant id not a GUID", func(t *testing.T) {
		a := a.with(t)
		a.do(http.MethodPost, "/api/Tenants/acme/HybridClient", `{"Name":"a"}`).ocsError(t, http.StatusBadRequest, `tenantId "acme" is not a GUID`)
	})
	// Nothing was stored by any of them.
	var list []hybridDto
	a.do(http.MethodGet, hybridPath(tenantID), nil).JSON(t, http.StatusOK, &list)
	if len(list) != 0 || tenantCount(t, a.svc, tenantID) != 0 || env.MaterialCount(t, tenantID, "") != 0 {
		t.Fatalf("refused creates left %d clients, count %d, %d material", len(list), tenantCount(t, a.svc, tenantID), env.MaterialCount(t, tenantID, ""))
	}
}

func TestHybridGet(t *testing.T) {
	a := newHybridAPI(t)
	tenantID := a.tenant(0)
	c := a.createHybrid(tenantID, map[string]any{"Name": "web", "RedirectUris": []string{"https://web.example.com/cb"}, "AllowOfflineAccess": true})
	var got hybridDto
	a.do(http.MethodGet, hybridPath(tenantID, c.ClientId), nil).JSON(t, http.StatusOK, &got)
	if got.ClientId != c.ClientId || got.Name != "web" || !got.Enabled || !got.AllowOfflineAccess || got.AllowAccessTokensViaBrowser ||
		len(got.RedirectUris) != 1 || got.RedirectUris[0] != "https://web.example.com/cb" || len(got.PostLogoutRedirectUris) != 0 || got.ClientUri != nil {
		t.Fatalf("%+v", got)
	}
	a.do(http.MethodGet, hybridPath(tenantID, strings.ToUpper(c.ClientId))+"/", nil).JSON(t, http.StatusOK, &got)
	a.do(http.MethodGet, hybridPath(tenantID, identity.NewID()), nil).ocsError(t, http.StatusNotFound, "Client not found")
	a.do(http.MethodGet, hybridPath(identity.NewID(), c.ClientId), nil).ocsError(t, http.StatusNotFound, "Tenant not found")
	a.do(http.MethodGet, hybridPath(a.tenant(0), c.ClientId), nil).ocsError(t, http.StatusNotFound, "Client not found")
	a.do(http.MethodGet, hybridPath(tenantID, "not-a-guid"), nil).ocsError(t, http.StatusBadRequest, `clientId "not-a-guid" is not a GUID`)
	a.do(http.MethodGet, "/api/Tenants/"+tenantID+"/HybridClients/"+c.ClientId, nil).ocsError(t, http.StatusNotFound, "Route not found")
	a.do(http.MethodGet, "/api/tenants/"+tenantID+"/hybridclient/"+c.ClientId, nil).ocsError(t, http.StatusNotFound, "Route not found")
}

func TestHybridList(t *testing.T) {
	a := newFullAPI(t)
	tenantID := a.tenant(0)
	var ids []string
	for i := range 5 {
		ids = append(ids, a.createHybrid(tenantID, map[string]any{"Name": fmt.Sprintf("h%d", i), "LogoUri": "https://cdn.example.com/" + fmt.Sprint(i) + ".png"}).ClientId)
	}
	cccID, _, _ := a.newClient(identity.ClientCredential, tenantID, nil)
	list := func(query string) ([]hybridDto, string) {
		t.Helper()
		res := a.do(http.MethodGet, hybridPath(tenantID)+query, nil)
		var l []hybridDto
		res.JSON(t, http.StatusOK, &l)
		return l, res.Header.Get("Total-Count")
	}
	all, total := list("")
	if len(all) != 5 || total != "5" {
		t.Fatalf("%d clients, Total-Count %s (a Client Credential client must not be listed)", len(all), total)
	}
	for i, c := range all {
		if c.ClientId == cccID {
			t.Fatal("a Client Credential client is in the Hybrid list")
		}
		if c.ClientId != ids[i] {
			t.Fatalf("list position %d is %s, want %s: not in creation order", i, c.ClientId, ids[i])
		}
		if c.LogoUri == nil || !strings.HasPrefix(*c.LogoUri, "https://cdn.example.com/") {
			t.Fatalf("listed client lacks its LogoUri: %+v", c)
		}
	}
	for _, id := range ids {
		found := false
		for _, c := range all {
			found = found || c.ClientId == id
		}
		if !found {
			t.Fatalf("client %s not listed", id)
		}
	}
	var cccList []ocsapi.ClientCredentialClientDto
	a.do(http.MethodGet, cccPath(tenantID), nil).JSON(t, http.StatusOK, &cccList)
	if len(cccList) != 1 || cccList[0].ClientId != cccID {
		t.Fatalf("the Client Credential list shows Hybrid clients: %+v", cccList)
	}

	page, total := list("?skip=1&count=2")
	if len(page) != 2 || page[0].ClientId != all[1].ClientId || page[1].ClientId != all[2].ClientId || total != "5" {
		t.Fatalf("page %v, Total-Count %s", page, total)
	}
	if last, total := list("?skip=4&count=1000"); len(last) != 1 || last[0].ClientId != all[4].ClientId || total != "5" {
		t.Fatalf("last page %v, Total-Count %s", last, total)
	}
	if past, total := list("?skip=10"); len(past) != 0 || total != "5" {
		t.Fatalf("skip past the end: %d, %s", len(past), total)
	}
	if blank, _ := list("?query="); len(blank) != 5 {
		t.Fatalf("empty query: %d clients", len(blank))
	}
	if withSlash, total := list("/"); len(withSlash) != 5 || total != "5" {
		t.Fatalf("trailing slash: %d", len(withSlash))
	}
	for _, tc := range []struct{ query, reason string }{
		{"?count=0", "count=0 is not valid"},
		{"?count=1001", "count=1001 is not valid"},
		{"?count=ten", "count=ten is not valid"},
		{"?skip=-1", "skip=-1 is not valid"},
		{"?skip=x", "skip=x is not valid"},
		{"?query=Name%20eq%20h1", "query parameter is not supported"},
	} {
		t.Run(tc.query, func(t *testing.T) {
			a := a.with(t)
			a.do(http.MethodGet, hybridPath(tenantID)+tc.query, nil).ocsError(t, http.StatusBadRequest, tc.reason)
		})
	}
	empty := a.tenant(0)
	res := a.do(http.MethodGet, hybridPath(empty), nil)
	if res.Status != http.StatusOK || strings.TrimSpace(string(res.Body)) != "[]" || res.Header.Get("Total-Count") != "0" {
		t.Fatalf("empty tenant: %d %s", res.Status, res.Body)
	}
	a.do(http.MethodGet, hybridPath(identity.NewID()), nil).ocsError(t, http.StatusNotFound, "Tenant not found")
	a.do(http.MethodGet, "/api/Tenants/acme/HybridClient", nil).ocsError(t, http.StatusBadRequest, `tenantId "acme" is not a GUID`)
}

func TestHybridUpdate(t *testing.T) {
	a := newHybridAPI(t)
	tenantID := a.tenant(0)
	c := a.createHybrid(tenantID, map[string]any{
		"Name": "before", "AllowOfflineAccess": true,
		"RedirectUris": []string{"https://app.example.com/cb"}, "PostLogoutRedirectUris": []string{"https://app.example.com/out"},
		"ClientUri": "https://app.example.com/", "LogoUri": "https://app.example.com/logo.png",
	})
	path := hybridPath(tenantID, c.ClientId)
	get := func() hybridDto {
		t.Helper()
		var got hybridDto
		a.do(http.MethodGet, path, nil).JSON(t, http.StatusOK, &got)
		return got
	}
	same := func(got, want hybridDto) bool {
		return fmt.Sprintf("%v %v %v %v %s %s %s %v", got.AllowOfflineAccess, got.AllowAccessTokensViaBrowser, got.RedirectUris, got.PostLogoutRedirectUris, str(got.ClientUri), str(got.LogoUri), got.Name, got.Enabled) ==
			fmt.Sprintf("%v %v %v %v %s %s %s %v", want.AllowOfflineAccess, want.AllowAccessTokensViaBrowser, want.RedirectUris, want.PostLogoutRedirectUris, str(want.ClientUri), str(want.LogoUri), want.Name, want.Enabled)
	}

	t.Run("absent and null properties keep their value", func(t *testing.T) {
		a := a.with(t)
		before := get()
		var got hybridDto
		a.do(http.MethodPut, path, map[string]any{"Name": "after", "RedirectUris": nil, "ClientUri": nil, "LogoUri": nil, "AllowOfflineAccess": nil, "Enabled": nil}).JSON(t, http.StatusOK, &got)
		want := before
		want.Name = "after"
		if !same(got, want) || got.ClientId != c.ClientId {
			t.Fatalf("PUT answered %+v, want %+v", got, want)
		}
		if stored := get(); !same(stored, want) {
			t.Fatalf("stored %+v, want %+v", stored, want)
		}
		a.do(http.MethodPut, path, `{}`).JSON(t, http.StatusOK, &got)
		if !same(got, want) {
			t.Fatalf("empty update changed the client: %+v", got)
		}
	})

	t.Run("every property changes", func(t *testing.T) {
		a := a.with(t)
		var got hybridDto
		a.do(http.MethodPut, path, map[string]any{
			"ClientId": strings.ToUpper(c.ClientId), "Name": "renamed", "Enabled": false,
			"AllowOfflineAccess": false, "AllowAccessTokensViaBrowser": true,
			"RedirectUris": []string{"https://new.example.com/cb", "http://localhost:3000/cb"}, "PostLogoutRedirectUris": []string{},
			"ClientUri": "https://new.example.com/", "LogoUri": "http://new.example.com/logo.png",
		}).JSON(t, http.StatusOK, &got)
		want := hybridDto{Name: "renamed", AllowAccessTokensViaBrowser: true, RedirectUris: []string{"https://new.example.com/cb", "http://localhost:3000/cb"},
			PostLogoutRedirectUris: []string{}, ClientUri: ptr("https://new.example.com/"), LogoUri: ptr("http://new.example.com/logo.png")}
		if !same(got, want) || !same(get(), want) {
			t.Fatalf("PUT answered %+v, stored %+v, want %+v", got, get(), want)
		}
	})

	t.Run("refused updates change nothing", func(t *testing.T) {
		a := a.with(t)
		before := get()
		type tc = struct{ name, body, reason string }
		cases := append(badURICases("RedirectUris"), badURICases("PostLogoutRedirectUris")...)
		cases = append(cases,
			tc{"ClientUri relative", `{"ClientUri":"/about","Name":"x"}`, "ClientUri"},
			tc{"LogoUri custom scheme", `{"LogoUri":"com.example.app:/logo","Name":"x"}`, "LogoUri"},
			tc{"other client id", `{"ClientId":"` + identity.NewID() + `","Name":"x"}`, "differs from"},
			tc{"client id not a GUID", `{"ClientId":"abc","Name":"x"}`, "not a GUID"},
			tc{"blank name", `{"Name":" "}`, "Name is required"},
			tc{"secret fields are not part of an update", `{"SecretDescription":"x","Name":"x"}`, "SecretDescription"},
			tc{"RoleIds are not a Hybrid property", `{"RoleIds":[],"Name":"x"}`, "RoleIds"},
			tc{"wrong type", `{"Enabled": 1}`, "Enabled must be a boolean"},
			tc{"malformed", `{`, "JSON"},
		)
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				a := a.with(t)
				a.do(http.MethodPut, path, c.body).ocsError(t, http.StatusBadRequest, c.reason)
			})
		}
		if after := get(); !same(after, before) {
			t.Fatalf("refused updates changed the client: %+v, was %+v", after, before)
		}
	})

	t.Run("not found", func(t *testing.T) {
		a := a.with(t)
		a.do(http.MethodPut, hybridPath(tenantID, identity.NewID()), map[string]any{"Name": "x"}).ocsError(t, http.StatusNotFound, "Client not found")
		a.do(http.MethodPut, hybridPath(identity.NewID(), c.ClientId), map[string]any{"Name": "x"}).ocsError(t, http.StatusNotFound, "Tenant not found")
		a.do(http.MethodPut, hybridPath(a.tenant(0), c.ClientId), map[string]any{"Name": "x"}).ocsError(t, http.StatusNotFound, "Client not found")
		if get().Name == "x" {
			t.Fatal("a refused update renamed the client")
		}
	})
}

func ptr[T any](v T) *T { return &v }

func TestHybridDelete(t *testing.T) {
	a := newFullAPI(t)
	tenantID := a.tenant(0)
	c := a.createHybrid(tenantID, map[string]any{"Name": "doomed"})
	var added ocsapi.ClientSecretResponseDto
	a.do(http.MethodPost, secretsPath(identity.Hybrid, tenantID, c.ClientId), map[string]any{"Description": "second"}).JSON(t, http.StatusCreated, &added)
	keep := a.createHybrid(tenantID, map[string]any{"Name": "kept"})
	if !env.MaterialExists(t, tenantID, c.ClientId, c.SecretId) || !env.MaterialExists(t, tenantID, c.ClientId, added.SecretId) {
		t.Fatal("no material before delete")
	}
	other := a.tenant(0)
	a.do(http.MethodDelete, hybridPath(other, c.ClientId), nil).ocsError(t, http.StatusNotFound, "Client not found")
	a.do(http.MethodDelete, hybridPath(tenantID, "nope"), nil).ocsError(t, http.StatusBadRequest, "not a GUID")
	if !env.MaterialExists(t, tenantID, c.ClientId, c.SecretId) {
		t.Fatal("a refused delete destroyed material")
	}

	res := a.do(http.MethodDelete, hybridPath(tenantID, c.ClientId), nil)
	if res.Status != http.StatusNoContent || len(res.Body) != 0 {
		t.Fatalf("delete: %d %s", res.Status, res.Body)
	}
	if env.MaterialExists(t, tenantID, c.ClientId, c.SecretId) || env.MaterialExists(t, tenantID, c.ClientId, added.SecretId) {
		t.Fatal("the deleted client's secret material is still live")
	}
	if !env.MaterialExists(t, tenantID, keep.ClientId, keep.SecretId) {
		t.Fatal("another client's material was destroyed")
	}
	a.do(http.MethodGet, hybridPath(tenantID, c.ClientId), nil).ocsError(t, http.StatusNotFound, "Client not found")
	a.do(http.MethodGet, secretsPath(identity.Hybrid, tenantID, c.ClientId), nil).ocsError(t, http.StatusNotFound, "Client not found")
	a.do(http.MethodDelete, hybridPath(tenantID, c.ClientId), nil).ocsError(t, http.StatusNotFound, "Client not found")
	a.do(http.MethodDelete, hybridPath(identity.NewID(), c.ClientId), nil).ocsError(t, http.StatusNotFound, "Tenant not found")
	var list []hybridDto
	a.do(http.MethodGet, hybridPath(tenantID), nil).JSON(t, http.StatusOK, &list)
	if len(list) != 1 || list[0].ClientId != keep.ClientId {
		t.Fatalf("list after delete: %+v", list)
	}
	if n := tenantCount(t, a.svc, tenantID); n != 1 {
		t.Fatalf("counter %d after delete, want 1", n)
	}
	// The id is never reused, in any tenant.
	for _, ten := range []string{other, tenantID} {
		a.do(http.MethodPost, hybridPath(ten), map[string]any{"Name": "reborn", "ClientId": c.ClientId}).ocsError(t, http.StatusConflict, "Client Id already exists")
	}
	if a.authenticates(c.ClientId, c.ClientSecret) {
		t.Fatal("the deleted client's secret still authenticates")
	}
}

// A client id of one kind is not found on the other kind's routes, and
// nothing is changed through them.
func TestClientKindsDoNotMix(t *testing.T) {
	a := newFullAPI(t)
	tenantID := a.tenant(0)
	hyb := a.createHybrid(tenantID, map[string]any{"Name": "hybrid"})
	cccID, cccSecret, _ := a.newClient(identity.ClientCredential, tenantID, map[string]any{"Name": "machine"})
	for _, tc := range []struct {
		name, method, path string
		body               any
	}{
		{"Hybrid id on Client Credential GET", http.MethodGet, cccPath(tenantID, hyb.ClientId), nil},
		{"Hybrid id on Client Credential PUT", http.MethodPut, cccPath(tenantID, hyb.ClientId), map[string]any{"Name": "hijacked"}},
		{"Hybrid id on Client Credential DELETE", http.MethodDelete, cccPath(tenantID, hyb.ClientId), nil},
		{"Client Credential id on Hybrid GET", http.MethodGet, hybridPath(tenantID, cccID), nil},
		{"Client Credential id on Hybrid PUT", http.MethodPut, hybridPath(tenantID, cccID), map[string]any{"Name": "hijacked"}},
		{"Client Credential id on Hybrid DELETE", http.MethodDelete, hybridPath(tenantID, cccID), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := a.with(t)
			a.do(tc.method, tc.path, tc.body).ocsError(t, http.StatusNotFound, "Client not found")
		})
	}
	var h hybridDto
	a.do(http.MethodGet, hybridPath(tenantID, hyb.ClientId), nil).JSON(t, http.StatusOK, &h)
	var c ocsapi.ClientCredentialClientDto
	a.do(http.MethodGet, cccPath(tenantID, cccID), nil).JSON(t, http.StatusOK, &c)
	if h.Name != "hybrid" || c.Name != "machine" {
		t.Fatalf("a request on the wrong kind's route changed a client: %q %q", h.Name, c.Name)
	}
	if !env.MaterialExists(t, tenantID, hyb.ClientId, hyb.SecretId) || !env.MaterialExists(t, tenantID, cccID, cccSecret) {
		t.Fatal("a delete on the wrong kind's route destroyed material")
	}
	if n := tenantCount(t, a.svc, tenantID); n != 2 {
		t.Fatalf("counter %d, want 2", n)
	}
	// Stored data is untouched at the store level too.
	if _, err := a.svc.GetClient(context.Background(), tenantID, identity.Hybrid, hyb.ClientId); err != nil {
		t.Fatal(err)
	}
}
