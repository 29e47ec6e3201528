// Package keyrotationapi serves the Key Rotation API: a camelCase view of
// the same clients ("applications") in which secrets are soft-deleted and
// stay listed. Errors are RFC 7807 ProblemDetails; 403 has its own body.
package keyrotationapi

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"identityservice/shared/httpapi"
	"identityservice/shared/identity"
)

// Application is the reference's application object. Fields without a
// counterpart in our clients are null (see README, "Key Rotation API").
type Application struct {
	DisplayName                      string   `json:"displayName"`
	ClientID                         string   `json:"clientId"`
	ClientSecret                     *string  `json:"clientSecret"`
	Theme                            *string  `json:"theme"`
	RedirectURIs                     []string `json:"redirectUris"`
	PostLogoutRedirectURIs           []string `json:"postLogoutRedirectUris"`
	ConsentType                      *string  `json:"consentType"`
	Type                             string   `json:"type"`
	GrantTypes                       []string `json:"grantTypes"`
	Endpoints                        []string `json:"endpoints"`
	Scopes                           []string `json:"scopes"`
	HomepageURL                      *string  `json:"homepageUrl"`
	SampleHomepageURL                *string  `json:"sampleHomepageUrl"`
	AllowUnregisteredUsersToSignIn   bool     `json:"allowUnregisteredUsersToSignIn"`
	HideTenantDisplayNameDuringLogIn bool     `json:"hideTenantDisplayNameDuringLogIn"`
	AllowRegister                    bool     `json:"allowRegister"`
	DisableLoginAlerts               bool     `json:"disableLoginAlerts"`
	AppSwitcherProductID             *string  `json:"appSwitcherProductId"`
	AdditionalLinks                  *string  `json:"additionalLinks"`
	Tenant                           string   `json:"tenant"`
	DefinedRoles                     []string `json:"definedRoles"`
	Roles                            []string `json:"roles"`
	Tenants                          []string `json:"tenants"`
}

// SecretInfo is one entry of the secrets list.
type SecretInfo struct {
	ClientSecretID             string  `json:"clientSecretId"`
	ClientSecretExpirationDate *string `json:"clientSecretExpirationDate"`
	Deleted                    bool    `json:"deleted"`
	// LastUsed (ours, beyond the reference): the start of the hour of the
	// secret's latest successful token request; null when never used.
	LastUsed *string `json:"lastUsed"`
}

func application(c identity.Client, secret *string) Application {
	a := Application{
		DisplayName:  c.Name,
		ClientID:     c.ID,
		ClientSecret: secret,
		Type:         c.Kind.String(),
		Tenant:       c.TenantID,
		Tenants:      []string{c.TenantID},
	}
	switch c.Kind {
	case identity.ClientCredential:
		a.GrantTypes = []string{"client_credentials"}
		a.Roles = c.RoleIDs
	case identity.Hybrid:
		a.GrantTypes = []string{"hybrid"}
		if c.AllowOfflineAccess {
			a.GrantTypes = append(a.GrantTypes, "refresh_token")
		}
		a.RedirectURIs = c.RedirectURIs
		a.PostLogoutRedirectURIs = c.PostLogoutRedirectURIs
		if c.ClientURI != "" {
			a.HomepageURL = &c.ClientURI
		}
	}
	return a
}

const base = "/api/tenants/{tenant}/applications/{clientId}/secrets"

var rolesAdmin = []string{identity.RoleAccountAdministrator}

// Routes returns the routes of the ApplicationSecrets function.
func Routes(svc *identity.Service) []httpapi.Route {
	h := handlers{svc: svc}
	return []httpapi.Route{
		{Method: http.MethodPost, Path: base, Roles: rolesAdmin, Family: httpapi.KeyRotation, Handler: h.add},
		{Method: http.MethodGet, Path: base, Roles: rolesAdmin, Family: httpapi.KeyRotation, Handler: h.list},
		{Method: http.MethodDelete, Path: base + "/{id}", Roles: rolesAdmin, Family: httpapi.KeyRotation, Handler: h.delete},
	}
}

type handlers struct{ svc *identity.Service }

