package httpapi

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"

	"identityservice/shared/auth"
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
	Handler Handler
	// Timeout is the serving function's Timeout (template.yaml), for
	// servers that are not Lambda (the local server); 0 in a function,
	// where the invocation's deadline bounds the request (WithDeadline).
	Timeout time.Duration
}

type ctxKey int

const (
	opIDKey ctxKey = iota
	loggerKey
	routeKey
	principalKey
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

// Authenticator verifies a request's bearer token.
type Authenticator interface {
	Authenticate(r *http.Request) (auth.Principal, error)
}

// Option configures NewHandler.
type Option func(*options)

type options struct {
	authn  Authenticator
	noAuth bool
}

// WithAuthenticator makes every route that lists roles require a bearer
// token with one of them.
func WithAuthenticator(a Authenticator) Option { return func(o *options) { o.authn = a } }

// WithoutAuthentication serves routes without checking tokens. It is for
// tests of handlers only; NewHandler refuses to build a handler whose
// routes need roles unless one of the two options is given.
func WithoutAuthentication() Option { return func(o *options) { o.noAuth = true } }

// NewHandler returns the handler that serves routes: it gives each request
// an operation id (also sent as header Operation-Id), checks the bearer
// token and roles of routes that list roles, routes a path with or without
// its trailing slash the same way, answers unknown paths and methods in the
// OCS error format, turns panics into 500s, and logs one line per request.
func NewHandler(log *slog.Logger, routes []Route, opts ...Option) http.Handler {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	mux := http.NewServeMux()
	methodsByPattern := map[string][]string{}
	familyByPattern := map[string]Family{}
	for _, rt := range routes {
		if len(rt.Roles) > 0 && o.authn == nil && !o.noAuth {
			panic("httpapi: route " + rt.Method + " " + rt.Path + " needs roles but no authenticator was given")
		}
		rt := rt
		mux.HandleFunc(rt.Method+" "+rt.Path, func(w http.ResponseWriter, r *http.Request) {
			ctx, cancel := WithDeadline(r.Context(), rt.Timeout)
			defer cancel()
			ctx = context.WithValue(ctx, routeKey, rt)
			ctx = context.WithValue(ctx, familyKey{}, rt.Family)
			r = r.WithContext(ctx)
			if len(rt.Roles) > 0 && o.authn != nil {
				p, err := authorize(o.authn, rt, r)
				if err != nil {
					WriteError(w, r, err)
					return
				}
				// Every write of the request records who made it: the
				// client, and the person when the token is a person's (a
				// machine token's sub is its client id).
				actor := identity.Actor{ClientID: p.ClientID}
				if p.Subject != "" && p.Subject != p.ClientID {
					actor.Subject, actor.Name = p.Subject, p.Name
				}
				ctx := identity.WithActor(r.Context(), actor)
				r = r.WithContext(context.WithValue(ctx, principalKey, p))
			}
			serve(rt.Handler, w, r)
		})
		methodsByPattern[rt.Path] = append(methodsByPattern[rt.Path], rt.Method)
		familyByPattern[rt.Path] = rt.Family
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
				// Answer in the path's own error format.
				r = r.WithContext(context.WithValue(r.Context(), familyKey{}, familyByPattern[path]))
				writeError(w, r, http.StatusMethodNotAllowed, &identity.Error{Kind: identity.KindInvalid, Code: codeMethodNotAllowed,
					Message: fmt.Sprintf("%s is not supported on this path.", r.Method), Hint: "Use one of: " + strings.Join(allowed, ", ") + "."})
				return
			}
		}
		WriteError(w, r, &identity.Error{Kind: identity.KindNotFound, Code: codeRouteNotFound,
			Message: fmt.Sprintf("No route matches %s %s.", r.Method, r.URL.Path)})
	})
	return &edge{mux: mux, log: log}
}

// Errors of authentication and authorization.
var (
	errUnauthorized = &identity.Error{Kind: identity.KindUnauthorized, Code: codeUnauthorized,
		Message: "The request has no valid bearer token (missing, malformed, expired, wrongly signed, or for another audience)."}
	errWrongRole   = &identity.Error{Kind: identity.KindForbidden, Code: codeWrongRole, Message: "The token's roles do not allow this operation."}
	errWrongTenant = &identity.Error{Kind: identity.KindForbidden, Code: codeWrongTenant, Message: "The token belongs to another tenant."}
)

// authorize checks the request's token against the route's roles. Tenant
// roles act only in the token's own tenant; cluster roles in any.
func authorize(authn Authenticator, rt Route, r *http.Request) (auth.Principal, error) {
	p, err := authn.Authenticate(r)
	if errors.Is(err, auth.ErrInvalidToken) {
		return p, errUnauthorized
	}
	if err != nil {
		return p, identity.Internal("authenticate", err)
	}
	tenant, name := r.PathValue("tenantId"), "tenantId"
	if tenant == "" {
		tenant, name = r.PathValue("tenant"), "tenant"
	}
	if tenant != "" {
		// A malformed tenant id is the caller's typo, not another tenant:
		// say so (400) rather than answer 403.
		if _, err := identity.ParseGUID(name, tenant); err != nil {
			return p, err
		}
	}
	return p, CheckRoles(p, tenant, rt.Roles)
}

// CheckRoles is the route check of a verified caller p: nil when one of
// p's roles is among roles and acts in tenant (a cluster role in any
// tenant, a tenant role in its own; tenant "" names none, and the roles
// alone decide); otherwise the 403 the routes answer: the token belongs to
// another tenant (a role fits, but not here), or its roles do not allow
// the operation. A handler that shows part of its answer to fewer roles
// than its route allows (the dashboard's changes routes: the secrets)
// calls it again.
func CheckRoles(p auth.Principal, tenant string, roles []string) error {
	roleAllowed := false
	for _, want := range roles {
		for _, have := range p.Roles {
			if want != have {
				continue
			}
			roleAllowed = true
			role, _ := identity.RoleByID(have)
			// A route without a tenant in its path (the portal's) names no
			// tenant to act in: its roles alone decide.
			if role.Cluster || tenant == "" || strings.EqualFold(p.TenantID, tenant) {
				return nil
			}
		}
	}
	if roleAllowed {
		return errWrongTenant
	}
	return errWrongRole
}

// PrincipalOf returns the verified caller of the request, if any.
func PrincipalOf(ctx context.Context) (auth.Principal, bool) {
	p, ok := ctx.Value(principalKey).(auth.Principal)
	return p, ok
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
