package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"identityservice/infra/lambdaruntime"
)

// coldRow is one function's binary and cold starts.
type coldRow struct {
	function, dir string
	sizeArm64     int64 // bytes, as `make build` ships it
	sizeHost      int64 // bytes, the binary timed here
	noCall        spread
	noCallWhat    string
	first         spread // ms from exec to the answer of a request that reads the store
	firstWhat     string
}

// lambdaFlags are `make build`'s (LAMBDA_FLAGS in the Makefile).
var lambdaFlags = []string{"-tags", "lambda.norpc", "-trimpath", "-ldflags", "-s -w"}

func (b *bench) build(dir, goarch, out string) (int64, error) {
	args := append([]string{"build"}, lambdaFlags...)
	args = append(args, "-o", out, "./"+dir)
	cmd := exec.Command("go", args...)
	cmd.Dir = b.s.root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+goarch)
	if msg, err := cmd.CombinedOutput(); err != nil {
		return 0, fmt.Errorf("go build %s for %s: %w\n%s", dir, goarch, err, msg)
	}
	st, err := os.Stat(out)
	if err != nil {
		return 0, err
	}
	return st.Size(), nil
}

// coldEvents are, per HTTP function (none: an unknown one), a request answered without any AWS call
// (init alone) and one that reads the store (init plus the first reads:
// keys, JWKS, verifiers, nothing cached yet).
func (b *bench) coldEvents(dir string) (noCall, first request, noCallWhat, firstWhat string) {
	rd := b.fx.read
	switch dir {
	case "functions/token":
		return request{method: "GET", path: "/identity/.well-known/openid-configuration"}, tokenRequest(rd.clientID, rd.secret),
			"discovery document", "token (loads the signing key and the verifier)"
	case "functions/clientcredentialclients":
		return request{method: "GET", path: fmt.Sprintf(ocsCCC, rd.tenant)}, b.get(rd, fmt.Sprintf(ocsCCC, rd.tenant)+"/"+b.fx.ccc[0].id, nil),
			"401 (no token)", "GET client (reads the JWKS)"
	case "functions/hybridclients":
		return request{method: "GET", path: fmt.Sprintf(ocsHyb, rd.tenant)}, b.get(rd, fmt.Sprintf(ocsHyb, rd.tenant)+"/"+b.fx.hyb[0].id, nil),
			"401 (no token)", "GET client (reads the JWKS)"
	case "functions/clientsecrets":
		p := fmt.Sprintf(ocsCCCSec, rd.tenant, b.fx.ccc[0].id)
		return request{method: "GET", path: p}, b.get(rd, p, nil), "401 (no token)", "GET secrets (reads the JWKS)"
	case "functions/portal":
		return request{method: "GET", path: "/_/op-dashboard"}, b.get(rd, "/_/op-dashboard/api/profile", nil),
			"dashboard page", "GET profile (reads the JWKS)"
	case "functions/applicationsecrets":
		p := fmt.Sprintf(keyRot, rd.tenant, b.fx.ccc[0].id)
		return request{method: "GET", path: p}, b.get(rd, p, nil), "401 (no token)", "GET secrets (reads the JWKS)"
	case "functions/tenants":
		p := "/api/v1/Tenants/" + rd.tenant
		return request{method: "GET", path: p}, b.get(rd, p, nil), "401 (no token)", "GET tenant (reads the JWKS)"
	case "functions/signin":
		// The first request reads the client (an unregistered redirect
		// URI: an error page, never a redirect).
		return request{method: "GET", path: "/identity/connect/userinfo"},
			request{method: "GET", path: "/identity/connect/authorize?response_type=code&scope=openid&client_id=" + b.fx.hyb[0].id + "&redirect_uri=https%3A%2F%2Funregistered.example%2Fcb"},
			"userinfo 401 (no token)", "authorize with an unregistered redirect URI (reads the client)"
	}
	return request{}, request{}, "", ""
}

// sweeperEvent is EventBridge Scheduler's payload (events/sweeper).
var sweeperEvent = []byte(`{"scheduleArn":"arn:aws:scheduler:us-east-1:000000000000:schedule/default/bench","scheduledTime":"2026-12-01T00:00:00Z","executionId":"bench","attemptNumber":"1"}`)

