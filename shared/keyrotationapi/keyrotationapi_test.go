package keyrotationapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"identityservice/shared/identity"
	"identityservice/shared/keyrotationapi"
	"identityservice/shared/ocsapi"
)

type application = keyrotationapi.Application
type secretInfo = keyrotationapi.SecretInfo

// applicationFields are the members of the reference's application object.
var applicationFields = []string{"displayName", "clientId", "clientSecret", "theme", "redirectUris", "postLogoutRedirectUris",
	"consentType", "type", "grantTypes", "endpoints", "scopes", "homepageUrl", "sampleHomepageUrl", "allowUnregisteredUsersToSignIn",
	"hideTenantDisplayNameDuringLogIn", "allowRegister", "disableLoginAlerts", "appSwitcherProductId", "additionalLinks", "tenant",
	"definedRoles", "roles", "tenants"}

var kinds = []identity.ClientKind{identity.ClientCredential, identity.Hybrid}

// newClient creates a client of a kind through the OCS API.
func (a *api) newClient(kind identity.ClientKind, tenantID string) (clientID, firstSecretID string) {
	a.t.Helper()
	var c struct{ ClientId, SecretId string }
	if kind == identity.Hybrid {
		a.do(http.MethodPost, "/api/Tenants/"+tenantID+"/HybridClient", map[string]any{
			"Name": "web app", "AllowOfflineAccess": true,
			"RedirectUris": []string{"https://app.example.com/cb"}, "PostLogoutRedirectUris": []string{"https://app.example.com/out"},
			"ClientUri": "https://app.example.com/",
		}).JSON(a.t, http.StatusCreated, &c)
	} else {
		a.do(http.MethodPost, "/api/v1-preview/Tenants/"+tenantID+"/ClientCredentialClients", map[string]any{
			"Name": "worker", "RoleIds": []string{identity.RoleAccountAdministrator, identity.RoleAccountMember},
		}).JSON(a.t, http.StatusCreated, &c)
	}
	return c.ClientId, c.SecretId
}

func (a *api) list(tenantID, clientID string) []secretInfo {
	a.t.Helper()
	res := a.do(http.MethodGet, secretsPath(tenantID, clientID), nil)
	var l []secretInfo
	res.JSON(a.t, http.StatusOK, &l)
	return l
}

func (a *api) ocsList(kind identity.ClientKind, tenantID, clientID string) []ocsapi.ClientSecretDto {
	a.t.Helper()
	var l []ocsapi.ClientSecretDto
	a.do(http.MethodGet, ocsSecretsPath(kind, tenantID, clientID), nil).JSON(a.t, http.StatusOK, &l)
	return l
}

// add posts a secret and returns the application and the new secret's id,
// found as the one entry the list did not have before.
func (a *api) add(tenantID, clientID string, body any) (application, secretInfo) {
	a.t.Helper()
	before := map[string]bool{}
	for _, s := range a.list(tenantID, clientID) {
		before[s.ClientSecretID] = true
	}
	var app application
	a.do(http.MethodPost, secretsPath(tenantID, clientID), body).JSON(a.t, http.StatusOK, &app)
	var fresh []secretInfo
	for _, s := range a.list(tenantID, clientID) {
		if !before[s.ClientSecretID] {
			fresh = append(fresh, s)
		}
	}
	if len(fresh) != 1 {
		a.t.Fatalf("%d new secrets listed after one POST: %+v", len(fresh), fresh)
	}
	return app, fresh[0]
}

func str(p *string) string {
	if p == nil {
		return "<null>"
	}
	return *p
}

