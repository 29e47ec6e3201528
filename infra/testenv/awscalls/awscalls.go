// Package awscalls records the AWS calls the code under test makes, by the
// function they belong to, and checks each against that function's IAM
// policy in template.yaml (package iam): the emulators enforce no IAM, so
// this is what stands between a green test run and an AccessDenied in AWS.
//
// A call is recorded from the request as it goes on the wire (the
// X-Amz-Target header and JSON body of DynamoDB, Secrets Manager and
// EventBridge), so the same decoding serves both ways calls are captured:
//
//   - in-process, by an SDK middleware on the test's clients (Middleware);
//   - from a function's real bootstrap in another process, by a recording
//     reverse proxy the bootstrap's endpoints point at (Proxy).
//
// Which function a call belongs to is a Tag: carried in the context (With;
// Handler sets it per request from template.yaml's route table, so one
// handler serving several functions' routes tags each request by its
// route), or fixed for a client or a proxy. Untagged calls — a test's own
// setup and inspection, the operator's admin CLI — are not checked.
package awscalls

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"identityservice/infra/iam"
	"identityservice/infra/template"
)

// Tag says which function, in which stack, makes a call.
type Tag struct {
	Function string // logical id in template.yaml, e.g. "TokenFunction"
	Stack    iam.Stack
}

type tagKey struct{}

// With returns a context whose AWS calls belong to tag.
func With(ctx context.Context, tag Tag) context.Context { return context.WithValue(ctx, tagKey{}, tag) }

// TagOf returns the context's tag.
func TagOf(ctx context.Context) (Tag, bool) {
	t, ok := ctx.Value(tagKey{}).(Tag)
	return t, ok
}

// Call is one recorded AWS call.
type Call struct {
	Function  string
	Stack     iam.Stack
	Service   string // "dynamodb", "secretsmanager", "events"
	Operation string // e.g. "BatchGetItem"
	Requests  []iam.Request
	Err       string // why the call could not be decoded (a recorder bug, reported as such)
}

// Recorder collects calls. It is safe for concurrent use.
type Recorder struct {
	schema Schema
	mu     sync.Mutex
	calls  []Call
}

// NewRecorder returns a recorder for tables of the given key schema.
func NewRecorder(schema Schema) *Recorder { return &Recorder{schema: schema} }

// Calls returns what was recorded so far.
func (r *Recorder) Calls() []Call {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Call(nil), r.calls...)
}

func (r *Recorder) record(tag Tag, target string, body []byte) {
	service, op, reqs, ok, err := Decode(target, body, tag.Stack, r.schema)
	if !ok {
		return
	}
	c := Call{Function: tag.Function, Stack: tag.Stack, Service: service, Operation: op, Requests: reqs}
	if err != nil {
		c.Err = err.Error()
	}
	r.mu.Lock()
	r.calls = append(r.calls, c)
	r.mu.Unlock()
}

// Middleware returns an SDK stack option (for aws.Config.APIOptions) that
// records every call made with a tagged context; static, when set, tags
// the calls whose context carries no tag.
func (r *Recorder) Middleware(static *Tag) func(*middleware.Stack) error {
	return func(s *middleware.Stack) error {
		return s.Build.Add(middleware.BuildMiddlewareFunc("awscalls.Record", func(ctx context.Context, in middleware.BuildInput, next middleware.BuildHandler) (middleware.BuildOutput, middleware.Metadata, error) {
			tag, ok := TagOf(ctx)
			if !ok && static != nil {
				tag, ok = *static, true
			}
			if req, isHTTP := in.Request.(*smithyhttp.Request); ok && isHTTP {
				var body []byte
				if st := req.GetStream(); st != nil && req.IsStreamSeekable() {
					body, _ = io.ReadAll(st)
					if err := req.RewindStream(); err != nil {
						return middleware.BuildOutput{}, middleware.Metadata{}, err
					}
				}
				r.record(tag, req.Header.Get("X-Amz-Target"), body)
			}
			return next.HandleBuild(ctx, in)
		}), middleware.After)
	}
}

// Proxy starts a reverse proxy to upstream (an emulator's endpoint) that
// records every request through it as tag's; point a bootstrap's
// AWS_ENDPOINT_URL_* at its URL. Close it when done.
func (r *Recorder) Proxy(tag Tag, upstream string) (*httptest.Server, error) {
	u, err := url.Parse(upstream)
	if err != nil {
		return nil, err
	}
	rp := httputil.NewSingleHostReverseProxy(u)
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, err := io.ReadAll(req.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		req.Body = io.NopCloser(bytes.NewReader(body))
		r.record(tag, req.Header.Get("X-Amz-Target"), body)
		rp.ServeHTTP(w, req)
	})), nil
}

// Handler tags each request to next with the function that serves its
// route in template.yaml (matched as API Gateway matches it, a trailing
// slash aside), in stack. Requests of no route pass untagged.
func Handler(routes []template.Route, stack iam.Stack, next http.Handler) http.Handler {
	mux := http.NewServeMux() // only to match: its handlers never run
	functionOf := map[string]string{}
	for _, rt := range routes {
		mux.Handle(rt.Method+" "+rt.Path, http.NotFoundHandler())
		functionOf[rt.Method+" "+rt.Path] = rt.Function
	}
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		probe := req.Clone(req.Context())
		if p := strings.TrimSuffix(probe.URL.Path, "/"); p != "" {
			probe.URL.Path = p
		}
		if _, pattern := mux.Handler(probe); functionOf[pattern] != "" {
			req = req.WithContext(With(req.Context(), Tag{Function: functionOf[pattern], Stack: stack}))
		}
		next.ServeHTTP(w, req)
	})
}

