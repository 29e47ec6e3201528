// Package lambdaruntime runs a function's real bootstrap binary with one
// event under a minimal local implementation of the AWS Lambda Runtime API:
// the Docker-free twin of `sam local invoke`.
//
// It serves the four endpoints a custom runtime such as aws-lambda-go uses
// (invocation/next, invocation/{id}/response, invocation/{id}/error and
// init/error) on 127.0.0.1 and starts the bootstrap pointed at them. Invoke
// hands out one event and ends the bootstrap's process group as soon as
// the function has answered (a cold start per event); Start and
// Function.Invoke hand out events one after another to one process (a
// warm function).
package lambdaruntime

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Options describe the function and its (first) invocation.
type Options struct {
	Bootstrap    string        // path of the bootstrap executable
	Event        []byte        // the event of Invoke, as the function receives it
	Env          []string      // extra KEY=VALUE variables, after os.Environ()
	Timeout      time.Duration // the function's timeout, per invocation; 30s if zero
	FunctionName string        // AWS_LAMBDA_FUNCTION_NAME; "function" if empty
}

// Result is what the function answered.
type Result struct {
	Payload []byte         // the response body the function posted
	Error   *FunctionError // set if the function posted to /error or /init/error
	// Logs are the bootstrap's stdout and stderr: with Invoke, all of
	// them; with Function.Invoke, those written since the invocation
	// began, as far as they have arrived (Function.Logs has every line
	// once the function has stopped).
	Logs string
	// Elapsed is, with Invoke, the time from starting the bootstrap to its
	// answer (the cold start plus the handling of the event); with
	// Function.Invoke, from handing out the event to the answer.
	Elapsed time.Duration
}

// FunctionError is the error a function reports, in the shape the Runtime
// API takes and Lambda returns to callers.
type FunctionError struct {
	ErrorMessage string `json:"errorMessage"`
	ErrorType    string `json:"errorType"`
}

const (
	apiPrefix = "/2018-06-01/runtime"
	// maxResponse is Lambda's limit on a synchronous response, in the bytes
	// its error message names.
	maxResponse = 6291556
)

// Invoke starts o.Bootstrap, gives it o.Event and returns what it answered:
// a cold start per call. A function that reports an error is a Result with
// Error set; a bootstrap that exits without answering, or does not answer
// within the timeout, is an error that carries its logs.
func Invoke(ctx context.Context, o Options) (*Result, error) {
	f, err := Start(o)
	if err != nil {
		return nil, err
	}
	res, err := f.Invoke(ctx, o.Event)
	// End the function, and anything it started, now that it has answered:
	// the real service would freeze it until the next event, and there is
	// none.
	if err != nil {
		return nil, err // the function is stopped, and err holds its logs
	}
	if err := f.Stop(); err != nil {
		return nil, err
	}
	res.Logs = f.Logs()
	res.Elapsed = f.answeredAt.Sub(f.started)
	return res, nil
}

// Function is a running bootstrap that serves events one after another,
// as a warm Lambda execution environment does: its caches (signing keys,
// the JWKS) live from one event to the next.
type Function struct {
	o       Options
	arn     string
	cmd     *exec.Cmd
	srv     *http.Server
	logs    lockedBuffer
	started time.Time
	exited  chan struct{} // closed once the bootstrap has exited
	exitErr error         // read only after exited is closed

	invokeMu   sync.Mutex       // one invocation at a time
	events     chan *invocation // the event to hand out (at most one)
	done       chan struct{}    // closed by Stop: releases a held `next`
	stopOnce   sync.Once
	mu         sync.Mutex
	pending    *invocation // the invocation under way, handed out or not
	answeredAt time.Time   // when the last answer was accepted
}