func TestAddSecret(t *testing.T) {
	for _, kind := range kinds {
		t.Run(kind.String(), func(t *testing.T) {
			a := newAPI(t)
			tenantID := a.tenant()
			clientID, firstID := a.newClient(kind, tenantID)

			res := a.do(http.MethodPost, secretsPath(tenantID, clientID), `{"expirationDate": "2031-05-05T07:05:05+02:00"}`)
			var app application
			res.JSON(t, http.StatusOK, &app)
			if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
				t.Fatalf("Content-Type %q", ct)
			}
			var raw map[string]json.RawMessage
			_ = json.Unmarshal(res.Body, &raw)
			for _, f := range applicationFields {
				if _, ok := raw[f]; !ok {
					t.Errorf("the application object lacks %q: %s", f, res.Body)
				}
			}
			if len(raw) != len(applicationFields) {
				t.Errorf("the application object has %d members, want the reference's %d: %s", len(raw), len(applicationFields), res.Body)
			}
			if app.ClientID != clientID || app.Tenant != tenantID || len(app.Tenants) != 1 || app.Tenants[0] != tenantID || app.Type != kind.String() {
				t.Fatalf("application %s", res.Body)
			}
			if app.ClientSecret == nil || len(*app.ClientSecret) != 43 {
				t.Fatalf("clientSecret %s", str(app.ClientSecret))
			}
			switch kind {
			case identity.Hybrid:
				if app.DisplayName != "web app" || strings.Join(app.RedirectURIs, ",") != "https://app.example.com/cb" ||
					strings.Join(app.PostLogoutRedirectURIs, ",") != "https://app.example.com/out" || str(app.HomepageURL) != "https://app.example.com/" {
					t.Fatalf("Hybrid application %s", res.Body)
				}
			case identity.ClientCredential:
				if app.DisplayName != "worker" || len(app.Roles) != 2 || strings.Join(app.GrantTypes, ",") != "client_credentials" {
					t.Fatalf("Client Credential application %s", res.Body)
				}
			}

			l := a.list(tenantID, clientID)
			if len(l) != 2 || l[0].ClientSecretID != firstID || l[0].Deleted || l[0].ClientSecretExpirationDate != nil {
				t.Fatalf("list %+v", l)
			}
			added := l[1]
			if added.Deleted || str(added.ClientSecretExpirationDate) != "2031-05-05T05:05:05Z" {
				t.Fatalf("new secret listed as %+v", added)
			}
			// The returned secret is the one whose material is stored, and
			// the OCS API sees the same secret.
			if !env.SecretWorks(t, tenantID, clientID, added.ClientSecretID, *app.ClientSecret) {
				t.Fatal("the returned clientSecret does not match the stored material")
			}
			var ocs ocsapi.ClientSecretDto
			a.do(http.MethodGet, ocsSecretsPath(kind, tenantID, clientID, added.ClientSecretID), nil).JSON(t, http.StatusOK, &ocs)
			if str(ocs.Expiration) != "2031-05-05T05:05:05Z" {
				t.Fatalf("OCS sees %+v", ocs)
			}
			// The secret is shown once: not by the list.
			if body := a.do(http.MethodGet, secretsPath(tenantID, clientID), nil).Body; strings.Contains(string(body), *app.ClientSecret) {
				t.Fatal("the list shows the secret")
			}
		})
	}
}

func TestAddSecretBodyForms(t *testing.T) {
	a := newAPI(t)
	tenantID := a.tenant()
	clientID, _ := a.newClient(identity.Hybrid, tenantID)
	for _, tc := range []struct {
		name string
		body any // nil: no body at all
		want string
	}{
		{"object", `{"expirationDate":"2032-01-01T00:00:00Z"}`, "2032-01-01T00:00:00Z"},
		{"object, other letter case", `{"ExpirationDate":"2032-01-02T00:00:00Z"}`, "2032-01-02T00:00:00Z"},
		{"bare JSON string", `"2032-01-03T10:00:00-05:00"`, "2032-01-03T15:00:00Z"},
		{"bare JSON string with spaces around", " \n\"2032-01-04\" ", "2032-01-04T00:00:00Z"},
		{"empty body: never expires", nil, "<null>"},
		{"blank body: never expires", "  ", "<null>"},
		{"null: never expires", `null`, "<null>"},
		{"empty object: never expires", `{}`, "<null>"},
		{"null expirationDate: never expires", `{"expirationDate":null}`, "<null>"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := a.with(t)
			app, s := a.add(tenantID, clientID, tc.body)
			if got := str(s.ClientSecretExpirationDate); got != tc.want {
				t.Fatalf("clientSecretExpirationDate %s, want %s", got, tc.want)
			}
			if app.ClientSecret == nil || !env.SecretWorks(t, tenantID, clientID, s.ClientSecretID, *app.ClientSecret) {
				t.Fatal("the returned clientSecret does not work")
			}
		})
	}
}

