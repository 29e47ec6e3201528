package ocsapi

import (
	"net/http"
	"strings"

	"identityservice/shared/httpapi"
	"identityservice/shared/identity"
)

// ClientSecretDto is a secret on the wire: never the secret itself.
// LastUsed (ours, beyond the reference) is the start of the hour of the
// secret's latest successful token request; null when never used.
type ClientSecretDto struct {
	SecretId    string
	Expiration  *string
	Description string
	LastUsed    *string
}

// ClientSecretResponseDto is the answer to a secret add, with the secret
// shown this once.
type ClientSecretResponseDto struct {
	ClientSecret string
	SecretId     string
	Expiration   *string
	Description  string
	LastUsed     *string // a new secret: null
}

type clientSecretCreateOrUpdate struct {
	Expiration  *string
	Description *string
}

// clientSecretObsoleteUpdate is the obsolete routes' PUT body (a
// ClientSecretDto).
type clientSecretObsoleteUpdate struct {
	SecretId    *string
	Expiration  *string
	Description *string
}

func secretDto(s identity.Secret) ClientSecretDto {
	return ClientSecretDto{SecretId: s.ID, Expiration: formatTime(s.Expiration), Description: s.Description, LastUsed: formatTime(s.LastUsed)}
}

// secretBase is the successor route of each kind, and the obsolete one.
var secretBase = map[identity.ClientKind]string{
	identity.ClientCredential: "/api/v1-preview/Tenants/{tenantId}/ClientCredentialClients/{clientId}/Secret",
	identity.Hybrid:           "/api/v1-preview/Tenants/{tenantId}/HybridClients/{clientId}/Secret",
}

const obsoleteSecretBase = "/api/v1-preview/Tenants/{tenantId}/Clients/{clientId}/Secret"

// ClientSecretRoutes returns the routes of the ClientSecrets function: the
// secrets of both client kinds, the obsolete routes that serve either, and
// the v1 Secrets routes (v1secrets.go).
func ClientSecretRoutes(svc *identity.Service) []httpapi.Route {
	var routes []httpapi.Route
	for _, kind := range []identity.ClientKind{identity.ClientCredential, identity.Hybrid} {
		h := secretHandlers{svc: svc, kind: kind}
		base := secretBase[kind]
		routes = append(routes,
			httpapi.Route{Method: http.MethodGet, Path: base, Roles: rolesAdmin, Handler: listSecrets(h, secretDto, nil)},
			httpapi.Route{Method: http.MethodPost, Path: base, Roles: rolesAdmin, Handler: h.add},
			httpapi.Route{Method: http.MethodGet, Path: base + "/{secretId}", Roles: rolesAdmin, Handler: getSecret(h, secretDto)},
			httpapi.Route{Method: http.MethodPut, Path: base + "/{secretId}", Roles: rolesAdmin, Handler: h.update},
			httpapi.Route{Method: http.MethodDelete, Path: base + "/{secretId}", Roles: rolesAdmin, Handler: h.delete},
		)
	}
	obsolete := secretHandlers{svc: svc, anyKind: true}
	routes = append(routes,
		httpapi.Route{Method: http.MethodGet, Path: obsoleteSecretBase, Roles: rolesAdmin, Handler: listSecrets(obsolete, secretDto, nil)},
		httpapi.Route{Method: http.MethodPut, Path: obsoleteSecretBase + "/{secretId}", Roles: rolesAdmin, Handler: obsolete.update},
	)
	return append(routes, clientSecretV1Routes(svc)...)
}

// secretHandlers serve one kind's secret routes, or with anyKind the
// obsolete routes, which serve clients of either kind (looked up first)
// and answer with Deprecation and a Link to the successor route of the
// client's kind.
type secretHandlers struct {
	svc     *identity.Service
	kind    identity.ClientKind
	anyKind bool
}

// clientKind is the kind the request acts on: the route's, or for the
// obsolete routes the client's.
func (h secretHandlers) clientKind(r *http.Request, tenantID, clientID string) (identity.ClientKind, error) {
	if !h.anyKind {
		return h.kind, nil
	}
	return h.svc.ClientKindOf(r.Context(), tenantID, clientID)
}

func (h secretHandlers) ids(r *http.Request, withSecret bool) (tenantID, clientID, secretID string, err error) {
	if tenantID, clientID, err = tenantAndClient(r); err != nil {
		return
	}
	if withSecret {
		secretID, err = httpapi.PathGUID(r, "secretId")
	}
	return
}

// deprecation marks an obsolete route's answer.
func (h secretHandlers) deprecation(res *httpapi.Response, r *http.Request, kind identity.ClientKind, tenantID, clientID, secretID string) {
	if !h.anyKind {
		return
	}
	successor := strings.NewReplacer("{tenantId}", tenantID, "{clientId}", clientID).Replace(secretBase[kind])
	if secretID != "" {
		successor += "/" + secretID
	}
	if res.Header == nil {
		res.Header = map[string]string{}
	}
	res.Header["Deprecation"] = "true"
	res.Header["Link"] = "<" + successor + `>; rel="successor-version"`
}

