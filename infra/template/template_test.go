package template_test

import (
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"identityservice/infra/template"
)

const (
	repoRoot     = "../.."
	templateFile = "../../template.yaml"
)

func load(t *testing.T) *template.Template {
	t.Helper()
	tpl, err := template.Load(templateFile)
	if err != nil {
		t.Fatal(err)
	}
	return tpl
}

func TestTable(t *testing.T) {
	in, err := load(t).Table("ClientsTable", "x")
	if err != nil {
		t.Fatal(err)
	}
	if got := aws.ToString(in.TableName); got != "x" {
		t.Errorf("TableName = %q, want x", got)
	}
	if in.BillingMode != types.BillingModePayPerRequest {
		t.Errorf("BillingMode = %q, want PAY_PER_REQUEST", in.BillingMode)
	}
	if got, want := keys(in.KeySchema), "PK HASH, SK RANGE"; got != want {
		t.Errorf("KeySchema = %s, want %s", got, want)
	}

	defs := map[string]types.ScalarAttributeType{}
	for _, d := range in.AttributeDefinitions {
		defs[aws.ToString(d.AttributeName)] = d.AttributeType
	}
	wantDefs := map[string]types.ScalarAttributeType{"PK": "S", "SK": "S", "ExpiryPK": "S", "ExpiresAt": "N"}
	if !reflect.DeepEqual(defs, wantDefs) {
		t.Errorf("AttributeDefinitions = %v, want %v", defs, wantDefs)
	}

	if len(in.GlobalSecondaryIndexes) != 1 {
		t.Fatalf("GlobalSecondaryIndexes = %d, want 1 (ByExpiry)", len(in.GlobalSecondaryIndexes))
	}
	gsi := in.GlobalSecondaryIndexes[0]
	if got := aws.ToString(gsi.IndexName); got != "ByExpiry" {
		t.Errorf("index name = %q, want ByExpiry", got)
	}
	if got, want := keys(gsi.KeySchema), "ExpiryPK HASH, ExpiresAt RANGE"; got != want {
		t.Errorf("ByExpiry KeySchema = %s, want %s", got, want)
	}
	if gsi.Projection == nil || gsi.Projection.ProjectionType != types.ProjectionTypeAll {
		t.Errorf("ByExpiry Projection = %+v, want ALL", gsi.Projection)
	}
	if len(in.LocalSecondaryIndexes) != 0 {
		t.Errorf("LocalSecondaryIndexes = %d, want none", len(in.LocalSecondaryIndexes))
	}
}

func TestTableIsFreshEachCall(t *testing.T) {
	tpl := load(t)
	a, err := tpl.Table("ClientsTable", "a")
	if err != nil {
		t.Fatal(err)
	}
	b, err := tpl.Table("ClientsTable", "b")
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(a.TableName) != "a" || aws.ToString(b.TableName) != "b" {
		t.Errorf("table names = %q, %q; want a, b", aws.ToString(a.TableName), aws.ToString(b.TableName))
	}
}

func TestTableErrors(t *testing.T) {
	tpl := load(t)
	for _, id := range []string{"NoSuchTable", "ClientCredentialClientsFunction"} {
		t.Run(id, func(t *testing.T) {
			if _, err := tpl.Table(id, "x"); err == nil {
				t.Errorf("Table(%q) succeeded, want an error", id)
			}
		})
	}
}

func keys(ks []types.KeySchemaElement) string {
	var s []string
	for _, k := range ks {
		s = append(s, aws.ToString(k.AttributeName)+" "+string(k.KeyType))
	}
	return strings.Join(s, ", ")
}

func TestRoutes(t *testing.T) {
	const (
		fn   = "ClientCredentialClientsFunction"
		dir  = "functions/clientcredentialclients"
		list = "/api/v1-preview/Tenants/{tenantId}/ClientCredentialClients"
		one  = list + "/{clientId}"
		// The v1 routes of the same resource, in the same function.
		listV1 = "/api/v1/Tenants/{tenantId}/ClientCredentialClients"
		oneV1  = listV1 + "/{clientId}"
	)
	want := []template.Route{
		{Function: fn, CodeDir: dir, Method: "GET", Path: list},
		{Function: fn, CodeDir: dir, Method: "POST", Path: list},
		{Function: fn, CodeDir: dir, Method: "DELETE", Path: one},
		{Function: fn, CodeDir: dir, Method: "GET", Path: one},
		{Function: fn, CodeDir: dir, Method: "PUT", Path: one},
		{Function: fn, CodeDir: dir, Method: "GET", Path: listV1},
		{Function: fn, CodeDir: dir, Method: "POST", Path: listV1},
		{Function: fn, CodeDir: dir, Method: "DELETE", Path: oneV1},
		{Function: fn, CodeDir: dir, Method: "GET", Path: oneV1},
		{Function: fn, CodeDir: dir, Method: "PUT", Path: oneV1},
	}
	var got []template.Route
	for _, r := range load(t).Routes() {
		if r.Function == fn {
			got = append(got, r)
		}
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("routes of %s:\n got %v\nwant %v", fn, got, want)
	}
}

