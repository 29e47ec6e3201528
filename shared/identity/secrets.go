package identity

import (
	"context"
	"sort"
	"time"
)

// SecretPage is one page of a client's secrets.
type SecretPage struct {
	Kind    ClientKind // the client's kind
	Secrets []Secret
	Total   int
}

// ListSecrets returns a page of a client's secrets, oldest first. Soft-
// deleted secrets are left out unless includeDeleted; expired ones stay
// listed, with their past expiration, until the sweeper removes them.
func (s *Service) ListSecrets(ctx context.Context, tenantID string, kind ClientKind, clientID string, includeDeleted bool, skip, count int) (SecretPage, error) {
	clientKind, all, err := s.Store.ClientSecrets(ctx, tenantID, kind, clientID)
	if err != nil {
		return SecretPage{}, err
	}
	kept := make([]Secret, 0, len(all))
	for _, sec := range all {
		if includeDeleted || sec.DeletedAt == nil {
			kept = append(kept, sec)
		}
	}
	sort.SliceStable(kept, func(i, j int) bool {
		if !kept[i].CreatedAt.Equal(kept[j].CreatedAt) {
			return kept[i].CreatedAt.Before(kept[j].CreatedAt)
		}
		return kept[i].ID < kept[j].ID
	})
	page := SecretPage{Kind: clientKind, Total: len(kept), Secrets: []Secret{}}
	if skip < len(kept) {
		page.Secrets = kept[skip:min(skip+count, len(kept))]
	}
	return page, nil
}

// GetSecret returns one secret that is not soft-deleted.
func (s *Service) GetSecret(ctx context.Context, tenantID string, kind ClientKind, clientID, secretID string) (Secret, error) {
	return s.Store.GetSecret(ctx, tenantID, kind, clientID, secretID)
}

// CreatedSecret is a new secret and its plain text, shown once.
type CreatedSecret struct {
	Secret       Secret
	SecretString string
}

// AddSecret adds a secret to a client, unless it already has
// MaxSecretsPerClient secrets that are neither deleted nor expired.
func (s *Service) AddSecret(ctx context.Context, tenantID string, kind ClientKind, clientID, description, descriptionField string, expiration *time.Time, expirationField string) (CreatedSecret, error) {
	now := s.now()
	if err := ValidateDescription(descriptionField, description); err != nil {
		return CreatedSecret{}, err
	}
	if err := ValidateExpiration(expirationField, expiration, now); err != nil {
		return CreatedSecret{}, err
	}
	if err := s.guardOperatorClient(ctx, tenantID, kind, clientID); err != nil {
		return CreatedSecret{}, err
	}
	plain, verifier, err := GenerateSecret()
	if err != nil {
		return CreatedSecret{}, err
	}
	sec := Secret{TenantID: tenantID, ClientID: clientID, ID: NewID(), Kind: kind, Description: description, Expiration: expiration, CreatedAt: now}
	ref := MaterialRef{TenantID: tenantID, ClientID: clientID, SecretID: sec.ID}
	if err := s.Vault.PutVerifier(ctx, ref, verifier); err != nil {
		return CreatedSecret{}, Internal("store secret material", err)
	}
	stored, err := s.Store.AddSecret(ctx, tenantID, kind, sec, now)
	if err != nil {
		s.discardMaterial(ctx, ref, err)
		return CreatedSecret{}, err
	}
	s.logger().InfoContext(ctx, "secret added", "tenant", tenantID, "client", clientID, "secret", sec.ID)
	return CreatedSecret{Secret: stored, SecretString: plain}, nil
}

// UpdateSecret changes a secret's description and expiration; nil keeps
// the stored value.
func (s *Service) UpdateSecret(ctx context.Context, tenantID string, kind ClientKind, clientID, secretID string, description *string, expiration *time.Time) (Secret, error) {
	now := s.now()
	if description != nil {
		if err := ValidateDescription("Description", *description); err != nil {
			return Secret{}, err
		}
	}
	if err := ValidateExpiration("Expiration", expiration, now); err != nil {
		return Secret{}, err
	}
	if err := s.guardOperatorClient(ctx, tenantID, kind, clientID); err != nil {
		return Secret{}, err
	}
	sec, err := s.Store.UpdateSecret(ctx, tenantID, kind, clientID, secretID, description, expiration, now)
	if err != nil {
		return Secret{}, err
	}
	s.logger().InfoContext(ctx, "secret updated", "tenant", tenantID, "client", clientID, "secret", secretID)
	return sec, nil
}

// DeleteSecret removes a secret: the record first, so it stops working at
// once, then its material.
func (s *Service) DeleteSecret(ctx context.Context, tenantID string, kind ClientKind, clientID, secretID string) error {
	if err := s.guardOperatorClient(ctx, tenantID, kind, clientID); err != nil {
		return err
	}
	if err := s.Store.DeleteSecret(ctx, tenantID, kind, clientID, secretID); err != nil {
		return err
	}
	s.destroyMaterial(ctx, MaterialRef{TenantID: tenantID, ClientID: clientID, SecretID: secretID})
	s.logger().InfoContext(ctx, "secret deleted", "tenant", tenantID, "client", clientID, "secret", secretID)
	return nil
}

// SoftDeleteSecret marks a secret deleted (it stays listed by the Key
// Rotation API) and destroys its material at once.
func (s *Service) SoftDeleteSecret(ctx context.Context, tenantID, clientID, secretID string) (Secret, error) {
	if err := s.guardOperatorClient(ctx, tenantID, "", clientID); err != nil {
		return Secret{}, err
	}
	sec, err := s.Store.SoftDeleteSecret(ctx, tenantID, clientID, secretID, s.now())
	if err != nil {
		return Secret{}, err
	}
	s.destroyMaterial(ctx, MaterialRef{TenantID: tenantID, ClientID: clientID, SecretID: secretID})
	s.logger().InfoContext(ctx, "secret soft-deleted", "tenant", tenantID, "client", clientID, "secret", secretID)
	return sec, nil
}

// GetAnyClient returns a tenant's client of either kind.
func (s *Service) GetAnyClient(ctx context.Context, tenantID, clientID string) (Client, error) {
	kind, err := s.Store.ClientKind(ctx, tenantID, clientID)
	if err != nil {
		return Client{}, err
	}
	return s.Store.GetClient(ctx, tenantID, kind, clientID)
}
