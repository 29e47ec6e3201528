// Package eventcases runs every API Gateway v2 event in events/ through the
// real Lambda entry point: each function is built as a bootstrap binary and
// run under the local Lambda Runtime API, against the test's emulators.
package eventcases

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"identityservice/infra/lambdaruntime"
	"identityservice/infra/testenv"
)

var env *testenv.Env

func TestMain(m *testing.M) { testenv.Main(m, &env) }

// demoTenant is the tenant the events address (the one `make run` seeds).
const demoTenant = "5f0c3a52-7a1e-4c4e-9a57-2d7b1f0e6a10"

// expected holds, per function, the cases in the order they run and the
// status each must answer. Every file in events/<function>/ must be here.
var expected = map[string][]struct {
	name   string
	status int
}{
	"clientcredentialclients": {
		{"create", 201},
		{"get", 200},
		{"list", 200},
		{"update", 200},
		{"create-malformed-json", 400},
		{"get-unknown-client", 404},
		{"list-count-too-large", 400},
		{"delete", 204},
	},
}

func TestEventsThroughTheLambdaEntryPoint(t *testing.T) {
	ctx := context.Background()
	if _, err := env.Service(nil).CreateTenant(ctx, demoTenant, "Demo tenant", 0); err != nil {
		t.Fatal(err)
	}
	dirs, err := os.ReadDir(filepath.Join(env.Root, "events"))
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range dirs {
		if !d.IsDir() || d.Name() == "sweeper" {
			continue
		}
		function := d.Name()
		t.Run(function, func(t *testing.T) {
			cases, ok := expected[function]
			if !ok {
				t.Fatalf("events/%s has no expectations in this test", function)
			}
			files, _ := filepath.Glob(filepath.Join(env.Root, "events", function, "*.json"))
			var names []string
			for _, f := range files {
				names = append(names, strings.TrimSuffix(filepath.Base(f), ".json"))
			}
			var listed []string
			for _, c := range cases {
				listed = append(listed, c.name)
			}
			sort.Strings(names)
			sort.Strings(listed)
			if strings.Join(names, ",") != strings.Join(listed, ",") {
				t.Fatalf("events/%s holds %v, the test expects %v", function, names, listed)
			}
			bootstrap := build(t, function)
			var secrets []string // every ClientSecret answered so far
			for _, c := range cases {
				t.Run(c.name, func(t *testing.T) {
					event, err := os.ReadFile(filepath.Join(env.Root, "events", function, c.name+".json"))
					if err != nil {
						t.Fatal(err)
					}
					res, err := lambdaruntime.Invoke(ctx, lambdaruntime.Options{
						Bootstrap: bootstrap, Event: event, FunctionName: function,
						Env: append(env.Stack.Env(), "TABLE_NAME="+env.Config.Table, "SECRET_PREFIX="+env.Config.SecretPrefix),
					})
					if err != nil {
						t.Fatal(err)
					}
					if res.Error != nil {
						t.Fatalf("function error %+v; logs:\n%s", res.Error, res.Logs)
					}
					var out events.APIGatewayV2HTTPResponse
					if err := json.Unmarshal(res.Payload, &out); err != nil {
						t.Fatalf("payload %s: %v", res.Payload, err)
					}
					if out.StatusCode != c.status {
						t.Fatalf("status %d, want %d; body %s", out.StatusCode, c.status, out.Body)
					}
					opID := out.Headers["Operation-Id"]
					if opID == "" && len(out.MultiValueHeaders["Operation-Id"]) > 0 {
						opID = out.MultiValueHeaders["Operation-Id"][0]
					}
					if opID == "" {
						t.Fatalf("no Operation-Id header: %v %v", out.Headers, out.MultiValueHeaders)
					}
					if c.status >= 400 && !strings.Contains(out.Body, `"OperationId":"`+opID+`"`) {
						t.Fatalf("error body %s lacks OperationId %s", out.Body, opID)
					}
					var body struct{ ClientSecret string }
					if json.Unmarshal([]byte(out.Body), &body) == nil && body.ClientSecret != "" {
						secrets = append(secrets, body.ClientSecret)
					}
					for _, s := range secrets {
						if strings.Contains(res.Logs, s) {
							t.Fatal("a client secret reached the function's logs")
						}
					}
				})
			}
		})
	}
}

// build compiles a function's bootstrap for this machine, as the Lambda
// build does for arm64 (same tags).
func build(t *testing.T, function string) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "bootstrap")
	cmd := exec.Command("go", "build", "-tags", "lambda.norpc", "-trimpath", "-o", out, "./functions/"+function)
	cmd.Dir = env.Root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build %s: %v\n%s", function, err, b)
	}
	return out
}
