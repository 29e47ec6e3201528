package ocsapi

import (
	"net/http"

	"identityservice/shared/httpapi"
	"identityservice/shared/identity"
)

// TenantStateActive is the reference's TenantProvisioningState of a tenant
// that works: every tenant of this service (it provisions nothing).
const TenantStateActive = 1

// TenantDto is a tenant in the reference's shape (Tenant). This service
// keeps a tenant's id, name and creation time; the properties it has no
// data for are null or empty, never made up.
type TenantDto struct {
	Id                string
	CompanyName       string
	State             int
	Created           string
	LastUpdated       string
	Alias             *string
	Features          []any
	ExternalAccountId *string
	TenantType        *string
}

// TenantRoutes returns the routes of the Tenants function: a tenant, read
// by a token of that tenant with any tenant role, or of a cluster role.
// It is how AVEVA's samples test a token (GET /api/{version}/Tenants/{id}).
func TenantRoutes(svc *identity.Service) []httpapi.Route {
	roles := []string{identity.RoleAccountAdministrator, identity.RoleAccountMember, identity.RoleClusterOperator, identity.RoleClusterSupport}
	get := func(w http.ResponseWriter, r *http.Request) (httpapi.Response, error) {
		tenantID, err := httpapi.PathGUID(r, "tenantId")
		if err != nil {
			return httpapi.Response{}, err
		}
		t, err := svc.GetTenant(r.Context(), tenantID)
		if err != nil {
			return httpapi.Response{}, err
		}
		created := *formatTime(&t.CreatedAt)
		return httpapi.Response{Status: http.StatusOK, Body: TenantDto{
			Id: t.ID, CompanyName: t.Name, State: TenantStateActive, Created: created, LastUpdated: created, Features: []any{},
		}}, nil
	}
	return []httpapi.Route{
		{Method: http.MethodGet, Path: "/api/v1/Tenants/{tenantId}", Roles: roles, Handler: get},
		{Method: http.MethodGet, Path: "/api/v1-preview/Tenants/{tenantId}", Roles: roles, Handler: get},
	}
}
