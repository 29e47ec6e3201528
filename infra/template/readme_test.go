package template_test

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// readmeRow is one row of the README's route table: | METHOD | `path` | Function | roles |.
var readmeRow = regexp.MustCompile("^\\| *(GET|POST|PUT|DELETE|PATCH) *\\| *`([^`]+)` *\\| *([A-Za-z0-9]+) *\\|")

// TestReadmeRouteTable holds the README's route table (section "Routes")
// to template.yaml: the same routes, each served by the same function, none
// listed twice.
func TestReadmeRouteTable(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(repoRoot, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	var readme []string
	in := false
	for _, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(line, "## ") {
			in = strings.TrimSpace(line) == "## Routes"
			continue
		}
		if m := readmeRow.FindStringSubmatch(line); in && m != nil {
			readme = append(readme, m[1]+" "+m[2]+" "+m[3])
		}
	}
	var tpl []string
	for _, r := range load(t).Routes() {
		tpl = append(tpl, r.Method+" "+r.Path+" "+r.Function)
	}
	if len(readme) == 0 {
		t.Fatal("README.md has no route table under ## Routes")
	}
	slices.Sort(readme)
	slices.Sort(tpl)
	for i := 1; i < len(readme); i++ {
		if readme[i] == readme[i-1] {
			t.Errorf("README lists %s twice", readme[i])
		}
	}
	for _, r := range tpl {
		if !slices.Contains(readme, r) {
			t.Errorf("template.yaml routes %s; the README's route table does not", r)
		}
	}
	for _, r := range readme {
		if !slices.Contains(tpl, r) {
			t.Errorf("the README's route table lists %s; template.yaml does not", r)
		}
	}
}
