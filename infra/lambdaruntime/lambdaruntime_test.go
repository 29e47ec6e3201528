package lambdaruntime_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"identityservice/infra/lambdaruntime"
)

// buildEcho builds testdata/echo as a Lambda bootstrap for this machine.
func buildEcho(t *testing.T) string {
	t.Helper()
	bootstrap := filepath.Join(t.TempDir(), "bootstrap")
	cmd := exec.Command("go", "build", "-tags", "lambda.norpc", "-o", bootstrap, "./testdata/echo")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS="+runtime.GOOS, "GOARCH="+runtime.GOARCH)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build the echo function: %v\n%s", err, out)
	}
	return bootstrap
}

func TestInvoke(t *testing.T) {
	bootstrap := buildEcho(t)

	t.Run("echo", func(t *testing.T) {
		event := `{"hello":"world","n":[1,2,3]}`
		began := time.Now()
		res, err := lambdaruntime.Invoke(t.Context(), lambdaruntime.Options{
			Bootstrap: bootstrap, Event: []byte(event), FunctionName: "echo-test", Timeout: 10 * time.Second,
		})
		if err != nil {
			t.Fatal(err)
		}
		if res.Error != nil {
			t.Fatalf("function error %+v; logs:\n%s", res.Error, res.Logs)
		}
		if string(res.Payload) != event {
			t.Errorf("payload = %s, want %s", res.Payload, event)
		}
		// Elapsed spans the run of the bootstrap, so it is positive and
		// within the call's own wall time.
		if res.Elapsed <= 0 || res.Elapsed > time.Since(began) {
			t.Errorf("Elapsed = %s, want within (0, %s]", res.Elapsed, time.Since(began))
		}
		// The function saw what the Runtime API and the environment told it.
		want := regexp.MustCompile(`echo: function echo-test, request [0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}, arn arn:aws:lambda:us-east-1:000000000000:function:echo-test, deadline true`)
		if !want.MatchString(res.Logs) {
			t.Errorf("logs do not match %s:\n%s", want, res.Logs)
		}
	})

	t.Run("error", func(t *testing.T) {
		res, err := lambdaruntime.Invoke(t.Context(), lambdaruntime.Options{Bootstrap: bootstrap, Event: []byte(`{"fail":true}`)})
		if err != nil {
			t.Fatal(err)
		}
		if res.Error == nil {
			t.Fatalf("no function error; payload %s", res.Payload)
		}
		if res.Error.ErrorMessage != "echo: asked to fail" || res.Error.ErrorType != "errorString" {
			t.Errorf("error = %+v, want errorString: echo: asked to fail", res.Error)
		}
	})
}

// script writes a shell script standing in for a bootstrap.
func script(t *testing.T, body string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "bootstrap")
	if err := os.WriteFile(path, []byte("#!/bin/sh\n"+body+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestBootstrapExitsWithoutAnswering(t *testing.T) {
	_, err := lambdaruntime.Invoke(t.Context(), lambdaruntime.Options{
		Bootstrap: script(t, `echo "cannot start: no config" >&2; exit 3`), Event: []byte(`{}`),
	})
	if err == nil || !strings.Contains(err.Error(), "exited before answering") || !strings.Contains(err.Error(), "cannot start: no config") {
		t.Errorf("want an error with the logs, got %v", err)
	}
}

func TestTimeout(t *testing.T) {
	began := time.Now()
	_, err := lambdaruntime.Invoke(t.Context(), lambdaruntime.Options{
		// The child keeps the log pipe open: killing the group must end it too.
		Bootstrap: script(t, `echo started; sleep 60 & wait`), Event: []byte(`{}`), Timeout: 300 * time.Millisecond,
	})
	if err == nil || !strings.Contains(err.Error(), "timeout of 300ms") || !strings.Contains(err.Error(), "started") {
		t.Errorf("want a timeout error with the logs, got %v", err)
	}
	if d := time.Since(began); d > 5*time.Second {
		t.Errorf("Invoke took %s to give up", d)
	}
}

// A started function serves events one after another in one process, as a
// warm Lambda environment does: each answer is its own event's, with its
// own request id, and the logs of an invocation are its own.
func TestWarmFunctionServesEventsInTurn(t *testing.T) {
	f, err := lambdaruntime.Start(lambdaruntime.Options{Bootstrap: buildEcho(t), FunctionName: "warm", Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Stop()
	requestID := regexp.MustCompile(`request ([0-9a-f-]{36})`)
	for i, event := range []string{`{"n":1}`, `{"fail":true}`, `{"n":3}`} {
		res, err := f.Invoke(t.Context(), []byte(event))
		if err != nil {
			t.Fatalf("event %d: %v", i, err)
		}
		if i == 1 {
			if res.Error == nil || res.Error.ErrorMessage != "echo: asked to fail" {
				t.Fatalf("event %d: %+v, want the function's error", i, res)
			}
			continue
		}
		if res.Error != nil || string(res.Payload) != event {
			t.Fatalf("event %d: payload %s, error %+v; want %s", i, res.Payload, res.Error, event)
		}
	}
	if err := f.Stop(); err != nil {
		t.Fatal(err)
	}
	all := requestID.FindAllStringSubmatch(f.Logs(), -1)
	distinct := map[string]bool{}
	for _, m := range all {
		distinct[m[1]] = true
	}
	if len(distinct) != 3 {
		t.Fatalf("the one process logged %d request ids, want 3 (one per event):\n%s", len(distinct), f.Logs())
	}
	if _, err := f.Invoke(t.Context(), []byte(`{}`)); err == nil {
		t.Fatal("a stopped function answered")
	}
}