func TestListSecrets(t *testing.T) {
	a := newAPI(t)
	tenantID := a.tenant()
	clientID, firstID := a.newClient(identity.ClientCredential, tenantID)
	_, second := a.add(tenantID, clientID, `{"expirationDate":"2035-01-01T00:00:00Z"}`)
	_, third := a.add(tenantID, clientID, ``)
	a.do(http.MethodDelete, secretsPath(tenantID, clientID, second.ClientSecretID), nil).JSON(t, http.StatusOK, nil)

	res := a.do(http.MethodGet, secretsPath(tenantID, clientID)+"/", nil)
	var raw []map[string]any
	res.JSON(t, http.StatusOK, &raw)
	if len(raw) != 3 {
		t.Fatalf("%d secrets listed, want 3 (soft-deleted ones included): %s", len(raw), res.Body)
	}
	for _, s := range raw {
		if len(s) != 4 {
			t.Fatalf("entry %v: want exactly clientSecretId, clientSecretExpirationDate, deleted, lastUsed", s)
		}
		for _, k := range []string{"clientSecretId", "clientSecretExpirationDate", "deleted", "lastUsed"} {
			if _, ok := s[k]; !ok {
				t.Fatalf("entry %v lacks %s", s, k)
			}
		}
	}
	var l []secretInfo
	res.JSON(t, http.StatusOK, &l)
	want := fmt.Sprintf("%s <null> false|%s 2035-01-01T00:00:00Z true|%s <null> false", firstID, second.ClientSecretID, third.ClientSecretID)
	var got []string
	for _, s := range l {
		got = append(got, fmt.Sprintf("%s %s %v", s.ClientSecretID, str(s.ClientSecretExpirationDate), s.Deleted))
	}
	if strings.Join(got, "|") != want {
		t.Fatalf("list\n%s\nwant\n%s", strings.Join(got, "|"), want)
	}
	empty := a.do(http.MethodGet, secretsPath(tenantID, strings.ToUpper(clientID)), nil)
	if empty.Status != http.StatusOK {
		t.Fatalf("upper-case client id: %d", empty.Status)
	}
}

func TestSoftDelete(t *testing.T) {
	for _, kind := range kinds {
		t.Run(kind.String(), func(t *testing.T) {
			a := newAPI(t)
			tenantID := a.tenant()
			clientID, firstID := a.newClient(kind, tenantID)
			doomedApp, doomed := a.add(tenantID, clientID, `{"expirationDate":"2036-06-06T06:06:06Z"}`)
			if !env.MaterialExists(t, tenantID, clientID, doomed.ClientSecretID) {
				t.Fatal("no material before delete")
			}
			if !a.authenticates(clientID, *doomedApp.ClientSecret) {
				t.Fatal("the added secret does not authenticate")
			}

			res := a.do(http.MethodDelete, secretsPath(tenantID, clientID, doomed.ClientSecretID), nil)
			var app application
			res.JSON(t, http.StatusOK, &app)
			var raw map[string]json.RawMessage
			_ = json.Unmarshal(res.Body, &raw)
			for _, f := range applicationFields {
				if _, ok := raw[f]; !ok {
					t.Errorf("the DELETE answer lacks %q", f)
				}
			}
			if app.ClientID != clientID || app.ClientSecret != nil || app.Tenant != tenantID {
				t.Fatalf("DELETE answered %s", res.Body)
			}

			// Its material is destroyed at once; the other secret keeps its own.
			if env.MaterialExists(t, tenantID, clientID, doomed.ClientSecretID) {
				t.Fatal("the soft-deleted secret's material is still live")
			}
			if !env.MaterialExists(t, tenantID, clientID, firstID) {
				t.Fatal("another secret's material was destroyed")
			}
			if a.authenticates(clientID, *doomedApp.ClientSecret) {
				t.Fatal("the soft-deleted secret still authenticates")
			}
			// The Key Rotation list keeps it, marked deleted, with its expiration.
			l := a.list(tenantID, clientID)
			if len(l) != 2 || l[1].ClientSecretID != doomed.ClientSecretID || !l[1].Deleted || str(l[1].ClientSecretExpirationDate) != "2036-06-06T06:06:06Z" || l[0].Deleted {
				t.Fatalf("list after soft delete %+v", l)
			}
			// The OCS API no longer knows it.
			if ocs := a.ocsList(kind, tenantID, clientID); len(ocs) != 1 || ocs[0].SecretId != firstID {
				t.Fatalf("OCS list after soft delete %+v", ocs)
			}
			var ocsObsolete []ocsapi.ClientSecretDto
			a.do(http.MethodGet, "/api/v1-preview/Tenants/"+tenantID+"/Clients/"+clientID+"/Secret", nil).JSON(t, http.StatusOK, &ocsObsolete)
			if len(ocsObsolete) != 1 {
				t.Fatalf("obsolete OCS list after soft delete %+v", ocsObsolete)
			}
			path := ocsSecretsPath(kind, tenantID, clientID, doomed.ClientSecretID)
			for _, m := range []string{http.MethodGet, http.MethodPut, http.MethodDelete} {
				var body any
				if m == http.MethodPut {
					body = map[string]any{"Description": "revive"}
				}
				res := a.do(m, path, body)
				var e struct{ Error string }
				res.JSON(t, http.StatusNotFound, &e)
				if e.Error != "Secret not found" {
					t.Fatalf("OCS %s of a soft-deleted secret: %s", m, res.Body)
				}
			}
			a.do(http.MethodPut, "/api/v1-preview/Tenants/"+tenantID+"/Clients/"+clientID+"/Secret/"+doomed.ClientSecretID, map[string]any{"Description": "revive"}).JSON(t, http.StatusNotFound, nil)

			// Deleting it again changes nothing.
			a.do(http.MethodDelete, secretsPath(tenantID, clientID, doomed.ClientSecretID), nil).JSON(t, http.StatusOK, nil)
			if again := a.list(tenantID, clientID); len(again) != 2 || !again[1].Deleted || again[0].Deleted {
				t.Fatalf("list after a second delete %+v", again)
			}
		})
	}
}

