package localidp_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"identityservice/infra/localidp"
)

const callback = "http://127.0.0.1:1/identity/connect/upstream/callback"

// A person signs in at the local provider through its HTML login form
// with a cookie-keeping client and comes back to the registered callback
// with a code; a wrong password gets the form again with its error; an
// unregistered redirect URI is refused; prompt=none cannot sign in.
func TestSignInThroughTheLoginForm(t *testing.T) {
	ctx := context.Background()
	idp := localidp.ForTest(t, localidp.Config{RedirectURIs: []string{callback}})

	res, err := http.Get(idp.Issuer + "/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	var disco struct {
		AuthorizationEndpoint string `json:"authorization_endpoint"`
	}
	json.NewDecoder(res.Body).Decode(&disco)
	res.Body.Close()
	if disco.AuthorizationEndpoint == "" {
		t.Fatal("no authorization_endpoint in the discovery document")
	}
	conf := oauth2.Config{ClientID: idp.ClientID, ClientSecret: idp.ClientSecret, RedirectURL: callback,
		Endpoint: oauth2.Endpoint{AuthURL: disco.AuthorizationEndpoint}, Scopes: []string{"openid", "email", "profile"}}
	authURL := func(extra ...oauth2.AuthCodeOption) string {
		return conf.AuthCodeURL("st4te", append(extra, oauth2.S256ChallengeOption(oauth2.GenerateVerifier()), oauth2.SetAuthURLParam("nonce", "n0nce"))...)
	}
	client := func() *http.Client {
		jar, _ := cookiejar.New(nil)
		return &http.Client{Jar: jar, CheckRedirect: localidp.StopAt(callback)}
	}

	t.Run("the demo administrator", func(t *testing.T) {
		res, err := localidp.SignIn(ctx, client(), authURL(), idp.Admin)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		loc, _ := url.Parse(res.Header.Get("Location"))
		if res.StatusCode != http.StatusFound || !strings.HasPrefix(loc.String(), callback) || loc.Query().Get("code") == "" || loc.Query().Get("state") != "st4te" {
			t.Fatalf("after the login form: HTTP %d to %q, want a redirect to the callback with a code and the state", res.StatusCode, loc)
		}
	})
	t.Run("a wrong password", func(t *testing.T) {
		who := idp.NoRole
		who.Password = "not-" + who.Password
		res, err := localidp.SignIn(ctx, client(), authURL(), who)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK || !strings.Contains(string(body), "username or password wrong") {
			t.Fatalf("HTTP %d %q, want the login form again with its error", res.StatusCode, body)
		}
	})
	t.Run("an unregistered redirect URI", func(t *testing.T) {
		other := conf
		other.RedirectURL = "http://127.0.0.1:1/elsewhere"
		res, err := client().Get(other.AuthCodeURL("s", oauth2.S256ChallengeOption(oauth2.GenerateVerifier())))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if _, err := localidp.ParseLoginForm(res.Request.URL, string(body)); err == nil {
			t.Fatal("the provider showed its login form for an unregistered redirect URI")
		}
	})
	t.Run("prompt=none", func(t *testing.T) {
		res, err := client().Get(authURL(oauth2.SetAuthURLParam("prompt", "none")))
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		loc, _ := url.Parse(res.Header.Get("Location"))
		if loc == nil || loc.Query().Get("error") != "login_required" {
			t.Fatalf("prompt=none: HTTP %d to %q, want error=login_required at the callback", res.StatusCode, loc)
		}
	})
}
