package template_test

import (
	"debug/buildinfo"
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// maxBootstrapSize is the budget for one function's binary (docs/design.md, "Budgets").
const maxBootstrapSize = 15 << 20

// TestBuildTargets runs, for every function in template.yaml, the Makefile
// target that `sam build` runs (BuildMethod: makefile) the way it runs it:
// `make --makefile <repo>/Makefile build-<LogicalId>` with ARTIFACTS_DIR in
// the environment. (SAM first copies the source to a scratch directory,
// leaving out .git and .aws-sam; the Go build does not depend on either, so
// this runs in the repo root.) The result must be what provided.al2023 on
// arm64 can start: a static Linux arm64 executable named bootstrap, built
// from the function's GoPackage with the flags docs/design.md ("Budgets") sets.
func TestBuildTargets(t *testing.T) {
	makeBin, err := exec.LookPath("make")
	if err != nil {
		t.Fatal("make not found: apt-get install make")
	}
	root, err := filepath.Abs(repoRoot)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range load(t).Functions() {
		t.Run(f.LogicalID, func(t *testing.T) {
			artifacts := t.TempDir()
			cmd := exec.Command(makeBin, "--makefile", filepath.Join(root, "Makefile"), "build-"+f.LogicalID)
			cmd.Dir = root
			cmd.Env = append(os.Environ(), "ARTIFACTS_DIR="+artifacts)
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("make build-%s: %v\n%s", f.LogicalID, err, out)
			}
			checkBootstrap(t, filepath.Join(artifacts, "bootstrap"), "identityservice/"+f.Dir)
		})
	}
}

// TestMakefileFunctions holds the Makefile's FUNCTIONS list, which awk reads
// from template.yaml, to this package's parser: the build targets are
// derived from the template, so a function added there is built by `make
// build` and `sam build` with no Makefile change.
func TestMakefileFunctions(t *testing.T) {
	makeBin, err := exec.LookPath("make")
	if err != nil {
		t.Fatal("make not found: apt-get install make")
	}
	cmd := exec.Command(makeBin, "-s", "--no-print-directory", "functions")
	cmd.Dir = repoRoot
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("make functions: %v", err)
	}
	var want []string
	for _, f := range load(t).Functions() {
		want = append(want, f.LogicalID+":"+f.Dir)
	}
	got := strings.Fields(string(out))
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("make functions = %v, template.yaml has %v", got, want)
	}
}

func checkBootstrap(t *testing.T, path, mainPkg string) {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatalf("no bootstrap in ARTIFACTS_DIR: %v", err)
	}
	if st.Mode().Perm()&0o111 == 0 {
		t.Errorf("bootstrap mode %v is not executable", st.Mode())
	}
	if st.Size() > maxBootstrapSize {
		t.Errorf("bootstrap is %d bytes, over the %d byte budget", st.Size(), maxBootstrapSize)
	}

	f, err := elf.Open(path)
	if err != nil {
		t.Fatalf("bootstrap is not an ELF file: %v", err)
	}
	defer f.Close()
	if f.Machine != elf.EM_AARCH64 || f.Class != elf.ELFCLASS64 {
		t.Errorf("bootstrap is for %v/%v, want EM_AARCH64/ELFCLASS64 (Architectures: [arm64])", f.Machine, f.Class)
	}
	if f.OSABI != elf.ELFOSABI_NONE && f.OSABI != elf.ELFOSABI_LINUX {
		t.Errorf("bootstrap OS ABI is %v, want Linux (System V)", f.OSABI)
	}
	if f.Type != elf.ET_EXEC {
		t.Errorf("bootstrap ELF type is %v, want ET_EXEC", f.Type)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Errorf("bootstrap is dynamically linked (PT_INTERP): want CGO_ENABLED=0")
		}
	}
	// -ldflags "-s -w" (not recorded in the build info under -trimpath):
	// no symbol table, no DWARF.
	for _, s := range f.Sections {
		if s.Name == ".symtab" || strings.HasPrefix(s.Name, ".debug_") || strings.HasPrefix(s.Name, ".zdebug_") {
			t.Errorf("bootstrap has section %s: want -ldflags \"-s -w\"", s.Name)
		}
	}

	info, err := buildinfo.ReadFile(path)
	if err != nil {
		t.Fatalf("bootstrap has no Go build info: %v", err)
	}
	if info.Path != mainPkg {
		t.Errorf("bootstrap is built from %s, want %s (the function's GoPackage)", info.Path, mainPkg)
	}
	settings := map[string]string{}
	for _, s := range info.Settings {
		settings[s.Key] = s.Value
	}
	for k, want := range map[string]string{"GOOS": "linux", "GOARCH": "arm64", "CGO_ENABLED": "0", "-trimpath": "true"} {
		if got := settings[k]; got != want {
			t.Errorf("bootstrap build setting %s = %q, want %q", k, got, want)
		}
	}
	if tags := strings.Split(settings["-tags"], ","); !slices.Contains(tags, "lambda.norpc") {
		t.Errorf("bootstrap build tags %q lack lambda.norpc", settings["-tags"])
	}
}