// Soft-deleted secrets do not count toward the limit of 10.
func TestSecretLimit(t *testing.T) {
	a := newAPI(t)
	tenantID := a.tenant()
	clientID, firstID := a.newClient(identity.Hybrid, tenantID)
	for range 9 {
		a.add(tenantID, clientID, ``)
	}
	path := secretsPath(tenantID, clientID)
	p := a.do(http.MethodPost, path, `{"expirationDate":"2040-01-01T00:00:00Z"}`).problem(t, http.StatusBadRequest, path, "Secret limit exceeded")
	if !strings.Contains(p.Detail, "10") {
		t.Fatalf("the refusal does not say the limit: %q", p.Detail)
	}
	if n := len(a.list(tenantID, clientID)); n != 10 {
		t.Fatalf("%d secrets after a refused add", n)
	}
	a.do(http.MethodDelete, secretsPath(tenantID, clientID, firstID), nil).JSON(t, http.StatusOK, nil)
	a.add(tenantID, clientID, `"2040-01-01T00:00:00Z"`)
	a.do(http.MethodPost, path, ``).problem(t, http.StatusBadRequest, path, "Secret limit exceeded")
	l := a.list(tenantID, clientID)
	deleted := 0
	for _, s := range l {
		if s.Deleted {
			deleted++
		}
	}
	if len(l) != 11 || deleted != 1 {
		t.Fatalf("%d listed, %d deleted; want 11 and 1", len(l), deleted)
	}
}

