package ocsapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"identityservice/shared/identity"
	"identityservice/shared/ocsapi"
)

type created = ocsapi.ClientCredentialClientResponseDto
type dto = ocsapi.ClientCredentialClientDto

func (a *api) create(tenantID string, body any) created {
	a.t.Helper()
	var c created
	a.do(http.MethodPost, cccPath(tenantID), body).JSON(a.t, http.StatusCreated, &c)
	return c
}

func tenantCount(t *testing.T, svc *identity.Service, tenantID string) int {
	t.Helper()
	ten, err := svc.Tenants.GetTenant(context.Background(), tenantID)
	if err != nil {
		t.Fatal(err)
	}
	return ten.ClientCount
}

func TestCreate(t *testing.T) {
	a := newAPI(t)
	tenantID := a.tenant(0)

	t.Run("every field", func(t *testing.T) {
		id := identity.NewID()
		res := a.do(http.MethodPost, cccPath(tenantID), map[string]any{
			"ClientId": strings.ToUpper(id), "Name": "billing", "Enabled": false,
			"RoleIds":           []string{identity.RoleAccountAdministrator, identity.RoleAccountMember},
			"Tags":              []string{"a", "b"},
			"SecretDescription": "first", "SecretExpirationDate": "2031-04-30T11:35:12.3647771-07:00",
		})
		var c created
		res.JSON(t, http.StatusCreated, &c)
		if c.ClientId != id || c.Name != "billing" || c.Enabled || len(c.RoleIds) != 2 || strings.Join(c.Tags, ",") != "a,b" {
			t.Fatalf("client %+v", c.ClientCredentialClientDto)
		}
		if len(c.ClientSecret) != 43 || c.SecretDescription != "first" || c.SecretExpirationDate == nil || *c.SecretExpirationDate != "2031-04-30T18:35:12.3647771Z" {
			t.Fatalf("secret fields %q %q %v", c.ClientSecret, c.SecretDescription, c.SecretExpirationDate)
		}
		if _, err := identity.ParseGUID("SecretId", c.SecretId); err != nil {
			t.Fatal(err)
		}
		if loc := res.Header.Get("Location"); loc != cccPath(tenantID, id) {
			t.Fatalf("Location %q", loc)
		}
		var keys map[string]any
		_ = json.Unmarshal(res.Body, &keys)
		for _, k := range []string{"ClientSecret", "SecretId", "SecretDescription", "SecretExpirationDate", "RoleIds", "ClientId", "Name", "Enabled", "Tags"} {
			if _, ok := keys[k]; !ok {
				t.Errorf("create response lacks %s", k)
			}
		}
		if !env.MaterialExists(t, tenantID, id, c.SecretId) {
			t.Fatal("no secret material after create")
		}
		// GET shows the client and never the secret.
		get := a.do(http.MethodGet, cccPath(tenantID, id), nil)
		var got map[string]any
		get.JSON(t, http.StatusOK, &got)
		if len(got) != 5 || got["ClientId"] != id || strings.Contains(string(get.Body), c.ClientSecret) {
			t.Fatalf("GET body %s", get.Body)
		}
	})

	t.Run("defaults and generated id", func(t *testing.T) {
		c := a.create(tenantID, `{"name":"lower-case property names"}`)
		if _, err := identity.ParseGUID("ClientId", c.ClientId); err != nil {
			t.Fatal(err)
		}
		if !c.Enabled || len(c.RoleIds) != 1 || c.RoleIds[0] != identity.RoleAccountMember || c.Tags == nil || len(c.Tags) != 0 {
			t.Fatalf("defaults %+v", c.ClientCredentialClientDto)
		}
		if c.SecretExpirationDate != nil || c.Name != "lower-case property names" {
			t.Fatalf("%+v", c)
		}
	})

	t.Run("client id exists in this or another tenant", func(t *testing.T) {
		c := a.create(tenantID, map[string]any{"Name": "first"})
		other := a.tenant(0)
		for _, ten := range []string{tenantID, other} {
			a.do(http.MethodPost, cccPath(ten), map[string]any{"Name": "copy", "ClientId": c.ClientId}).ocsError(t, http.StatusConflict, "Client Id already exists")
		}
		if n := tenantCount(t, a.svc, other); n != 0 {
			t.Fatalf("other tenant counts %d clients after refused creates", n)
		}
		if n := env.MaterialCount(t, other, ""); n != 0 {
			t.Fatalf("%d secret material left behind by refused creates", n)
		}
	})

	t.Run("unknown tenant", func(t *testing.T) {
		ghost := identity.NewID()
		a.do(http.MethodPost, cccPath(ghost), map[string]any{"Name": "x"}).ocsError(t, http.StatusNotFound, "Tenant not found")
		if n := env.MaterialCount(t, ghost, ""); n != 0 {
			t.Fatalf("%d secret material left behind for an unknown tenant", n)
		}
	})
}

