package apitest

// AVEVA's public samples, replayed: the requests they make (paths,
// methods, bodies byte for byte where they build them) and the answer
// fields they read, against the whole API. The samples:
//   - sample-adh-authentication_client_credentials_simple (Python,
//     program.py): discovery, a client_secret_post token request, then
//     GET /api/{ApiVersion}/Tenants/{TenantId} must answer 200;
//   - sample-adh-setup_script-python (procedures/SetupProcedures.py,
//     createClient and createSecret, ApiVersion v1): list the tenant's
//     Client Credential clients (count=1000) and look one up by Name
//     reading Id; else create one and read Client.Id and Secret; add a
//     secret to it through .../Secrets and read Secret.

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"identityservice/shared/httpapi"
	"identityservice/shared/identity"
	"identityservice/shared/tokenapi"
)

// samplePost is the simple sample's token request: a form with
// client_id, client_secret and grant_type (Python requests' data=).
func (s *stack) samplePost(t *testing.T, tokenURL, clientID, secret string) (accessToken string, expiresIn int) {
	t.Helper()
	form := url.Values{"client_id": {clientID}, "client_secret": {secret}, "grant_type": {"client_credentials"}}
	req, err := http.NewRequest(http.MethodPost, tokenURL, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	res, err := s.client.Send(req)
	if err != nil {
		t.Fatal(err)
	}
	var tok tokenResponse
	if err := json.Unmarshal(res.Body, &tok); err != nil || res.Status != http.StatusOK || tok.AccessToken == "" {
		t.Fatalf("token request: %s", res)
	}
	return tok.AccessToken, tok.ExpiresIn
}

// lifetimeOf is exp - iat of an access token, in seconds.
func lifetimeOf(t *testing.T, token string) int64 {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", token)
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var c struct{ Exp, Iat int64 }
	if err := json.Unmarshal(raw, &c); err != nil || c.Exp == 0 || c.Iat == 0 {
		t.Fatalf("claims %s: %v", raw, err)
	}
	return c.Exp - c.Iat
}

// checkLifetime asks for a token as the simple sample does and checks
// that it lives want seconds, in expires_in and in exp - iat.
func (s *stack) checkLifetime(t *testing.T, clientID, secret string, want int) {
	t.Helper()
	tok, expiresIn := s.samplePost(t, s.srv.URL+tokenapi.TokenPath, clientID, secret)
	if expiresIn != want {
		t.Errorf("expires_in %d, want %d", expiresIn, want)
	}
	if got := lifetimeOf(t, tok); got != int64(want) {
		t.Errorf("exp - iat = %d, want %d", got, want)
	}
}

// The client-credentials "simple" sample: discovery, token, then the
// tenant, on both versions; the tenant is the reference's Tenant.
func TestAVEVASimpleClientCredentialsSample(t *testing.T) {
	s := api(t)
	c := s.createClient(t, map[string]any{"Name": "simple sample"}) // Account Member
	res := s.do(t, http.MethodGet, "/identity/.well-known/openid-configuration", "", nil)
	var disc struct {
		TokenEndpoint string `json:"token_endpoint"`
	}
	if res.Status != http.StatusOK || json.Unmarshal(res.Body, &disc) != nil || disc.TokenEndpoint == "" {
		t.Fatalf("discovery: %s", res)
	}
	token, _ := s.samplePost(t, disc.TokenEndpoint, c.ClientId, c.ClientSecret)
	for _, version := range []string{"v1", "v1-preview"} {
		t.Run(version, func(t *testing.T) {
			res := s.do(t, http.MethodGet, fmt.Sprintf("/api/%s/Tenants/%s", version, s.tenant), "Bearer "+token, nil)
			if res.Status != http.StatusOK { // the sample's assert
				t.Fatalf("GET tenant: %s", res)
			}
			var ten struct {
				Id, CompanyName, Created, LastUpdated string
				State                                 int
				Alias, ExternalAccountId, TenantType  *string
				Features                              []any
			}
			if err := decodeStrict(res.Body, &ten); err != nil {
				t.Fatalf("not the Tenant shape: %v: %s", err, res.Body)
			}
			if ten.Id != s.tenant || ten.CompanyName != "apitest tenant" || ten.State != 1 || ten.Features == nil {
				t.Errorf("tenant %s", res.Body)
			}
			if _, err := time.Parse(time.RFC3339, ten.Created); err != nil {
				t.Errorf("Created %q: %v", ten.Created, err)
			}
		})
	}
	t.Run("who may read a tenant", func(t *testing.T) {
		unknown := identity.NewID()
		for _, tc := range []struct {
			caller, tenant string
			want           int
		}{
			{accountAdmin, s.tenant, http.StatusOK},
			{accountMember, s.tenant, http.StatusOK},
			{clusterSupport, s.tenant, http.StatusOK},
			{clusterOperator, s.otherTenant, http.StatusOK},
			{otherTenantsAdmin, s.tenant, http.StatusForbidden},
			{accountAdmin, unknown, http.StatusForbidden}, // a tenant role never learns whether another tenant exists
			{clusterOperator, unknown, http.StatusNotFound},
		} {
			res := s.as(t, s.callers[tc.caller], http.MethodGet, "/api/v1/Tenants/"+tc.tenant, nil)
			if tc.want != http.StatusOK {
				checkError(t, res, tc.want, httpapi.OCS, "")
				continue
			}
			if res.Status != tc.want {
				t.Errorf("%s reads tenant %s: %s, want %d", tc.caller, tc.tenant, res, tc.want)
			}
		}
		if res := s.as(t, s.callers[accountAdmin], http.MethodGet, "/api/v1/Tenants/not-a-guid", nil); res.Status != http.StatusBadRequest {
			t.Errorf("malformed tenant id: %s, want 400", res)
		}
	})
}

// sampleISO is Python's datetime.isoformat() of an aware UTC time, as the
// setup script sends dates.
func sampleISO(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000000+00:00") }

// The setup script's client procedures, with ApiVersion v1, byte for
// byte: createClient (list, create) and createSecret; then the script's
// second run finds the client by Name. Both secrets get tokens that live
// the client's AccessTokenLifetime.
func TestAVEVASetupScriptClientProcedures(t *testing.T) {
	s := api(t)
	admin := s.callers[accountAdmin]
	base := fmt.Sprintf("/api/v1/Tenants/%s/ClientCredentialClients", s.tenant)
	name := "Setup Script Client " + identity.NewID()[:8]

	findByName := func(t *testing.T) (id string) {
		t.Helper()
		res := s.as(t, admin, http.MethodGet, base+"?count=1000", nil)
		var list []map[string]any
		if res.Status != http.StatusOK || json.Unmarshal(res.Body, &list) != nil {
			t.Fatalf("list: %s", res)
		}
		for _, c := range list {
			n, _ := c["Name"].(string)
			if strings.EqualFold(n, name) {
				id, _ = c["Id"].(string) // client['Id']: a KeyError if absent
				if id == "" {
					t.Fatalf("list item without Id: %v", c)
				}
			}
		}
		return id
	}
	if id := findByName(t); id != "" {
		t.Fatalf("a client named %q exists before the script creates it", name)
	}
	body := fmt.Sprintf(`{"AccessTokenLifetime": 3600, "Id": null, "Name": %q, "RoleIds": [%q], "SecretDescription": "setup script secret", "SecretExpirationDate": %q}`,
		name, identity.RoleAccountMember, sampleISO(time.Now().Add(365*24*time.Hour)))
	res := s.as(t, admin, http.MethodPost, base, body)
	var created struct {
		Client struct{ Id string }
		Secret string
	}
	if res.Status != http.StatusCreated || json.Unmarshal(res.Body, &created) != nil || created.Client.Id == "" || created.Secret == "" {
		t.Fatalf("create: %s", res)
	}
	if res.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("a create answer with a secret is cacheable: Cache-Control %q", res.Header.Get("Cache-Control"))
	}
	secretBody := fmt.Sprintf(`{"Description": "setup script secret", "Expiration": %q, "Expires": true}`, sampleISO(time.Now().Add(365*24*time.Hour)))
	res = s.as(t, admin, http.MethodPost, base+"/"+created.Client.Id+"/Secrets", secretBody)
	var added struct{ Secret string }
	if res.Status != http.StatusCreated || json.Unmarshal(res.Body, &added) != nil || added.Secret == "" {
		t.Fatalf("add secret: %s", res)
	}
	if res.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("a secret add answer is cacheable: Cache-Control %q", res.Header.Get("Cache-Control"))
	}
	if added.Secret == created.Secret {
		t.Fatal("the added secret equals the first one")
	}
	if id := findByName(t); id != created.Client.Id {
		t.Errorf("second run finds %q by Name, want %s", id, created.Client.Id)
	}
	for _, secret := range []string{created.Secret, added.Secret} {
		s.checkLifetime(t, created.Client.Id, secret, 3600)
	}
}

