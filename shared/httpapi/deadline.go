package httpapi

import (
	"context"
	"errors"
	"net/http"
	"time"

	"identityservice/shared/identity"
)

// Request deadlines. Every AWS call of a request carries the request's
// context, whose deadline is the earliest of the invocation's (Lambda's
// context deadline), now + the route's Timeout (the function's Timeout in
// template.yaml; the local server sets it), and now + DefaultTimeout, less a
// margin. So a stalled store is answered by us, with a 503 in the route
// family's error format, before Lambda ends the invocation and API Gateway
// answers with a body of its own.
const (
	// DefaultTimeout bounds a request that has no other deadline: API
	// Gateway's HTTP API integration timeout.
	DefaultTimeout = 30 * time.Second
	// MaxDeadlineMargin is the most time kept back from the deadline for
	// writing the answer: a fifth of the time left, at most this.
	MaxDeadlineMargin = time.Second
)

// WithDeadline returns ctx bounded as described above, for a route whose
// function has the given Timeout (0: none known).
func WithDeadline(ctx context.Context, timeout time.Duration) (context.Context, context.CancelFunc) {
	now := time.Now()
	deadline := now.Add(DefaultTimeout)
	if timeout > 0 && now.Add(timeout).Before(deadline) {
		deadline = now.Add(timeout)
	}
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	left := deadline.Sub(now)
	return context.WithDeadline(ctx, deadline.Add(-min(left/5, MaxDeadlineMargin)))
}

// errTimeout answers a request whose deadline passed while a store had not
// answered.
var errTimeout = &identity.Error{Kind: identity.KindTimeout, Code: codeTimeout,
	Message: "A storage service did not answer within the request's time limit; the request may or may not have taken effect."}

// TimedOut reports whether err ended the request because its deadline
// passed (or it was cancelled) while an AWS call was in flight.
func TimedOut(r *http.Request, err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return true
	}
	k := identity.KindOf(err)
	return (k == identity.KindInternal || k == identity.KindUnavailable) && r.Context().Err() != nil
}