func TestFunctions(t *testing.T) {
	fns := load(t).Functions()
	found := false
	for _, f := range fns {
		if f == (template.Function{LogicalID: "ClientCredentialClientsFunction", Dir: "functions/clientcredentialclients", Timeout: 10 * time.Second}) {
			found = true
		}
		// A GoPackage that is not a main package would deploy a function
		// that cannot start.
		t.Run(f.LogicalID, func(t *testing.T) {
			file, err := parser.ParseFile(token.NewFileSet(), filepath.Join(repoRoot, f.Dir, "main.go"), nil, parser.PackageClauseOnly)
			if err != nil {
				t.Fatalf("GoPackage %s: %v", f.Dir, err)
			}
			if file.Name.Name != "main" {
				t.Errorf("%s/main.go is package %s, want main", f.Dir, file.Name.Name)
			}
		})
	}
	if !found {
		t.Errorf("Functions() = %v, want ClientCredentialClientsFunction in functions/clientcredentialclients with the Globals Timeout of 10 s", fns)
	}
	for _, f := range fns {
		if f.LogicalID == "SweeperFunction" && f.Timeout != 300*time.Second {
			t.Errorf("SweeperFunction Timeout = %v, want its own 300 s", f.Timeout)
		}
	}
}

// TestLoadRejects covers templates that the rest of the repo could not use.
func TestLoadRejects(t *testing.T) {
	const fn = `
  F:
    Type: AWS::Serverless::Function
    Metadata: {BuildMethod: makefile, GoPackage: functions/f}
    Properties:
      CodeUri: .
      Events:
        A: {Type: HttpApi, Properties: {ApiId: !Ref Api, Method: GET, Path: /a}}
`
	cases := []struct {
		name, resources, want string
	}{
		{"no GoPackage", `
  F:
    Type: AWS::Serverless::Function
    Metadata: {BuildMethod: makefile}
    Properties: {CodeUri: .}
`, "GoPackage"},
		{"GoPackage outside the repo", `
  F:
    Type: AWS::Serverless::Function
    Metadata: {GoPackage: ../elsewhere}
    Properties: {CodeUri: .}
`, "GoPackage"},
		{"path is an intrinsic function", `
  F:
    Type: AWS::Serverless::Function
    Metadata: {GoPackage: functions/f}
    Properties:
      Events:
        A: {Type: HttpApi, Properties: {Method: GET, Path: !Sub "/${AWS::Region}"}}
`, "!Sub"},
		{"HttpApi event without a path", `
  F:
    Type: AWS::Serverless::Function
    Metadata: {GoPackage: functions/f}
    Properties:
      Events:
        A: {Type: HttpApi}
`, "Method"},
		{"route declared twice", fn + `
  G:
    Type: AWS::Serverless::Function
    Metadata: {GoPackage: functions/g}
    Properties:
      Events:
        B: {Type: HttpApi, Properties: {Method: get, Path: /a}}
`, "declared by both"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "template.yaml")
			if err := os.WriteFile(p, []byte("Resources:"+c.resources), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := template.Load(p)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("Load = %v, want an error mentioning %q", err, c.want)
			}
		})
	}
}

// TestCfnLint holds template.yaml to cfn-lint with no finding at all. A
// machine without cfn-lint fails: the template would otherwise go unchecked.
func TestCfnLint(t *testing.T) {
	bin, err := exec.LookPath("cfn-lint")
	if err != nil {
		if home, herr := os.UserHomeDir(); herr == nil {
			bin, err = exec.LookPath(filepath.Join(home, ".pyenv", "shims", "cfn-lint"))
		}
	}
	if err != nil {
		t.Fatal("cfn-lint not found on PATH or in ~/.pyenv/shims: pip install cfn-lint")
	}
	cmd := exec.Command(bin, "template.yaml")
	cmd.Dir = repoRoot
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("cfn-lint template.yaml: %v\n%s", err, out)
	}
}
