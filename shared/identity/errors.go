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

// Code names an error, so that the HTTP edge words it (its title, and how
// to put it right, in each route family's format) and errors.Is matches
// it whatever fields it carries.
type Code string

// Error codes.
const (
	CodeInvalid           Code = "invalid_input" // a validation failure: Message and Hint say it all
	CodeInternal          Code = "internal"
	CodeUnavailable       Code = "unavailable"
	CodeTenantNotFound    Code = "tenant_not_found"
	CodeClientNotFound    Code = "client_not_found"
	CodeSecretNotFound    Code = "secret_not_found"
	CodeTenantExists      Code = "tenant_exists"
	CodeClientIDExists    Code = "client_id_exists"
	CodeClientLimit       Code = "client_limit"
	CodeSecretLimit       Code = "secret_limit"
	CodeSecretRecordLimit Code = "secret_record_limit"
	CodeConcurrentUpdate  Code = "concurrent_update"
	CodeSecretSetChanged  Code = "secret_set_changed"
	CodeClientChanged     Code = "client_changed"
	CodeSecretChanged     Code = "secret_changed"
	CodeOperatorClient    Code = "operator_client"
	CodeInvalidClient     Code = "invalid_client"
)

// Error is the one application error type: a kind (what the HTTP edge
// maps to a status), a code (which error), a message in the domain's
// words, and the fields that explain it. How each route family words it
// (a title, a resolution) is the HTTP edge's (httpapi's one table). Err,
// if set, is the underlying cause; it is logged, never shown to a caller.
type Error struct {
	Kind    Kind
	Code    Code
	Message string // what was wrong
	Hint    string // how to put it right, when the input is at fault
	Field   string // the input at fault, if one
	Limit   int    // the limit that was reached, if one
	Count   int    // the count that reached it
	Err     error
}

func (e *Error) Error() string {
	s := string(e.Kind) + ": " + string(e.Code)
	if e.Message != "" {
		s += ": " + e.Message
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *Error) Unwrap() error { return e.Err }

// Is matches errors of the same code (validation and internal errors
// excepted: each of those is its own), so that an error carrying its
// fields still is the sentinel of its code.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code && t.Code != "" && t.Code != CodeInvalid && t.Code != CodeInternal
}

// KindOf returns the kind of err: that of the first *Error in its chain, or
// KindInternal for any other error.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return KindInternal
}

// Invalid reports a client mistake in one input: reason says what was
// wrong (args format it), hint how to put it right (used as it is: format
// it with fmt.Sprintf first).
func Invalid(reason, hint string, args ...any) *Error {
	return &Error{Kind: KindInvalid, Code: CodeInvalid, Message: fmt.Sprintf(reason, args...), Hint: hint}
}

// Error values that callers test with errors.Is (by their Code).
var (
	ErrTenantNotFound = &Error{Kind: KindNotFound, Code: CodeTenantNotFound, Message: "No tenant has this id."}
	ErrClientNotFound = &Error{Kind: KindNotFound, Code: CodeClientNotFound, Message: "No client of this kind has this id in this tenant."}
	ErrSecretNotFound = &Error{Kind: KindNotFound, Code: CodeSecretNotFound, Message: "The client has no secret with this id."}
	ErrTenantExists   = &Error{Kind: KindConflict, Code: CodeTenantExists, Message: "A tenant with this id exists."}
	ErrClientIDExists = &Error{Kind: KindConflict, Code: CodeClientIDExists,
		Message: "A client with this ClientId already exists. Client ids are unique across all tenants."}
	ErrClientLimit = &Error{Kind: KindInvalid, Code: CodeClientLimit, Message: "The tenant already has as many clients as its limit allows."}
	ErrSecretLimit = &Error{Kind: KindInvalid, Code: CodeSecretLimit, Limit: MaxSecretsPerClient,
		Message: fmt.Sprintf("The client already has the maximum number of secrets that are neither deleted nor expired (%d).", MaxSecretsPerClient)}
	ErrConcurrentUpdate = &Error{Kind: KindConflict, Code: CodeConcurrentUpdate, Message: "The resource changed while this request was being applied."}
	ErrUnavailable      = &Error{Kind: KindUnavailable, Code: CodeUnavailable, Message: "A storage service is throttling or unavailable."}
)

// Unavailable wraps a dependency's throttling or outage.
func Unavailable(err error) error {
	return &Error{Kind: KindUnavailable, Code: CodeUnavailable, Message: ErrUnavailable.Message, Err: err}
}

// Facts a Store reports when a write's condition did not hold; the
// Service decides what they mean for the caller.
var (
	// ErrSecretSetChanged: the client's set of secrets changed since it was
	// read (the version differs); read it again.
	ErrSecretSetChanged = &Error{Kind: KindConflict, Code: CodeSecretSetChanged, Message: "The client's secrets changed while this request was being applied."}
	// ErrClientChanged: the client is not at the version the update was
	// computed from (changed or deleted since it was read).
	ErrClientChanged = &Error{Kind: KindConflict, Code: CodeClientChanged, Message: "The client changed while this request was being applied."}
	// ErrSecretChanged: the secret record is not as the condition wanted
	// (gone, soft-deleted, expired or swept).
	ErrSecretChanged = &Error{Kind: KindConflict, Code: CodeSecretChanged, Message: "The secret changed while this request was being applied."}
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
	return &Error{Kind: KindInternal, Code: CodeInternal, Message: "The request could not be completed.", Err: fmt.Errorf("%s: %w", op, err)}
}

// SecretRecordsFull is the store's report that an add's record cap
// (SecretAdd.MaxRecords) held it back: the client holds Count secret
// records, and Records are they (retained ones included), read on this
// path only. The Service words it (Service.secretRecordLimit).
type SecretRecordsFull struct {
	Count   int
	Records []Secret
}

func (e *SecretRecordsFull) Error() string {
	return fmt.Sprintf("the client holds %d secret records", e.Count)
}

// RetainedSince is the earliest deletion (soft-deleted records) or
// expiration (expired at now) among the records: when the first retained
// record entered retention, the sweeper's clock for it. Zero if none is
// retained.
func (e *SecretRecordsFull) RetainedSince(now time.Time) time.Time {
	var first time.Time
	for _, sec := range e.Records {
		var since *time.Time
		switch {
		case sec.DeletedAt != nil:
			since = sec.DeletedAt
		case sec.Expiration != nil && !sec.Expiration.After(now):
			since = sec.Expiration
		}
		if since != nil && (first.IsZero() || since.Before(first)) {
			first = *since
		}
	}
	return first
}
