// Package portal serves the operations dashboard (GET /_/op-dashboard) and
// the Key Rotation API's two UI routes (GET /profile, GET
// /no-access-callback): HTML pages and their scripts and styles, embedded
// in the binary, plus two small JSON routes the pages read with the
// signed-in client's bearer token. Everything else the dashboard shows or
// does goes through the public API with that token, as any integrator's
// code would.
//
// Every answer carries the security headers of secure: a
// Content-Security-Policy that allows scripts and styles from this origin
// only (no inline script or style anywhere in the pages), nosniff, no
// referrer, and no framing.
package portal

import (
	"context"
	"embed"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"

	"identityservice/shared/httpapi"
	"identityservice/shared/identity"
	"identityservice/shared/sweep"
)

// Paths of the portal's routes.
const (
	DashboardPath  = "/_/op-dashboard"
	AssetPath      = "/_/op-dashboard/assets/{name}"
	LastSweepPath  = "/_/op-dashboard/api/last-sweep"
	ProfileAPIPath = "/_/op-dashboard/api/profile"
	ProfilePath    = "/profile"
	NoAccessPath   = "/no-access-callback"
)

// MaxStateLength bounds the state parameter the UI routes carry.
const MaxStateLength = 1024

// Roles that may call the last-sweep route. Its counts cover every tenant:
// only cluster roles read them; an Account Administrator is told that a
// sweep ran and nothing more (lastSweep). Tenant members are refused.
var lastSweepRoles = []string{identity.RoleAccountAdministrator, identity.RoleClusterOperator, identity.RoleClusterSupport}

// Every role may read who it is.
var anyRole = []string{identity.RoleAccountAdministrator, identity.RoleAccountMember, identity.RoleClusterOperator, identity.RoleClusterSupport}

//go:embed web
var web embed.FS

var pages = func() pageSet {
	p, err := loadPages(web, "web/pages")
	if err != nil {
		panic(err) // the embedded pages are broken: every test of the package fails
	}
	return p
}()

// Deps are what the portal's routes call.
type Deps struct {
	Sweeps  SweepSummaries // the sweeper's last run (the store)
	Clients ClientReader   // the signed-in client (identity.Service)
	Tenants TenantReader   // its tenant (the store)
	Changes ChangeReader   // who last changed a client and its secrets (identity.Service)
	// SignIn is the dashboard's sign-in of people (bff.go).
	SignIn SignInDeps
}

// SweepSummaries reads the sweeper's last recorded run.
type SweepSummaries interface {
	LastRun(ctx context.Context) (sweep.LastRun, bool, error)
}

// ClientReader reads the client the profile shows, of either kind.
type ClientReader interface {
	GetAnyClient(ctx context.Context, tenantID, clientID string) (identity.Client, error)
}

// TenantReader reads the tenant the profile shows.
type TenantReader interface {
	GetTenant(ctx context.Context, tenantID string) (identity.Tenant, error)
}

// Routes returns the portal function's routes.
func Routes(d Deps) []httpapi.Route {
	h := &handlers{Deps: d}
	return []httpapi.Route{
		{Method: http.MethodGet, Path: DashboardPath, Family: httpapi.OCS, Handler: secure(h.page("dashboard.html"))},
		{Method: http.MethodGet, Path: ProfilePath, Family: httpapi.OCS, Handler: secure(h.page("profile.html"))},
		{Method: http.MethodGet, Path: NoAccessPath, Family: httpapi.OCS, Handler: secure(h.page("noaccess.html"))},
		{Method: http.MethodGet, Path: AssetPath, Family: httpapi.OCS, Handler: secure(h.asset)},
		{Method: http.MethodGet, Path: LastSweepPath, Roles: lastSweepRoles, Family: httpapi.OCS, Handler: secure(h.lastSweep)},
		{Method: http.MethodGet, Path: ProfileAPIPath, Roles: anyRole, Family: httpapi.OCS, Handler: secure(h.profile)},
		{Method: http.MethodGet, Path: ClientCredentialChangesPath, Roles: cccReadRoles, Family: httpapi.OCS, Handler: secure(h.changes(identity.ClientCredential))},
		{Method: http.MethodGet, Path: HybridChangesPath, Roles: hybridReadRoles, Family: httpapi.OCS, Handler: secure(h.changes(identity.Hybrid))},
		{Method: http.MethodGet, Path: SignInPath, Family: httpapi.OCS, Handler: secure(h.signIn)},
		{Method: http.MethodGet, Path: CallbackPath, Family: httpapi.OCS, Handler: secure(h.callback)},
		{Method: http.MethodPost, Path: SignOutPath, Family: httpapi.OCS, Handler: secure(h.signOut)},
		{Method: http.MethodGet, Path: SessionPath, Family: httpapi.OCS, Handler: secure(h.session)},
		{Method: http.MethodPost, Path: CallPath, Family: httpapi.OCS, Handler: secure(h.call)},
	}
}

// contentSecurityPolicy allows this origin's scripts, styles and API and
// nothing else: no inline script or style, no plugins, no framing, forms
// posting only here.
const contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; " +
	"connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// secure sets the portal's security headers on every answer of h, its
// errors included.
func secure(h httpapi.Handler) httpapi.Handler {
	return func(w http.ResponseWriter, r *http.Request) (httpapi.Response, error) {
		hd := w.Header()
		hd.Set("Content-Security-Policy", contentSecurityPolicy)
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("Referrer-Policy", "no-referrer")
		hd.Set("X-Frame-Options", "DENY")
		hd.Set("Cross-Origin-Opener-Policy", "same-origin")
		return h(w, r)
	}
}

