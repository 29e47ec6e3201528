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

// hybridFields are the properties only a Hybrid client has, named alike
// in every route family's create and update bodies (v1-preview and v1).
type hybridFields struct {
	AllowOfflineAccess          *bool
	AllowAccessTokensViaBrowser *bool
	RedirectUris                *[]string
	PostLogoutRedirectUris      *[]string
	ClientUri                   *string
	LogoUri                     *string
}

// into sets them on a new client (absent: the zero value).
func (f hybridFields) into(c *identity.NewClient) {
	c.AllowOfflineAccess = deref(f.AllowOfflineAccess)
	c.AllowAccessTokensViaBrowser = deref(f.AllowAccessTokensViaBrowser)
	c.RedirectURIs = deref(f.RedirectUris)
	c.PostLogoutRedirectURIs = deref(f.PostLogoutRedirectUris)
	c.ClientURI = deref(f.ClientUri)
	c.LogoURI = deref(f.LogoUri)
}

// patch sets them on an update (absent: unchanged).
func (f hybridFields) patch(p *identity.ClientPatch) {
	p.AllowOfflineAccess, p.AllowAccessTokensViaBrowser = f.AllowOfflineAccess, f.AllowAccessTokensViaBrowser
	p.RedirectURIs, p.PostLogoutRedirectURIs = f.RedirectUris, f.PostLogoutRedirectUris
	p.ClientURI, p.LogoURI = f.ClientUri, f.LogoUri
}

type hybridClientCreate struct {
	SecretDescription    *string
	SecretExpirationDate *string
	hybridFields
	ClientId *string
	Name     *string
	Enabled  *bool
}

type hybridClientUpdate struct {
	hybridFields
	ClientId *string
	Name     *string
	Enabled  *bool
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
	h := hybridHandlers{clientResource[HybridClientDto]{svc: svc, kind: identity.Hybrid, dto: hybridDto}}
	return append(h.routes(hybridBase, h.create, h.update, rolesAdminCluster), hybridClientV1Routes(svc)...)
}

type hybridHandlers struct {
	clientResource[HybridClientDto]
}

func (h hybridHandlers) create(w http.ResponseWriter, r *http.Request) (httpapi.Response, error) {
	var in hybridClientCreate
	return h.createWith(w, r, &in, func() (identity.NewClient, error) {
		exp, err := parseOptionalTime("SecretExpirationDate", in.SecretExpirationDate)
		c := identity.NewClient{
			ID: deref(in.ClientId), Name: deref(in.Name), Enabled: in.Enabled,
			SecretDescription: deref(in.SecretDescription), SecretExpiration: exp,
		}
		in.hybridFields.into(&c)
		return c, err
	}, func(created identity.CreatedClient) any {
		return HybridClientResponseDto{
			ClientSecret:         created.SecretString,
			SecretId:             created.Secret.ID,
			SecretDescription:    created.Secret.Description,
			SecretExpirationDate: formatTime(created.Secret.Expiration),
			HybridClientDto:      hybridDto(created.Client),
		}
	})
}

func (h hybridHandlers) update(w http.ResponseWriter, r *http.Request) (httpapi.Response, error) {
	var in hybridClientUpdate
	return h.updateWith(w, r, &in, func() (*string, identity.ClientPatch) {
		p := identity.ClientPatch{Name: in.Name, Enabled: in.Enabled}
		in.hybridFields.patch(&p)
		return in.ClientId, p
	})
}
