package apitest

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"identityservice/shared/httpapi"
	"identityservice/shared/identity"
)

// malformed is one hostile request and its exact answer.
type malformed struct {
	name   string
	method string
	path   string
	ctype  string // Content-Type; "" with a body: application/json; "none": no header
	body   string
	auth   string // Authorization; "": the tenant's Account Administrator's bearer token; "none": no header
	status int
	family httpapi.Family
	title  string // OCS Error, ProblemDetails title, or RFC 6749 error code
	reason string // a part of Reason / detail / error_description
	allow  string // the Allow header of a 405
}

// TestMalformedRequests sends hostile requests to every route family
// through the whole API on the emulators and checks each exact status and
// error body (in the route's family format), and that the stored data
// (every table item, every secret in Secrets Manager) is unchanged.
func TestMalformedRequests(t *testing.T) {
	s := api(t)
	ctx := context.Background()
	admin := s.callers[accountAdmin]
	T := s.tenant
	cc, err := s.app.Service.CreateClient(ctx, T, identity.NewClient{Kind: identity.ClientCredential, Name: "malformed cc"})
	if err != nil {
		t.Fatal(err)
	}
	hy, err := s.app.Service.CreateClient(ctx, T, identity.NewClient{Kind: identity.Hybrid, Name: "malformed hybrid", RedirectURIs: []string{"https://app.example.com/cb"}})
	if err != nil {
		t.Fatal(err)
	}
	C, H, S := cc.Client.ID, hy.Client.ID, cc.Secret.ID
	ccs := "/api/v1-preview/Tenants/" + T + "/ClientCredentialClients"
	hys := "/api/Tenants/" + T + "/HybridClient"
	ccSecret := ccs + "/" + C + "/Secret"
	kr := "/api/tenants/" + T + "/applications/" + C + "/secrets"
	const token = "/identity/connect/token"
	const tooBigLen = httpapi.MaxBodyBytes + 1
	big := `{"Name":"` + strings.Repeat("a", tooBigLen) + `"}`
	deep := `{"Name":` + strings.Repeat("[", 20000) + strings.Repeat("]", 20000) + `}`
	var tags []string
	for i := range 5000 {
		tags = append(tags, fmt.Sprintf("%q", fmt.Sprint("t", i)))
	}
	manyTags := `{"Name":"x","Tags":[` + strings.Join(tags, ",") + `]}`
	manyURIs := `{"Name":"x","RedirectUris":[` + strings.Repeat(`"https://a.example/cb",`, 2000) + `"https://a.example/cb"]}`
	basic := func(id, secret string) string {
		return "Basic " + base64.StdEncoding.EncodeToString([]byte(id+":"+secret))
	}
	const (
		invalid  = "Missing or invalid inputs"
		tooLarge = "Request body too large"
		media    = "Unsupported media type"
		method   = "Method not allowed"
		unauth   = "Unauthorized"
	)
	ocs, krf, oauth := httpapi.OCS, httpapi.KeyRotation, httpapi.OAuth
	cases := []malformed{
		// --- OCS: Client Credential client create ---
		{name: "cc create body over 64 KiB", method: "POST", path: ccs, body: big, status: 413, family: ocs, title: tooLarge, reason: "larger than 65536 bytes"},
		{name: "cc create text/plain", method: "POST", path: ccs, ctype: "text/plain", body: `{"Name":"x"}`, status: 415, family: ocs, title: media, reason: `"text/plain"`},
		{name: "cc create form type (curl -d)", method: "POST", path: ccs, ctype: "application/x-www-form-urlencoded", body: `{"Name":"x"}`, status: 415, family: ocs, title: media, reason: "reads JSON"},
		{name: "cc create unparsable content type", method: "POST", path: ccs, ctype: ";;;", body: `{"Name":"x"}`, status: 415, family: ocs, title: media, reason: `";;;"`},
		{name: "cc create deeply nested JSON", method: "POST", path: ccs, body: deep, status: 400, family: ocs, title: invalid, reason: "exceeded max depth"},
		{name: "cc create nested array for a string", method: "POST", path: ccs, body: `{"Name":[[["x"]]]}`, status: 400, family: ocs, title: invalid, reason: "Property Name must be a string, not an array"},
		{name: "cc create invalid UTF-8", method: "POST", path: ccs, body: "{\"Name\":\"\xff\xfe\"}", status: 400, family: ocs, title: invalid, reason: "not valid UTF-8"},
		{name: "cc create huge Tags array", method: "POST", path: ccs, body: manyTags, status: 400, family: ocs, title: invalid, reason: "5000 distinct Tags were sent"},
		{name: "cc create NUL in Name", method: "POST", path: ccs, body: `{"Name":"a\u0000b"}`, status: 400, family: ocs, title: invalid, reason: "Name contains control characters"},
		{name: "cc create line break in Name", method: "POST", path: ccs, body: `{"Name":"a\nb"}`, status: 400, family: ocs, title: invalid, reason: "Name contains control characters"},
		{name: "cc create escape in Name", method: "POST", path: ccs, body: `{"Name":"a\u001b[31mred"}`, status: 400, family: ocs, title: invalid, reason: "Name contains control characters"},
		{name: "cc create control character in a tag", method: "POST", path: ccs, body: `{"Name":"x","Tags":["a\tb"]}`, status: 400, family: ocs, title: invalid, reason: "control characters"},
		{name: "cc create Name too long", method: "POST", path: ccs, body: `{"Name":"` + strings.Repeat("n", 201) + `"}`, status: 400, family: ocs, title: invalid, reason: "Name has 201 characters"},
		{name: "cc create blank Name", method: "POST", path: ccs, body: `{"Name":"   "}`, status: 400, family: ocs, title: invalid, reason: "Name is required"},
		{name: "cc create empty body", method: "POST", path: ccs, body: "", ctype: "application/json", status: 400, family: ocs, title: invalid, reason: "The request body is empty"},
		{name: "cc create array body", method: "POST", path: ccs, body: `[]`, status: 400, family: ocs, title: invalid, reason: "must be a JSON object, not an array"},
		{name: "cc create string body", method: "POST", path: ccs, body: `"x"`, status: 400, family: ocs, title: invalid, reason: "must be a JSON object, not a string"},
		{name: "cc create null body", method: "POST", path: ccs, body: `null`, status: 400, family: ocs, title: invalid, reason: "Name is required"},
		{name: "cc create trailing data", method: "POST", path: ccs, body: `{"Name":"x"}{}`, status: 400, family: ocs, title: invalid, reason: "data after its JSON object"},
		{name: "cc create truncated JSON", method: "POST", path: ccs, body: `{"Name":"x"`, status: 400, family: ocs, title: invalid, reason: "truncated JSON"},
		{name: "cc create syntax error", method: "POST", path: ccs, body: `{"Name":'x'}`, status: 400, family: ocs, title: invalid, reason: "not valid JSON"},
		{name: "cc create unknown property", method: "POST", path: ccs, body: `{"Name":"x","Nmae":"y"}`, status: 400, family: ocs, title: invalid, reason: `Property "Nmae" is not part of this request`},
		{name: "cc create wrong type", method: "POST", path: ccs, body: `{"Name":"x","Enabled":"yes"}`, status: 400, family: ocs, title: invalid, reason: "Property Enabled must be a boolean"},
		{name: "cc create number overflow", method: "POST", path: ccs, body: `{"Name":"x","Enabled":1e999}`, status: 400, family: ocs, title: invalid, reason: "Enabled"},
		{name: "cc create case-duplicate keys, last has NUL", method: "POST", path: ccs, body: `{"name":"ok","NAME":"\u0000"}`, status: 400, family: ocs, title: invalid, reason: "control characters"},
		{name: "cc create ClientId not a GUID", method: "POST", path: ccs, body: `{"Name":"x","ClientId":"not-a-guid"}`, status: 400, family: ocs, title: invalid, reason: "is not a GUID"},
		{name: "cc create ClientId empty GUID", method: "POST", path: ccs, body: `{"Name":"x","ClientId":"00000000-0000-0000-0000-000000000000"}`, status: 400, family: ocs, title: invalid, reason: "must not be the empty GUID"},
		{name: "cc create RoleIds not GUIDs", method: "POST", path: ccs, body: `{"Name":"x","RoleIds":["admin"]}`, status: 400, family: ocs, title: invalid, reason: "RoleIds"},
		{name: "cc create invalid date", method: "POST", path: ccs, body: `{"Name":"x","SecretExpirationDate":"2031-13-01"}`, status: 400, family: ocs, title: invalid, reason: "is not a date-time"},
		{name: "cc create February 30", method: "POST", path: ccs, body: `{"Name":"x","SecretExpirationDate":"2031-02-30"}`, status: 400, family: ocs, title: invalid, reason: "is not a date-time"},
		{name: "cc create date past year 9999 in UTC", method: "POST", path: ccs, body: `{"Name":"x","SecretExpirationDate":"9999-12-31T23:59:59-23:59"}`, status: 400, family: ocs, title: invalid, reason: "out of range"},
		{name: "cc create date before year 1 in UTC", method: "POST", path: ccs, body: `{"Name":"x","SecretExpirationDate":"0001-01-01T00:00:00+01:00"}`, status: 400, family: ocs, title: invalid, reason: "out of range"},
		{name: "cc create date in the past", method: "POST", path: ccs, body: `{"Name":"x","SecretExpirationDate":"2001-01-01"}`, status: 400, family: ocs, title: invalid, reason: "is not in the future"},
		{name: "cc create date as a number", method: "POST", path: ccs, body: `{"Name":"x","SecretExpirationDate":1893456000}`, status: 400, family: ocs, title: invalid, reason: "SecretExpirationDate must be a string"},
		// --- OCS: paths and methods ---
		{name: "cc get id not a GUID", method: "GET", path: ccs + "/not-a-guid", status: 400, family: ocs, title: invalid, reason: `clientId "not-a-guid" is not a GUID`},
		{name: "cc get id with NUL", method: "GET", path: ccs + "/%00", status: 400, family: ocs, title: invalid, reason: "is not a GUID"},
		{name: "cc get id in braces", method: "GET", path: ccs + "/{" + C + "}", status: 400, family: ocs, title: invalid, reason: "is not a GUID"},
		{name: "cc get id 1000 characters", method: "GET", path: ccs + "/" + strings.Repeat("f", 1000), status: 400, family: ocs, title: invalid, reason: "is not a GUID"},
		{name: "cc get empty GUID", method: "GET", path: ccs + "/00000000-0000-0000-0000-000000000000", status: 400, family: ocs, title: invalid, reason: "must not be the empty GUID"},
		{name: "tenant id not a GUID", method: "GET", path: "/api/v1-preview/Tenants/acme/ClientCredentialClients", status: 400, family: ocs, title: invalid, reason: `tenantId "acme" is not a GUID`},
		{name: "cc list count out of range", method: "GET", path: ccs + "?count=1001", status: 400, family: ocs, title: invalid, reason: "count=1001 is not valid"},
		{name: "cc list skip negative", method: "GET", path: ccs + "?skip=-1", status: 400, family: ocs, title: invalid, reason: "skip=-1 is not valid"},
		{name: "cc list count not a number", method: "GET", path: ccs + "?count=1e3", status: 400, family: ocs, title: invalid, reason: "count=1e3 is not valid"},
		{name: "cc PATCH", method: "PATCH", path: ccs + "/" + C, body: `{}`, status: 405, family: ocs, title: method, reason: "PATCH is not supported", allow: "GET, PUT, DELETE"},
		{name: "cc collection DELETE", method: "DELETE", path: ccs, status: 405, family: ocs, title: method, reason: "DELETE is not supported", allow: "POST, GET"},
		{name: "cc unknown method", method: "BREW", path: ccs + "/" + C, status: 405, family: ocs, title: method, reason: "BREW is not supported", allow: "GET, PUT, DELETE"},
		{name: "hybrid collection PUT", method: "PUT", path: hys, body: `{}`, status: 405, family: ocs, title: method, reason: "PUT is not supported", allow: "POST, GET"},
		// --- OCS: updates ---
		{name: "cc update ClientId mismatch", method: "PUT", path: ccs + "/" + C, body: `{"ClientId":"` + H + `"}`, status: 400, family: ocs, title: invalid, reason: "ClientId"},
		{name: "cc update body over 64 KiB", method: "PUT", path: ccs + "/" + C, body: big, status: 413, family: ocs, title: tooLarge, reason: "larger than 65536 bytes"},
		{name: "cc update XML", method: "PUT", path: ccs + "/" + C, ctype: "application/xml", body: `<Name>x</Name>`, status: 415, family: ocs, title: media, reason: "application/xml"},
		{name: "cc update cluster role", method: "PUT", path: ccs + "/" + C, body: `{"RoleIds":["` + identity.RoleAccountMember + `","` + identity.RoleClusterOperator + `"]}`, status: 400, family: ocs, title: invalid, reason: "cluster role"},
		{name: "cc update Enabled null-ish string", method: "PUT", path: ccs + "/" + C, body: `{"Enabled":"null"}`, status: 400, family: ocs, title: invalid, reason: "Property Enabled must be a boolean"},
		// --- OCS: Hybrid clients ---
		{name: "hybrid create 11 redirect URIs", method: "POST", path: hys, body: `{"Name":"x","RedirectUris":[` + strings.TrimSuffix(strings.Repeat(`"https://a.example/cb",`, 11), ",") + `]}`, status: 400, family: ocs, title: invalid, reason: "RedirectUris"},
		{name: "hybrid create huge redirect URI array", method: "POST", path: hys, body: manyURIs, status: 400, family: ocs, title: invalid, reason: "RedirectUris"},
		{name: "hybrid create redirect URI with fragment", method: "POST", path: hys, body: `{"Name":"x","RedirectUris":["https://a.example/cb#f"]}`, status: 400, family: ocs, title: invalid, reason: "has a fragment"},
		{name: "hybrid create relative redirect URI", method: "POST", path: hys, body: `{"Name":"x","RedirectUris":["/cb"]}`, status: 400, family: ocs, title: invalid, reason: "is not an absolute URI"},
		{name: "hybrid create http redirect URI", method: "POST", path: hys, body: `{"Name":"x","RedirectUris":["http://a.example/cb"]}`, status: 400, family: ocs, title: invalid, reason: "uses http with a host that is not loopback"},
		{name: "hybrid create ftp ClientUri", method: "POST", path: hys, body: `{"Name":"x","ClientUri":"ftp://a.example/"}`, status: 400, family: ocs, title: invalid, reason: "ClientUri"},
		{name: "hybrid create NUL in Name", method: "POST", path: hys, body: `{"Name":"\u0000"}`, status: 400, family: ocs, title: invalid, reason: "Name contains control characters"},
		{name: "hybrid create invalid UTF-8", method: "POST", path: hys, body: "{\"Name\":\"\xc3\x28\"}", status: 400, family: ocs, title: invalid, reason: "not valid UTF-8"},
		{name: "hybrid create text/html", method: "POST", path: hys, ctype: "text/html", body: `{"Name":"x"}`, status: 415, family: ocs, title: media, reason: "text/html"},
		{name: "hybrid get on a Client Credential id", method: "GET", path: hys + "/" + C, status: 404, family: ocs, title: "Client not found", reason: "No client of this kind"},
		// --- OCS: secrets ---
		{name: "secret add invalid date", method: "POST", path: ccSecret, body: `{"Expiration":"tomorrow"}`, status: 400, family: ocs, title: invalid, reason: `Expiration "tomorrow" is not a date-time`},
		{name: "secret add hour 24", method: "POST", path: ccSecret, body: `{"Expiration":"2031-01-01T24:00:00Z"}`, status: 400, family: ocs, title: invalid, reason: "is not a date-time"},
		{name: "secret add offset out of range", method: "POST", path: ccSecret, body: `{"Expiration":"2031-01-01T00:00:00+24:00"}`, status: 400, family: ocs, title: invalid, reason: "offset out of range"},
		{name: "secret add minute 60 in the offset", method: "POST", path: ccSecret, body: `{"Expiration":"2031-01-01T00:00:00+05:60"}`, status: 400, family: ocs, title: invalid, reason: "offset out of range"},
		{name: "secret add past date", method: "POST", path: ccSecret, body: `{"Expiration":"1999-12-31T23:59:59Z"}`, status: 400, family: ocs, title: invalid, reason: "is not in the future"},
		{name: "secret add Description too long", method: "POST", path: ccSecret, body: `{"Description":"` + strings.Repeat("d", 257) + `"}`, status: 400, family: ocs, title: invalid, reason: "257 characters"},
		{name: "secret add control character in Description", method: "POST", path: ccSecret, body: `{"Description":"a\u0007"}`, status: 400, family: ocs, title: invalid, reason: "control characters"},
		{name: "secret add body over 64 KiB", method: "POST", path: ccSecret, body: `{"Description":"` + strings.Repeat("d", tooBigLen) + `"}`, status: 413, family: ocs, title: tooLarge, reason: "larger than 65536 bytes"},
		{name: "secret add multipart", method: "POST", path: ccSecret, ctype: "multipart/form-data; boundary=x", body: `--x--`, status: 415, family: ocs, title: media, reason: "multipart/form-data"},
		{name: "secret update Expiration a number", method: "PUT", path: ccSecret + "/" + S, body: `{"Expiration":12}`, status: 400, family: ocs, title: invalid, reason: "Property Expiration must be a string"},
		{name: "secret get id not a GUID", method: "GET", path: ccSecret + "/42", status: 400, family: ocs, title: invalid, reason: `secretId "42" is not a GUID`},
		{name: "obsolete secret update SecretId mismatch", method: "PUT", path: "/api/v1-preview/Tenants/" + T + "/Clients/" + C + "/Secret/" + S, body: `{"SecretId":"` + H + `"}`, status: 400, family: ocs, title: invalid, reason: "SecretId"},
		{name: "secret PATCH", method: "PATCH", path: ccSecret + "/" + S, body: `{}`, status: 405, family: ocs, title: method, reason: "PATCH is not supported", allow: "GET, PUT, DELETE"},
		// --- Key Rotation ---
		{name: "kr add bare string not a date", method: "POST", path: kr, body: `"soon"`, status: 400, family: krf, title: invalid, reason: `expirationDate "soon" is not a date-time`},
		{name: "kr add month 13", method: "POST", path: kr, body: `{"expirationDate":"2031-13-01"}`, status: 400, family: krf, title: invalid, reason: "is not a date-time"},
		{name: "kr add date past year 9999 in UTC", method: "POST", path: kr, body: `"9999-12-31T23:59:59-23:59"`, status: 400, family: krf, title: invalid, reason: "out of range"},
		{name: "kr add past bare date", method: "POST", path: kr, body: `"2001-01-01"`, status: 400, family: krf, title: invalid, reason: "is not in the future"},
		{name: "kr add unknown property", method: "POST", path: kr, body: `{"expires":"2031-01-01"}`, status: 400, family: krf, title: invalid, reason: `Property "expires" is not part of this request`},
		{name: "kr add array", method: "POST", path: kr, body: `["2031-01-01"]`, status: 400, family: krf, title: invalid, reason: "must be a JSON object, not an array"},
		{name: "kr add date a number", method: "POST", path: kr, body: `{"expirationDate":1893456000}`, status: 400, family: krf, title: invalid, reason: "expirationDate must be a string"},
		{name: "kr add invalid UTF-8", method: "POST", path: kr, body: "\"2031-01-01\xff\"", status: 400, family: krf, title: invalid, reason: "not valid UTF-8"},
		{name: "kr add unterminated string", method: "POST", path: kr, body: `"2031-01-01`, status: 400, family: krf, title: invalid, reason: "not a valid JSON string"},
		{name: "kr add body over 64 KiB", method: "POST", path: kr, body: `"` + strings.Repeat("2", tooBigLen) + `"`, status: 413, family: krf, title: tooLarge, reason: "larger than 65536 bytes"},
		{name: "kr add text/plain", method: "POST", path: kr, ctype: "text/plain", body: `"2031-01-01"`, status: 415, family: krf, title: media, reason: "text/plain"},
		{name: "kr add deeply nested", method: "POST", path: kr, body: `{"expirationDate":` + strings.Repeat("[", 20000) + strings.Repeat("]", 20000) + `}`, status: 400, family: krf, title: invalid, reason: "exceeded max depth"},
		{name: "kr delete id not a GUID", method: "DELETE", path: kr + "/abc", status: 400, family: krf, title: invalid, reason: `id "abc" is not a GUID`},
		{name: "kr tenant not a GUID", method: "GET", path: "/api/tenants/acme/applications/" + C + "/secrets", status: 400, family: krf, title: invalid, reason: `tenant "acme" is not a GUID`},
		{name: "kr PUT", method: "PUT", path: kr, body: `{}`, status: 405, family: krf, title: method, reason: "PUT is not supported", allow: "POST, GET"},
		{name: "kr GET one secret", method: "GET", path: kr + "/" + S, status: 405, family: krf, title: method, reason: "GET is not supported", allow: "DELETE"},
		// --- the token endpoint ---
		{name: "token JSON body", method: "POST", path: token, auth: "none", ctype: "application/json", body: `{"grant_type":"client_credentials"}`, status: 400, family: oauth, title: "invalid_request", reason: "application/x-www-form-urlencoded"},
		{name: "token no content type", method: "POST", path: token, auth: "none", ctype: "none", body: "grant_type=client_credentials", status: 400, family: oauth, title: "invalid_request", reason: "application/x-www-form-urlencoded"},
		{name: "token form over 16 KiB", method: "POST", path: token, auth: "none", ctype: "application/x-www-form-urlencoded", body: "grant_type=client_credentials&x=" + strings.Repeat("a", 16<<10), status: 400, family: oauth, title: "invalid_request", reason: "not a valid form"},
		{name: "token bad percent-encoding", method: "POST", path: token, auth: "none", ctype: "application/x-www-form-urlencoded", body: "grant_type=%zz", status: 400, family: oauth, title: "invalid_request", reason: "not a valid form"},
		{name: "token no grant_type", method: "POST", path: token, auth: basic(C, "x"), ctype: "application/x-www-form-urlencoded", body: "scope=x", status: 400, family: oauth, title: "invalid_request", reason: "grant_type is required"},
		{name: "token password grant", method: "POST", path: token, auth: "none", ctype: "application/x-www-form-urlencoded", body: "grant_type=password&username=a&password=b", status: 400, family: oauth, title: "unsupported_grant_type", reason: "client_credentials"},
		{name: "token Basic and client_secret", method: "POST", path: token, auth: basic(C, "x"), ctype: "application/x-www-form-urlencoded", body: "grant_type=client_credentials&client_secret=y", status: 400, family: oauth, title: "invalid_request", reason: "not both"},
		{name: "token Basic not form-encoded", method: "POST", path: token, auth: basic("%zz", "x"), ctype: "application/x-www-form-urlencoded", body: "grant_type=client_credentials", status: 400, family: oauth, title: "invalid_request", reason: "not form-encoded correctly"},
		{name: "token Basic id differs from body", method: "POST", path: token, auth: basic(C, "x"), ctype: "application/x-www-form-urlencoded", body: "grant_type=client_credentials&client_id=" + H, status: 400, family: oauth, title: "invalid_request", reason: "differs"},
		{name: "token Basic not base64", method: "POST", path: token, auth: "Basic !!!", ctype: "application/x-www-form-urlencoded", body: "grant_type=client_credentials", status: 401, family: oauth, title: "invalid_client", reason: ""},
		{name: "token invalid UTF-8 client_id", method: "POST", path: token, auth: "none", ctype: "application/x-www-form-urlencoded", body: "grant_type=client_credentials&client_id=%ff&client_secret=x", status: 401, family: oauth, title: "invalid_client", reason: ""},
		{name: "token GET", method: "GET", path: token, auth: "none", status: 405, family: oauth, title: "invalid_request", reason: "GET is not supported", allow: "POST"},
		{name: "jwks POST", method: "POST", path: "/identity/.well-known/openid-configuration/jwks", auth: "none", ctype: "application/x-www-form-urlencoded", body: "x=1", status: 405, family: oauth, title: "invalid_request", reason: "POST is not supported", allow: "GET"},
		// --- bearer tokens ---
		{name: "bearer garbage", method: "GET", path: ccs, auth: "Bearer not.a.token", status: 401, family: ocs, title: unauth, reason: "no valid bearer token"},
		{name: "bearer alg none", method: "GET", path: ccs, auth: "Bearer eyJhbGciOiJub25lIn0.eyJjbGllbnRfaWQiOiJ4In0.", status: 401, family: ocs, title: unauth, reason: "no valid bearer token"},
		{name: "Basic on a bearer route", method: "GET", path: ccs, auth: basic(admin.clientID, admin.secret), status: 401, family: ocs, title: unauth, reason: "no valid bearer token"},
		{name: "bearer token cut short", method: "GET", path: kr, auth: "Bearer " + admin.token[:len(admin.token)-10], status: 401, family: krf, title: unauth, reason: "no valid bearer token"},
		{name: "no token on a Key Rotation route", method: "DELETE", path: kr + "/" + S, auth: "none", status: 401, family: krf, title: unauth, reason: "no valid bearer token"},
	}
	if len(cases) < 60 {
		t.Fatalf("%d cases; the table promises at least 60", len(cases))
	}
	before := storedData(t)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res := send(t, s, c, admin.token)
			if res.Status != c.status {
				t.Fatalf("status %d, want %d; body %s", res.Status, c.status, res.Body)
			}
			if c.allow != "" && res.Header.Get("Allow") != c.allow {
				t.Fatalf("Allow %q, want %q", res.Header.Get("Allow"), c.allow)
			}
			if c.status == 401 && c.family != oauth && !strings.HasPrefix(res.Header.Get("WWW-Authenticate"), "Bearer") {
				t.Fatalf("WWW-Authenticate %q, want Bearer", res.Header.Get("WWW-Authenticate"))
			}
			checkErrorFormat(t, c, res.Header, res.Body)
		})
	}
	if after := storedData(t); !equalData(before, after) {
		t.Fatalf("stored data changed:\nbefore %d items\nafter  %d items\n%s", len(before), len(after), diffData(before, after))
	}
}

