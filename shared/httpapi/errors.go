// Package httpapi is the HTTP edge shared by every function: the route
// table, operation ids, request decoding, list parameters, one way for a
// handler to answer (Handler: a Response or an error), and the mapping from
// errors to status codes and to each route family's wire format, chosen in
// one table (errorFormats): the OCS error body, RFC 7807 ProblemDetails
// (with the Key Rotation API's own 403 body), and RFC 6749 errors.
package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"

	"identityservice/shared/identity"
)

// Family is a group of routes that share an error format.
type Family int

// Route families.
const (
	OCS         Family = iota // PascalCase, OCS error body
	KeyRotation               // camelCase, ProblemDetails
	OAuth                     // the token endpoint, discovery, JWKS: RFC 6749 section 5.2 errors
)

// OAuthError is an RFC 6749 section 5.2 error of the token endpoint:
// {"error": Code, "error_description": Description} with Status. Err, if
// set, is the cause: logged, never sent.
type OAuthError struct {
	Status      int
	Code        string // invalid_request, invalid_client, unsupported_grant_type, unauthorized_client, server_error
	Description string
	Err         error
}

func (e *OAuthError) Error() string {
	s := e.Code + ": " + e.Description
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *OAuthError) Unwrap() error { return e.Err }

// OAuthBody is the RFC 6749 section 5.2 error body.
type OAuthBody struct {
	Error       string `json:"error"`
	Description string `json:"error_description"`
}

// statusOf maps an error kind to its HTTP status.
var statusOf = map[identity.Kind]int{
	identity.KindInvalid:      http.StatusBadRequest,
	identity.KindUnauthorized: http.StatusUnauthorized,
	identity.KindForbidden:    http.StatusForbidden,
	identity.KindNotFound:     http.StatusNotFound,
	identity.KindConflict:     http.StatusConflict,
	identity.KindUnavailable:  http.StatusServiceUnavailable,
	identity.KindTimeout:      http.StatusServiceUnavailable,
	identity.KindTooLarge:     http.StatusRequestEntityTooLarge,
	identity.KindMediaType:    http.StatusUnsupportedMediaType,
	identity.KindInternal:     http.StatusInternalServerError,
}

// ErrorBody is the OCS error body.
type ErrorBody struct {
	OperationId string
	Error       string
	Reason      string
	Resolution  string
}

// ProblemDetails is the RFC 7807 error body of the Key Rotation routes.
type ProblemDetails struct {
	Type     string `json:"type"`
	Title    string `json:"title"`
	Status   int    `json:"status"`
	Detail   string `json:"detail"`
	Instance string `json:"instance"`
}

// ForbiddenBody is the Key Rotation API's 403 body.
type ForbiddenBody struct {
	Type         string   `json:"type"`
	Identifier   string   `json:"identifier"`
	Message      string   `json:"message"`
	ResponseCode string   `json:"responseCode"`
	Errors       []string `json:"errors"`
}

// words are how the edge says an error: its title, and how to put it
// right (empty: the error's own Hint).
type words struct{ title, resolution string }

// Codes of the edge's own errors.
const (
	codeTimeout          identity.Code = "timeout"
	codeRouteNotFound    identity.Code = "route_not_found"
	codeMethodNotAllowed identity.Code = "method_not_allowed"
	codeUnauthorized     identity.Code = "unauthorized"
	codeWrongRole        identity.Code = "wrong_role"
	codeWrongTenant      identity.Code = "wrong_tenant"
	codeMediaType        identity.Code = "media_type"
	codeTooLarge         identity.Code = "too_large"
	// CodeAssetNotFound: a portal file that does not exist.
	CodeAssetNotFound identity.Code = "asset_not_found"
	// CodeSignedOut: no one is signed in to the dashboard in this browser.
	CodeSignedOut identity.Code = "signed_out"
	// CodeDashboardCSRF: a dashboard call without its session's CSRF token.
	CodeDashboardCSRF identity.Code = "dashboard_csrf"
)