type handlers struct{ Deps }

// page renders one of the HTML pages. The state parameter is kept in the
// page's links, escaped for each place it appears (pages.go).
func (h *handlers) page(name string) httpapi.Handler {
	return func(w http.ResponseWriter, r *http.Request) (httpapi.Response, error) {
		status := http.StatusOK
		data := pageData{State: r.URL.Query().Get("state"), Tenant: rememberedTenant(r)}
		if len(data.State) > MaxStateLength {
			status = http.StatusBadRequest
			data = pageData{Error: "The state parameter is longer than 1024 characters. Start again from the application that sent you here, or open this page without state."}
		}
		body, err := pages.render(name, data)
		if err != nil {
			return httpapi.Response{}, identity.Internal("render "+name, err)
		}
		return httpapi.Response{Status: status, Raw: []byte(body), ContentType: "text/html; charset=utf-8",
			Header: map[string]string{"Cache-Control": "no-store"}}, nil
	}
}

var assetTypes = map[string]string{
	".js":  "text/javascript; charset=utf-8",
	".css": "text/css; charset=utf-8",
	".svg": "image/svg+xml",
}

// asset serves a script or stylesheet of the pages.
func (h *handlers) asset(w http.ResponseWriter, r *http.Request) (httpapi.Response, error) {
	name := r.PathValue("name")
	typ, known := assetTypes[path.Ext(name)]
	body, err := fs.ReadFile(web, "web/static/"+name)
	if !known || err != nil || strings.ContainsAny(name, "/\\") {
		return httpapi.Response{}, &identity.Error{Kind: identity.KindNotFound, Code: httpapi.CodeAssetNotFound,
			Message: "The portal has no file named " + name + ".", Hint: "Open " + DashboardPath + " and let it load its own files."}
	}
	return httpapi.Response{Status: http.StatusOK, Raw: body, ContentType: typ, Header: map[string]string{"Cache-Control": "public, max-age=300"}}, nil
}

// LastSweepDto is the last sweep's summary as the dashboard reads it:
// Recorded false (and nothing else) until a run has recorded one.
type LastSweepDto struct {
	Recorded    bool
	StartedAt   string        `json:",omitempty"`
	FinishedAt  string        `json:",omitempty"`
	DurationMs  int64         `json:",omitempty"`
	Counts      *sweep.Counts `json:",omitempty"`
	FailedSteps []string      `json:",omitempty"`
	// Withheld says why a tenant role sees no more than Recorded: the
	// counts and timings cover every tenant.
	Withheld string `json:",omitempty"`
}

var noStore = map[string]string{"Cache-Control": "no-store"}

// withheldSweep is what a tenant role reads instead of the summary: the
// sweeper counts and times its work across every tenant, so even its
// duration says something of other tenants' secrets.
const withheldSweep = "The sweeper's counts cover every tenant, so only a cluster role (Cluster Operator, Cluster Support) sees them. Your tenant's expiring secrets are on the timeline."

func (h *handlers) lastSweep(w http.ResponseWriter, r *http.Request) (httpapi.Response, error) {
	run, ok, err := h.Sweeps.LastRun(r.Context())
	if err != nil {
		return httpapi.Response{}, err
	}
	if p, signedIn := httpapi.PrincipalOf(r.Context()); !signedIn || !identity.HasClusterRole(p.Roles) {
		return httpapi.Response{Status: http.StatusOK, Header: noStore, Body: LastSweepDto{Recorded: ok, Withheld: withheldSweep}}, nil
	}
	if !ok {
		return httpapi.Response{Status: http.StatusOK, Body: LastSweepDto{}, Header: noStore}, nil
	}
	failed := run.FailedSteps
	if failed == nil {
		failed = []string{}
	}
	return httpapi.Response{Status: http.StatusOK, Header: noStore, Body: LastSweepDto{
		Recorded:  true,
		StartedAt: run.StartedAt.UTC().Format(time.RFC3339), FinishedAt: run.FinishedAt.UTC().Format(time.RFC3339),
		DurationMs: run.DurationMs, Counts: &run.Counts, FailedSteps: failed,
	}}, nil
}

// RoleDto is a role by id and name.
type RoleDto struct {
	Id      string
	Name    string
	Cluster bool
}

// ProfileDto is who the bearer token speaks for.
type ProfileDto struct {
	ClientId   string
	Name       string
	Kind       string
	TenantId   string
	TenantName string
	Roles      []RoleDto
}

func (h *handlers) profile(w http.ResponseWriter, r *http.Request) (httpapi.Response, error) {
	p, _ := httpapi.PrincipalOf(r.Context())
	c, err := h.Clients.GetAnyClient(r.Context(), p.TenantID, p.ClientID)
	if err != nil {
		return httpapi.Response{}, err
	}
	t, err := h.Tenants.GetTenant(r.Context(), p.TenantID)
	if err != nil {
		return httpapi.Response{}, err
	}
	out := ProfileDto{ClientId: c.ID, Name: c.Name, Kind: c.Kind.String(), TenantId: t.ID, TenantName: t.Name, Roles: []RoleDto{}}
	for _, id := range p.Roles {
		role, ok := identity.RoleByID(id)
		if !ok {
			role = identity.Role{ID: id, Name: "Unknown role " + id}
		}
		out.Roles = append(out.Roles, RoleDto{Id: role.ID, Name: role.Name, Cluster: role.Cluster})
	}
	return httpapi.Response{Status: http.StatusOK, Body: out, Header: noStore}, nil
}
