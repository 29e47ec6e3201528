package ocsapi

// The v1 routes of Client Credential and Hybrid clients: the current
// shapes of the API reference (Id for the client's id, AccessTokenLifetime,
// a create answering {"Client": {...}, "Secret": ...}), over the same
// clients, rules and storage as v1-preview. A client made through one
// version is read, changed and deleted through the other. Unknown request
// properties are ignored here, as the original service ignored them
// (docs/api.md, "Unknown properties").

import (
	"net/http"

	"identityservice/shared/httpapi"
	"identityservice/shared/identity"
)

const (
	v1CCCBase    = "/api/v1/Tenants/{tenantId}/ClientCredentialClients"
	v1HybridBase = "/api/v1/Tenants/{tenantId}/HybridClients"
)

// ClientCredentialClientV1 is a Client Credential client on the v1 routes.
type ClientCredentialClientV1 struct {
	Id                  string
	Name                string
	Enabled             bool
	AccessTokenLifetime int
	Tags                []string
	RoleIds             []string
}

// HybridClientV1 is a Hybrid client on the v1 routes.
type HybridClientV1 struct {
	RedirectUris                []string
	PostLogoutRedirectUris      []string
	ClientUri                   *string
	LogoUri                     *string
	Id                          string
	Name                        string
	Enabled                     bool
	AccessTokenLifetime         int
	Tags                        []string
	AllowOfflineAccess          bool
	AllowAccessTokensViaBrowser bool
}

// ClientCreateResponseV1 is the v1 answer to a client create: the first
// secret, shown this once, and the client. Id is the secret's id (a UUID
// string here; the reference types it int32: docs/api.md).
type ClientCreateResponseV1[C any] struct {
	Secret         string
	Id             string
	Description    string
	ExpirationDate *string
	Client         C
}

// clientCredentialClientCreateV1 is the v1 create body.
type clientCredentialClientCreateV1 struct {
	RoleIds              *[]string
	Id                   *string
	Name                 *string
	Enabled              *bool
	AccessTokenLifetime  *int
	Tags                 *[]string
	SecretDescription    *string
	SecretExpirationDate *string
}

// clientCredentialClientUpdateV1 is the v1 update body: absent or null
// properties keep their stored value.
type clientCredentialClientUpdateV1 struct {
	Id                  *string
	Name                *string
	Enabled             *bool
	AccessTokenLifetime *int
	Tags                *[]string
	RoleIds             *[]string
}

type hybridClientCreateV1 struct {
	hybridFields
	Id                   *string
	Name                 *string
	Enabled              *bool
	AccessTokenLifetime  *int
	Tags                 *[]string
	SecretDescription    *string
	SecretExpirationDate *string
}

type hybridClientUpdateV1 struct {
	hybridFields
	Id                  *string
	Name                *string
	Enabled             *bool
	AccessTokenLifetime *int
	Tags                *[]string
}

// lifetimeOf is the lifetime a v1 answer shows: the stored one, or the
// default for a client stored before it existed.
func lifetimeOf(c identity.Client) int { return int(c.TokenLifetime().Seconds()) }

func cccV1(c identity.Client) ClientCredentialClientV1 {
	return ClientCredentialClientV1{Id: c.ID, Name: c.Name, Enabled: c.Enabled, AccessTokenLifetime: lifetimeOf(c), Tags: nonNil(c.Tags), RoleIds: nonNil(c.RoleIDs)}
}

func hybridV1(c identity.Client) HybridClientV1 {
	return HybridClientV1{
		RedirectUris:                nonNil(c.RedirectURIs),
		PostLogoutRedirectUris:      nonNil(c.PostLogoutRedirectURIs),
		ClientUri:                   optional(c.ClientURI),
		LogoUri:                     optional(c.LogoURI),
		Id:                          c.ID,
		Name:                        c.Name,
		Enabled:                     c.Enabled,
		AccessTokenLifetime:         lifetimeOf(c),
		Tags:                        nonNil(c.Tags),
		AllowOfflineAccess:          c.AllowOfflineAccess,
		AllowAccessTokensViaBrowser: c.AllowAccessTokensViaBrowser,
	}
}

// v1ModelID is a v1 207 child error's ModelId: the client's id.
func v1ModelID(id string) any { return id }