func TestCreateRejectsBadInput(t *testing.T) {
	a := newAPI(t)
	tenantID := a.tenant(0)
	for _, tc := range []struct {
		name, path, body, reason string
	}{
		{"malformed JSON", "", `{"Name": "x",`, "truncated JSON"},
		{"syntax error", "", `{"Name": x}`, "not valid JSON"},
		{"empty body", "", ``, "empty"},
		{"array body", "", `[]`, "must be a JSON object"},
		{"trailing data", "", `{"Name":"a"} {}`, "after its JSON object"},
		{"name is a number", "", `{"Name": 5}`, "Name must be a string"},
		{"enabled is a string", "", `{"Name":"a","Enabled":"yes"}`, "Enabled must be a boolean"},
		{"roles is a string", "", `{"Name":"a","RoleIds":"x"}`, "RoleIds must be an array"},
		{"tag is a number", "", `{"Name":"a","Tags":[1]}`, "Tags"},
		{"unknown property", "", `{"Name":"a","Secret":"x"}`, `"Secret" is not part of this request`},
		{"name missing", "", `{}`, "Name is required"},
		{"name too long", "", `{"Name":"` + strings.Repeat("n", 201) + `"}`, "the limit is 200"},
		{"client id not a GUID", "", `{"Name":"a","ClientId":"ClientId"}`, "ClientId \"ClientId\" is not a GUID"},
		{"role not a GUID", "", `{"Name":"a","RoleIds":["admin"]}`, "RoleIds[0]"},
		{"cluster role", "", `{"Name":"a","RoleIds":["` + identity.RoleAccountMember + `","` + identity.RoleClusterOperator + `"]}`, "cluster role"},
		{"no member role", "", `{"Name":"a","RoleIds":["` + identity.RoleAccountAdministrator + `"]}`, "Account Member"},
		{"past expiration", "", `{"Name":"a","SecretExpirationDate":"2020-01-01T00:00:00Z"}`, "not in the future"},
		{"bad date", "", `{"Name":"a","SecretExpirationDate":"next week"}`, "not a date-time"},
		{"description too long", "", `{"Name":"a","SecretDescription":"` + strings.Repeat("d", 257) + `"}`, "the limit is 256"},
		{"name with a bidi override and a zero-width space", "", `{"Name":"demo administrator\u202e\u200b"}`, "Name contains the invisible formatting character U+202E"},
		{"tag with a zero-width space", "", `{"Name":"a","Tags":["prod\u200b"]}`, "Tags[0] contains the invisible formatting character U+200B"},
		{"description with a bidi override", "", `{"Name":"a","SecretDescription":"x\u202e"}`, "SecretDescription contains the invisible formatting character U+202E"},
		{"tenant id not a GUID", "/api/v1-preview/Tenants/acme/ClientCredentialClients", `{"Name":"a"}`, "tenantId \"acme\" is not a GUID"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := tc.path
			if path == "" {
				path = cccPath(tenantID)
			}
			a.do(http.MethodPost, path, tc.body).ocsError(t, http.StatusBadRequest, tc.reason)
		})
	}
	// Nothing was stored by any of them.
	var list []dto
	a.do(http.MethodGet, cccPath(tenantID), nil).JSON(t, http.StatusOK, &list)
	if len(list) != 0 || tenantCount(t, a.svc, tenantID) != 0 || env.MaterialCount(t, tenantID, "") != 0 {
		t.Fatalf("refused creates left %d clients, count %d, %d material", len(list), tenantCount(t, a.svc, tenantID), env.MaterialCount(t, tenantID, ""))
	}
}

