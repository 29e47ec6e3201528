package ocsapi

// The v1 secret routes of both client kinds: the Secrets collection
// (plural), each secret with Id, Description, Expiration and Expires, over
// the same secret records as the v1-preview Secret routes.

import (
	"net/http"
	"time"

	"identityservice/shared/httpapi"
	"identityservice/shared/identity"
)

// v1SecretBase is each kind's v1 secret collection.
var v1SecretBase = map[identity.ClientKind]string{
	identity.ClientCredential: v1CCCBase + "/{clientId}/Secrets",
	identity.Hybrid:           v1HybridBase + "/{clientId}/Secrets",
}

// ClientSecretV1 is a secret on the v1 routes: never the secret itself.
// Id is the secret's id (a UUID string; the reference types it int32).
// LastUsed is ours, as on v1-preview (docs/api.md).
type ClientSecretV1 struct {
	Expiration  *string
	Expires     bool
	Description string
	Id          string
	LastUsed    *string
}

// ClientSecretResponseV1 is the v1 answer to a secret add, with the
// secret shown this once.
type ClientSecretResponseV1 struct {
	Id          string
	Expiration  *string
	Expires     bool
	Description string
	Secret      string
	LastUsed    *string // a new secret: null
}

// clientSecretCreateOrUpdateV1 is the v1 add and update body.
type clientSecretCreateOrUpdateV1 struct {
	Expiration  *string
	Expires     *bool
	Description *string
}

func secretV1(s identity.Secret) ClientSecretV1 {
	return ClientSecretV1{Expiration: formatTime(s.Expiration), Expires: s.Expiration != nil, Description: s.Description, Id: s.ID, LastUsed: formatTime(s.LastUsed)}
}

// expiration reads Expiration and Expires as the reference defines them:
// Expires true or null wants an Expiration, false wants none (the secret
// never expires). On an update both null keep the stored expiration;
// removing one (Expires false) is not supported: the secret keeps its
// expiration rather than silently becoming eternal.
func (in clientSecretCreateOrUpdateV1) expiration(update bool) (*time.Time, error) {
	exp, err := parseOptionalTime("Expiration", in.Expiration)
	if err != nil {
		return nil, err
	}
	expires := in.Expires == nil || *in.Expires
	switch {
	case !expires && exp != nil:
		return nil, identity.Invalid("Expires is false but an Expiration is given.", "Send Expires true with the Expiration, or Expires false without one for a secret that never expires.")
	case !expires && update:
		return nil, identity.Invalid("Expires false on an update is not supported: a secret's expiration can be moved, not removed.",
			"Send a later Expiration instead, or add a new secret with Expires false and delete this one.")
	case !expires:
		return nil, nil
	case exp == nil && update && in.Expires == nil:
		return nil, nil // nothing to change
	case exp == nil:
		return nil, identity.Invalid("Expires is true (or absent) but no Expiration is given.", "Send an Expiration date, or Expires false for a secret that never expires.")
	}
	return exp, nil
}

// clientSecretV1Routes are the v1 routes the ClientSecrets function serves
// beside the v1-preview ones.
func clientSecretV1Routes(svc *identity.Service) []httpapi.Route {
	var routes []httpapi.Route
	for _, kind := range identity.ClientKinds {
		h := v1Secrets{secretHandlers{svc: svc, kind: kind}}
		base := v1SecretBase[kind]
		routes = append(routes,
			httpapi.Route{Method: http.MethodGet, Path: base, Roles: rolesAdmin, Handler: listSecrets(h.secretHandlers, secretV1, v1ModelID)},
			httpapi.Route{Method: http.MethodPost, Path: base, Roles: rolesAdmin, Handler: h.add},
			httpapi.Route{Method: http.MethodGet, Path: base + "/{secretId}", Roles: rolesAdmin, Handler: getSecret(h.secretHandlers, secretV1)},
			httpapi.Route{Method: http.MethodPut, Path: base + "/{secretId}", Roles: rolesAdmin, Handler: h.update},
			httpapi.Route{Method: http.MethodDelete, Path: base + "/{secretId}", Roles: rolesAdmin, Handler: h.delete},
		)
	}
	return routes
}

// v1Secrets serves one kind's v1 secret routes; delete is v1-preview's.
type v1Secrets struct{ secretHandlers }

func (h v1Secrets) add(w http.ResponseWriter, r *http.Request) (httpapi.Response, error) {
	tenantID, clientID, _, err := h.ids(r, false)
	if err != nil {
		return httpapi.Response{}, err
	}
	var in clientSecretCreateOrUpdateV1
	if _, err := httpapi.DecodeJSONIgnoringUnknown(w, r, &in); err != nil {
		return httpapi.Response{}, err
	}
	exp, err := in.expiration(false)
	if err != nil {
		return httpapi.Response{}, err
	}
	created, err := h.svc.AddSecret(r.Context(), tenantID, h.kind, clientID, deref(in.Description), "Description", exp, "Expiration")
	if err != nil {
		return httpapi.Response{}, err
	}
	return httpapi.Response{Status: http.StatusCreated, Body: ClientSecretResponseV1{
		Id:          created.Secret.ID,
		Expiration:  formatTime(created.Secret.Expiration),
		Expires:     created.Secret.Expiration != nil,
		Description: created.Secret.Description,
		Secret:      created.SecretString,
	}, Header: httpapi.NoStore(map[string]string{"Location": r.URL.Path + "/" + created.Secret.ID})}, nil
}

func (h v1Secrets) update(w http.ResponseWriter, r *http.Request) (httpapi.Response, error) {
	tenantID, clientID, secretID, err := h.ids(r, true)
	if err != nil {
		return httpapi.Response{}, err
	}
	var in clientSecretCreateOrUpdateV1
	if _, err := httpapi.DecodeJSONIgnoringUnknown(w, r, &in); err != nil {
		return httpapi.Response{}, err
	}
	exp, err := in.expiration(true)
	if err != nil {
		return httpapi.Response{}, err
	}
	s, err := h.svc.UpdateSecret(r.Context(), tenantID, h.kind, clientID, secretID, in.Description, exp)
	if err != nil {
		return httpapi.Response{}, err
	}
	return httpapi.Response{Status: http.StatusOK, Body: secretV1(s)}, nil
}
