package identity

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sort"
	"time"
)

// SecretPage is one page of a client's secrets.
type SecretPage struct {
	Secrets []Secret
	Total   int
}

// ListSecrets returns a page of a client's secrets, oldest first. Soft-
// deleted secrets are left out unless includeDeleted; expired ones stay
// listed, with their past expiration, until the sweeper removes them.
func (s *Service) ListSecrets(ctx context.Context, tenantID string, kind ClientKind, clientID string, includeDeleted bool, skip, count int) (SecretPage, error) {
	all, err := s.Secrets.ClientSecrets(ctx, tenantID, kind, clientID)
	if err != nil {
		return SecretPage{}, s.notFound(ctx, tenantID, err)
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
	page := SecretPage{Total: len(kept), Secrets: []Secret{}}
	if skip < len(kept) {
		page.Secrets = kept[skip:min(skip+count, len(kept))]
	}
	return page, nil
}

// GetSecret returns one secret that is not soft-deleted.
func (s *Service) GetSecret(ctx context.Context, tenantID string, kind ClientKind, clientID, secretID string) (Secret, error) {
	sec, err := s.Secrets.GetSecret(ctx, tenantID, kind, clientID, secretID)
	if err == nil && sec.DeletedAt != nil {
		err = ErrSecretNotFound // soft-deleted: only the Key Rotation list shows it
	}
	if err != nil {
		return Secret{}, s.secretNotFound(ctx, tenantID, kind, clientID, err)
	}
	return sec, nil
}

// CreatedSecret is a new secret and its plain text, shown once.
type CreatedSecret struct {
	Secret       Secret
	SecretString string
}

// maxSecretAddAttempts bounds the optimistic retries of a secret add that
// lost a race with another change of the client's secrets. Each loss
// means another request succeeded, so ten losses to adds mean the limit is
// reached, and the next read says so.
const maxSecretAddAttempts = MaxSecretsPerClient + 5

// AddSecret adds a secret to a client, unless it already has
// MaxSecretsPerClient secrets that are neither deleted nor expired. The
// count is read with the set's version and the record written on that
// version, so concurrent adds cannot pass the limit.
func (s *Service) AddSecret(ctx context.Context, tenantID string, kind ClientKind, clientID, description, descriptionField string, expiration *time.Time, expirationField string) (CreatedSecret, error) {
	now := s.now()
	if err := ValidateDescription(descriptionField, description); err != nil {
		return CreatedSecret{}, err
	}
	if err := ValidateExpiration(expirationField, expiration, now); err != nil {
		return CreatedSecret{}, err
	}
	set, err := s.Secrets.SecretSet(ctx, tenantID, kind, clientID)
	if err != nil {
		return CreatedSecret{}, s.notFound(ctx, tenantID, err)
	}
	// The cluster-role guard (guardOperatorClient) decided on the roles
	// the set's read brought: a client's cluster roles never change, so
	// they need no read of their own.
	if err := s.refuseOperatorClient(ctx, Client{TenantID: tenantID, ID: clientID, Kind: kind, RoleIDs: set.RoleIDs}); err != nil {
		return CreatedSecret{}, err
	}
	if set.ActiveCount(now) >= MaxSecretsPerClient {
		return CreatedSecret{}, secretLimit(set, now)
	}
	sec := Secret{TenantID: tenantID, ClientID: clientID, ID: NewID(), Kind: kind, Description: description, Expiration: expiration, CreatedAt: now, LastChange: changeOf(ctx, now)}
	if sec.Pack, err = s.packFor(ctx, tenantID); err != nil {
		return CreatedSecret{}, err
	}
	ref := sec.Ref()
	plain, verifier, err := GenerateSecret(ref)
	if err != nil {
		return CreatedSecret{}, err
	}
	if err := s.putVerifier(ctx, ref, verifier); err != nil {
		return CreatedSecret{}, err
	}
	stored, err := s.storeSecret(ctx, tenantID, kind, sec, set, now)
	var full *SecretRecordsFull
	if errors.As(err, &full) {
		err = s.secretRecordLimit(full, now) // a refusal: nothing was written
	}
	if err != nil {
		s.discardMaterial(ctx, ref, err)
		return CreatedSecret{}, err
	}
	s.logger().InfoContext(ctx, "secret added", "operation", "add secret", "tenant", tenantID, "client", clientID, "secret", sec.ID, "actor", ActorOf(ctx))
	return CreatedSecret{Secret: stored, SecretString: plain}, nil
}

// storeSecret writes the record on the set's version, reading the set
// again (and deciding the limit again) whenever another change won.
func (s *Service) storeSecret(ctx context.Context, tenantID string, kind ClientKind, sec Secret, set SecretSet, now time.Time) (Secret, error) {
	for attempt := 1; ; attempt++ {
		stored, err := s.Secrets.AddSecret(ctx, secretAdd(tenantID, kind, sec, set))
		if !errors.Is(err, ErrSecretSetChanged) {
			return stored, err
		}
		if attempt == maxSecretAddAttempts {
			return Secret{}, ErrConcurrentUpdate
		}
		sleep(ctx, time.Duration(rand.IntN(5*attempt+5))*time.Millisecond)
		if set, err = s.Secrets.SecretSet(ctx, tenantID, kind, sec.ClientID); err != nil {
			return Secret{}, s.notFound(ctx, tenantID, err)
		}
		if set.ActiveCount(now) >= MaxSecretsPerClient {
			return Secret{}, secretLimit(set, now)
		}
	}
}

// secretAdd is the add of sec to a client whose secret set was read as
// set: on the set's version, below the record cap, and forgetting the
// set's secrets that had expired when sec was created.
func secretAdd(tenantID string, kind ClientKind, sec Secret, set SecretSet) SecretAdd {
	add := SecretAdd{TenantID: tenantID, Kind: kind, Secret: sec, Set: set, MaxRecords: MaxSecretRecordsPerClient}
	for _, old := range set.Secrets {
		if !old.Active(sec.CreatedAt) {
			add.Forget = append(add.Forget, old.ID)
		}
	}
	return add
}

// secretRecordLimit is the 400 of an add to a client that holds
// MaxSecretRecordsPerClient secret records: it says when retained records
// leave (the sweeper purges a record RetentionDays after its expiration or
// deletion).
func (s *Service) secretRecordLimit(full *SecretRecordsFull, now time.Time) error {
	days := s.RetentionDays
	when := fmt.Sprintf("Retained records leave %d days after their expiration or deletion.", days)
	if since := full.RetainedSince(now); !since.IsZero() {
		when = fmt.Sprintf("The oldest retained record leaves on %s (%d days after its expiration or deletion).",
			since.Add(time.Duration(days)*24*time.Hour).UTC().Format(time.RFC3339), days)
	}
	return &Error{Kind: KindInvalid, Code: CodeSecretRecordLimit, Limit: MaxSecretRecordsPerClient, Count: full.Count,
		Message: fmt.Sprintf("The client holds %d secret records, the most it may keep (%d): expired and deleted secrets count until the sweeper removes their records, %d days after their expiration or deletion.",
			full.Count, MaxSecretRecordsPerClient, days),
		Hint: when + " Add the secret after that, or use another client."}
}

// secretLimit is ErrSecretLimit with the count that reached it.
func secretLimit(set SecretSet, now time.Time) error {
	e := *ErrSecretLimit
	e.Count = set.ActiveCount(now)
	return &e
}

func sleep(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}

// UpdateSecret changes a secret's description and expiration; nil keeps
// the stored value. An expired secret cannot be changed: it would come back
// to life with material the sweeper may already have destroyed.
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
	// Read, decide, write on the condition that the decision still holds;
	// if it no longer does, the second read says why.
	for attempt := 1; ; attempt++ {
		cur, err := s.GetSecret(ctx, tenantID, kind, clientID, secretID)
		if err != nil {
			return Secret{}, err
		}
		if description == nil && expiration == nil {
			return cur, nil
		}
		if !cur.Changeable(now) {
			return Secret{}, secretExpired(cur)
		}
		sec, err := s.Secrets.UpdateSecret(ctx, SecretChange{TenantID: tenantID, Kind: kind, ClientID: clientID, SecretID: secretID,
			Description: description, Expiration: expiration, ChangeableAt: now, Change: changeOf(ctx, now)})
		if errors.Is(err, ErrSecretChanged) && attempt < 3 {
			continue
		}
		if err != nil {
			return Secret{}, err
		}
		s.logger().InfoContext(ctx, "secret updated", "operation", "update secret", "tenant", tenantID, "client", clientID, "secret", secretID, "actor", ActorOf(ctx))
		return sec, nil
	}
}

