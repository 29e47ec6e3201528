package httpapi

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"

	"identityservice/shared/identity"
)

// Route is one documented route: its method and path pattern (Go 1.22
// ServeMux syntax), the roles the API reference allows on it, its error
// family, and its handler.
type Route struct {
	Method  string
	Path    string   // e.g. /api/v1-preview/Tenants/{tenantId}/ClientCredentialClients/{clientId}
	Roles   []string // role ids allowed; empty means no bearer token is needed
	Family  Family
	Handler http.HandlerFunc
}

type ctxKey int

const (
	opIDKey ctxKey = iota
	loggerKey
	routeKey
)

// OperationID returns the request's operation id.
func OperationID(ctx context.Context) string {
	id, _ := ctx.Value(opIDKey).(string)
	return id
}

// Logger returns the request's logger, which carries its operation id.
func Logger(ctx context.Context) *slog.Logger {
	if l, ok := ctx.Value(loggerKey).(*slog.Logger); ok {
		return l
	}
	return slog.Default()
}

// RouteOf returns the route serving the request, if any.
func RouteOf(ctx context.Context) (Route, bool) {
	r, ok := ctx.Value(routeKey).(Route)
	return r, ok
}

// NewHandler returns the handler that serves routes: it gives each request
// an operation id (also sent as header Operation-Id), routes a path with or
// without its trailing slash the same way, answers unknown paths and
// methods in the OCS error format, turns panics into 500s, and logs one
// line per request.
func NewHandler(log *slog.Logger, routes []Route) http.Handler {
	mux := http.NewServeMux()
	methodsByPattern := map[string][]string{}
	for _, rt := range routes {
		rt := rt
		mux.HandleFunc(rt.Method+" "+rt.Path, func(w http.ResponseWriter, r *http.Request) {
			ctx := context.WithValue(r.Context(), routeKey, rt)
			ctx = context.WithValue(ctx, familyKey{}, rt.Family)
			rt.Handler(w, r.WithContext(ctx))
		})
		methodsByPattern[rt.Path] = append(methodsByPattern[rt.Path], rt.Method)
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		// Nothing matched: a known path with another method is a 405.
		for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodDelete, http.MethodPatch} {
			probe := r.Clone(r.Context())
			probe.Method = m
			if _, pattern := mux.Handler(probe); pattern != "/" && pattern != "" {
				path := strings.TrimPrefix(pattern, m+" ")
				allowed := methodsByPattern[path]
				w.Header().Set("Allow", strings.Join(allowed, ", "))
				writeError(w, r, http.StatusMethodNotAllowed, &identity.Error{Kind: identity.KindInvalid, Title: "Method not allowed",
					Reason: fmt.Sprintf("%s is not supported on this path.", r.Method), Resolution: "Use one of: " + strings.Join(allowed, ", ") + "."})
				return
			}
		}
		WriteError(w, r, &identity.Error{Kind: identity.KindNotFound, Title: "Route not found",
			Reason: fmt.Sprintf("No route matches %s %s.", r.Method, r.URL.Path), Resolution: "Check the path against the API reference; paths are case-sensitive."})
	})
	return &edge{mux: mux, log: log}
}

type edge struct {
	mux *http.ServeMux
	log *slog.Logger
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

func (e *edge) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	opID := uuid.NewString()
	log := e.log.With("operation_id", opID)
	ctx := context.WithValue(r.Context(), opIDKey, opID)
	ctx = context.WithValue(ctx, loggerKey, log)
	r = r.WithContext(ctx)
	w.Header().Set("Operation-Id", opID)
	if p := r.URL.Path; len(p) > 1 && strings.HasSuffix(p, "/") {
		r.URL.Path = strings.TrimRight(p, "/")
		if r.URL.Path == "" {
			r.URL.Path = "/"
		}
		r.URL.RawPath = ""
	}
	rec := &statusRecorder{ResponseWriter: w}
	defer func() {
		if v := recover(); v != nil {
			log.ErrorContext(ctx, "panic", "panic", fmt.Sprint(v))
			if rec.status == 0 {
				WriteError(rec, r, identity.Internal("panic", fmt.Errorf("%v", v)))
			}
		}
		log.InfoContext(ctx, "request", "method", r.Method, "path", r.URL.Path, "status", rec.status,
			"duration_ms", float64(time.Since(start).Microseconds())/1000)
	}()
	e.mux.ServeHTTP(rec, r)
}