func TestClientLimit(t *testing.T) {
	a := newAPI(t)
	tenantID := a.tenant(2)
	first := a.create(tenantID, map[string]any{"Name": "one"})
	a.create(tenantID, map[string]any{"Name": "two"})
	a.do(http.MethodPost, cccPath(tenantID), map[string]any{"Name": "three"}).ocsError(t, http.StatusBadRequest, "Client limit exceeded")
	a.do(http.MethodDelete, cccPath(tenantID, first.ClientId), nil).JSON(t, http.StatusNoContent, nil)
	a.create(tenantID, map[string]any{"Name": "three"})
	if n := tenantCount(t, a.svc, tenantID); n != 2 {
		t.Fatalf("counter %d, want 2", n)
	}
	if n := env.MaterialCount(t, tenantID, ""); n != 2 {
		t.Fatalf("%d secret material, want 2", n)
	}
}

func TestConcurrentCreatesRespectTheLimit(t *testing.T) {
	a := newAPI(t)
	tenantID := a.tenant(10)
	const attempts = 50
	statuses := make([]int, attempts)
	var wg sync.WaitGroup
	for i := range attempts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			statuses[i] = a.do(http.MethodPost, cccPath(tenantID), map[string]any{"Name": fmt.Sprintf("c%d", i)}).Status
		}()
	}
	wg.Wait()
	count := map[int]int{}
	for _, s := range statuses {
		count[s]++
	}
	if count[http.StatusCreated] != 10 || count[http.StatusBadRequest] != attempts-10 {
		t.Fatalf("statuses %v, want 10 created and %d refused", count, attempts-10)
	}
	res := a.do(http.MethodGet, cccPath(tenantID), nil)
	var list []dto
	res.JSON(t, http.StatusOK, &list)
	if len(list) != 10 || res.Header.Get("Total-Count") != "10" {
		t.Fatalf("%d clients listed, Total-Count %s", len(list), res.Header.Get("Total-Count"))
	}
	if n := tenantCount(t, a.svc, tenantID); n != 10 {
		t.Fatalf("counter %d, want 10", n)
	}
	// A refused create takes its verifier out of the pack again. Fifty
	// creates at once in one tenant all write one pack (a compare-and-
	// swap each, then one more for each refusal): a removal that runs
	// out of its time leaves an entry without a record, never a record
	// without material, and the sweeper's reconciliation removes it.
	live := map[string]bool{}
	for _, c := range list {
		live[c.ClientId] = true
	}
	left := env.Material(t, tenantID, "")
	for _, ref := range left {
		if !live[ref.ClientID] && env.SecretItems(t, ref.ClientID) > 0 {
			t.Fatalf("refused create of client %s left a secret record", ref.ClientID)
		}
	}
	if len(left) > 10 {
		t.Logf("%d verifiers of refused creates left for the sweeper", len(left)-10)
		env.Reconcile(t, func() time.Time { return time.Now().Add(2 * time.Hour) })
	}
	if n := env.MaterialCount(t, tenantID, ""); n != 10 {
		t.Fatalf("%d secret material, want 10 (refused creates must not leave any, after reconciliation at the latest)", n)
	}
}

func TestGet(t *testing.T) {
	a := newAPI(t)
	tenantID := a.tenant(0)
	c := a.create(tenantID, map[string]any{"Name": "svc", "Tags": []string{"x"}})
	var got dto
	a.do(http.MethodGet, cccPath(tenantID, c.ClientId), nil).JSON(t, http.StatusOK, &got)
	if got.ClientId != c.ClientId || got.Name != "svc" || !got.Enabled || got.Tags[0] != "x" {
		t.Fatalf("%+v", got)
	}
	a.do(http.MethodGet, cccPath(tenantID, strings.ToUpper(c.ClientId))+"/", nil).JSON(t, http.StatusOK, &got)
	a.do(http.MethodGet, cccPath(tenantID, identity.NewID()), nil).ocsError(t, http.StatusNotFound, "Client not found")
	a.do(http.MethodGet, cccPath(identity.NewID(), c.ClientId), nil).ocsError(t, http.StatusNotFound, "Tenant not found")
	other := a.tenant(0)
	a.do(http.MethodGet, cccPath(other, c.ClientId), nil).ocsError(t, http.StatusNotFound, "Client not found")
	a.do(http.MethodGet, cccPath(tenantID, "not-a-guid"), nil).ocsError(t, http.StatusBadRequest, "clientId \"not-a-guid\" is not a GUID")
}