func secretExpired(sec Secret) error {
	when := "already"
	if sec.Expiration != nil {
		when = "at " + sec.Expiration.UTC().Format(time.RFC3339)
	}
	return Invalid("Secret %s expired %s and cannot be changed.", "Add a new secret instead.", sec.ID, when)
}

// DeleteSecret removes a secret: the record first, so it stops working at
// once, then its material.
func (s *Service) DeleteSecret(ctx context.Context, tenantID string, kind ClientKind, clientID, secretID string) error {
	if err := s.guardOperatorClient(ctx, tenantID, kind, clientID); err != nil {
		return err
	}
	// The record says where its material is (its pack); a record is
	// never moved between packs, so the read before the delete holds.
	sec, err := s.Secrets.GetSecret(ctx, tenantID, kind, clientID, secretID)
	if err == nil && sec.DeletedAt != nil {
		err = ErrSecretNotFound // soft-deleted: the OCS delete does not see it
	}
	if err != nil {
		return s.secretNotFound(ctx, tenantID, kind, clientID, err)
	}
	if err := s.Secrets.DeleteSecret(ctx, tenantID, kind, clientID, secretID); err != nil {
		return s.secretNotFound(ctx, tenantID, kind, clientID, err)
	}
	s.destroyMaterial(ctx, sec.Ref())
	s.logger().InfoContext(ctx, "secret deleted", "operation", "delete secret", "tenant", tenantID, "client", clientID, "secret", secretID, "actor", ActorOf(ctx))
	return nil
}