func send(t *testing.T, s *stack, c malformed, bearer string) response {
	t.Helper()
	var body io.Reader
	if c.body != "" || c.ctype != "" {
		body = strings.NewReader(c.body)
	}
	req, err := http.NewRequest(c.method, s.srv.URL+c.path, body)
	if err != nil {
		t.Fatal(err)
	}
	switch {
	case c.ctype == "none":
	case c.ctype != "":
		req.Header.Set("Content-Type", c.ctype)
	case c.body != "":
		req.Header.Set("Content-Type", "application/json")
	}
	switch c.auth {
	case "none":
	case "":
		req.Header.Set("Authorization", "Bearer "+bearer)
	default:
		req.Header.Set("Authorization", c.auth)
	}
	res, err := s.client.Send(req)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// checkErrorFormat checks the body is exactly the family's error format,
// with the expected title (or code) and reason.
func checkErrorFormat(t *testing.T, c malformed, h http.Header, body []byte) {
	t.Helper()
	opID := h.Get("Operation-Id")
	if opID == "" {
		t.Fatal("no Operation-Id header")
	}
	switch c.family {
	case httpapi.OCS:
		var b httpapi.ErrorBody
		if err := decodeStrict(body, &b); err != nil {
			t.Fatalf("body %s is not the OCS error body: %v", body, err)
		}
		if b.OperationId != opID || b.Error != c.title || !strings.Contains(b.Reason, c.reason) || b.Resolution == "" {
			t.Fatalf("body %+v: want OperationId %s, Error %q, a Reason containing %q, a Resolution", b, opID, c.title, c.reason)
		}
	case httpapi.KeyRotation:
		var p httpapi.ProblemDetails
		if err := decodeStrict(body, &p); err != nil {
			t.Fatalf("body %s is not ProblemDetails: %v", body, err)
		}
		if h.Get("Content-Type") != "application/problem+json" {
			t.Fatalf("Content-Type %q, want application/problem+json", h.Get("Content-Type"))
		}
		path := strings.SplitN(c.path, "?", 2)[0]
		if p.Status != c.status || p.Title != c.title || !strings.Contains(p.Detail, c.reason) || p.Instance != path || p.Type == "" {
			t.Fatalf("body %+v: want status %d, title %q, a detail containing %q, instance %s", p, c.status, c.title, c.reason, path)
		}
	case httpapi.OAuth:
		var e httpapi.OAuthBody
		if err := decodeStrict(body, &e); err != nil {
			t.Fatalf("body %s is not an RFC 6749 error: %v", body, err)
		}
		if e.Error != c.title || e.Description == "" || !strings.Contains(e.Description, c.reason) {
			t.Fatalf("body %+v: want error %q, a description containing %q", e, c.title, c.reason)
		}
	}
}

// storedData is every item of the table and every secret of Secrets
// Manager (name and last change), each as one sorted line.
func storedData(t *testing.T) []string {
	t.Helper()
	ctx := context.Background()
	var out []string
	p := dynamodb.NewScanPaginator(env.Clients.DynamoDB, &dynamodb.ScanInput{TableName: aws.String(env.Config.Table), ConsistentRead: aws.Bool(true)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, item := range page.Items {
			b, err := json.Marshal(item)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, "item "+string(b))
		}
	}
	sp := secretsmanager.NewListSecretsPaginator(env.Clients.SecretsManager, env.OwnSecrets())
	for sp.HasMorePages() {
		page, err := sp.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, sec := range page.SecretList {
			out = append(out, fmt.Sprintf("secret %s changed %v deleted %v", aws.ToString(sec.Name), aws.ToTime(sec.LastChangedDate), aws.ToTime(sec.DeletedDate)))
		}
	}
	sort.Strings(out)
	return out
}

func equalData(a, b []string) bool {
	return strings.Join(a, "\n") == strings.Join(b, "\n")
}

func diffData(a, b []string) string {
	in := func(xs []string) map[string]bool {
		m := map[string]bool{}
		for _, x := range xs {
			m[x] = true
		}
		return m
	}
	ma, mb := in(a), in(b)
	var d []string
	for _, x := range a {
		if !mb[x] {
			d = append(d, "- "+x)
		}
	}
	for _, x := range b {
		if !ma[x] {
			d = append(d, "+ "+x)
		}
	}
	return strings.Join(d, "\n")
}
