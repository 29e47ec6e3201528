// Package repocheck holds tests about the repository itself rather than
// about the service.
package repocheck

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

const root = "../.."

// repoPath matches what reads as a path inside the repository: one of its
// top-level directories (or spec/, which it does not have) followed by a
// path, or a Markdown file name in capitals such as README.md.
var repoPath = regexp.MustCompile("(?:^|[\\s`'\"(\\[:,])((?:docs|shared|infra|functions|events|spec)/[A-Za-z0-9_./-]*[A-Za-z0-9_/-]|[A-Z][A-Z_]+\\.md)")

// TestReferencesExist: comments and docs name only files and directories
// the repository holds. (Go import paths are checked by the compiler; a
// path with a placeholder such as <name> or {id}, or a glob, is a pattern,
// not a reference, and is not matched.)
func TestReferencesExist(t *testing.T) {
	out, err := exec.Command("git", "-C", root, "ls-files").Output()
	if err != nil {
		t.Fatalf("git ls-files: %v", err)
	}
	tracked := map[string]bool{}
	for _, f := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		tracked[f] = true
		for d := filepath.Dir(f); d != "."; d = filepath.Dir(d) {
			tracked[d] = true
		}
	}
	checked := 0
	for f := range tracked {
		if !isText(f) {
			continue
		}
		data, err := os.ReadFile(filepath.Join(root, f))
		if err != nil {
			continue // a directory, or deleted in the working tree
		}
		for n, line := range bytes.Split(data, []byte("\n")) {
			for _, m := range repoPath.FindAllSubmatchIndex(line, -1) {
				ref := string(line[m[2]:m[3]])
				end := m[3]
				if end < len(line) && strings.ContainsRune("<{*", rune(line[end])) {
					continue // a pattern: functions/<name>/, events/{fn}/...
				}
				if m[2] > 0 && line[m[2]-1] == '/' {
					continue
				}
				if strings.HasSuffix(f, "_test.go") && bytes.Contains(line, []byte("GoPackage: ")) {
					continue // a test's template fixture
				}
				checked++
				if !tracked[strings.TrimSuffix(ref, "/")] && !exists(ref) {
					t.Errorf("%s:%d names %s, which the repository does not hold", f, n+1, ref)
				}
			}
		}
	}
	if checked < 50 {
		t.Fatalf("only %d references checked: the pattern no longer matches the repository's paths", checked)
	}
}

// exists accepts generated paths the tests and make targets create (none
// is tracked) by their documented names only.
func exists(ref string) bool {
	_, err := os.Stat(filepath.Join(root, ref))
	return err == nil && !strings.HasPrefix(ref, "spec/")
}

func isText(f string) bool {
	switch filepath.Ext(f) {
	case ".go", ".md", ".yaml", ".yml", ".toml", ".json", ".txt", "":
		return !strings.HasPrefix(f, "events/") && !strings.HasSuffix(f, "package-lock.json")
	}
	return f == "Makefile"
}
