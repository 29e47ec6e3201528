// Package ocsapi serves the OCS routes: Client Credential clients, Hybrid
// clients and their secrets. They speak PascalCase JSON, accept property
// names in any letter case, and answer errors with the OCS error body.
package ocsapi

import (
	"net/http"
	"strconv"
	"time"

	"identityservice/shared/httpapi"
	"identityservice/shared/identity"
)

// Role sets of the API reference's "Allowed for these roles" lists.
var (
	rolesAdmin        = []string{identity.RoleAccountAdministrator}
	rolesAdminMember  = []string{identity.RoleAccountAdministrator, identity.RoleAccountMember}
	rolesAdminCluster = []string{identity.RoleAccountAdministrator, identity.RoleClusterOperator, identity.RoleClusterSupport}
)

// tenantAndClient reads the two GUID path parameters.
func tenantAndClient(r *http.Request) (tenantID, clientID string, err error) {
	if tenantID, err = httpapi.PathGUID(r, "tenantId"); err != nil {
		return "", "", err
	}
	if clientID, err = httpapi.PathGUID(r, "clientId"); err != nil {
		return "", "", err
	}
	return tenantID, clientID, nil
}

func formatTime(t *time.Time) *string {
	if t == nil {
		return nil
	}
	s := t.UTC().Format(time.RFC3339Nano)
	return &s
}