// clientCredentialClientV1Routes are the v1 routes the
// ClientCredentialClients function serves beside v1-preview.
func clientCredentialClientV1Routes(svc *identity.Service) []httpapi.Route {
	h := v1Clients[ClientCredentialClientV1]{clientResource[ClientCredentialClientV1]{svc: svc, kind: identity.ClientCredential, dto: cccV1, tagParam: "tag", modelID: v1ModelID, v1: true}}
	return h.routes(v1CCCBase, h.createCCC, h.updateCCC, rolesAdminMember)
}

// hybridClientV1Routes are the v1 routes the HybridClients function
// serves beside /api/Tenants/{tenantId}/HybridClient, with its roles.
func hybridClientV1Routes(svc *identity.Service) []httpapi.Route {
	h := v1Clients[HybridClientV1]{clientResource[HybridClientV1]{svc: svc, kind: identity.Hybrid, dto: hybridV1, tagParam: "tag", modelID: v1ModelID, v1: true}}
	return h.routes(v1HybridBase, h.createHybrid, h.updateHybrid, rolesAdminCluster)
}

// v1List is a v1 list: the shared list, after refusing the id filter,
// which the reference names and this service does not support (a filter
// silently dropped would answer the wrong clients).
func v1List[D any](res clientResource[D]) httpapi.Handler {
	return func(w http.ResponseWriter, r *http.Request) (httpapi.Response, error) {
		if _, ok := r.URL.Query()["id"]; ok {
			return httpapi.Response{}, identity.Invalid("The id parameter (a list of client ids) is not supported.",
				"Remove id; get each client with GET .../{clientId}, or page through the list with skip and count.")
		}
		return res.list(w, r)
	}
}

// v1Clients serves the v1 creates and updates of one kind.
type v1Clients[D any] struct {
	clientResource[D]
}

// created is a v1 create's answer: {"Client": {...}, "Secret": ...}.
func (h v1Clients[D]) created(c identity.CreatedClient) any {
	return ClientCreateResponseV1[D]{
		Secret:         c.SecretString,
		Id:             c.Secret.ID,
		Description:    c.Secret.Description,
		ExpirationDate: formatTime(c.Secret.Expiration),
		Client:         h.dto(c.Client),
	}
}

func (h v1Clients[D]) createCCC(w http.ResponseWriter, r *http.Request) (httpapi.Response, error) {
	var in clientCredentialClientCreateV1
	return h.createWith(w, r, &in, func() (identity.NewClient, error) {
		exp, err := parseOptionalTime("SecretExpirationDate", in.SecretExpirationDate)
		return identity.NewClient{
			ID: deref(in.Id), Name: deref(in.Name), Enabled: in.Enabled, RoleIDs: in.RoleIds, Tags: deref(in.Tags),
			AccessTokenLifetime: in.AccessTokenLifetime,
			SecretDescription:   deref(in.SecretDescription), SecretExpiration: exp,
		}, err
	}, h.created)
}

func (h v1Clients[D]) createHybrid(w http.ResponseWriter, r *http.Request) (httpapi.Response, error) {
	var in hybridClientCreateV1
	return h.createWith(w, r, &in, func() (identity.NewClient, error) {
		exp, err := parseOptionalTime("SecretExpirationDate", in.SecretExpirationDate)
		c := identity.NewClient{
			ID: deref(in.Id), Name: deref(in.Name), Enabled: in.Enabled, Tags: deref(in.Tags),
			AccessTokenLifetime: in.AccessTokenLifetime,
			SecretDescription:   deref(in.SecretDescription), SecretExpiration: exp,
		}
		in.hybridFields.into(&c)
		return c, err
	}, h.created)
}

func (h v1Clients[D]) updateCCC(w http.ResponseWriter, r *http.Request) (httpapi.Response, error) {
	var in clientCredentialClientUpdateV1
	return h.updateWith(w, r, &in, func() (*string, identity.ClientPatch) {
		return in.Id, identity.ClientPatch{Name: in.Name, Enabled: in.Enabled, RoleIDs: in.RoleIds, Tags: in.Tags, AccessTokenLifetime: in.AccessTokenLifetime}
	})
}

func (h v1Clients[D]) updateHybrid(w http.ResponseWriter, r *http.Request) (httpapi.Response, error) {
	var in hybridClientUpdateV1
	return h.updateWith(w, r, &in, func() (*string, identity.ClientPatch) {
		p := identity.ClientPatch{Name: in.Name, Enabled: in.Enabled, Tags: in.Tags, AccessTokenLifetime: in.AccessTokenLifetime}
		in.hybridFields.patch(&p)
		return in.Id, p
	})
}
