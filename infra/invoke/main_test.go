package main_test

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestExitStatus runs the invoke command as `make invoke` does, with the
// portal function's real bootstrap (it answers these events without a
// store): a 2xx answer exits 0, a 4xx answer exits 1, and the answer is
// printed either way.
func TestExitStatus(t *testing.T) {
	dir := t.TempDir()
	invoke := filepath.Join(dir, "invoke")
	bootstrap := filepath.Join(dir, "bootstrap")
	for _, b := range [][]string{
		{"build", "-o", invoke, "."},
		{"build", "-tags", "lambda.norpc", "-o", bootstrap, "../../functions/portal"},
	} {
		if out, err := exec.Command("go", b...).CombinedOutput(); err != nil {
			t.Fatalf("go %s: %v\n%s", strings.Join(b, " "), err, out)
		}
	}
	cases := []struct {
		event    string
		exit     int
		status   string
		stderrIn string
	}{
		{"dashboard.json", 0, `"statusCode": 200`, ""},
		{"asset-unknown.json", 1, `"statusCode": 404`, "invoke: the function answered HTTP 404"},
	}
	for _, c := range cases {
		t.Run(c.event, func(t *testing.T) {
			cmd := exec.Command(invoke, "-bootstrap", bootstrap, "-function", "portal",
				"-event", filepath.Join("..", "..", "events", "portal", c.event),
				"-bootstrap-file", filepath.Join(dir, "none.json")) // no demo client: no bearer token to fetch
			cmd.Env = append(os.Environ(), "AWS_REGION=us-east-1", "AWS_ACCESS_KEY_ID=local", "AWS_SECRET_ACCESS_KEY=local",
				"TABLE_NAME=identity-local", "SECRET_PREFIX=identity-local", "ISSUER=http://127.0.0.1:3000/identity")
			var stdout, stderr strings.Builder
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			err := cmd.Run()
			var exit *exec.ExitError
			code := 0
			if errors.As(err, &exit) {
				code = exit.ExitCode()
			} else if err != nil {
				t.Fatal(err)
			}
			if code != c.exit {
				t.Errorf("exit status %d, want %d\nstderr:\n%s", code, c.exit, stderr.String())
			}
			if !strings.Contains(stdout.String(), c.status) {
				t.Errorf("stdout lacks %s:\n%s", c.status, stdout.String())
			}
			if !strings.Contains(stderr.String(), c.stderrIn) {
				t.Errorf("stderr lacks %q:\n%s", c.stderrIn, stderr.String())
			}
		})
	}
}