func TestList(t *testing.T) {
	a := newAPI(t)
	tenantID := a.tenant(0)
	var ids []string
	for i, tags := range [][]string{{"red"}, {"blue"}, {"red", "green"}, nil, {"green"}} {
		ids = append(ids, a.create(tenantID, map[string]any{"Name": fmt.Sprintf("c%d", i), "Tags": tags}).ClientId)
	}
	list := func(query string) ([]dto, string) {
		t.Helper()
		res := a.do(http.MethodGet, cccPath(tenantID)+query, nil)
		var l []dto
		res.JSON(t, http.StatusOK, &l)
		return l, res.Header.Get("Total-Count")
	}
	all, total := list("")
	if len(all) != 5 || total != "5" {
		t.Fatalf("%d clients, Total-Count %s", len(all), total)
	}
	for i := range all {
		if all[i].ClientId != ids[i] {
			t.Fatalf("list position %d is %s, want %s: not in creation order", i, all[i].ClientId, ids[i])
		}
	}
	page, total := list("?skip=1&count=2")
	if len(page) != 2 || page[0].ClientId != all[1].ClientId || page[1].ClientId != all[2].ClientId || total != "5" {
		t.Fatalf("page %v, Total-Count %s", page, total)
	}
	if past, total := list("?skip=10"); len(past) != 0 || total != "5" {
		t.Fatalf("skip past the end: %d, %s", len(past), total)
	}
	red, total := list("?tags=red")
	if len(red) != 2 || total != "2" {
		t.Fatalf("tags=red: %d, %s", len(red), total)
	}
	if rg, _ := list("?tags=red&tags=green"); len(rg) != 3 {
		t.Fatalf("tags=red&tags=green: %d, want 3 (any tag matches)", len(rg))
	}
	if none, total := list("?tags=purple"); len(none) != 0 || total != "0" {
		t.Fatalf("tags=purple: %d", len(none))
	}
	if withSlash := a.do(http.MethodGet, cccPath(tenantID)+"/", nil); withSlash.Status != http.StatusOK {
		t.Fatalf("trailing slash: %d", withSlash.Status)
	}
	for _, tc := range []struct{ query, reason string }{
		{"?count=0", "count=0 is not valid"},
		{"?count=1001", "count=1001 is not valid"},
		{"?count=ten", "count=ten is not valid"},
		{"?skip=-1", "skip=-1 is not valid"},
		{"?query=name%20eq%20x", "query parameter is not supported"},
	} {
		t.Run(tc.query, func(t *testing.T) {
			a.do(http.MethodGet, cccPath(tenantID)+tc.query, nil).ocsError(t, http.StatusBadRequest, tc.reason)
		})
	}
	empty := a.tenant(0)
	res := a.do(http.MethodGet, cccPath(empty), nil)
	if res.Status != http.StatusOK || strings.TrimSpace(string(res.Body)) != "[]" || res.Header.Get("Total-Count") != "0" {
		t.Fatalf("empty tenant: %d %s", res.Status, res.Body)
	}
	a.do(http.MethodGet, cccPath(identity.NewID()), nil).ocsError(t, http.StatusNotFound, "Tenant not found")
}