// wording is the one table of how each error is said, by its code; every
// route family's format (errorFormats) is made from it and the error's
// Message. An error whose code it lacks is said as an internal one.
var wording = map[identity.Code]words{
	identity.CodeInvalid:           {"Missing or invalid inputs", ""},
	identity.CodeInternal:          {"Internal server error", "Retry; if it keeps failing, report the OperationId."},
	identity.CodeUnavailable:       {"Service busy", "Retry after a short wait."},
	identity.CodeTenantNotFound:    {"Tenant not found", "Check the tenant id in the path."},
	identity.CodeClientNotFound:    {"Client not found", "Check the client id in the path and that the route matches the client's kind."},
	identity.CodeSecretNotFound:    {"Secret not found", "List the client's secrets to find the right id."},
	identity.CodeTenantExists:      {"Tenant already exists", "Use another id."},
	identity.CodeClientIDExists:    {"Client Id already exists", "Omit ClientId to have one generated, or choose another GUID."},
	identity.CodeClientLimit:       {"Client limit exceeded", "Delete clients that are no longer used, or ask an operator to raise the tenant's client limit."},
	identity.CodeSecretLimit:       {"Secret limit exceeded", "Delete a secret the client no longer uses, then add the new one."},
	identity.CodeSecretRecordLimit: {"Secret record limit exceeded", ""},
	identity.CodeConcurrentUpdate:  {"Concurrent update", "Retry the request."},
	identity.CodeSecretSetChanged:  {"Concurrent update", "Retry the request."},
	identity.CodeClientChanged:     {"Concurrent update", "Retry the request."},
	identity.CodeSecretChanged:     {"Concurrent update", "Retry the request."},
	identity.CodeOperatorClient:    {"Forbidden", "Ask an operator; cluster-role clients are managed with the admin CLI."},
	identity.CodeInvalidClient:     {"invalid_client", "Check the client id and secret."},
	codeTimeout:                    {"Request timed out", "Retry after a short wait; a retried create or add may answer 409 if the first attempt took effect."},
	codeRouteNotFound:              {"Route not found", "Check the path against the API reference; paths are case-sensitive."},
	codeMethodNotAllowed:           {"Method not allowed", ""},
	codeUnauthorized:               {"Unauthorized", "Get an access token from /identity/connect/token and send it as Authorization: Bearer <token>."},
	codeWrongRole:                  {"Forbidden", "Use a client with one of the roles this route allows."},
	codeWrongTenant:                {"Forbidden", "Use a client of this tenant, or one with a cluster role."},
	codeMediaType:                  {"Unsupported media type", "Send the body as JSON with Content-Type: application/json."},
	codeTooLarge:                   {"Request body too large", ""},
	CodeAssetNotFound:              {"Asset not found", ""},
	CodeSignedOut:                  {"Signed out", "Sign in again on the dashboard (/_/op-dashboard)."},
	CodeDashboardCSRF:              {"Forbidden", "Call the dashboard's API from the dashboard's own pages, which send the X-Dashboard-Csrf header."},
}

// Describe says err as the edge does: its title, what was wrong, and how
// to put it right (the admin CLI prints the same words).
func Describe(err error) (title, reason, resolution string) {
	e := domainError(err)
	w, ok := wording[e.Code]
	if !ok {
		w, e = wording[identity.CodeInternal], &identity.Error{Message: "The request could not be completed."}
	}
	resolution = w.resolution
	if resolution == "" {
		resolution = e.Hint
	}
	return w.title, e.Message, resolution
}

// domainError returns err as an *identity.Error, turning any other error
// into an internal one.
func domainError(err error) *identity.Error {
	var e *identity.Error
	if errors.As(err, &e) {
		return e
	}
	return identity.Internal("unclassified", err).(*identity.Error)
}

// problem is an error answer, whatever its family's format: the fields of
// an *identity.Error, or of an *OAuthError (Code set).
type problem struct {
	status                    int
	title, reason, resolution string
	code                      string // the RFC 6749 error code of an *OAuthError
}

// WriteError answers with err in the format of the route's family. Internal
// errors are logged with their cause, which never reaches the caller.
func WriteError(w http.ResponseWriter, r *http.Request, err error) {
	var oe *OAuthError
	if errors.As(err, &oe) {
		p := problem{status: oe.Status, title: oe.Code, reason: oe.Description, code: oe.Code}
		if oe.Status >= 500 && (TimedOut(r, oe) || identity.KindOf(oe.Err) == identity.KindUnavailable) {
			// A stalled or throttling store: retry later, not a bug.
			w.Header().Set("Retry-After", "1")
			p = problem{status: http.StatusServiceUnavailable, code: "temporarily_unavailable", title: "temporarily_unavailable",
				reason: "The service did not answer in time; retry after a short wait."}
		}
		write(w, r, p, oe.Error())
		return
	}
	e := domainError(err)
	if e.Kind != identity.KindTimeout && TimedOut(r, err) {
		t := *errTimeout
		t.Err = err
		e = &t
	}
	if e.Kind == identity.KindTimeout || e.Kind == identity.KindUnavailable {
		w.Header().Set("Retry-After", "1")
	}
	status := statusOf[e.Kind]
	if status == 0 {
		status = http.StatusInternalServerError
	}
	writeError(w, r, status, e)
}

