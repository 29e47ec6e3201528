package ocsapi

import (
	"fmt"
	"net/http"

	"identityservice/shared/httpapi"
	"identityservice/shared/identity"
)

// ClientCredentialClientDto is a Client Credential client on the wire.
type ClientCredentialClientDto struct {
	RoleIds  []string
	ClientId string
	Name     string
	Enabled  bool
	Tags     []string
}

// ClientCredentialClientResponseDto is the answer to a create: the client
// and its first secret, shown this once.
type ClientCredentialClientResponseDto struct {
	ClientSecret         string
	SecretId             string
	SecretDescription    string
	SecretExpirationDate *string
	ClientCredentialClientDto
}

// clientCredentialClientCreate is the create body. Pointers tell absent or
// null from a value.
type clientCredentialClientCreate struct {
	SecretDescription    *string
	SecretExpirationDate *string
	RoleIds              *[]string
	ClientId             *string
	Name                 *string
	Enabled              *bool
	Tags                 *[]string
}

// clientCredentialClientUpdate is the update Body: absent or null
// properties keep their stored value.
type clientCredentialClientUpdate struct {
	RoleIds  *[]string
	ClientId *string
	Name     *string
	Enabled  *bool
	Tags     *[]string
}

func cccDto(c identity.Client) ClientCredentialClientDto {
	return ClientCredentialClientDto{RoleIds: nonNil(c.RoleIDs), ClientId: c.ID, Name: c.Name, Enabled: c.Enabled, Tags: nonNil(c.Tags)}
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

const cccBase = "/api/v1-preview/Tenants/{tenantId}/ClientCredentialClients"

// ClientCredentialClientRoutes returns the routes of the
// ClientCredentialClients function: v1-preview, and v1 (v1clients.go).
func ClientCredentialClientRoutes(svc *identity.Service) []httpapi.Route {
	h := cccHandlers{clientResource[ClientCredentialClientDto]{svc: svc, kind: identity.ClientCredential, dto: cccDto, tagParam: "tags"}}
	return append(h.routes(cccBase, h.create, h.update, rolesAdminMember), clientCredentialClientV1Routes(svc)...)
}

type cccHandlers struct {
	clientResource[ClientCredentialClientDto]
}

func (h cccHandlers) create(w http.ResponseWriter, r *http.Request) (httpapi.Response, error) {
	var in clientCredentialClientCreate
	return h.createWith(w, r, &in, func() (identity.NewClient, error) {
		exp, err := parseOptionalTime("SecretExpirationDate", in.SecretExpirationDate)
		return identity.NewClient{
			ID: deref(in.ClientId), Name: deref(in.Name), Enabled: in.Enabled, RoleIDs: in.RoleIds, Tags: deref(in.Tags),
			SecretDescription: deref(in.SecretDescription), SecretExpiration: exp,
		}, err
	}, func(created identity.CreatedClient) any {
		return ClientCredentialClientResponseDto{
			ClientSecret:              created.SecretString,
			SecretId:                  created.Secret.ID,
			SecretDescription:         created.Secret.Description,
			SecretExpirationDate:      formatTime(created.Secret.Expiration),
			ClientCredentialClientDto: cccDto(created.Client),
		}
	})
}

func (h cccHandlers) update(w http.ResponseWriter, r *http.Request) (httpapi.Response, error) {
	var in clientCredentialClientUpdate
	return h.updateWith(w, r, &in, func() (*string, identity.ClientPatch) {
		return in.ClientId, identity.ClientPatch{Name: in.Name, Enabled: in.Enabled, RoleIDs: in.RoleIds, Tags: in.Tags}
	})
}

// sameClientID refuses a body client id (property field: ClientId, or
// Id on v1) that differs from the path's.
func sameClientID(field string, body *string, pathID string) error {
	if body == nil || *body == "" {
		return nil
	}
	id, err := identity.ParseGUID(field, *body)
	if err != nil {
		return err
	}
	if id != pathID {
		return identity.Invalid("%s %s in the body differs from %s in the path; a client's id cannot change.", fmt.Sprintf("Omit %s from the body, or send the one in the path.", field), field, id, pathID)
	}
	return nil
}