func TestErrorsAreProblemDetails(t *testing.T) {
	a := newAPI(t)
	tenantID := a.tenant()
	clientID, firstID := a.newClient(identity.ClientCredential, tenantID)
	otherTenant := a.tenant()
	otherClient, otherSecret := a.newClient(identity.Hybrid, tenantID)
	ghost := identity.NewID()
	for _, tc := range []struct {
		name, method, path string
		body               any
		status             int
		detail             string
	}{
		{"POST tenant not a GUID", http.MethodPost, secretsPath("acme", clientID), ``, 400, `tenant "acme" is not a GUID`},
		{"POST client id not a GUID", http.MethodPost, secretsPath(tenantID, "my-app"), ``, 400, `clientId "my-app" is not a GUID`},
		{"GET tenant not a GUID", http.MethodGet, secretsPath("acme", clientID), nil, 400, `tenant "acme" is not a GUID`},
		{"GET client id not a GUID", http.MethodGet, secretsPath(tenantID, "my-app"), nil, 400, `clientId "my-app" is not a GUID`},
		{"DELETE secret id not a GUID", http.MethodDelete, secretsPath(tenantID, clientID, "1"), nil, 400, `id "1" is not a GUID`},
		{"DELETE client id not a GUID", http.MethodDelete, secretsPath(tenantID, "x", firstID), nil, 400, `clientId "x" is not a GUID`},
		{"past expirationDate", http.MethodPost, secretsPath(tenantID, clientID), `{"expirationDate":"2020-01-01T00:00:00Z"}`, 400, "expirationDate 2020-01-01T00:00:00Z is not in the future"},
		{"past expirationDate, bare string", http.MethodPost, secretsPath(tenantID, clientID), `"2001-02-03"`, 400, "not in the future"},
		{"expirationDate not a date", http.MethodPost, secretsPath(tenantID, clientID), `{"expirationDate":"next year"}`, 400, `expirationDate "next year" is not a date-time`},
		{"expirationDate not a string", http.MethodPost, secretsPath(tenantID, clientID), `{"expirationDate":2030}`, 400, "expirationDate must be a string"},
		{"unknown property", http.MethodPost, secretsPath(tenantID, clientID), `{"expiresAt":"2030-01-01T00:00:00Z"}`, 400, `"expiresAt" is not part of this request`},
		{"malformed JSON", http.MethodPost, secretsPath(tenantID, clientID), `{"expirationDate":`, 400, "JSON"},
		{"malformed JSON string", http.MethodPost, secretsPath(tenantID, clientID), `"2030-01-01`, 400, "not a valid JSON string"},
		{"number body", http.MethodPost, secretsPath(tenantID, clientID), `42`, 400, "must be a JSON object"},
		{"POST unknown client", http.MethodPost, secretsPath(tenantID, ghost), `{"expirationDate":"2030-01-01T00:00:00Z"}`, 404, "Client not found"},
		{"GET unknown client", http.MethodGet, secretsPath(tenantID, ghost), nil, 404, "Client not found"},
		{"DELETE unknown client", http.MethodDelete, secretsPath(tenantID, ghost, firstID), nil, 404, "Client not found"},
		{"PATCH, a method the path does not serve", http.MethodPatch, secretsPath(tenantID, clientID), nil, 405, "PATCH is not supported"},
		{"POST unknown tenant", http.MethodPost, secretsPath(ghost, clientID), ``, 404, "Tenant not found"},
		{"GET unknown tenant", http.MethodGet, secretsPath(ghost, clientID), nil, 404, "Tenant not found"},
		{"DELETE unknown tenant", http.MethodDelete, secretsPath(ghost, clientID, firstID), nil, 404, "Tenant not found"},
		{"POST client of another tenant", http.MethodPost, secretsPath(otherTenant, clientID), ``, 404, "Client not found"},
		{"GET client of another tenant", http.MethodGet, secretsPath(otherTenant, clientID), nil, 404, "Client not found"},
		{"DELETE client of another tenant", http.MethodDelete, secretsPath(otherTenant, clientID, firstID), nil, 404, "Client not found"},
		{"DELETE unknown secret", http.MethodDelete, secretsPath(tenantID, clientID, ghost), nil, 404, "Secret not found"},
		{"DELETE another client's secret", http.MethodDelete, secretsPath(tenantID, clientID, otherSecret), nil, 404, "Secret not found"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := a.with(t)
			a.do(tc.method, tc.path, tc.body).problem(t, tc.status, tc.path, tc.detail)
		})
	}
	// None of them stored or destroyed anything.
	for _, c := range []struct{ client, secret string }{{clientID, firstID}, {otherClient, otherSecret}} {
		l := a.list(tenantID, c.client)
		if len(l) != 1 || l[0].ClientSecretID != c.secret || l[0].Deleted {
			t.Fatalf("refused requests changed client %s's secrets: %+v", c.client, l)
		}
		if !env.MaterialExists(t, tenantID, c.client, c.secret) {
			t.Fatalf("a refused request destroyed client %s's material", c.client)
		}
	}
	if n := materialCountUnder(t, tenantID); n != 2 {
		t.Fatalf("%d material in the tenant after refused requests, want 2", n)
	}
}

