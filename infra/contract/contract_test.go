package contract_test

import (
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

	"identityservice/infra/contract"
	"identityservice/infra/local/server"
	"identityservice/infra/template"
	"identityservice/shared/config"
	"identityservice/shared/httpapi"
	"identityservice/shared/identity"
)

const root = "../.."

// TestRouteSetsAgree: template.yaml's routes, the routes the local server
// mounts (each function's Go route table) and the document's operations
// are one set.
func TestRouteSetsAgree(t *testing.T) {
	doc, err := contract.Load(filepath.Join(root, contract.File))
	if err != nil {
		t.Fatal(err)
	}
	tpl, err := template.Load(filepath.Join(root, "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var fromTemplate []string
	for _, r := range tpl.Routes() {
		fromTemplate = append(fromTemplate, r.Method+" "+r.Path)
	}
	// Building the routes makes no AWS call: a bare configuration will do.
	cfg := config.Config{Table: "contract", SecretPrefix: "contract", Audience: "contract"}
	app := config.NewApp(cfg, config.NewClients(aws.Config{Region: "us-east-1"}), slog.New(slog.NewTextHandler(io.Discard, nil)))
	routes, err := server.Routes(tpl, app)
	if err != nil {
		t.Fatal(err)
	}
	var served []string
	for _, r := range routes {
		served = append(served, r.Method+" "+r.Path)
	}
	slices.Sort(fromTemplate)
	slices.Sort(served)
	documented := doc.Routes()
	if !slices.Equal(fromTemplate, documented) {
		t.Errorf("template.yaml routes and %s operations differ:\n only in template.yaml: %v\n only in the document: %v",
			contract.File, minus(fromTemplate, documented), minus(documented, fromTemplate))
	}
	if !slices.Equal(served, documented) {
		t.Errorf("the local server's routes and %s operations differ:\n only served: %v\n only documented: %v",
			contract.File, minus(served, documented), minus(documented, served))
	}
}

// TestOperationsNameTheirFamilyAndRoles: every operation says which error
// format it answers in (x-error-family) and, if it wants a bearer token,
// which roles it allows (x-roles), and they are what the Go route table
// says.
func TestOperationsNameTheirFamilyAndRoles(t *testing.T) {
	doc, err := contract.Load(filepath.Join(root, contract.File))
	if err != nil {
		t.Fatal(err)
	}
	tpl, err := template.Load(filepath.Join(root, "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	cfg := config.Config{Table: "contract", SecretPrefix: "contract", Audience: "contract"}
	app := config.NewApp(cfg, config.NewClients(aws.Config{Region: "us-east-1"}), slog.New(slog.NewTextHandler(io.Discard, nil)))
	routes, err := server.Routes(tpl, app)
	if err != nil {
		t.Fatal(err)
	}
	families := map[httpapi.Family]string{httpapi.OCS: "OCS", httpapi.KeyRotation: "KeyRotation", httpapi.OAuth: "OAuth"}
	for _, r := range routes {
		op := doc.T.Paths.Find(r.Path).GetOperation(r.Method)
		if op == nil {
			continue // TestRouteSetsAgree reports it
		}
		fam, _ := op.Extensions["x-error-family"].(string)
		if want := families[r.Family]; fam != want {
			t.Errorf("%s %s: x-error-family %q, the route answers in %s", r.Method, r.Path, fam, want)
		}
		var roles []string
		if list, ok := op.Extensions["x-roles"].([]any); ok {
			for _, v := range list {
				s, _ := v.(string)
				roles = append(roles, s)
			}
		}
		var want []string
		for _, id := range r.Roles {
			role, _ := identity.RoleByID(id)
			want = append(want, role.Name)
		}
		slices.Sort(roles)
		slices.Sort(want)
		if !slices.Equal(roles, want) {
			t.Errorf("%s %s: x-roles %v, the route allows %v", r.Method, r.Path, roles, want)
		}
		bearer := false
		if op.Security != nil {
			for _, req := range *op.Security {
				_, ok := req["bearer"]
				bearer = bearer || ok
			}
		}
		if bearer != (len(want) > 0) {
			t.Errorf("%s %s: bearer security %v, but the route allows roles %v", r.Method, r.Path, bearer, want)
		}
	}
}

// TestSpecValidator runs openapi-spec-validator, a second, independent
// validator of the document, when the machine has it (the Makefile's
// tools target requires it).
func TestSpecValidator(t *testing.T) {
	bin, err := exec.LookPath("openapi-spec-validator")
	if err != nil {
		t.Fatal("openapi-spec-validator not found: pip install openapi-spec-validator")
	}
	out, err := exec.Command(bin, filepath.Join(root, contract.File)).CombinedOutput()
	if err != nil {
		t.Fatalf("openapi-spec-validator: %v\n%s", err, out)
	}
}

func minus(a, b []string) []string {
	var out []string
	for _, x := range a {
		if !slices.Contains(b, x) {
			out = append(out, x)
		}
	}
	return out
}

// readmeRow is one row of the README's route table.
var readmeRow = regexp.MustCompile("^\\| *(GET|POST|PUT|DELETE|PATCH) *\\| *`([^`]+)` *\\| *[A-Za-z0-9]+ *\\| *([^|]*)\\|")

// TestReadmeRolesMatchTheDocument: the roles column of the README's route
// table names the roles of the operation's x-roles ("none": no token).
func TestReadmeRolesMatchTheDocument(t *testing.T) {
	doc, err := contract.Load(filepath.Join(root, contract.File))
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	rows := 0
	for _, line := range strings.Split(string(data), "\n") {
		m := readmeRow.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		rows++
		cell := strings.TrimSpace(m[3])
		if i := strings.Index(cell, "("); i >= 0 {
			cell = strings.TrimSpace(cell[:i])
		}
		var readme []string
		if cell != "none" {
			for _, name := range strings.Split(cell, ",") {
				readme = append(readme, strings.TrimSpace(name))
			}
		}
		item := doc.T.Paths.Find(m[2])
		if item == nil || item.GetOperation(m[1]) == nil {
			continue // TestRouteSetsAgree and the README test report it
		}
		var documented []string
		if list, ok := item.GetOperation(m[1]).Extensions["x-roles"].([]any); ok {
			for _, v := range list {
				s, _ := v.(string)
				documented = append(documented, s)
			}
		}
		slices.Sort(readme)
		slices.Sort(documented)
		if !slices.Equal(readme, documented) {
			t.Errorf("README: %s %s allows %v; %s: %v", m[1], m[2], readme, contract.File, documented)
		}
	}
	if rows == 0 {
		t.Fatal("no route rows in README.md")
	}
}