// Start starts o.Bootstrap under a Runtime API of its own; it waits for no
// event (Invoke hands them out). Stop ends it.
func Start(o Options) (*Function, error) {
	if o.Timeout <= 0 {
		o.Timeout = 30 * time.Second
	}
	if o.FunctionName == "" {
		o.FunctionName = "function"
	}
	// The bootstrap runs in its own directory, as in /var/task; exec
	// resolves a relative path against cmd.Dir, hence Abs.
	bootstrap, err := filepath.Abs(o.Bootstrap)
	if err != nil {
		return nil, err
	}
	f := &Function{
		o:      o,
		arn:    "arn:aws:lambda:us-east-1:000000000000:function:" + o.FunctionName,
		exited: make(chan struct{}),
		events: make(chan *invocation, 1),
		done:   make(chan struct{}),
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	f.srv = &http.Server{Handler: f.routes(), ReadHeaderTimeout: 10 * time.Second}
	go f.srv.Serve(ln)

	f.cmd = exec.Command(bootstrap)
	f.cmd.Dir = filepath.Dir(bootstrap)
	f.cmd.Env = environ(o, f.cmd.Dir, ln.Addr().String())
	f.cmd.Stdout, f.cmd.Stderr = &f.logs, &f.logs
	f.cmd.SysProcAttr = sysProcAttr()
	f.cmd.WaitDelay = time.Second // don't wait for stray holders of the log pipes
	f.started = time.Now()
	if err := f.cmd.Start(); err != nil {
		f.srv.Close()
		return nil, fmt.Errorf("start the bootstrap: %w", err)
	}
	go func() {
		f.exitErr = f.cmd.Wait()
		close(f.exited)
	}()
	return f, nil
}

// Invoke hands the running function one event and returns its answer. A
// function that exits, or does not answer within its timeout, is an error
// carrying the logs, and is stopped: every later Invoke fails.
func (f *Function) Invoke(ctx context.Context, event []byte) (*Result, error) {
	f.invokeMu.Lock()
	defer f.invokeMu.Unlock()
	select {
	case <-f.done:
		return nil, fmt.Errorf("invoke %s: the function has stopped\n--- logs ---\n%s", f.o.Bootstrap, f.logs.String())
	default:
	}
	ctx, cancel := context.WithTimeoutCause(ctx, f.o.Timeout, fmt.Errorf("the function did not answer within its timeout of %s", f.o.Timeout))
	defer cancel()
	deadline, _ := ctx.Deadline()
	inv := &invocation{id: requestID(), event: event, deadline: deadline, result: make(chan *Result, 1)}
	f.mu.Lock()
	f.pending = inv
	f.mu.Unlock()
	logsBefore := f.logs.Len()
	began := time.Now()
	f.events <- inv // the channel is empty: invocations take turns

	var (
		res     *Result
		failure error
	)
	select {
	case res = <-inv.result:
	case <-f.exited:
		// It may have answered and then exited.
		select {
		case res = <-inv.result:
		default:
			failure = fmt.Errorf("the bootstrap exited before answering (%v)", f.exitErr)
		}
	case <-ctx.Done():
		failure = context.Cause(ctx)
	}
	if failure != nil {
		f.Stop()
		select {
		case <-f.events: // never handed out
		default:
		}
		return nil, fmt.Errorf("invoke %s: %w\n--- logs ---\n%s", f.o.Bootstrap, failure, f.logs.String())
	}
	res.Elapsed = time.Since(began)
	res.Logs = f.logs.From(logsBefore)
	return res, nil
}

// Logs returns everything the bootstrap has written so far; after Stop,
// all of it.
func (f *Function) Logs() string { return f.logs.String() }

// Stop ends the function's process group and its Runtime API and waits for
// the exit; it is safe to call more than once. (If the bootstrap has just
// exited, its pid is free again, but Linux hands out pids in sequence: it
// is not reused within microseconds.)
func (f *Function) Stop() error {
	var err error
	f.stopOnce.Do(func() {
		if kerr := syscall.Kill(-f.cmd.Process.Pid, syscall.SIGKILL); kerr != nil && !errors.Is(kerr, syscall.ESRCH) {
			err = fmt.Errorf("kill the bootstrap (pgid %d): %w", f.cmd.Process.Pid, kerr)
		}
		<-f.exited
		close(f.done) // releases a `next` still held, if its connection is not gone already
		f.srv.Close()
	})
	return err
}

// environ is the bootstrap's environment: ours, what Lambda sets, then
// o.Env; the Runtime API address always wins. exec keeps the last of
// duplicate keys.
func environ(o Options, dir, api string) []string {
	env := os.Environ()
	if os.Getenv("AWS_REGION") == "" {
		env = append(env, "AWS_REGION=us-east-1")
	}
	env = append(env,
		"AWS_LAMBDA_FUNCTION_NAME="+o.FunctionName,
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE=128",
		"AWS_LAMBDA_FUNCTION_VERSION=$LATEST",
		"LAMBDA_TASK_ROOT="+dir,
	)
	env = append(env, o.Env...)
	return append(env, "AWS_LAMBDA_RUNTIME_API="+api)
}

// invocation is the state of one event.
type invocation struct {
	id       string
	event    []byte
	deadline time.Time

	handedOut atomic.Bool  // the event has been returned by next
	answered  atomic.Bool  // a response or error has been accepted
	result    chan *Result // receives the first answer
}

func (f *Function) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+apiPrefix+"/invocation/next", f.next)
	mux.HandleFunc("POST "+apiPrefix+"/invocation/{id}/response", f.response)
	mux.HandleFunc("POST "+apiPrefix+"/invocation/{id}/error", f.error)
	mux.HandleFunc("POST "+apiPrefix+"/init/error", f.initError)
	return mux
}