func materialCountUnder(t *testing.T, tenantID string) int {
	t.Helper()
	return env.MaterialCount(t, tenantID, "")
}

// restText returns the names of material under prefix and everything at
// rest: the strings of every DynamoDB item and every Secrets Manager value.
func restText(t *testing.T, prefix string) ([]string, string) {
	t.Helper()
	ctx := context.Background()
	var names []string
	var b strings.Builder
	list := secretsmanager.NewListSecretsPaginator(env.Clients.SecretsManager, env.OwnSecrets())
	for list.HasMorePages() {
		out, err := list.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range out.SecretList {
			if strings.HasPrefix(aws.ToString(s.Name), prefix) {
				names = append(names, aws.ToString(s.Name))
			}
			v, err := env.Clients.SecretsManager.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: s.ARN})
			if err != nil {
				t.Fatal(err)
			}
			b.WriteString(aws.ToString(v.SecretString) + "\n")
		}
	}
	scan := dynamodb.NewScanPaginator(env.Clients.DynamoDB, &dynamodb.ScanInput{TableName: &env.Config.Table})
	for scan.HasMorePages() {
		out, err := scan.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range out.Items {
			fmt.Fprintf(&b, "%#v\n", it)
			for _, v := range it {
				if sv, ok := v.(*ddbtypes.AttributeValueMemberS); ok {
					b.WriteString(sv.Value + "\n")
				}
			}
		}
	}
	return names, b.String()
}

// Secrets added through the Key Rotation API are not at rest in plain text.
func TestNoPlaintextSecretAtRest(t *testing.T) {
	a := newAPI(t)
	tenantID := a.tenant()
	var secrets []string
	for _, kind := range kinds {
		clientID, _ := a.newClient(kind, tenantID)
		for range 2 {
			app, _ := a.add(tenantID, clientID, `{"expirationDate":"2039-01-01T00:00:00Z"}`)
			secrets = append(secrets, *app.ClientSecret)
		}
	}
	_, text := restText(t, env.Config.SecretPrefix+"/verifiers/"+tenantID+"/")
	if n := env.MaterialCount(t, tenantID, ""); n != 6 {
		t.Fatalf("%d material for the tenant, want 6", n)
	}
	for _, s := range secrets {
		if len(s) != 43 || strings.Contains(text, s) {
			t.Fatalf("secret %q is stored in plain text (or malformed)", s)
		}
	}
}

// The list shows lastUsed: null until a token request succeeds with the
// secret, then the start of that hour, kept after a soft delete.
func TestListLastUsed(t *testing.T) {
	a := newAPI(t)
	tenantID := a.tenant()
	clientID, _ := a.newClient(identity.ClientCredential, tenantID)
	app, added := a.add(tenantID, clientID, map[string]any{})
	if added.LastUsed != nil {
		t.Fatalf("a new secret's lastUsed is %q, want null", *added.LastUsed)
	}
	before := time.Now().UTC().Truncate(time.Hour)
	if !a.authenticates(clientID, *app.ClientSecret) {
		t.Fatal("the new secret does not authenticate")
	}
	after := time.Now().UTC().Truncate(time.Hour)
	a.do(http.MethodDelete, secretsPath(tenantID, clientID, added.ClientSecretID), nil).JSON(t, http.StatusOK, &application{})
	for _, s := range a.list(tenantID, clientID) {
		if s.ClientSecretID != added.ClientSecretID {
			if s.LastUsed != nil {
				t.Fatalf("the unused first secret's lastUsed is %q", *s.LastUsed)
			}
			continue
		}
		used, err := time.Parse(time.RFC3339, str(s.LastUsed))
		if !s.Deleted || err != nil || (!used.Equal(before) && !used.Equal(after)) {
			t.Fatalf("soft-deleted secret: deleted %v, lastUsed %q; want the start of the hour %s", s.Deleted, str(s.LastUsed), before.Format(time.RFC3339))
		}
	}
}