// SoftDeleteSecret marks a secret deleted (it stays listed by the Key
// Rotation API) and destroys its material at once.
func (s *Service) SoftDeleteSecret(ctx context.Context, tenantID string, kind ClientKind, clientID, secretID string) (Secret, error) {
	if err := s.guardOperatorClient(ctx, tenantID, kind, clientID); err != nil {
		return Secret{}, err
	}
	sec, err := s.Secrets.SoftDeleteSecret(ctx, tenantID, kind, clientID, secretID, *changeOf(ctx, s.now()))
	if err != nil {
		return Secret{}, s.secretNotFound(ctx, tenantID, kind, clientID, err)
	}
	s.destroyMaterial(ctx, sec.Ref())
	s.logger().InfoContext(ctx, "secret soft-deleted", "operation", "soft-delete secret", "tenant", tenantID, "client", clientID, "secret", secretID, "actor", ActorOf(ctx))
	return sec, nil
}

// ClientKindOf looks up the kind of a tenant's client: what the routes that
// serve either kind (Key Rotation, the obsolete secret routes) do first,
// before acting on the client as that kind.
func (s *Service) ClientKindOf(ctx context.Context, tenantID, clientID string) (ClientKind, error) {
	kind, err := s.Clients.ClientKind(ctx, tenantID, clientID)
	if err != nil {
		return 0, s.notFound(ctx, tenantID, err)
	}
	return kind, nil
}

// GetAnyClient returns a tenant's client of either kind.
func (s *Service) GetAnyClient(ctx context.Context, tenantID, clientID string) (Client, error) {
	kind, err := s.ClientKindOf(ctx, tenantID, clientID)
	if err != nil {
		return Client{}, err
	}
	return s.GetClient(ctx, tenantID, kind, clientID)
}

// notFound decides what a client the store did not find means: the tenant
// is missing (ErrTenantNotFound), or only the client. Other errors pass.
func (s *Service) notFound(ctx context.Context, tenantID string, err error) error {
	if !errors.Is(err, ErrClientNotFound) {
		return err
	}
	if _, terr := s.Tenants.GetTenant(ctx, tenantID); terr != nil {
		return terr
	}
	return ErrClientNotFound
}

// secretNotFound decides what a secret the store did not find means:
// tenant, client (of the kind) or secret missing. Other errors pass.
func (s *Service) secretNotFound(ctx context.Context, tenantID string, kind ClientKind, clientID string, err error) error {
	if !errors.Is(err, ErrSecretNotFound) {
		return s.notFound(ctx, tenantID, err)
	}
	got, kerr := s.Clients.ClientKind(ctx, tenantID, clientID)
	if kerr == nil && got != kind {
		kerr = ErrClientNotFound
	}
	if kerr != nil {
		return s.notFound(ctx, tenantID, kerr)
	}
	return ErrSecretNotFound
}