// next hands out the next event, holding the request until there is one,
// as Lambda does.
func (f *Function) next(w http.ResponseWriter, r *http.Request) {
	var inv *invocation
	select {
	case inv = <-f.events:
	case <-f.done:
		apiError(w, http.StatusGone, "NoMoreEvents", "this local runtime has stopped")
		return
	case <-r.Context().Done():
		return
	}
	inv.handedOut.Store(true)
	h := w.Header()
	h.Set("Lambda-Runtime-Aws-Request-Id", inv.id)
	h.Set("Lambda-Runtime-Deadline-Ms", strconv.FormatInt(inv.deadline.UnixMilli(), 10))
	h.Set("Lambda-Runtime-Invoked-Function-Arn", f.arn)
	h.Set("Lambda-Runtime-Trace-Id", traceID())
	h.Set("Content-Type", "application/json")
	w.Write(inv.event)
}

func (f *Function) response(w http.ResponseWriter, r *http.Request) {
	inv := f.current(w, r)
	if inv == nil {
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxResponse))
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		msg := fmt.Sprintf("Response payload size exceeded maximum allowed payload size (%d bytes).", maxResponse)
		if f.answer(w, inv, &Result{Error: &FunctionError{ErrorMessage: msg, ErrorType: "Function.ResponseSizeTooLarge"}}) {
			apiError(w, http.StatusRequestEntityTooLarge, "RequestEntityTooLarge", msg)
		}
		return
	case err != nil:
		apiError(w, http.StatusBadRequest, "InvalidRequest", err.Error())
		return
	}
	// A streamed response that fails midway reports its error in trailers.
	if typ := r.Trailer.Get("Lambda-Runtime-Function-Error-Type"); typ != "" {
		fe := &FunctionError{ErrorType: typ}
		if b, err := base64.StdEncoding.DecodeString(r.Trailer.Get("Lambda-Runtime-Function-Error-Body")); err == nil {
			json.Unmarshal(b, fe)
		}
		if f.answer(w, inv, &Result{Error: fe}) {
			accepted(w)
		}
		return
	}
	if f.answer(w, inv, &Result{Payload: body}) {
		accepted(w)
	}
}

func (f *Function) error(w http.ResponseWriter, r *http.Request) {
	if inv := f.current(w, r); inv != nil && f.answer(w, inv, &Result{Error: readError(r)}) {
		accepted(w)
	}
}

// initError answers the invocation under way: the function failed before
// asking for it.
func (f *Function) initError(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	inv := f.pending
	f.mu.Unlock()
	if inv == nil {
		apiError(w, http.StatusForbidden, "InvalidStateTransition", "no invocation is under way")
		return
	}
	if f.answer(w, inv, &Result{Error: readError(r)}) {
		accepted(w)
	}
}

// current returns the invocation r is about, if it is the one handed out,
// and answers 400 if not.
func (f *Function) current(w http.ResponseWriter, r *http.Request) *invocation {
	f.mu.Lock()
	inv := f.pending
	f.mu.Unlock()
	if inv == nil || !inv.handedOut.Load() || r.PathValue("id") != inv.id {
		apiError(w, http.StatusBadRequest, "InvalidRequestID", "no invocation with id "+r.PathValue("id"))
		return nil
	}
	return inv
}

// answer records res if it is the invocation's first answer, and otherwise
// says why not.
func (f *Function) answer(w http.ResponseWriter, inv *invocation, res *Result) bool {
	if inv.answered.Swap(true) {
		apiError(w, http.StatusForbidden, "InvalidStateTransition", "the invocation has already been answered")
		return false
	}
	f.mu.Lock()
	f.answeredAt = time.Now()
	f.mu.Unlock()
	inv.result <- res
	return true
}

// readError reads the error a runtime posts: JSON with errorMessage and
// errorType, the type also in a header; anything else is kept as the message.
func readError(r *http.Request) *FunctionError {
	body, _ := io.ReadAll(io.LimitReader(r.Body, maxResponse))
	var fe FunctionError
	if json.Unmarshal(body, &fe) != nil || fe == (FunctionError{}) {
		fe.ErrorMessage = strings.TrimSpace(string(body))
	}
	if fe.ErrorType == "" {
		fe.ErrorType = r.Header.Get("Lambda-Runtime-Function-Error-Type")
	}
	return &fe
}

func accepted(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusAccepted)
	io.WriteString(w, `{"status":"OK"}`)
}

func apiError(w http.ResponseWriter, code int, typ, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(FunctionError{ErrorMessage: msg, ErrorType: typ})
}

// requestID returns a random UUID (version 4), like Lambda's request ids.
func requestID() string {
	b := make([]byte, 16)
	rand.Read(b)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

// traceID returns an X-Ray trace header for an unsampled trace.
func traceID() string {
	b := make([]byte, 20)
	rand.Read(b)
	return fmt.Sprintf("Root=1-%08x-%x;Parent=%x;Sampled=0", time.Now().Unix(), b[:12], b[12:])
}

// lockedBuffer is a bytes.Buffer safe for the concurrent writes of stdout
// and stderr.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// Len is the number of bytes written so far.
func (b *lockedBuffer) Len() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Len()
}

// From returns what was written after the first n bytes.
func (b *lockedBuffer) From(n int) string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return string(b.buf.Bytes()[n:])
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