// measureColdStart builds every function twice (arm64 as deployed, for the
// size; this machine's architecture, to run) and runs each bootstrap under
// the local Runtime API, a fresh process per invocation.
func (b *bench) measureColdStart(ctx context.Context) error {
	if !b.o.coldStart {
		return nil
	}
	binDir := filepath.Join(b.s.root, ".local", "bench", "bin")
	for _, f := range b.s.tpl.Functions() {
		if _, _, what, _ := b.coldEvents(f.Dir); what == "" && f.Dir != "functions/sweeper" {
			return fmt.Errorf("function %s (%s) has no cold-start events: add them to coldEvents in infra/bench/coldstart.go", f.LogicalID, f.Dir)
		}
	}
	for _, f := range b.s.tpl.Functions() {
		if b.o.coldOnly != "" && f.Dir != b.o.coldOnly {
			continue
		}
		row := coldRow{function: f.LogicalID, dir: f.Dir}
		name := filepath.Base(f.Dir)
		var err error
		if row.sizeArm64, err = b.build(f.Dir, "arm64", filepath.Join(binDir, "arm64", name, "bootstrap")); err != nil {
			return err
		}
		host := filepath.Join(binDir, runtime.GOARCH, name, "bootstrap")
		if row.sizeHost, err = b.build(f.Dir, runtime.GOARCH, host); err != nil {
			return err
		}
		noCall, first, ncWhat, fWhat := b.coldEvents(f.Dir)
		row.noCallWhat, row.firstWhat = ncWhat, fWhat
		for range b.o.runs {
			if f.Dir == "functions/sweeper" {
				d, err := b.invokeCold(ctx, host, f.LogicalID, sweeperEvent, 0)
				if err != nil {
					return err
				}
				row.first = append(row.first, toMS(d))
				row.firstWhat = "scheduled run (nothing due)"
				continue
			}
			want := 401
			if f.Dir == "functions/token" || f.Dir == "functions/portal" {
				want = 0 // a page or document, not a protected route
			}
			d, err := b.invokeCold(ctx, host, f.LogicalID, noCall.event(), want)
			if err != nil {
				return err
			}
			row.noCall = append(row.noCall, toMS(d))
			firstWant := 0
			if f.Dir == "functions/signin" {
				firstWant = 400 // the error page of an unregistered redirect URI, after reading the client
			}
			if d, err = b.invokeCold(ctx, host, f.LogicalID, first.event(), firstWant); err != nil {
				return err
			}
			row.first = append(row.first, toMS(d))
		}
		b.rep.cold = append(b.rep.cold, row)
	}
	return nil
}

// invokeCold runs one event through a fresh bootstrap and returns the time
// from exec to its answer. An HTTP answer must have status want (0: any
// 2xx).
func (b *bench) invokeCold(ctx context.Context, bootstrap, name string, event []byte, want int) (time.Duration, error) {
	res, err := lambdaruntime.Invoke(ctx, lambdaruntime.Options{
		Bootstrap: bootstrap, Event: event, FunctionName: name, Timeout: 30 * time.Second, Env: b.s.bootstrapEnv(),
	})
	if err != nil {
		return 0, err
	}
	if res.Error != nil {
		return 0, fmt.Errorf("%s failed: %s: %s", name, res.Error.ErrorType, res.Error.ErrorMessage)
	}
	var http struct {
		StatusCode int    `json:"statusCode"`
		Body       string `json:"body"`
	}
	if strings.HasPrefix(strings.TrimSpace(string(res.Payload)), "{") && json.Unmarshal(res.Payload, &http) == nil && http.StatusCode != 0 {
		ok := http.StatusCode >= 200 && http.StatusCode < 300
		if want != 0 {
			ok = http.StatusCode == want
		}
		if !ok {
			return 0, fmt.Errorf("%s answered %d: %s", name, http.StatusCode, truncate(http.Body, 300))
		}
	}
	return res.Elapsed, nil
}
