// Package faults is a test-only AWS SDK middleware that breaks DynamoDB and
// Secrets Manager calls on purpose: it counts the calls a piece of code
// makes (a dry run) and then fails the Nth of them, with an API error or a
// timeout, or answers transactions with a TransactionConflict
// cancellation as real DynamoDB does under contention (DynamoDB Local
// serializes transactions and never does).
//
// Install it on the clients the code under test uses: testenv's
// Env.ClientsWith(inj.Middleware).
//
// The middleware sits in the Initialize step, before the SDK's retryer, so
// a failure is what the service's code sees after the SDK has given up:
// one failed call, never retried underneath it.
package faults

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// Service ids, as the SDK names them.
const (
	DynamoDB       = "DynamoDB"
	SecretsManager = "Secrets Manager"
)

// Mode is how the Nth call fails.
type Mode int

const (
	// Error: the store refuses the call with a 5xx API error
	// (InternalServerError / InternalServiceError, ServiceUnavailable for
	// every other fault) and applies nothing.
	Error Mode = iota
	// Timeout: the store applies the call, but its answer never arrives:
	// the call blocks until its context ends and fails with the context's
	// error. The caller cannot tell this from a call that never arrived,
	// which makes it the harder of the two cases.
	Timeout
)

func (m Mode) String() string {
	if m == Timeout {
		return "timeout"
	}
	return "error"
}

// Call is one SDK operation call the middleware saw.
type Call struct {
	Service   string // DynamoDB or Secrets Manager
	Operation string // e.g. TransactWriteItems
	// Token is a TransactWriteItems call's ClientRequestToken (the SDK
	// fills it in before this middleware runs): one per attempt of the
	// caller, reused only by the SDK's own retries.
	Token string
}

func (c Call) String() string { return c.Service + " " + c.Operation }

// Injector counts calls and injects faults. Its zero value counts and
// injects nothing; it is safe for concurrent use.
type Injector struct {
	mu       sync.Mutex
	calls    []Call
	failAt   int // 1-based index into calls of this plan; 0: none
	mode     Mode
	injected int
	// conflicts is how many further TransactWriteItems calls are answered
	// with a TransactionConflict cancellation.
	conflicts  int
	transacts  int // TransactWriteItems calls seen since ConflictTransactions
	onHang     func()
	hangNotify chan struct{}
}

// Reset forgets the calls counted so far and disarms every fault.
func (i *Injector) Reset() {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.calls, i.failAt, i.injected, i.conflicts, i.transacts, i.onHang = nil, 0, 0, 0, 0, nil
}

// FailNth resets the count and arms a fault for the nth call from now
// (1-based). onHang, for Timeout, runs once the call is blocked waiting
// for its context: a test uses it to end the request's context, so the
// deadline arrives exactly while the call hangs.
func (i *Injector) FailNth(n int, mode Mode, onHang func()) {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.calls, i.failAt, i.mode, i.injected, i.onHang = nil, n, mode, 0, onHang
}

// ConflictTransactions answers the next k TransactWriteItems calls with a
// TransactionCanceledException whose reasons are TransactionConflict, and
// counts every TransactWriteItems call from now.
func (i *Injector) ConflictTransactions(k int) {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.conflicts, i.transacts = k, 0
}

// Transacts is how many TransactWriteItems calls were made since
// ConflictTransactions.
func (i *Injector) Transacts() int {
	i.mu.Lock()
	defer i.mu.Unlock()
	return i.transacts
}

// Calls returns the calls counted since the last Reset or FailNth.
func (i *Injector) Calls() []Call {
	i.mu.Lock()
	defer i.mu.Unlock()
	return append([]Call(nil), i.calls...)
}

// Injected is how many faults were injected since the last Reset or FailNth.
func (i *Injector) Injected() int {
	i.mu.Lock()
	defer i.mu.Unlock()
	return i.injected
}

