// Package identity holds the domain of the client-management service:
// tenants, clients, secrets and roles, their validation, and the use cases
// that act on them. It imports no AWS package: storage sits behind the
// narrow Store and Vault interfaces.
package identity

import (
	"errors"
	"fmt"
	"time"
)

// Kind classifies an Error. The HTTP layer maps each kind to a status code.
type Kind string

// Error kinds.
const (
	KindInvalid      Kind = "invalid"      // the request is malformed or breaks a rule: 400
	KindUnauthorized Kind = "unauthorized" // no or bad credentials: 401
	KindForbidden    Kind = "forbidden"    // authenticated but not allowed: 403
	KindNotFound     Kind = "not_found"    // 404
	KindConflict     Kind = "conflict"     // 409
	KindUnavailable  Kind = "unavailable"  // a dependency is throttling or down: 503
	KindTimeout      Kind = "timeout"      // the request's deadline passed before a dependency answered: 503
	KindTooLarge     Kind = "too_large"    // the request body is over the limit: 413
	KindMediaType    Kind = "media_type"   // the request body's Content-Type is not one the route reads: 415
	KindInternal     Kind = "internal"     // a bug or an unexpected dependency failure: 500
)

// Error is the one application error type. Title is short and stable
// ("Client Id already exists"), Reason says what exactly was wrong, and
// Resolution says how to fix it. Err, if set, is the underlying cause; it is
// logged, never shown to a caller.
type Error struct {
	Kind       Kind
	Title      string
	Reason     string
	Resolution string
	Err        error
}

func (e *Error) Error() string {
	s := string(e.Kind) + ": " + e.Title
	if e.Reason != "" {
		s += ": " + e.Reason
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *Error) Unwrap() error { return e.Err }

// KindOf returns the kind of err: that of the first *Error in its chain, or
// KindInternal for any other error.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return KindInternal
}

// Invalid reports a client mistake in one input. args format reason only;
// resolution is used as it is (format it with fmt.Sprintf first).
func Invalid(reason, resolution string, args ...any) *Error {
	return &Error{Kind: KindInvalid, Title: "Missing or invalid inputs", Reason: fmt.Sprintf(reason, args...), Resolution: resolution}
}

// Error values that callers test with errors.Is via their Title and Kind.
var (
	ErrTenantNotFound = &Error{Kind: KindNotFound, Title: "Tenant not found",
		Reason: "No tenant has this id.", Resolution: "Check the tenant id in the path."}
	ErrClientNotFound = &Error{Kind: KindNotFound, Title: "Client not found",
		Reason: "No client of this kind has this id in this tenant.", Resolution: "Check the client id in the path and that the route matches the client's kind."}
	ErrSecretNotFound = &Error{Kind: KindNotFound, Title: "Secret not found",
		Reason: "The client has no secret with this id.", Resolution: "List the client's secrets to find the right id."}
	ErrClientIDExists = &Error{Kind: KindConflict, Title: "Client Id already exists",
		Reason: "A client with this ClientId already exists. Client ids are unique across all tenants.", Resolution: "Omit ClientId to have one generated, or choose another GUID."}
	ErrClientLimit = &Error{Kind: KindInvalid, Title: "Client limit exceeded",
		Reason: "The tenant already has as many clients as its limit allows.", Resolution: "Delete clients that are no longer used, or ask an operator to raise the tenant's client limit."}
	ErrSecretLimit = &Error{Kind: KindInvalid, Title: "Secret limit exceeded",
		Reason: "The client already has the maximum number of secrets that are neither deleted nor expired (10).", Resolution: "Delete a secret the client no longer uses, then add the new one."}
	ErrConcurrentUpdate = &Error{Kind: KindConflict, Title: "Concurrent update",
		Reason: "The resource changed while this request was being applied.", Resolution: "Retry the request."}
	ErrUnavailable = &Error{Kind: KindUnavailable, Title: "Service busy",
		Reason: "A storage service is throttling or unavailable.", Resolution: "Retry after a short wait."}
)

// Facts a Store reports when a write's condition did not hold; the
// Service decides what they mean for the caller. They never reach one as
// they are.
var (
	// ErrSecretSetChanged: the client's set of secrets changed since it was
	// read (the version differs); read it again.
	ErrSecretSetChanged = &Error{Kind: KindConflict, Title: "Concurrent update",
		Reason: "The client's secrets changed while this request was being applied.", Resolution: "Retry the request."}
	// ErrClientChanged: the client is not at the version the update was
	// computed from (changed or deleted since it was read).
	ErrClientChanged = &Error{Kind: KindConflict, Title: "Concurrent update",
		Reason: "The client changed while this request was being applied.", Resolution: "Retry the request."}
	// ErrSecretChanged: the secret record is not as the condition wanted
	// (gone, soft-deleted, expired or swept).
	ErrSecretChanged = &Error{Kind: KindConflict, Title: "Concurrent update",
		Reason: "The secret changed while this request was being applied.", Resolution: "Retry the request."}
)

// Internal wraps an unexpected failure. Its text never reaches a caller.
func Internal(op string, err error) error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		return err
	}
	return &Error{Kind: KindInternal, Title: "Internal server error", Reason: "The request could not be completed.", Resolution: "Retry; if it keeps failing, report the OperationId.", Err: fmt.Errorf("%s: %w", op, err)}
}

// SecretRecordsFull is the store's report that a client holds
// MaxSecretRecordsPerClient secret records or more, so that no record can
// be added; the domain words it (Service.secretRecordLimit).
type SecretRecordsFull struct {
	Count int // the client's secret records, retained ones included
	// RetainedSince is the earliest deletion (soft-deleted records) or
	// expiration (expired ones) among the client's retained records: the
	// sweeper's clock for them. Zero if none is retained.
	RetainedSince time.Time
}

func (e *SecretRecordsFull) Error() string {
	return fmt.Sprintf("the client holds %d secret records", e.Count)
}
