package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"

	"identityservice/infra/emulator"
	"identityservice/infra/local/server"
	"identityservice/infra/template"
	"identityservice/shared/config"
	"identityservice/shared/httpapi"
	"identityservice/shared/identity"
	"identityservice/shared/store"
)

// domain is the API's host in the bench's events; tokens are issued for
// https://domain/identity.
const domain = "bench.execute-api.us-east-1.amazonaws.com"

// stack is the local stack the bench starts for itself (DynamoDB Local and
// moto on free ports, so it runs beside `make run` and the tests) and the
// service's functions wired to it in this process.
type stack struct {
	emu     *emulator.Stack
	root    string
	tpl     *template.Template
	meter   *meter
	awsCfg  aws.Config       // the SDK configuration of metered
	metered config.Clients   // the service's clients: every call counted
	raw     *dynamodb.Client // uncounted: seeding and the raw SDK baseline
	cfg     config.Config
	log     *slog.Logger
	fns     map[string]*function // by Go package directory, e.g. functions/token
	errors  errorLines           // the functions' last ERROR log lines
	// logBytes counts what the functions log (cost.go: CloudWatch Logs).
	logBytes byteCounter
}

// errorLines is an io.Writer of JSON log lines that keeps the last few at
// level ERROR and drops the rest.
type errorLines struct {
	mu    sync.Mutex
	lines []string
}

func (e *errorLines) Write(p []byte) (int, error) {
	if bytes.Contains(p, []byte(`"level":"ERROR"`)) {
		e.mu.Lock()
		e.lines = append(e.lines, strings.TrimSpace(string(p)))
		if len(e.lines) > 5 {
			e.lines = e.lines[len(e.lines)-5:]
		}
		e.mu.Unlock()
	}
	return len(p), nil
}

// last returns the kept lines, newest last.
func (e *errorLines) last() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return strings.Join(e.lines, "\n")
}

func startStack(ctx context.Context) (*stack, error) {
	root, err := emulator.RepoRoot()
	if err != nil {
		return nil, err
	}
	emu, err := emulator.StartStack(ctx, "127.0.0.1:0", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &stack{emu: emu, root: root, meter: newMeter(), fns: map[string]*function{}}
	if err := s.setup(ctx); err != nil {
		emu.Stop()
		return nil, err
	}
	return s, nil
}

func (s *stack) setup(ctx context.Context) error {
	if err := s.emu.Setenv(); err != nil {
		return err
	}
	tpl, err := template.Load(filepath.Join(s.root, "template.yaml"))
	if err != nil {
		return err
	}
	s.tpl = tpl
	s.cfg = config.Config{
		Table:              "identity-bench",
		SecretPrefix:       "identity-bench",
		DefaultClientLimit: identity.DefaultClientLimit,
		Issuer:             "https://" + domain + "/identity",
		Audience:           "identity-clients-api",
	}
	// The functions log as they do in Lambda (JSON lines at INFO): encoding
	// the lines is part of their CPU. Errors are kept to explain a failed
	// request.
	s.log = slog.New(slog.NewJSONHandler(io.MultiWriter(&s.errors, &s.logBytes), nil))
	first, err := config.Start(ctx, s.cfg, s.log, func(c *aws.Config) {
		s.raw = dynamodb.NewFromConfig(c.Copy()) // before the meter: uncounted
		c.APIOptions = append(c.APIOptions, s.meter.register)
	})
	if err != nil {
		return err
	}
	s.awsCfg, s.metered = first.AWS, first.Clients
	if err := s.createTable(ctx, s.cfg.Table); err != nil {
		return err
	}
	for _, f := range tpl.Functions() {
		// Each function is its own process in Lambda, with its own caches:
		// give each its own App.
		app := config.NewApp(s.cfg, s.metered, s.log)
		routes, ok := server.FunctionRoutes(f.Dir, app)
		if !ok {
			continue // not an HTTP function (the sweeper)
		}
		h := httpapi.NewHandler(s.log, routes, httpapi.WithAuthenticator(app.Authenticator))
		s.fns[f.Dir] = &function{name: f.LogicalID, dir: f.Dir, app: app, proxy: httpadapter.NewV2(h)}
	}
	return nil
}

func (s *stack) createTable(ctx context.Context, name string) error {
	in, err := s.tpl.Table("ClientsTable", name)
	if err != nil {
		return err
	}
	return store.CreateTable(ctx, s.raw, in)
}

func (s *stack) stop() { s.emu.Stop() }

// service is the domain service of one function (the first one, for
// fixtures: they are written through the service, so they follow the data
// model whatever it is).
func (s *stack) service() *identity.Service {
	return s.fn("functions/clientcredentialclients").app.Service
}

func (s *stack) fn(dir string) *function {
	f, ok := s.fns[dir]
	if !ok {
		panic("bench: no function " + dir)
	}
	return f
}

// function is one Lambda function's handler as Lambda runs it: the event
// JSON decoded, the API Gateway v2 adapter, the routes, the response JSON
// encoded.
type function struct {
	name  string
	dir   string
	app   *config.App
	proxy *httpadapter.HandlerAdapterV2
}

// invoke runs one event through the function and returns its response.
func (f *function) invoke(ctx context.Context, event []byte) (events.APIGatewayV2HTTPResponse, error) {
	var req events.APIGatewayV2HTTPRequest
	if err := json.Unmarshal(event, &req); err != nil {
		return events.APIGatewayV2HTTPResponse{}, err
	}
	resp, err := f.proxy.ProxyWithContext(ctx, req)
	if err != nil {
		return resp, err
	}
	if _, err := json.Marshal(resp); err != nil {
		return resp, err
	}
	return resp, nil
}

// request is an HTTP request to the API.
type request struct {
	method string
	path   string
	query  url.Values
	header map[string]string
	body   string
}

// event is the request as API Gateway (HTTP API, payload 2.0) sends it.
func (r request) event() []byte {
	h := map[string]string{"host": domain, "x-forwarded-proto": "https", "user-agent": "identity-bench"}
	for k, v := range r.header {
		h[strings.ToLower(k)] = v
	}
	if r.body != "" {
		h["content-length"] = fmt.Sprint(len(r.body))
	}
	ev := events.APIGatewayV2HTTPRequest{
		Version:        "2.0",
		RouteKey:       "$default",
		RawPath:        r.path,
		RawQueryString: r.query.Encode(),
		Headers:        h,
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			DomainName: domain,
			Stage:      "$default",
			RequestID:  identity.NewID(),
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{
				Method: r.method, Path: r.path, Protocol: "HTTP/1.1", SourceIP: "203.0.113.10", UserAgent: "identity-bench",
			},
		},
		Body: r.body,
	}
	b, err := json.Marshal(ev)
	if err != nil {
		panic(err) // only strings and maps
	}
	return b
}

// bootstrapEnv returns the variables a function's bootstrap needs to reach
// the stack.
func (s *stack) bootstrapEnv() []string {
	env := append([]string{}, s.emu.Env()...)
	return append(env,
		"TABLE_NAME="+s.cfg.Table,
		"SECRET_PREFIX="+s.cfg.SecretPrefix,
		"ISSUER="+s.cfg.Issuer,
		"AUDIENCE="+s.cfg.Audience,
		"LOG_LEVEL=INFO",
		"PATH="+os.Getenv("PATH"),
	)
}