// Middleware adds the injector to a client's middleware stack: pass it as
// an aws.Config APIOptions entry.
func (i *Injector) Middleware(stack *middleware.Stack) error {
	return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("FaultInjector", i.handle), middleware.After)
}

type action int

const (
	pass action = iota
	fail
	hang
	conflict
)

func (i *Injector) next(c Call) (action, func()) {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.calls = append(i.calls, c)
	if c.Service == DynamoDB && c.Operation == "TransactWriteItems" {
		i.transacts++
		if i.conflicts > 0 {
			i.conflicts--
			i.injected++
			return conflict, nil
		}
	}
	if i.failAt == 0 || len(i.calls) != i.failAt {
		return pass, nil
	}
	i.injected++
	if i.mode == Timeout {
		return hang, i.onHang
	}
	return fail, nil
}

func (i *Injector) handle(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
	c := Call{Service: middleware.GetServiceID(ctx), Operation: middleware.GetOperationName(ctx)}
	if p, ok := in.Parameters.(*dynamodb.TransactWriteItemsInput); ok {
		c.Token = aws.ToString(p.ClientRequestToken)
	}
	act, onHang := i.next(c)
	switch act {
	case fail:
		return middleware.InitializeOutput{}, middleware.Metadata{}, apiError(c)
	case conflict:
		return middleware.InitializeOutput{}, middleware.Metadata{}, transactionConflict(in)
	case hang:
		// The store applies the call; the answer is lost.
		_, _, _ = next.HandleInitialize(ctx, in)
		if onHang != nil {
			onHang()
		}
		<-ctx.Done()
		return middleware.InitializeOutput{}, middleware.Metadata{}, &aws.RequestCanceledError{Err: ctx.Err()}
	}
	return next.HandleInitialize(ctx, in)
}

// apiError is a 5xx answer as the SDK presents it: the modeled error
// inside an HTTP response error with a request id.
func apiError(c Call) error {
	var api error
	switch {
	case c.Service == DynamoDB:
		api = &ddbtypes.InternalServerError{Message: aws.String("Internal server error (injected)")}
	case c.Service == SecretsManager:
		api = &smtypes.InternalServiceError{Message: aws.String("An error occurred on the server side (injected).")}
	default:
		api = &smithy.GenericAPIError{Code: "ServiceUnavailable", Message: "Service unavailable (injected)", Fault: smithy.FaultServer}
	}
	return response(http.StatusInternalServerError, api)
}

func response(status int, err error) error {
	return &awshttp.ResponseError{
		ResponseError: &smithyhttp.ResponseError{Response: &smithyhttp.Response{Response: &http.Response{StatusCode: status, Header: http.Header{}}}, Err: err},
		RequestID:     "FAULT0INJECTED0REQUEST0ID",
	}
}

// transactionConflict is the cancellation DynamoDB answers when another
// transaction holds one of the items: one reason per item, each
// TransactionConflict.
func transactionConflict(in middleware.InitializeInput) error {
	n := 1
	if p, ok := in.Parameters.(*dynamodb.TransactWriteItemsInput); ok && len(p.TransactItems) > 0 {
		n = len(p.TransactItems)
	}
	reasons := make([]ddbtypes.CancellationReason, n)
	for k := range reasons {
		reasons[k] = ddbtypes.CancellationReason{Code: aws.String("TransactionConflict"), Message: aws.String("Transaction is ongoing for the item")}
	}
	return response(http.StatusBadRequest, &ddbtypes.TransactionCanceledException{
		Message:             aws.String(fmt.Sprintf("Transaction cancelled, please refer cancellation reasons for specific reasons [%s]", repeat("TransactionConflict", n))),
		CancellationReasons: reasons,
	})
}

// IsInjected reports whether err carries an injected fault's request id.
func IsInjected(err error) bool {
	var re *awshttp.ResponseError
	return errors.As(err, &re) && re.RequestID == "FAULT0INJECTED0REQUEST0ID"
}

func repeat(s string, n int) string {
	out := s
	for k := 1; k < n; k++ {
		out += ", " + s
	}
	return out
}