func ids(r *http.Request) (tenantID, clientID string, err error) {
	if tenantID, err = httpapi.PathGUID(r, "tenant"); err != nil {
		return
	}
	clientID, err = httpapi.PathGUID(r, "clientId")
	return
}

// expirationDate reads the POST body: {"expirationDate": "..."}, a bare
// JSON string, null, or nothing (a secret that never expires).
func expirationDate(w http.ResponseWriter, r *http.Request) (*time.Time, error) {
	raw, err := httpapi.ReadJSONBody(w, r)
	if err != nil {
		return nil, err
	}
	raw = bytes.TrimSpace(raw)
	var date *string
	switch {
	case len(raw) == 0 || string(raw) == "null":
	case raw[0] == '"':
		if err := json.Unmarshal(raw, &date); err != nil {
			return nil, identity.Invalid("The request body is not a valid JSON string.", "Send {\"expirationDate\": \"2030-01-31T00:00:00Z\"}.")
		}
	default:
		var body struct {
			ExpirationDate *string `json:"expirationDate"`
		}
		if err := httpapi.DecodeJSONBytes(raw, &body); err != nil {
			return nil, err
		}
		date = body.ExpirationDate
	}
	if date == nil {
		return nil, nil
	}
	t, err := identity.ParseTime("expirationDate", *date)
	if err != nil {
		return nil, err
	}
	return &t, nil
}

func (h handlers) add(w http.ResponseWriter, r *http.Request) (httpapi.Response, error) {
	tenantID, clientID, err := ids(r)
	if err != nil {
		return httpapi.Response{}, err
	}
	exp, err := expirationDate(w, r)
	if err != nil {
		return httpapi.Response{}, err
	}
	client, err := h.svc.GetAnyClient(r.Context(), tenantID, clientID)
	if err != nil {
		return httpapi.Response{}, err
	}
	created, err := h.svc.AddSecret(r.Context(), tenantID, client.Kind, clientID, "", "description", exp, "expirationDate")
	if err != nil {
		return httpapi.Response{}, err
	}
	return httpapi.Response{Status: http.StatusOK, Header: httpapi.NoStore(nil), Body: application(client, &created.SecretString)}, nil
}

func (h handlers) list(w http.ResponseWriter, r *http.Request) (httpapi.Response, error) {
	tenantID, clientID, err := ids(r)
	if err != nil {
		return httpapi.Response{}, err
	}
	// Applications are clients of either kind: look the kind up first.
	kind, err := h.svc.ClientKindOf(r.Context(), tenantID, clientID)
	if err != nil {
		return httpapi.Response{}, err
	}
	page, err := h.svc.ListSecrets(r.Context(), tenantID, kind, clientID, true, 0, identity.MaxSecretsPerClient*1000)
	if err != nil {
		return httpapi.Response{}, err
	}
	out := make([]SecretInfo, len(page.Secrets))
	for i, s := range page.Secrets {
		var exp *string
		if s.Expiration != nil {
			v := s.Expiration.UTC().Format(time.RFC3339Nano)
			exp = &v
		}
		var used *string
		if s.LastUsed != nil {
			v := s.LastUsed.UTC().Format(time.RFC3339)
			used = &v
		}
		out[i] = SecretInfo{ClientSecretID: s.ID, ClientSecretExpirationDate: exp, Deleted: s.DeletedAt != nil, LastUsed: used}
	}
	return httpapi.Response{Status: http.StatusOK, Body: out, Header: map[string]string{"Total-Count": strconv.Itoa(page.Total)}}, nil
}

func (h handlers) delete(w http.ResponseWriter, r *http.Request) (httpapi.Response, error) {
	tenantID, clientID, err := ids(r)
	if err != nil {
		return httpapi.Response{}, err
	}
	secretID, err := httpapi.PathGUID(r, "id")
	if err != nil {
		return httpapi.Response{}, err
	}
	client, err := h.svc.GetAnyClient(r.Context(), tenantID, clientID)
	if err != nil {
		return httpapi.Response{}, err
	}
	if _, err := h.svc.SoftDeleteSecret(r.Context(), tenantID, client.Kind, clientID, secretID); err != nil {
		return httpapi.Response{}, err
	}
	return httpapi.Response{Status: http.StatusOK, Body: application(client, nil)}, nil
}
