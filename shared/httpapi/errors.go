// Package httpapi is the HTTP edge shared by every function: the route
// table, operation ids, request decoding, list parameters, and the mapping
// from domain errors to status codes and to the two wire formats (the OCS
// error body and RFC 7807 ProblemDetails).
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
	OAuth                     // the token endpoint: RFC 6749 errors, written by its handlers
)

// statusOf maps an error kind to its HTTP status.
var statusOf = map[identity.Kind]int{
	identity.KindInvalid:      http.StatusBadRequest,
	identity.KindUnauthorized: http.StatusUnauthorized,
	identity.KindForbidden:    http.StatusForbidden,
	identity.KindNotFound:     http.StatusNotFound,
	identity.KindConflict:     http.StatusConflict,
	identity.KindUnavailable:  http.StatusServiceUnavailable,
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

// domainError returns err as an *identity.Error, turning any other error
// into an internal one.
func domainError(err error) *identity.Error {
	var e *identity.Error
	if errors.As(err, &e) {
		return e
	}
	return identity.Internal("unclassified", err).(*identity.Error)
}

// WriteError answers with err in the format of the route's family. Internal
// errors are logged with their cause, which never reaches the caller.
func WriteError(w http.ResponseWriter, r *http.Request, err error) {
	e := domainError(err)
	status := statusOf[e.Kind]
	if status == 0 {
		status = http.StatusInternalServerError
	}
	writeError(w, r, status, e)
}

func writeError(w http.ResponseWriter, r *http.Request, status int, e *identity.Error) {
	ctx := r.Context()
	opID := OperationID(ctx)
	if status >= 500 {
		Logger(ctx).ErrorContext(ctx, "request failed", "status", status, "error", e.Error())
	} else {
		Logger(ctx).InfoContext(ctx, "request rejected", "status", status, "error", e.Title, "reason", e.Reason)
	}
	if status == http.StatusUnauthorized {
		if r.Header.Get("Authorization") != "" {
			w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		} else {
			w.Header().Set("WWW-Authenticate", `Bearer`)
		}
	}
	switch familyOf(ctx) {
	case KeyRotation:
		if status == http.StatusForbidden {
			WriteJSON(w, status, ForbiddenBody{Type: "Forbidden", Identifier: opID, Message: e.Reason, ResponseCode: "Forbidden", Errors: []string{e.Title}})
			return
		}
		w.Header().Set("Content-Type", "application/problem+json")
		writeJSONBody(w, status, ProblemDetails{
			Type:     "https://tools.ietf.org/html/rfc7231#section-6",
			Title:    e.Title,
			Status:   status,
			Detail:   joinDetail(e.Reason, e.Resolution),
			Instance: r.URL.Path,
		})
	default:
		WriteJSON(w, status, ErrorBody{OperationId: opID, Error: e.Title, Reason: e.Reason, Resolution: e.Resolution})
	}
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
