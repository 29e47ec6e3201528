package testenv

import (
	"context"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/smithy-go/middleware"
)

// Stall starts a TCP listener that accepts connections, reads what is sent
// and never answers: a stalled store, for an endpoint override
// (AWS_ENDPOINT_URL_DYNAMODB, BaseEndpoint). It returns its URL and stops
// when the test ends.
func Stall(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			go func() { _, _ = io.Copy(io.Discard, c) }()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return "http://" + ln.Addr().String()
}

// Deadlines records the context deadline of every AWS SDK call made by the
// clients whose APIOptions include its Middleware.
type Deadlines struct {
	mu    sync.Mutex
	calls []Call
}

// Call is one recorded SDK call.
type Call struct {
	Operation   string
	Start       time.Time
	Deadline    time.Time // zero: the call had no deadline
	HasDeadline bool
}

// Middleware is an APIOptions entry that records each call.
func (d *Deadlines) Middleware(stack *middleware.Stack) error {
	return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("RecordDeadline",
		func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
			dl, ok := ctx.Deadline()
			d.mu.Lock()
			d.calls = append(d.calls, Call{Operation: awsmiddleware.GetOperationName(ctx), Start: time.Now(), Deadline: dl, HasDeadline: ok})
			d.mu.Unlock()
			return next.HandleInitialize(ctx, in)
		}), middleware.After)
}

// Calls returns the calls recorded so far.
func (d *Deadlines) Calls() []Call {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]Call(nil), d.calls...)
}
