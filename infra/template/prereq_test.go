package template_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// A check of the Makefile's tools target: `command -v TOOL ... echo "Name is missing: INSTALL"`.
var (
	toolCheck   = regexp.MustCompile(`command -v (\S+) >/dev/null`)
	toolMissing = regexp.MustCompile(`echo "[^"]* is missing: ([^"]+)"`)
	prereqRow   = regexp.MustCompile("^\\| `([^`]+)`[^|]*\\|[^|]*\\| (.+) \\|$")
)

// TestReadmePrerequisites holds the README's table of prerequisites to the
// Makefile's tools target: the same tools, each with the install command
// that the target's message names when the tool is missing.
func TestReadmePrerequisites(t *testing.T) {
	makefile, err := os.ReadFile(filepath.Join(repoRoot, "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	checks := map[string]string{} // tool -> install command
	recipe := strings.ReplaceAll(string(makefile), "\\\n", " ")
	_, recipe, _ = strings.Cut(recipe, "\ntools:\n")
	for _, line := range strings.Split(recipe, "\n") {
		if !strings.HasPrefix(line, "\t") {
			break // the end of the recipe
		}
		tool, install := toolCheck.FindStringSubmatch(line), toolMissing.FindStringSubmatch(line)
		if tool == nil || install == nil {
			t.Errorf("tools target: %q is not a check of the form `command -v TOOL ... echo \"TOOL is missing: INSTALL\"`", line)
			continue
		}
		name := tool[1]
		if name == "$(GO)" {
			name = "go"
		}
		checks[name] = install[1]
	}
	if len(checks) == 0 {
		t.Fatal("the Makefile has no tools target with checks")
	}

	readme, err := os.ReadFile(filepath.Join(repoRoot, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	rows := map[string]string{}
	in := false
	for _, line := range strings.Split(string(readme), "\n") {
		if line == "| tool | why | install |" {
			in = true
			continue
		}
		if in && !strings.HasPrefix(line, "|") {
			break
		}
		if m := prereqRow.FindStringSubmatch(line); in && m != nil {
			rows[strings.Fields(m[1])[0]] = m[2]
		}
	}
	for tool, install := range checks {
		row, ok := rows[tool]
		switch {
		case !ok:
			t.Errorf("the Makefile checks for %s; the README's prerequisites do not list it", tool)
		case !strings.Contains(row, install):
			t.Errorf("README: %s installs with %q; the Makefile's message says %q", tool, row, install)
		}
	}
	for tool := range rows {
		if _, ok := checks[tool]; !ok {
			t.Errorf("the README lists %s as a prerequisite; the Makefile's tools target does not check it", tool)
		}
	}
}