// listSecrets answers a client's secrets in a family's shape (dto, and
// modelID for the 207's child errors).
func listSecrets[D any](h secretHandlers, dto func(identity.Secret) D, modelID func(string) any) httpapi.Handler {
	return func(w http.ResponseWriter, r *http.Request) (httpapi.Response, error) {
		tenantID, clientID, _, err := h.ids(r, false)
		if err != nil {
			return httpapi.Response{}, err
		}
		page, err := httpapi.ListParams(r, "")
		if err != nil {
			return httpapi.Response{}, err
		}
		kind, err := h.clientKind(r, tenantID, clientID)
		if err != nil {
			return httpapi.Response{}, err
		}
		secrets, err := h.svc.ListSecrets(r.Context(), tenantID, kind, clientID, false, page.Skip, page.Count)
		if err != nil {
			return httpapi.Response{}, err
		}
		dtos := make([]D, len(secrets.Secrets))
		for i, s := range secrets.Secrets {
			dtos[i] = dto(s)
		}
		res := listResult(r, tenantID, secrets.Total, dtos, nil, modelID)
		h.deprecation(&res, r, kind, tenantID, clientID, "")
		return res, nil
	}
}

// getSecret answers one secret in a family's shape.
func getSecret[D any](h secretHandlers, dto func(identity.Secret) D) httpapi.Handler {
	return func(w http.ResponseWriter, r *http.Request) (httpapi.Response, error) {
		tenantID, clientID, secretID, err := h.ids(r, true)
		if err != nil {
			return httpapi.Response{}, err
		}
		s, err := h.svc.GetSecret(r.Context(), tenantID, h.kind, clientID, secretID)
		if err != nil {
			return httpapi.Response{}, err
		}
		return httpapi.Response{Status: http.StatusOK, Body: dto(s)}, nil
	}
}

func (h secretHandlers) add(w http.ResponseWriter, r *http.Request) (httpapi.Response, error) {
	tenantID, clientID, _, err := h.ids(r, false)
	if err != nil {
		return httpapi.Response{}, err
	}
	var in clientSecretCreateOrUpdate
	if err := httpapi.DecodeJSON(w, r, &in); err != nil {
		return httpapi.Response{}, err
	}
	exp, err := parseOptionalTime("Expiration", in.Expiration)
	if err != nil {
		return httpapi.Response{}, err
	}
	created, err := h.svc.AddSecret(r.Context(), tenantID, h.kind, clientID, deref(in.Description), "Description", exp, "Expiration")
	if err != nil {
		return httpapi.Response{}, err
	}
	return httpapi.Response{Status: http.StatusCreated, Body: ClientSecretResponseDto{
		ClientSecret: created.SecretString,
		SecretId:     created.Secret.ID,
		Expiration:   formatTime(created.Secret.Expiration),
		Description:  created.Secret.Description,
	}, Header: httpapi.NoStore(map[string]string{"Location": r.URL.Path + "/" + created.Secret.ID})}, nil
}

func (h secretHandlers) update(w http.ResponseWriter, r *http.Request) (httpapi.Response, error) {
	tenantID, clientID, secretID, err := h.ids(r, true)
	if err != nil {
		return httpapi.Response{}, err
	}
	var in clientSecretObsoleteUpdate
	if h.anyKind {
		err = httpapi.DecodeJSON(w, r, &in)
	} else {
		var cu clientSecretCreateOrUpdate
		err = httpapi.DecodeJSON(w, r, &cu)
		in.Expiration, in.Description = cu.Expiration, cu.Description
	}
	if err != nil {
		return httpapi.Response{}, err
	}
	if in.SecretId != nil && *in.SecretId != "" {
		id, err := identity.ParseGUID("SecretId", *in.SecretId)
		if err != nil {
			return httpapi.Response{}, err
		}
		if id != secretID {
			return httpapi.Response{}, identity.Invalid("SecretId %s in the body differs from %s in the path.", "Omit SecretId from the body, or send the one in the path.", id, secretID)
		}
	}
	exp, err := parseOptionalTime("Expiration", in.Expiration)
	if err != nil {
		return httpapi.Response{}, err
	}
	kind, err := h.clientKind(r, tenantID, clientID)
	if err != nil {
		return httpapi.Response{}, err
	}
	s, err := h.svc.UpdateSecret(r.Context(), tenantID, kind, clientID, secretID, in.Description, exp)
	if err != nil {
		return httpapi.Response{}, err
	}
	res := httpapi.Response{Status: http.StatusOK, Body: secretDto(s)}
	h.deprecation(&res, r, kind, tenantID, clientID, secretID)
	return res, nil
}

func (h secretHandlers) delete(w http.ResponseWriter, r *http.Request) (httpapi.Response, error) {
	tenantID, clientID, secretID, err := h.ids(r, true)
	if err != nil {
		return httpapi.Response{}, err
	}
	if err := h.svc.DeleteSecret(r.Context(), tenantID, h.kind, clientID, secretID); err != nil {
		return httpapi.Response{}, err
	}
	return httpapi.Response{Status: http.StatusNoContent}, nil
}