func parseOptionalTime(field string, raw *string) (*time.Time, error) {
	if raw == nil {
		return nil, nil
	}
	t, err := identity.ParseTime(field, *raw)
	if err != nil {
		return nil, err
	}
	return &t, nil
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

// ChildError is one entry of a MultiStatusResponseDto.
type ChildError struct {
	OperationId string
	Error       string
	Reason      string
	Resolution  string
	StatusCode  int
	ModelId     any // v1-preview: {"ClientId": id}; v1: the id
	TenantId    string
}

// MultiStatusResponse is the 207 body of a list some of whose items could
// not be read.
type MultiStatusResponse[T any] struct {
	OperationId string
	Error       string
	Reason      string
	ChildErrors []ChildError
	Data        []T
}

// listResult answers a list: 200 with the items, or 207 with the items and
// one child error per unreadable item; Total-Count in both. modelID is the
// child error's ModelId of an item id (nil: {"ClientId": id}).
func listResult[T any](r *http.Request, tenantID string, total int, data []T, bad []identity.ItemError, modelID func(string) any) httpapi.Response {
	headers := map[string]string{"Total-Count": strconv.Itoa(total)}
	if len(bad) == 0 {
		return httpapi.Response{Status: http.StatusOK, Body: data, Header: headers}
	}
	opID := httpapi.OperationID(r.Context())
	ms := MultiStatusResponse[T]{
		OperationId: opID,
		Error:       "Some items could not be read",
		Reason:      strconv.Itoa(len(bad)) + " stored item(s) could not be read; the others are in Data.",
		Data:        data,
	}
	if modelID == nil {
		modelID = func(id string) any { return map[string]string{"ClientId": id} }
	}
	for _, e := range bad {
		ms.ChildErrors = append(ms.ChildErrors, ChildError{
			OperationId: opID,
			Error:       "Item could not be read",
			Reason:      "The stored item is malformed.",
			Resolution:  "Report the OperationId and ModelId to the service operator.",
			StatusCode:  http.StatusInternalServerError,
			ModelId:     modelID(e.ID),
			TenantId:    tenantID,
		})
	}
	return httpapi.Response{Status: http.StatusMultiStatus, Body: ms, Header: headers}
}

// clientResource serves what the two client kinds share: get, list and
// delete, with the kind's DTO.
type clientResource[D any] struct {
	svc      *identity.Service
	kind     identity.ClientKind
	dto      func(identity.Client) D
	tagParam string // the list's tag filter parameter ("": none)
	// modelID is the 207's ModelId of an unreadable client (nil: the
	// v1-preview form, listResult).
	modelID func(string) any
	// v1 marks the v1 family: unknown body properties are ignored (as the
	// original service ignored them), the body's client id is "Id", and
	// the list refuses the id filter (v1List).
	v1 bool
}

// routes is a client family's five routes under base: create and update
// are the family's own, the reads and the delete are shared; read is the
// role set the reference allows to read.
func (c clientResource[D]) routes(base string, create, update httpapi.Handler, read []string) []httpapi.Route {
	list := c.list
	if c.v1 {
		list = v1List(c)
	}
	return []httpapi.Route{
		{Method: http.MethodPost, Path: base, Roles: rolesAdmin, Handler: create},
		{Method: http.MethodGet, Path: base, Roles: read, Handler: list},
		{Method: http.MethodGet, Path: base + "/{clientId}", Roles: read, Handler: c.get},
		{Method: http.MethodPut, Path: base + "/{clientId}", Roles: rolesAdmin, Handler: update},
		{Method: http.MethodDelete, Path: base + "/{clientId}", Roles: rolesAdmin, Handler: c.delete},
	}
}

// decode reads a request body by the family's rule for unknown properties.
func (c clientResource[D]) decode(w http.ResponseWriter, r *http.Request, in any) error {
	if c.v1 {
		_, err := httpapi.DecodeJSONIgnoringUnknown(w, r, in)
		return err
	}
	return httpapi.DecodeJSON(w, r, in)
}

// createWith is every family's create: the body is decoded into in, build
// turns it into the new client, answer into the 201's body (the client
// and its first secret, in the family's shape).
func (c clientResource[D]) createWith(w http.ResponseWriter, r *http.Request, in any, build func() (identity.NewClient, error), answer func(identity.CreatedClient) any) (httpapi.Response, error) {
	tenantID, err := httpapi.PathGUID(r, "tenantId")
	if err != nil {
		return httpapi.Response{}, err
	}
	if err := c.decode(w, r, in); err != nil {
		return httpapi.Response{}, err
	}
	nc, err := build()
	if err != nil {
		return httpapi.Response{}, err
	}
	nc.Kind = c.kind
	created, err := c.svc.CreateClient(r.Context(), tenantID, nc)
	if err != nil {
		return httpapi.Response{}, err
	}
	return httpapi.Response{Status: http.StatusCreated, Body: answer(created),
		Header: httpapi.NoStore(map[string]string{"Location": r.URL.Path + "/" + created.Client.ID})}, nil
}

// updateWith is every family's update: the body is decoded into in, patch
// names the body's client id (which must be absent or the path's) and the
// change.
func (c clientResource[D]) updateWith(w http.ResponseWriter, r *http.Request, in any, patch func() (id *string, p identity.ClientPatch)) (httpapi.Response, error) {
	tenantID, clientID, err := tenantAndClient(r)
	if err != nil {
		return httpapi.Response{}, err
	}
	if err := c.decode(w, r, in); err != nil {
		return httpapi.Response{}, err
	}
	id, p := patch()
	idProperty := "ClientId"
	if c.v1 {
		idProperty = "Id"
	}
	if err := sameClientID(idProperty, id, clientID); err != nil {
		return httpapi.Response{}, err
	}
	updated, err := c.svc.UpdateClient(r.Context(), tenantID, c.kind, clientID, p)
	if err != nil {
		return httpapi.Response{}, err
	}
	return httpapi.Response{Status: http.StatusOK, Body: c.dto(updated)}, nil
}

func (c clientResource[D]) get(w http.ResponseWriter, r *http.Request) (httpapi.Response, error) {
	tenantID, clientID, err := tenantAndClient(r)
	if err != nil {
		return httpapi.Response{}, err
	}
	client, err := c.svc.GetClient(r.Context(), tenantID, c.kind, clientID)
	if err != nil {
		return httpapi.Response{}, err
	}
	return httpapi.Response{Status: http.StatusOK, Body: c.dto(client)}, nil
}

func (c clientResource[D]) list(w http.ResponseWriter, r *http.Request) (httpapi.Response, error) {
	tenantID, err := httpapi.PathGUID(r, "tenantId")
	if err != nil {
		return httpapi.Response{}, err
	}
	opt, err := httpapi.ListParams(r, c.tagParam)
	if err != nil {
		return httpapi.Response{}, err
	}
	clients, err := c.svc.ListClients(r.Context(), tenantID, c.kind, opt)
	if err != nil {
		return httpapi.Response{}, err
	}
	dtos := make([]D, len(clients.Clients))
	for i, client := range clients.Clients {
		dtos[i] = c.dto(client)
	}
	return listResult(r, tenantID, clients.Total, dtos, clients.Errors, c.modelID), nil
}

func (c clientResource[D]) delete(w http.ResponseWriter, r *http.Request) (httpapi.Response, error) {
	tenantID, clientID, err := tenantAndClient(r)
	if err != nil {
		return httpapi.Response{}, err
	}
	if err := c.svc.DeleteClient(r.Context(), tenantID, c.kind, clientID); err != nil {
		return httpapi.Response{}, err
	}
	return httpapi.Response{Status: http.StatusNoContent}, nil
}