// Denial is a recorded call the function's policy does not allow.
type Denial struct {
	Call    Call
	Request iam.Request
}

func (d Denial) String() string {
	return fmt.Sprintf("%s: %s %s is denied: %s", d.Call.Function, d.Call.Service, d.Call.Operation, d.Request)
}

// Result is the outcome of checking calls against the template.
type Result struct {
	Denials []Denial
	Errors  []string                   // calls that could not be decoded or evaluated
	Used    map[string]map[string]bool // function -> actions that allowed calls
	Calls   map[string]int             // function -> calls checked
}

// Check evaluates every tagged call against its function's policy.
func Check(tpl *iam.Template, calls []Call) Result {
	res := Result{Used: map[string]map[string]bool{}, Calls: map[string]int{}}
	policies := map[string]iam.Policy{}
	for _, c := range calls {
		if c.Function == "" {
			continue
		}
		res.Calls[c.Function]++
		if c.Err != "" {
			res.Errors = append(res.Errors, fmt.Sprintf("%s: %s %s: %s", c.Function, c.Service, c.Operation, c.Err))
			continue
		}
		key := c.Function + fmt.Sprint(c.Stack)
		p, ok := policies[key]
		if !ok {
			var err error
			if p, err = tpl.Policy(c.Function, c.Stack); err != nil {
				res.Errors = append(res.Errors, err.Error())
				continue
			}
			policies[key] = p
		}
		for _, r := range c.Requests {
			if !p.Allows(r) {
				res.Denials = append(res.Denials, Denial{Call: c, Request: r})
				continue
			}
			if res.Used[c.Function] == nil {
				res.Used[c.Function] = map[string]bool{}
			}
			res.Used[c.Function][r.Action] = true
		}
	}
	return res
}

// Report writes the result for a test log: each distinct denial (by
// function, operation, action and resource) once, with how often it
// happened and one request's condition keys, and every error.
func (res Result) Report(w io.Writer) {
	type group struct {
		first Denial
		n     int
	}
	groups := map[string]*group{}
	for _, d := range res.Denials {
		k := fmt.Sprintf("%s: %s %s needs %s on %s", d.Call.Function, d.Call.Service, d.Call.Operation, d.Request.Action, d.Request.Resource)
		if g, ok := groups[k]; ok {
			g.n++
		} else {
			groups[k] = &group{first: d, n: 1}
		}
	}
	var lines []string
	for k, g := range groups {
		lines = append(lines, fmt.Sprintf("IAM DENIED %s (%d calls; e.g. %s)", k, g.n, g.first.Request))
	}
	seen := map[string]bool{}
	for _, e := range res.Errors {
		if s := "IAM CHECK ERROR " + e; !seen[s] {
			seen[s] = true
			lines = append(lines, s)
		}
	}
	sort.Strings(lines)
	var counts []string
	for fn, n := range res.Calls {
		counts = append(counts, fmt.Sprintf("%s %d", fn, n))
	}
	sort.Strings(counts)
	lines = append(lines, fmt.Sprintf("IAM check: %d denied of the recorded calls (%s)", len(res.Denials), strings.Join(counts, ", ")))
	for _, l := range lines {
		fmt.Fprintln(w, l)
	}
}

// Failed reports whether any call was denied or could not be checked.
func (res Result) Failed() bool { return len(res.Denials) > 0 || len(res.Errors) > 0 }

// WriteUsed stores the actions that allowed calls in dir/<name>.json, for
// the report of unused actions across every test package (Unused).
func (res Result) WriteUsed(dir, name string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	used := map[string][]string{}
	for fn, actions := range res.Used {
		for a := range actions {
			used[fn] = append(used[fn], a)
		}
		sort.Strings(used[fn])
	}
	b, err := json.MarshalIndent(used, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, strings.ReplaceAll(name, "/", "_")+".json"), b, 0o644)
}

// Unused returns, per function, the actions its policy lists that no
// recorded call in dir used, with the template comment on each action's
// line (why it stays; "" if none).
func Unused(tpl *iam.Template, dir string) (map[string]map[string]string, int, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		return nil, 0, err
	}
	used := map[string][]string{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, 0, err
		}
		var u map[string][]string
		if err := json.Unmarshal(b, &u); err != nil {
			return nil, 0, fmt.Errorf("%s: %w", f, err)
		}
		for fn, as := range u {
			used[fn] = append(used[fn], as...)
		}
	}
	out := map[string]map[string]string{}
	for _, fn := range tpl.Functions() {
		for action, comment := range tpl.ActionComments(fn) {
			hit := false
			for _, u := range used[fn] {
				if iam.Match(strings.ToLower(action), strings.ToLower(u)) {
					hit = true
					break
				}
			}
			if !hit {
				if out[fn] == nil {
					out[fn] = map[string]string{}
				}
				out[fn][action] = comment
			}
		}
	}
	return out, len(files), nil
}