// A client made through one version is read, changed and deleted through
// the other, and its AccessTokenLifetime, set through either version's
// create or v1's PUT, is the lifetime of its tokens.
func TestClientsAcrossVersions(t *testing.T) {
	s := api(t)
	admin := s.callers[accountAdmin]
	v1 := fmt.Sprintf("/api/v1/Tenants/%s/ClientCredentialClients", s.tenant)
	preview := fmt.Sprintf(cccPath, s.tenant)

	t.Run("created in v1, read, changed and deleted in v1-preview", func(t *testing.T) {
		res := s.as(t, admin, http.MethodPost, v1, map[string]any{"Name": "made in v1", "AccessTokenLifetime": 300, "Tags": []string{"cross"}})
		var c struct {
			Client struct {
				Id                  string
				AccessTokenLifetime int
			}
			Secret string
			Id     string
		}
		if res.Status != http.StatusCreated || json.Unmarshal(res.Body, &c) != nil || c.Client.AccessTokenLifetime != 300 {
			t.Fatalf("create: %s", res)
		}
		s.checkLifetime(t, c.Client.Id, c.Secret, 300)

		res = s.as(t, admin, http.MethodGet, preview+"?tags=cross&count=1000", nil)
		var list []struct{ ClientId, Name string }
		if res.Status != http.StatusOK || json.Unmarshal(res.Body, &list) != nil {
			t.Fatalf("v1-preview list: %s", res)
		}
		found := false
		for _, e := range list {
			found = found || e.ClientId == c.Client.Id && e.Name == "made in v1"
		}
		if !found {
			t.Fatalf("v1-preview list lacks the v1 client %s: %s", c.Client.Id, res.Body)
		}
		// Its first secret, under the id the v1 create gave.
		if res := s.as(t, admin, http.MethodGet, preview+"/"+c.Client.Id+"/Secret/"+c.Id, nil); res.Status != http.StatusOK {
			t.Errorf("v1-preview secret get: %s", res)
		}
		if res := s.as(t, admin, http.MethodPut, preview+"/"+c.Client.Id, map[string]any{"Name": "renamed in v1-preview"}); res.Status != http.StatusOK {
			t.Fatalf("v1-preview update: %s", res)
		}
		var got struct {
			Name                string
			AccessTokenLifetime int
		}
		if res := s.as(t, admin, http.MethodGet, v1+"/"+c.Client.Id, nil); res.Status != http.StatusOK || json.Unmarshal(res.Body, &got) != nil ||
			got.Name != "renamed in v1-preview" || got.AccessTokenLifetime != 300 {
			t.Fatalf("v1 get after a v1-preview update: %s", res)
		}
		s.checkLifetime(t, c.Client.Id, c.Secret, 300)
		if res := s.as(t, admin, http.MethodDelete, preview+"/"+c.Client.Id, nil); res.Status != http.StatusNoContent {
			t.Fatalf("v1-preview delete: %s", res)
		}
		checkError(t, s.as(t, admin, http.MethodGet, v1+"/"+c.Client.Id, nil), http.StatusNotFound, httpapi.OCS, "")
	})

	t.Run("created in v1-preview, lifetime set by a v1 PUT, deleted in v1", func(t *testing.T) {
		c := s.createClient(t, map[string]any{"Name": "made in v1-preview"})
		var got struct {
			Id                  string
			AccessTokenLifetime int
		}
		if res := s.as(t, admin, http.MethodGet, v1+"/"+c.ClientId, nil); res.Status != http.StatusOK || json.Unmarshal(res.Body, &got) != nil ||
			got.Id != c.ClientId || got.AccessTokenLifetime != identity.DefaultAccessTokenLifetime {
			t.Fatalf("v1 get of a v1-preview client: %s", res)
		}
		s.checkLifetime(t, c.ClientId, c.ClientSecret, 3600)
		if res := s.as(t, admin, http.MethodPut, v1+"/"+c.ClientId, map[string]any{"AccessTokenLifetime": 120}); res.Status != http.StatusOK {
			t.Fatalf("v1 update: %s", res)
		}
		s.checkLifetime(t, c.ClientId, c.ClientSecret, 120)
		for _, bad := range []int{59, 3601, 0} {
			res := s.as(t, admin, http.MethodPut, v1+"/"+c.ClientId, map[string]any{"AccessTokenLifetime": bad, "Name": "never stored"})
			checkError(t, res, http.StatusBadRequest, httpapi.OCS, "")
			if !strings.Contains(string(res.Body), "AccessTokenLifetime") {
				t.Errorf("lifetime %d: the 400 does not name AccessTokenLifetime: %s", bad, res.Body)
			}
		}
		s.checkLifetime(t, c.ClientId, c.ClientSecret, 120)
		if res := s.as(t, admin, http.MethodDelete, v1+"/"+c.ClientId, nil); res.Status != http.StatusNoContent {
			t.Fatalf("v1 delete: %s", res)
		}
		checkError(t, s.as(t, admin, http.MethodGet, preview+"/"+c.ClientId, nil), http.StatusNotFound, httpapi.OCS, "")
	})

	t.Run("secrets across versions", func(t *testing.T) {
		c := s.createClient(t, map[string]any{"Name": "secrets across versions"})
		v1Secrets := v1 + "/" + c.ClientId + "/Secrets"
		res := s.as(t, admin, http.MethodPost, v1Secrets, map[string]any{"Description": "v1 eternal", "Expires": false})
		var added struct {
			Id, Secret string
			Expires    bool
			Expiration *string
		}
		if res.Status != http.StatusCreated || json.Unmarshal(res.Body, &added) != nil || added.Expires || added.Expiration != nil {
			t.Fatalf("v1 add with Expires false: %s", res)
		}
		res = s.as(t, admin, http.MethodGet, preview+"/"+c.ClientId+"/Secret", nil)
		if res.Status != http.StatusOK || !strings.Contains(string(res.Body), added.Id) {
			t.Fatalf("the v1-preview list lacks the v1 secret %s: %s", added.Id, res)
		}
		res = s.as(t, admin, http.MethodGet, v1Secrets, nil)
		var list []struct {
			Id      string
			Expires bool
		}
		if res.Status != http.StatusOK || json.Unmarshal(res.Body, &list) != nil || len(list) != 2 || res.Header.Get("Total-Count") != "2" {
			t.Fatalf("v1 secret list: %s", res)
		}
		for _, e := range list {
			if e.Id == c.SecretId && e.Expires {
				t.Errorf("the v1-preview client's first secret never expires, but Expires is true")
			}
		}
		s.checkLifetime(t, c.ClientId, added.Secret, 3600)
		if res := s.as(t, admin, http.MethodDelete, preview+"/"+c.ClientId+"/Secret/"+added.Id, nil); res.Status != http.StatusNoContent {
			t.Fatalf("v1-preview delete of a v1 secret: %s", res)
		}
		if res := s.tokenRequest(t, clientSecretPost, c.ClientId, added.Secret); res.Status != http.StatusUnauthorized {
			t.Errorf("a deleted secret still gets a token: %s", res)
		}
		checkError(t, s.as(t, admin, http.MethodGet, v1Secrets+"/"+added.Id, nil), http.StatusNotFound, httpapi.OCS, "")
	})
}

