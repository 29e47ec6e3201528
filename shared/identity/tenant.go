package identity

import "context"

// CreateTenant creates a tenant. It is an operator action (admin CLI), not
// part of the tenant API. An empty id is generated; clientLimit 0 means the
// service's default.
func (s *Service) CreateTenant(ctx context.Context, id, name string, clientLimit int) (Tenant, error) {
	if id == "" {
		id = NewID()
	} else {
		var err error
		if id, err = ParseGUID("TenantId", id); err != nil {
			return Tenant{}, err
		}
	}
	if err := ValidateName(name); err != nil {
		return Tenant{}, err
	}
	if clientLimit < 0 {
		return Tenant{}, Invalid("The client limit %d is negative.", "Use a positive limit, or 0 for the default.", clientLimit)
	}
	now := s.now()
	t := Tenant{ID: id, Name: name, ClientLimit: clientLimit, CreatedAt: now, LastChange: changeOf(ctx, now)}
	if err := s.Tenants.CreateTenant(ctx, t); err != nil {
		return Tenant{}, err
	}
	s.logger().InfoContext(ctx, "tenant created", "operation", "create tenant", "tenant", t.ID, "actor", ActorOf(ctx))
	return t, nil
}

// GetTenant returns a tenant, or ErrTenantNotFound.
func (s *Service) GetTenant(ctx context.Context, tenantID string) (Tenant, error) {
	return s.Tenants.GetTenant(ctx, tenantID)
}
