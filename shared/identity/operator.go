package identity

import (
	"context"
	"errors"
)

// ErrOperatorClient refuses a tenant API change to a client that holds a
// cluster role.
var ErrOperatorClient = &Error{Kind: KindForbidden, Code: CodeOperatorClient,
	Message: "This client holds a cluster role: the tenant API cannot change it, its secrets, or delete it."}

// HasClusterRole reports whether roles include a cluster role.
func HasClusterRole(roleIDs []string) bool {
	for _, id := range roleIDs {
		if r, ok := RoleByID(id); ok && r.Cluster {
			return true
		}
	}
	return false
}

// guardOperatorClient refuses a change through the tenant API to a client
// that holds a cluster role. Cluster roles are granted only by the admin
// CLI, and they can be used only with the client's secrets: were a tenant's
// Account Administrator able to add a secret to such a client (or change
// it), they would act with its cluster role in every tenant. A client's
// cluster roles never change after creation (the tenant API can neither
// grant nor, through this guard, remove them), so reading them first is
// race-free. Only Client Credential clients hold roles. It costs one read
// of a Client Credential client.
func (s *Service) guardOperatorClient(ctx context.Context, tenantID string, kind ClientKind, clientID string) error {
	if kind != ClientCredential {
		return nil
	}
	c, err := s.Clients.GetClient(ctx, tenantID, ClientCredential, clientID)
	if errors.Is(err, ErrClientNotFound) {
		return nil // none: the operation itself answers
	}
	if err != nil {
		return err
	}
	return s.refuseOperatorClient(ctx, c)
}

// refuseOperatorClient is guardOperatorClient for a client already read.
func (s *Service) refuseOperatorClient(ctx context.Context, c Client) error {
	if c.Kind == ClientCredential && HasClusterRole(c.RoleIDs) {
		s.logger().WarnContext(ctx, "tenant API change to a cluster-role client refused", "tenant", c.TenantID, "client", c.ID)
		return ErrOperatorClient
	}
	return nil
}
