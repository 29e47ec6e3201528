package httpapi_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"identityservice/shared/httpapi"
	"identityservice/shared/identity"
)

// TestWithDeadline: the request's deadline is the earliest of the parent's
// (Lambda's), now + Timeout and now + DefaultTimeout, less a fifth of the
// time left, at most MaxDeadlineMargin.
func TestWithDeadline(t *testing.T) {
	for _, c := range []struct {
		name    string
		parent  time.Duration // 0: no parent deadline
		timeout time.Duration
		left    time.Duration // the bound before the margin
	}{
		{"Lambda deadline only", 10 * time.Second, 0, 10 * time.Second},
		{"Lambda deadline before Timeout", 4 * time.Second, 10 * time.Second, 4 * time.Second},
		{"Timeout before Lambda deadline", 10 * time.Second, 2 * time.Second, 2 * time.Second},
		{"Timeout only (local server)", 0, 10 * time.Second, 10 * time.Second},
		{"nothing: API Gateway's 30 s", 0, 0, httpapi.DefaultTimeout},
		{"Timeout beyond 30 s", 0, 5 * time.Minute, httpapi.DefaultTimeout},
	} {
		t.Run(c.name, func(t *testing.T) {
			// before is taken before the parent's deadline is set, so that
			// time spent between the two (a loaded machine) stays inside
			// [before, after].
			before := time.Now()
			parent := context.Background()
			if c.parent > 0 {
				var cancel context.CancelFunc
				parent, cancel = context.WithTimeout(parent, c.parent)
				defer cancel()
			}
			ctx, cancel := httpapi.WithDeadline(parent, c.timeout)
			defer cancel()
			after := time.Now()
			got, ok := ctx.Deadline()
			if !ok {
				t.Fatal("no deadline")
			}
			margin := min(c.left/5, httpapi.MaxDeadlineMargin)
			// The bound is taken at some instant between before and after.
			lo, hi := before.Add(c.left-margin-time.Millisecond), after.Add(c.left-margin+time.Millisecond)
			if got.Before(lo) || got.After(hi) {
				t.Fatalf("deadline in %v, want %v less a margin of %v", got.Sub(before), c.left, margin)
			}
			if pd, ok := parent.Deadline(); ok && !got.Before(pd) {
				t.Fatalf("deadline %v not before the parent's %v", got, pd)
			}
		})
	}
}

// TestTimeoutAnswers: an error that ends a request whose deadline passed
// (or whose call was cancelled) is a 503 with Retry-After in the route
// family's format, not a 500; other errors keep their status.
func TestTimeoutAnswers(t *testing.T) {
	expired, cancel := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel()
	sdkErr := fmt.Errorf("operation error DynamoDB: GetItem: %w", context.DeadlineExceeded)
	for _, c := range []struct {
		name   string
		ctx    context.Context
		err    error
		family httpapi.Family
		status int
		title  string
	}{
		{"OCS, store call hit the deadline", context.Background(), identity.Internal("get client", sdkErr), httpapi.OCS, 503, "Request timed out"},
		{"OCS, deadline passed, SDK error text only", expired, identity.Internal("get client", errors.New("request canceled")), httpapi.OCS, 503, "Request timed out"},
		{"Key Rotation, cancelled", context.Background(), identity.Internal("add secret", fmt.Errorf("send: %w", context.Canceled)), httpapi.KeyRotation, 503, "Request timed out"},
		{"token endpoint", expired, &httpapi.OAuthError{Status: 500, Code: "server_error", Description: "x", Err: identity.Internal("auth", sdkErr)}, httpapi.OAuth, 503, "temporarily_unavailable"},
		{"throttling stays Service busy", context.Background(), identity.ErrUnavailable, httpapi.OCS, 503, "Service busy"},
		{"a bug stays a 500", context.Background(), identity.Internal("x", errors.New("boom")), httpapi.OCS, 500, "Internal server error"},
		{"a 400 after the deadline stays a 400", expired, identity.Invalid("bad", "fix"), httpapi.OCS, 400, "Missing or invalid inputs"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "/x", nil)
			r = r.WithContext(httpapi.WithFamily(c.ctx, c.family))
			rec := httptest.NewRecorder()
			httpapi.WriteError(rec, r, c.err)
			if rec.Code != c.status {
				t.Fatalf("status %d, want %d; body %s", rec.Code, c.status, rec.Body)
			}
			if c.status == 503 && rec.Header().Get("Retry-After") == "" {
				t.Fatal("no Retry-After on a 503")
			}
			var title string
			switch c.family {
			case httpapi.OCS:
				var b httpapi.ErrorBody
				_ = json.Unmarshal(rec.Body.Bytes(), &b)
				title = b.Error
			case httpapi.KeyRotation:
				var p httpapi.ProblemDetails
				_ = json.Unmarshal(rec.Body.Bytes(), &p)
				if p.Status != c.status {
					t.Fatalf("ProblemDetails status %d, want %d", p.Status, c.status)
				}
				title = p.Title
			case httpapi.OAuth:
				var o httpapi.OAuthBody
				_ = json.Unmarshal(rec.Body.Bytes(), &o)
				title = o.Error
			}
			if title != c.title {
				t.Fatalf("body %s: title/code %q, want %q", rec.Body, title, c.title)
			}
		})
	}
}
