package portal

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"time"

	"identityservice/shared/httpapi"
	"identityservice/shared/identity"
)

// The dashboard's reads of who last changed a client and each of its
// secrets (identity.Change, recorded on every management write), one
// route per client kind. They are the portal's own routes, not the
// management API's: the API's client and secret DTOs are a published
// contract and carry no actor. The pages reach them through CallPath,
// with the session's token.
const (
	ClientCredentialChangesPath = "/_/op-dashboard/api/tenants/{tenantId}/client-credential-clients/{clientId}/changes"
	HybridChangesPath           = "/_/op-dashboard/api/tenants/{tenantId}/hybrid-clients/{clientId}/changes"
)

// ChangeReader reads what the changes routes show (identity.Service).
type ChangeReader interface {
	GetClient(ctx context.Context, tenantID string, kind identity.ClientKind, clientID string) (identity.Client, error)
	ListSecrets(ctx context.Context, tenantID string, kind identity.ClientKind, clientID string, includeDeleted bool, skip, count int) (identity.SecretPage, error)
}

// Who may read what, as on the management API's own routes: a client's
// GET (Client Credential: Account Administrator or Member of the tenant;
// Hybrid: Account Administrator of the tenant or a cluster role), and its
// secrets' list (Account Administrator of the tenant). The router checks
// the first, with the tenant, before anything is read; the handler the
// second (TestChangesRoles holds these sets to the API's route table).
var (
	cccReadRoles    = []string{identity.RoleAccountAdministrator, identity.RoleAccountMember}
	hybridReadRoles = []string{identity.RoleAccountAdministrator, identity.RoleClusterOperator, identity.RoleClusterSupport}
	secretReadRoles = []string{identity.RoleAccountAdministrator}
)

// SecretReadRoles are the roles that read the secrets' changes (as on the
// API's lists of a client's secrets).
func SecretReadRoles() []string { return slices.Clone(secretReadRoles) }

// ActorDto is who made a write: Kind "person" (Id their subject, Name
// their name when their token stated it, ClientId the client they signed
// in to), "client" (Id and ClientId the machine client), "operator" (Id
// who ran the admin CLI), or "unknown" (a write whose actor was not
// recorded, such as a client seeded by the service itself).
type ActorDto struct {
	Kind     string
	Id       string
	Name     string `json:",omitempty"`
	ClientId string `json:",omitempty"`
}

// ChangeDto is a write: who, and when (RFC 3339, UTC).
type ChangeDto struct {
	By ActorDto
	At string
}

// SecretChangeDto is the last change of one secret record: added,
// updated, or soft-deleted (Deleted true).
type SecretChangeDto struct {
	SecretId   string
	Deleted    bool
	LastChange *ChangeDto // null: written before changes were recorded
}

// ChangesDto is the changes route's answer.
type ChangesDto struct {
	TenantId   string
	ClientId   string
	Kind       string     // ClientCredential or Hybrid
	LastChange *ChangeDto // null: written before changes were recorded
	// Secrets are every secret record of the client, soft-deleted ones
	// included, oldest first; null for a caller whose roles may not list
	// the client's secrets, with SecretsWithheld saying why.
	Secrets         []SecretChangeDto
	SecretsWithheld string `json:",omitempty"`
}

const secretsWithheld = "Only an Account Administrator of the tenant reads a client's secrets, and so who changed them."

func changeDto(c *identity.Change) *ChangeDto {
	if c == nil {
		return nil
	}
	a := c.By
	by := ActorDto{Kind: a.Kind(), ClientId: a.ClientID}
	switch by.Kind {
	case identity.ActorPerson:
		by.Id, by.Name = a.Subject, a.Name
	case identity.ActorClient:
		by.Id = a.ClientID
	case identity.ActorOperator:
		by.Id = a.Operator
	default:
		by.Kind = "unknown"
	}
	return &ChangeDto{By: by, At: c.At.UTC().Format(time.RFC3339)}
}

// changes answers who last changed a client of kind and each of its
// secrets. The router has checked the token, and that one of its roles
// may read such a client in the path's tenant; the secrets are shown only
// to a role that lists them.
func (h *handlers) changes(kind identity.ClientKind) httpapi.Handler {
	return func(w http.ResponseWriter, r *http.Request) (httpapi.Response, error) {
		tenantID, err := httpapi.PathGUID(r, "tenantId")
		if err != nil {
			return httpapi.Response{}, err
		}
		clientID, err := httpapi.PathGUID(r, "clientId")
		if err != nil {
			return httpapi.Response{}, err
		}
		c, err := h.Changes.GetClient(r.Context(), tenantID, kind, clientID)
		if err != nil {
			return httpapi.Response{}, err
		}
		out := ChangesDto{TenantId: tenantID, ClientId: c.ID, Kind: c.Kind.String(), LastChange: changeDto(c.LastChange)}
		if p, _ := httpapi.PrincipalOf(r.Context()); httpapi.CheckRoles(p, tenantID, secretReadRoles) != nil {
			out.SecretsWithheld = secretsWithheld
			return httpapi.Response{Status: http.StatusOK, Body: out, Header: noStore}, nil
		}
		page, err := h.Changes.ListSecrets(r.Context(), tenantID, kind, c.ID, true, 0, 1<<30)
		if err != nil {
			return httpapi.Response{}, err
		}
		out.Secrets = make([]SecretChangeDto, 0, len(page.Secrets))
		for _, s := range page.Secrets {
			out.Secrets = append(out.Secrets, SecretChangeDto{SecretId: s.ID, Deleted: s.DeletedAt != nil, LastChange: changeDto(s.LastChange)})
		}
		return httpapi.Response{Status: http.StatusOK, Body: out, Header: noStore}, nil
	}
}

// isChangesPath reports whether p is one of the changes paths with its
// ids filled in (callTarget lets the pages call it; the router checks
// that the ids are GUIDs).
func isChangesPath(p string) bool {
	return fillsTemplate(ClientCredentialChangesPath, p) || fillsTemplate(HybridChangesPath, p)
}

// fillsTemplate reports whether p is the path template tpl with each
// {name} segment filled in by one non-empty segment.
func fillsTemplate(tpl, p string) bool {
	want, got := strings.Split(tpl, "/"), strings.Split(p, "/")
	if len(want) != len(got) {
		return false
	}
	for i, w := range want {
		if strings.HasPrefix(w, "{") && strings.HasSuffix(w, "}") {
			if got[i] == "" {
				return false
			}
		} else if got[i] != w {
			return false
		}
	}
	return true
}
