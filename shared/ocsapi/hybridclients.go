package ocsapi

import (
	"net/http"

	"identityservice/shared/httpapi"
	"identityservice/shared/identity"
)

// HybridClientDto is a Hybrid client on the wire.
type HybridClientDto struct {
	AllowOfflineAccess          bool
	AllowAccessTokensViaBrowser bool
	RedirectUris                []string
	PostLogoutRedirectUris      []string
	ClientUri                   *string
	LogoUri                     *string
	ClientId                    string
	Name                        string
	Enabled                     bool
}

// HybridClientResponseDto is the answer to a create: the client and its
// first secret, shown this once.
type HybridClientResponseDto struct {
	ClientSecret         string
	SecretId             string
	SecretDescription    string
	SecretExpirationDate *string
	HybridClientDto
}

type hybridClientCreate struct {
	SecretDescription           *string
	SecretExpirationDate        *string
	AllowOfflineAccess          *bool
	AllowAccessTokensViaBrowser *bool
	RedirectUris                *[]string
	PostLogoutRedirectUris      *[]string
	ClientUri                   *string
	LogoUri                     *string
	ClientId                    *string
	Name                        *string
	Enabled                     *bool
}

type hybridClientUpdate struct {
	AllowOfflineAccess          *bool
	AllowAccessTokensViaBrowser *bool
	RedirectUris                *[]string
	PostLogoutRedirectUris      *[]string
	ClientUri                   *string
	LogoUri                     *string
	ClientId                    *string
	Name                        *string
	Enabled                     *bool
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func hybridDto(c identity.Client) HybridClientDto {
	return HybridClientDto{
		AllowOfflineAccess:          c.AllowOfflineAccess,
		AllowAccessTokensViaBrowser: c.AllowAccessTokensViaBrowser,
		RedirectUris:                nonNil(c.RedirectURIs),
		PostLogoutRedirectUris:      nonNil(c.PostLogoutRedirectURIs),
		ClientUri:                   optional(c.ClientURI),
		LogoUri:                     optional(c.LogoURI),
		ClientId:                    c.ID,
		Name:                        c.Name,
		Enabled:                     c.Enabled,
	}
}

const hybridBase = "/api/Tenants/{tenantId}/HybridClient"

// HybridClientRoutes returns the routes of the HybridClients function:
// /api/Tenants/{tenantId}/HybridClient, and v1 (v1clients.go).
func HybridClientRoutes(svc *identity.Service) []httpapi.Route {
	h := hybridHandlers{svc: svc}
	res := clientResource[HybridClientDto]{svc: svc, kind: identity.Hybrid, dto: hybridDto}
	return append([]httpapi.Route{
		{Method: http.MethodPost, Path: hybridBase, Roles: rolesAdmin, Handler: h.create},
		{Method: http.MethodGet, Path: hybridBase, Roles: rolesAdminCluster, Handler: res.list},
		{Method: http.MethodGet, Path: hybridBase + "/{clientId}", Roles: rolesAdminCluster, Handler: res.get},
		{Method: http.MethodPut, Path: hybridBase + "/{clientId}", Roles: rolesAdmin, Handler: h.update},
		{Method: http.MethodDelete, Path: hybridBase + "/{clientId}", Roles: rolesAdmin, Handler: res.delete},
	}, hybridClientV1Routes(svc)...)
}

type hybridHandlers struct{ svc *identity.Service }

func (h hybridHandlers) create(w http.ResponseWriter, r *http.Request) (httpapi.Response, error) {
	tenantID, err := httpapi.PathGUID(r, "tenantId")
	if err != nil {
		return httpapi.Response{}, err
	}
	var in hybridClientCreate
	if err := httpapi.DecodeJSON(w, r, &in); err != nil {
		return httpapi.Response{}, err
	}
	exp, err := parseOptionalTime("SecretExpirationDate", in.SecretExpirationDate)
	if err != nil {
		return httpapi.Response{}, err
	}
	created, err := h.svc.CreateClient(r.Context(), tenantID, identity.NewClient{
		ID:                          deref(in.ClientId),
		Kind:                        identity.Hybrid,
		Name:                        deref(in.Name),
		Enabled:                     in.Enabled,
		AllowOfflineAccess:          deref(in.AllowOfflineAccess),
		AllowAccessTokensViaBrowser: deref(in.AllowAccessTokensViaBrowser),
		RedirectURIs:                deref(in.RedirectUris),
		PostLogoutRedirectURIs:      deref(in.PostLogoutRedirectUris),
		ClientURI:                   deref(in.ClientUri),
		LogoURI:                     deref(in.LogoUri),
		SecretDescription:           deref(in.SecretDescription),
		SecretExpiration:            exp,
	})
	if err != nil {
		return httpapi.Response{}, err
	}
	return httpapi.Response{Status: http.StatusCreated, Body: HybridClientResponseDto{
		ClientSecret:         created.SecretString,
		SecretId:             created.Secret.ID,
		SecretDescription:    created.Secret.Description,
		SecretExpirationDate: formatTime(created.Secret.Expiration),
		HybridClientDto:      hybridDto(created.Client),
	}, Header: httpapi.NoStore(map[string]string{"Location": r.URL.Path + "/" + created.Client.ID})}, nil
}

func (h hybridHandlers) update(w http.ResponseWriter, r *http.Request) (httpapi.Response, error) {
	tenantID, clientID, err := tenantAndClient(r)
	if err != nil {
		return httpapi.Response{}, err
	}
	var in hybridClientUpdate
	if err := httpapi.DecodeJSON(w, r, &in); err != nil {
		return httpapi.Response{}, err
	}
	if err := sameClientID("ClientId", in.ClientId, clientID); err != nil {
		return httpapi.Response{}, err
	}
	c, err := h.svc.UpdateClient(r.Context(), tenantID, identity.Hybrid, clientID, identity.ClientPatch{
		Name: in.Name, Enabled: in.Enabled,
		AllowOfflineAccess: in.AllowOfflineAccess, AllowAccessTokensViaBrowser: in.AllowAccessTokensViaBrowser,
		RedirectURIs: in.RedirectUris, PostLogoutRedirectURIs: in.PostLogoutRedirectUris,
		ClientURI: in.ClientUri, LogoURI: in.LogoUri,
	})
	if err != nil {
		return httpapi.Response{}, err
	}
	return httpapi.Response{Status: http.StatusOK, Body: hybridDto(c)}, nil
}
