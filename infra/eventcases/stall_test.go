package eventcases

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"identityservice/infra/lambdaruntime"
	"identityservice/infra/template"
	"identityservice/infra/testenv"
	"identityservice/shared/httpapi"
)

// functionTimeout is a function's Timeout in template.yaml.
func functionTimeout(t *testing.T, dir string) time.Duration {
	t.Helper()
	tpl, err := template.Load(filepath.Join(env.Root, "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range tpl.Functions() {
		if f.Dir == dir {
			return f.Timeout
		}
	}
	t.Fatalf("no function %s in template.yaml", dir)
	return 0
}

// TestStalledDynamoDBThroughTheLambdaEntryPoint: the real bootstrap, given
// a real API Gateway v2 event with the Lambda deadline of its template
// Timeout and DynamoDB stalled, answers 503 in the OCS format itself: the
// Runtime API receives the answer before the deadline (Invoke fails
// otherwise), so API Gateway never answers with a body of its own.
func TestStalledDynamoDBThroughTheLambdaEntryPoint(t *testing.T) {
	const function = "clientcredentialclients"
	timeout := functionTimeout(t, "functions/"+function)
	raw, err := os.ReadFile(filepath.Join(env.Root, "events", function, "get.json"))
	if err != nil {
		t.Fatal(err)
	}
	var ev map[string]any
	if err := json.Unmarshal(raw, &ev); err != nil {
		t.Fatal(err)
	}
	// A well-formed RS256 token: checking it reads the published keys from
	// DynamoDB, which is where the request stalls.
	seg := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	ev["headers"].(map[string]any)["authorization"] = "Bearer " + seg(`{"alg":"RS256","kid":"k1","typ":"at+jwt"}`) + "." + seg(`{"client_id":"c"}`) + "." + seg("sig")
	event, _ := json.Marshal(ev)
	stall := testenv.Stall(t)
	start := time.Now()
	res, err := lambdaruntime.Invoke(context.Background(), lambdaruntime.Options{
		Bootstrap: build(t, function), Event: event, FunctionName: function, Timeout: timeout,
		Env: append(env.Stack.Env(), "TABLE_NAME="+env.Config.Table, "SECRET_PREFIX="+env.Config.SecretPrefix, "AWS_ENDPOINT_URL_DYNAMODB="+stall),
	})
	if err != nil {
		t.Fatalf("no answer within the Lambda Timeout %v: %v", timeout, err)
	}
	if res.Error != nil {
		t.Fatalf("function error %+v; logs:\n%s", res.Error, res.Logs)
	}
	var out events.APIGatewayV2HTTPResponse
	if err := json.Unmarshal(res.Payload, &out); err != nil {
		t.Fatalf("payload %s: %v", res.Payload, err)
	}
	if out.StatusCode != 503 || !strings.Contains(out.Body, `"Error":"Request timed out"`) {
		t.Fatalf("answer %d %s after %v, want 503 Request timed out", out.StatusCode, out.Body, time.Since(start))
	}
	checkErrorBody(t, httpapi.OCS, 503, header(out, "Operation-Id"), out.Body)
}

// TestSweeperStopsWithStalledStore: the real sweeper bootstrap, with
// DynamoDB stalled and an invocation deadline shorter than its budget,
// ends its run before the deadline, logs its summary and reports the run
// unfinished (the next run continues).
func TestSweeperStopsWithStalledStore(t *testing.T) {
	const timeout = 6 * time.Second // a Lambda deadline well inside SWEEP_BUDGET's 3m
	event, err := os.ReadFile(filepath.Join(env.Root, "events", "sweeper", "scheduled.json"))
	if err != nil {
		t.Fatal(err)
	}
	stall := testenv.Stall(t)
	res, err := lambdaruntime.Invoke(context.Background(), lambdaruntime.Options{
		Bootstrap: build(t, "sweeper"), Event: event, FunctionName: "sweeper", Timeout: timeout,
		Env: append(env.Stack.Env(), "TABLE_NAME="+env.Config.Table, "SECRET_PREFIX="+env.Config.SecretPrefix, "AWS_ENDPOINT_URL_DYNAMODB="+stall),
	})
	if err != nil {
		t.Fatalf("the sweeper did not finish within its invocation deadline of %v: %v", timeout, err)
	}
	if res.Error != nil {
		t.Fatalf("function error %+v; logs:\n%s", res.Error, res.Logs)
	}
	var counts struct{ Unfinished *bool }
	if err := json.Unmarshal(res.Payload, &counts); err != nil || counts.Unfinished == nil || !*counts.Unfinished {
		t.Fatalf("result %s: want the run's counts with Unfinished true; logs:\n%s", res.Payload, res.Logs)
	}
	if !strings.Contains(res.Logs, `"msg":"sweep finished"`) {
		t.Fatalf("no summary line in the logs:\n%s", res.Logs)
	}
}
