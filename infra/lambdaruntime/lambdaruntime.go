// Package lambdaruntime runs a function's real bootstrap binary with one
// event under a minimal local implementation of the AWS Lambda Runtime API:
// the Docker-free twin of `sam local invoke`.
//
// It serves the four endpoints a custom runtime such as aws-lambda-go uses
// (invocation/next, invocation/{id}/response, invocation/{id}/error and
// init/error) on 127.0.0.1, starts the bootstrap pointed at them, hands out
// the event, and ends the bootstrap's process group as soon as the function
// has answered.
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

// Options describe one invocation.
type Options struct {
	Bootstrap    string        // path of the bootstrap executable
	Event        []byte        // the event, as the function receives it
	Env          []string      // extra KEY=VALUE variables, after os.Environ()
	Timeout      time.Duration // the function's timeout; 30s if zero
	FunctionName string        // AWS_LAMBDA_FUNCTION_NAME; "function" if empty
}

// Result is what the function answered.
type Result struct {
	Payload []byte         // the response body the function posted
	Error   *FunctionError // set if the function posted to /error or /init/error
	Logs    string         // the bootstrap's stdout and stderr
	// Elapsed is the time from starting the bootstrap to its answer: the
	// cold start plus the handling of the event.
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

// Invoke starts o.Bootstrap, gives it o.Event and returns what it answered.
// A function that reports an error is a Result with Error set; a bootstrap
// that exits without answering, or does not answer within the timeout, is an
// error that carries its logs.
func Invoke(ctx context.Context, o Options) (*Result, error) {
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
	ctx, cancel := context.WithTimeoutCause(ctx, o.Timeout, fmt.Errorf("the function did not answer within its timeout of %s", o.Timeout))
	defer cancel()
	deadline, _ := ctx.Deadline()

	inv := &invocation{
		id:       requestID(),
		event:    o.Event,
		deadline: deadline,
		arn:      "arn:aws:lambda:us-east-1:000000000000:function:" + o.FunctionName,
		result:   make(chan *Result, 1),
		done:     make(chan struct{}),
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	srv := &http.Server{Handler: inv.routes(), ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	defer srv.Close()

	var logs lockedBuffer
	cmd := exec.Command(bootstrap)
	cmd.Dir = filepath.Dir(bootstrap)
	cmd.Env = environ(o, cmd.Dir, ln.Addr().String())
	cmd.Stdout, cmd.Stderr = &logs, &logs
	cmd.SysProcAttr = sysProcAttr()
	cmd.WaitDelay = time.Second // don't wait for stray holders of the log pipes
	started := time.Now()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start the bootstrap: %w", err)
	}
	exited := make(chan struct{})
	var exitErr error
	go func() {
		exitErr = cmd.Wait()
		close(exited)
	}()

	var (
		res     *Result
		failure error
	)
	select {
	case res = <-inv.result:
		res.Elapsed = time.Since(started)
	case <-exited:
		// It may have answered and then exited.
		select {
		case res = <-inv.result:
			res.Elapsed = time.Since(started)
		default:
			failure = fmt.Errorf("the bootstrap exited before answering (%v)", exitErr)
		}
	case <-ctx.Done():
		failure = context.Cause(ctx)
	}
	// End the function, and anything it started, now that it has answered:
	// the real service would freeze it until the next event, and there is
	// none. (If it has just exited, its pid is free again, but Linux hands
	// out pids in sequence: it is not reused within microseconds.)
	if err := syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
		return nil, fmt.Errorf("kill the bootstrap (pgid %d): %w", cmd.Process.Pid, err)
	}
	<-exited
	close(inv.done) // releases a `next` still held, if its connection is not gone already
	if failure != nil {
		return nil, fmt.Errorf("invoke %s: %w\n--- logs ---\n%s", o.Bootstrap, failure, logs.String())
	}
	res.Logs = logs.String()
	return res, nil
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

// invocation is the state of the one event the Runtime API hands out.
type invocation struct {
	id       string
	event    []byte
	deadline time.Time
	arn      string

	handedOut atomic.Bool   // the event has been returned by next
	answered  atomic.Bool   // a response or error has been accepted
	result    chan *Result  // receives the first answer
	done      chan struct{} // closed once the bootstrap is gone
}

func (inv *invocation) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+apiPrefix+"/invocation/next", inv.next)
	mux.HandleFunc("POST "+apiPrefix+"/invocation/{id}/response", inv.response)
	mux.HandleFunc("POST "+apiPrefix+"/invocation/{id}/error", inv.error)
	mux.HandleFunc("POST "+apiPrefix+"/init/error", inv.initError)
	return mux
}

func (inv *invocation) next(w http.ResponseWriter, r *http.Request) {
	if inv.handedOut.Swap(true) {
		// Lambda holds a `next` until there is another event; there won't be.
		select {
		case <-inv.done:
		case <-r.Context().Done():
		}
		apiError(w, http.StatusGone, "NoMoreEvents", "this local runtime serves one event")
		return
	}
	h := w.Header()
	h.Set("Lambda-Runtime-Aws-Request-Id", inv.id)
	h.Set("Lambda-Runtime-Deadline-Ms", strconv.FormatInt(inv.deadline.UnixMilli(), 10))
	h.Set("Lambda-Runtime-Invoked-Function-Arn", inv.arn)
	h.Set("Lambda-Runtime-Trace-Id", traceID())
	h.Set("Content-Type", "application/json")
	w.Write(inv.event)
}

func (inv *invocation) response(w http.ResponseWriter, r *http.Request) {
	if !inv.current(w, r) {
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxResponse))
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		msg := fmt.Sprintf("Response payload size exceeded maximum allowed payload size (%d bytes).", maxResponse)
		if inv.answer(w, &Result{Error: &FunctionError{ErrorMessage: msg, ErrorType: "Function.ResponseSizeTooLarge"}}) {
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
		if inv.answer(w, &Result{Error: fe}) {
			accepted(w)
		}
		return
	}
	if inv.answer(w, &Result{Payload: body}) {
		accepted(w)
	}
}

func (inv *invocation) error(w http.ResponseWriter, r *http.Request) {
	if inv.current(w, r) && inv.answer(w, &Result{Error: readError(r)}) {
		accepted(w)
	}
}

func (inv *invocation) initError(w http.ResponseWriter, r *http.Request) {
	if inv.answer(w, &Result{Error: readError(r)}) {
		accepted(w)
	}
}

// current reports whether r is about the event handed out, answering 400
// if not.
func (inv *invocation) current(w http.ResponseWriter, r *http.Request) bool {
	if !inv.handedOut.Load() || r.PathValue("id") != inv.id {
		apiError(w, http.StatusBadRequest, "InvalidRequestID", "no invocation with id "+r.PathValue("id"))
		return false
	}
	return true
}

// answer records res if it is the first answer, and otherwise says why not.
func (inv *invocation) answer(w http.ResponseWriter, res *Result) bool {
	if inv.answered.Swap(true) {
		apiError(w, http.StatusForbidden, "InvalidStateTransition", "the invocation has already been answered")
		return false
	}
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

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