// The v1 request rules: properties outside the contract are ignored (as
// the original service's ASP.NET Core binding ignored them), v1-preview
// still refuses them; what the contract names and this service does not
// support is a 400 that says so, with nothing stored.
func TestV1RequestRules(t *testing.T) {
	s := api(t)
	admin := s.callers[accountAdmin]
	v1 := fmt.Sprintf("/api/v1/Tenants/%s/ClientCredentialClients", s.tenant)
	res := s.as(t, admin, http.MethodPost, v1, map[string]any{"Name": "extra property", "ClientId": identity.NewID(), "Description": "ignored"})
	var c struct{ Client struct{ Id, Name string } }
	if res.Status != http.StatusCreated || json.Unmarshal(res.Body, &c) != nil || c.Client.Name != "extra property" {
		t.Fatalf("v1 create with properties outside the contract: %s", res)
	}
	checkError(t, s.as(t, admin, http.MethodPost, fmt.Sprintf(cccPath, s.tenant), map[string]any{"Name": "x", "AccessTokenLifetime": 3600}), http.StatusBadRequest, httpapi.OCS, "")

	before := s.as(t, admin, http.MethodGet, v1+"?count=1000", nil)
	for name, tc := range map[string]struct {
		method, path string
		body         any
		mentions     string
	}{
		"id filter":                    {http.MethodGet, v1 + "?id=" + c.Client.Id, nil, "id"},
		"lifetime too short":           {http.MethodPost, v1, map[string]any{"Name": "short", "AccessTokenLifetime": 30}, "AccessTokenLifetime"},
		"lifetime not an integer":      {http.MethodPost, v1, map[string]any{"Name": "text", "AccessTokenLifetime": "3600"}, "AccessTokenLifetime"},
		"Id differs from the path":     {http.MethodPut, v1 + "/" + c.Client.Id, map[string]any{"Id": identity.NewID()}, "Id"},
		"Expires without Expiration":   {http.MethodPost, v1 + "/" + c.Client.Id + "/Secrets", map[string]any{"Expires": true}, "Expiration"},
		"Expires false and Expiration": {http.MethodPost, v1 + "/" + c.Client.Id + "/Secrets", map[string]any{"Expires": false, "Expiration": "2099-01-01T00:00:00Z"}, "Expires"},
		"past Expiration":              {http.MethodPost, v1 + "/" + c.Client.Id + "/Secrets", map[string]any{"Expiration": "2001-01-01T00:00:00Z"}, "Expiration"},
	} {
		t.Run(name, func(t *testing.T) {
			res := s.as(t, admin, tc.method, tc.path, tc.body)
			checkError(t, res, http.StatusBadRequest, httpapi.OCS, "")
			if !strings.Contains(string(res.Body), tc.mentions) {
				t.Errorf("the 400 does not mention %s: %s", tc.mentions, res.Body)
			}
		})
	}
	after := s.as(t, admin, http.MethodGet, v1+"?count=1000", nil)
	if before.Header.Get("Total-Count") != after.Header.Get("Total-Count") {
		t.Errorf("refused requests changed the client count: %s -> %s", before.Header.Get("Total-Count"), after.Header.Get("Total-Count"))
	}
	res = s.as(t, admin, http.MethodGet, v1+"/"+c.Client.Id+"/Secrets", nil)
	if res.Status != http.StatusOK || res.Header.Get("Total-Count") != "1" {
		t.Errorf("refused secret adds changed the secrets: %s", res)
	}
	t.Run("update keeps or moves an expiration, never removes it", func(t *testing.T) {
		res := s.as(t, admin, http.MethodPost, v1+"/"+c.Client.Id+"/Secrets", map[string]any{"Description": "d", "Expiration": "2098-01-01T00:00:00Z", "Expires": true})
		var sec struct{ Id string }
		if res.Status != http.StatusCreated || json.Unmarshal(res.Body, &sec) != nil {
			t.Fatalf("add: %s", res)
		}
		path := v1 + "/" + c.Client.Id + "/Secrets/" + sec.Id
		checkError(t, s.as(t, admin, http.MethodPut, path, map[string]any{"Expires": false}), http.StatusBadRequest, httpapi.OCS, "")
		var got struct {
			Description string
			Expiration  *string
			Expires     bool
		}
		res = s.as(t, admin, http.MethodPut, path, map[string]any{"Description": "renamed"})
		if res.Status != http.StatusOK || json.Unmarshal(res.Body, &got) != nil || got.Description != "renamed" || got.Expiration == nil || !strings.HasPrefix(*got.Expiration, "2098-01-01") || !got.Expires {
			t.Fatalf("update of Description only: %s", res)
		}
		res = s.as(t, admin, http.MethodPut, path, map[string]any{"Expiration": "2097-06-01T00:00:00Z", "Expires": true})
		if res.Status != http.StatusOK || json.Unmarshal(res.Body, &got) != nil || got.Expiration == nil || !strings.HasPrefix(*got.Expiration, "2097-06-01") {
			t.Fatalf("update of Expiration: %s", res)
		}
	})
}
