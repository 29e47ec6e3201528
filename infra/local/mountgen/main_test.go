package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestGeneratedFileIsCurrent fails when infra/local/server/functions_gen.go
// is not what the template and the functions' main.go files make of it: a
// function added to (or removed from) template.yaml, or a main.go that
// changed its constructor, without `go generate ./infra/local/server`.
func TestGeneratedFileIsCurrent(t *testing.T) {
	want, err := generate("../../..")
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join("../../..", Output))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s is stale: run `go generate ./infra/local/server` (or any make target). Want:\n%s", Output, want)
	}
	for _, dir := range []string{"functions/clientcredentialclients", "functions/token"} {
		if !strings.Contains(string(want), `"`+dir+`"`) {
			t.Errorf("the generated table lacks %s", dir)
		}
	}
	if strings.Contains(string(want), "functions/sweeper") {
		t.Error("the generated table mounts the sweeper, which has no HttpApi route")
	}
}

// TestConstructorRejects covers main.go files whose constructor the server
// could not reach.
func TestConstructorRejects(t *testing.T) {
	cases := map[string]string{
		"no lambdafn.Main": `package main
func main() {}`,
		"local constructor": `package main
import "identityservice/shared/lambdafn"
func main() { lambdafn.Main(routes) }`,
		"function literal calling main's own": `package main
import (
	"identityservice/shared/config"
	"identityservice/shared/httpapi"
	"identityservice/shared/lambdafn"
)
func main() { lambdafn.Main(func(a *config.App) []httpapi.Route { return routes(a) }) }`,
	}
	for name, src := range cases {
		t.Run(name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "main.go")
			if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
				t.Fatal(err)
			}
			if _, err := constructor(p); err == nil {
				t.Fatal("constructor accepted it")
			}
		})
	}
	p := filepath.Join(t.TempDir(), "main.go")
	_ = os.WriteFile(p, []byte(`package main
import (
	"identityservice/shared/lambdafn"
	"identityservice/shared/ocsapi"
)
func main() { lambdafn.Main(lambdafn.ServiceRoutes(ocsapi.HybridClientRoutes)) }`), 0o644)
	m, err := constructor(p)
	if err != nil || m.expr != "lambdafn.ServiceRoutes(ocsapi.HybridClientRoutes)" || len(m.imports) != 2 {
		t.Fatalf("constructor = %+v, %v", m, err)
	}
	// A function literal handing a constructor the App's parts: its
	// parameter, the fields of a composite literal and nil are not main's.
	_ = os.WriteFile(p, []byte(`package main
import (
	"identityservice/shared/config"
	"identityservice/shared/httpapi"
	"identityservice/shared/lambdafn"
	"identityservice/shared/tokenapi"
)
func main() {
	lambdafn.Main(func(a *config.App) []httpapi.Route {
		return tokenapi.Routes(tokenapi.Deps{Clients: a.Service, Tokens: a.TokenIssuer(), IssuerURL: nil})
	})
}`), 0o644)
	m, err = constructor(p)
	if err != nil || !strings.HasPrefix(m.expr, "func(a *config.App) []httpapi.Route {") || len(m.imports) != 3 {
		t.Fatalf("constructor of a function literal = %+v, %v", m, err)
	}
}