// A stored item that cannot be read (here a list copy, the item a list
// reads: shared/store/layout/layout.go) makes the list a 207 with the readable
// clients and one child error, never a failure of the whole list.
func TestListWithUnreadableItem(t *testing.T) {
	a := newAPI(t)
	tenantID := a.tenant(0)
	good := a.create(tenantID, map[string]any{"Name": "good"})
	badID := identity.NewID()
	_, err := env.Clients.DynamoDB.PutItem(context.Background(), &dynamodb.PutItemInput{
		TableName: &env.Config.Table,
		Item: map[string]ddbtypes.AttributeValue{
			"PK": &ddbtypes.AttributeValueMemberS{Value: "TENANT#" + tenantID}, "SK": &ddbtypes.AttributeValueMemberS{Value: "ORDER#CCC#9999999999999999999"},
			"ClientId": &ddbtypes.AttributeValueMemberS{Value: badID}, "Name": &ddbtypes.AttributeValueMemberN{Value: "7"},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	res := a.do(http.MethodGet, cccPath(tenantID), nil)
	var ms ocsapi.MultiStatusResponse[dto]
	res.JSON(t, http.StatusMultiStatus, &ms)
	if len(ms.Data) != 1 || ms.Data[0].ClientId != good.ClientId {
		t.Fatalf("Data %+v", ms.Data)
	}
	if len(ms.ChildErrors) != 1 || ms.ChildErrors[0].ModelId.(map[string]any)["ClientId"] != badID || ms.ChildErrors[0].TenantId != tenantID || ms.ChildErrors[0].StatusCode != 500 {
		t.Fatalf("ChildErrors %+v", ms.ChildErrors)
	}
	if ms.OperationId != res.Header.Get("Operation-Id") || res.Header.Get("Total-Count") != "1" {
		t.Fatalf("OperationId %q, Total-Count %q", ms.OperationId, res.Header.Get("Total-Count"))
	}
}

func TestUpdate(t *testing.T) {
	a := newAPI(t)
	tenantID := a.tenant(0)
	c := a.create(tenantID, map[string]any{"Name": "before", "Tags": []string{"t1"}, "RoleIds": []string{identity.RoleAccountMember}})
	path := cccPath(tenantID, c.ClientId)

	var got dto
	a.do(http.MethodPut, path, map[string]any{"Name": "after", "Tags": nil}).JSON(t, http.StatusOK, &got)
	if got.Name != "after" || strings.Join(got.Tags, ",") != "t1" || !got.Enabled || len(got.RoleIds) != 1 {
		t.Fatalf("absent and null properties must keep their value: %+v", got)
	}
	a.do(http.MethodPut, path, map[string]any{"Enabled": false, "ClientId": c.ClientId, "RoleIds": []string{identity.RoleAccountAdministrator, identity.RoleAccountMember}, "Tags": []string{}}).JSON(t, http.StatusOK, &got)
	if got.Enabled || len(got.RoleIds) != 2 || len(got.Tags) != 0 || got.Name != "after" {
		t.Fatalf("%+v", got)
	}
	for _, tc := range []struct {
		name   string
		body   any
		status int
		reason string
	}{
		{"other client id", map[string]any{"ClientId": identity.NewID()}, 400, "differs from"},
		{"blank name", map[string]any{"Name": ""}, 400, "Name is required"},
		{"cluster role", map[string]any{"RoleIds": []string{identity.RoleAccountMember, identity.RoleClusterSupport}}, 400, "cluster role"},
		{"secret fields are not part of an update", map[string]any{"SecretDescription": "x"}, 400, "SecretDescription"},
		{"wrong type", `{"Enabled": 1}`, 400, "Enabled must be a boolean"},
		{"malformed", `{`, 400, "JSON"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a.do(http.MethodPut, path, tc.body).ocsError(t, tc.status, tc.reason)
		})
	}
	var after dto
	a.do(http.MethodGet, path, nil).JSON(t, http.StatusOK, &after)
	if after.Name != "after" || after.Enabled || len(after.RoleIds) != 2 {
		t.Fatalf("refused updates changed the client: %+v", after)
	}
	a.do(http.MethodPut, cccPath(tenantID, identity.NewID()), map[string]any{"Name": "x"}).ocsError(t, http.StatusNotFound, "Client not found")
	a.do(http.MethodPut, cccPath(identity.NewID(), c.ClientId), map[string]any{"Name": "x"}).ocsError(t, http.StatusNotFound, "Tenant not found")
}

func TestDelete(t *testing.T) {
	a := newFullAPI(t)
	tenantID := a.tenant(0)
	c := a.create(tenantID, map[string]any{"Name": "doomed"})
	keep := a.create(tenantID, map[string]any{"Name": "kept"})
	if !env.MaterialExists(t, tenantID, c.ClientId, c.SecretId) {
		t.Fatal("no material before delete")
	}
	other := a.tenant(0)
	a.do(http.MethodDelete, cccPath(other, c.ClientId), nil).ocsError(t, http.StatusNotFound, "Client not found")

	res := a.do(http.MethodDelete, cccPath(tenantID, c.ClientId), nil)
	if res.Status != http.StatusNoContent || len(res.Body) != 0 {
		t.Fatalf("delete: %d %s", res.Status, res.Body)
	}
	if env.MaterialExists(t, tenantID, c.ClientId, c.SecretId) {
		t.Fatal("the deleted client's secret material is still live")
	}
	if !env.MaterialExists(t, tenantID, keep.ClientId, keep.SecretId) {
		t.Fatal("another client's material was destroyed")
	}
	a.do(http.MethodGet, cccPath(tenantID, c.ClientId), nil).ocsError(t, http.StatusNotFound, "Client not found")
	a.do(http.MethodDelete, cccPath(tenantID, c.ClientId), nil).ocsError(t, http.StatusNotFound, "Client not found")
	a.do(http.MethodDelete, cccPath(identity.NewID(), c.ClientId), nil).ocsError(t, http.StatusNotFound, "Tenant not found")
	if n := tenantCount(t, a.svc, tenantID); n != 1 {
		t.Fatalf("counter %d after delete, want 1", n)
	}
	// The id is never reused, in any tenant: a token that names it as sub
	// and client_id keeps meaning the client that was deleted.
	for _, ten := range []string{other, tenantID} {
		a.do(http.MethodPost, cccPath(ten), map[string]any{"Name": "reborn", "ClientId": c.ClientId}).ocsError(t, http.StatusConflict, "Client Id already exists")
		a.do(http.MethodPost, hybridPath(ten), map[string]any{"Name": "reborn", "ClientId": c.ClientId}).ocsError(t, http.StatusConflict, "Client Id already exists")
	}
	if a.authenticates(c.ClientId, c.ClientSecret) {
		t.Fatal("the deleted client's secret still authenticates")
	}
	a.do(http.MethodGet, cccPath(other, c.ClientId), nil).ocsError(t, http.StatusNotFound, "Client not found")
	if n := tenantCount(t, a.svc, other); n != 0 {
		t.Fatalf("refused creates counted %d clients in the other tenant", n)
	}
}

func TestUnknownRoutes(t *testing.T) {
	a := newAPI(t)
	tenantID := a.tenant(0)
	a.do(http.MethodGet, "/api/v1-preview/Tenants/"+tenantID+"/clientcredentialclients", nil).ocsError(t, http.StatusNotFound, "Route not found")
	res := a.do(http.MethodPatch, cccPath(tenantID), `{}`)
	res.ocsError(t, http.StatusMethodNotAllowed, "Method not allowed")
	if allow := res.Header.Get("Allow"); !strings.Contains(allow, "GET") || !strings.Contains(allow, "POST") {
		t.Fatalf("Allow %q", allow)
	}
}

// No client secret is ever at rest in plain text: not in any DynamoDB item,
// not in any Secrets Manager value.
func TestNoPlaintextSecretAtRest(t *testing.T) {
	a := newAPI(t)
	tenantID := a.tenant(0)
	var secrets []string
	for i := range 5 {
		secrets = append(secrets, a.create(tenantID, map[string]any{"Name": "c" + strconv.Itoa(i), "SecretDescription": "d"}).ClientSecret)
	}
	ctx := context.Background()
	var haystack strings.Builder
	scan := dynamodb.NewScanPaginator(env.Clients.DynamoDB, &dynamodb.ScanInput{TableName: &env.Config.Table})
	items := 0
	for scan.HasMorePages() {
		out, err := scan.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range out.Items {
			items++
			fmt.Fprintf(&haystack, "%#v\n", it)
			for _, v := range it {
				if sv, ok := v.(*ddbtypes.AttributeValueMemberS); ok {
					haystack.WriteString(sv.Value + "\n")
				}
			}
		}
	}
	values := 0
	list := secretsmanager.NewListSecretsPaginator(env.Clients.SecretsManager, env.OwnSecrets())
	for list.HasMorePages() {
		out, err := list.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range out.SecretList {
			v, err := env.Clients.SecretsManager.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: s.ARN})
			if err != nil {
				t.Fatal(err)
			}
			values++
			haystack.WriteString(aws.ToString(v.SecretString) + "\n")
		}
	}
	if items < 5 || values < 5 {
		t.Fatalf("scanned %d items and %d secret values: too few to mean anything", items, values)
	}
	for _, s := range secrets {
		if strings.Contains(haystack.String(), s) {
			t.Fatal("a client secret is stored in plain text")
		}
	}
}