func writeError(w http.ResponseWriter, r *http.Request, status int, e *identity.Error) {
	title, reason, resolution := Describe(e)
	write(w, r, problem{status: status, title: title, reason: reason, resolution: resolution}, e.Error())
}

// write logs p (with full, its cause included, if it is a 5xx) and answers
// it in the route family's format.
func write(w http.ResponseWriter, r *http.Request, p problem, full string) {
	ctx := r.Context()
	if p.status >= 500 {
		Logger(ctx).ErrorContext(ctx, "request failed", "status", p.status, "error", full)
	} else {
		Logger(ctx).InfoContext(ctx, "request rejected", "status", p.status, "error", p.title, "reason", p.reason)
	}
	errorFormats[familyOf(ctx)](w, r, p)
}

// errorFormats is the one table of error formats, by route family.
var errorFormats = map[Family]func(w http.ResponseWriter, r *http.Request, p problem){
	OCS:         writeOCSError,
	KeyRotation: writeKeyRotationError,
	OAuth:       writeOAuthError,
}

// bearerChallenge sets WWW-Authenticate on a 401 of a route that wants a
// bearer token.
func bearerChallenge(w http.ResponseWriter, r *http.Request, status int) {
	if status != http.StatusUnauthorized {
		return
	}
	if r.Header.Get("Authorization") != "" {
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
	} else {
		w.Header().Set("WWW-Authenticate", `Bearer`)
	}
}

// writeOCSError writes the OCS error body.
func writeOCSError(w http.ResponseWriter, r *http.Request, p problem) {
	bearerChallenge(w, r, p.status)
	WriteJSON(w, p.status, ErrorBody{OperationId: OperationID(r.Context()), Error: p.title, Reason: p.reason, Resolution: p.resolution})
}

// writeKeyRotationError writes ProblemDetails, or on 403 the Key Rotation
// API's forbidden body.
func writeKeyRotationError(w http.ResponseWriter, r *http.Request, p problem) {
	bearerChallenge(w, r, p.status)
	if p.status == http.StatusForbidden {
		WriteJSON(w, p.status, ForbiddenBody{Type: "Forbidden", Identifier: OperationID(r.Context()), Message: p.reason, ResponseCode: "Forbidden", Errors: []string{p.title}})
		return
	}
	w.Header().Set("Content-Type", "application/problem+json")
	writeJSONBody(w, p.status, ProblemDetails{
		Type:     "https://tools.ietf.org/html/rfc7231#section-6",
		Title:    p.title,
		Status:   p.status,
		Detail:   joinDetail(p.reason, p.resolution),
		Instance: r.URL.Path,
	})
}

// writeOAuthError writes an RFC 6749 section 5.2 error. Errors that are not
// an *OAuthError (an unknown method, a panic) get the code their status
// implies: invalid_client (401), server_error (5xx), else invalid_request.
func writeOAuthError(w http.ResponseWriter, r *http.Request, p problem) {
	code := p.code
	switch {
	case code != "":
	case p.status == http.StatusUnauthorized:
		code = "invalid_client"
	case p.status == http.StatusServiceUnavailable:
		code = "temporarily_unavailable"
	case p.status >= 500:
		code = "server_error"
	default:
		code = "invalid_request"
	}
	if p.status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Basic realm="identity", charset="UTF-8"`)
	}
	WriteJSON(w, p.status, OAuthBody{Error: code, Description: joinDetail(p.reason, p.resolution)})
}

func joinDetail(reason, resolution string) string {
	if resolution == "" {
		return reason
	}
	return reason + " " + resolution
}

// WriteJSON answers with v as JSON.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	writeJSONBody(w, status, v)
}

func writeJSONBody(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		// Only our own DTOs are marshalled; this is a bug.
		slog.Error("marshal response", "error", err.Error())
		w.WriteHeader(http.StatusInternalServerError)
		return
	}
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

type familyKey struct{}

func familyOf(ctx context.Context) Family {
	f, _ := ctx.Value(familyKey{}).(Family)
	return f
}

// WithFamily returns ctx for a request of the family f, whose errors
// WriteError then answers in f's format (the router does this for every
// route; tests of decoding use it directly).
func WithFamily(ctx context.Context, f Family) context.Context {
	return context.WithValue(ctx, familyKey{}, f)
}
