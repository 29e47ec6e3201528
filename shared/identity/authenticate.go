package identity

import (
	"context"
	"errors"
	"sync"
	"time"
)

// ErrInvalidClient is the one answer to every failed client
// authentication: unknown client, wrong secret, disabled client, deleted,
// soft-deleted or expired secret, a token item whose seal does not hold.
// Callers must not be able to tell them apart, by the answer or by its time.
var ErrInvalidClient = &Error{Kind: KindUnauthorized, Code: CodeInvalidClient, Message: "Client authentication failed."}

// dummyRef and dummyVerifier are compared against when there is nothing
// real to compare, so an unknown client costs the same work as a wrong
// secret.
var (
	dummyRef      = MaterialRef{TenantID: "-", ClientID: "-", SecretID: "-"}
	dummyVerifier = Verifier(dummyRef, "not a secret")
)

// DefaultFailureFloor is how long a failed client authentication takes
// at least, unless AUTH_FAILURE_FLOOR says otherwise (see FailureFloor).
const DefaultFailureFloor = 50 * time.Millisecond

// AuthenticateClient checks a client's id and secret. Validity (client
// enabled, secret neither deleted nor expired) is read live on every call;
// only the material, which never changes, may come from a cache.
//
// Every failure answers ErrInvalidClient no sooner than FailureFloor after
// the call began (failAfter): an unknown id costs one read, a wrong secret
// of a known client with a cold verifier cache also a Secrets Manager read
// per active secret, so without the floor the time of the answer would
// tell which ids exist.
func (s *Service) AuthenticateClient(ctx context.Context, clientID, secret string) (Client, error) {
	start := time.Now()
	id, err := ParseGUID("client_id", clientID)
	if err != nil || secret == "" {
		VerifySecret(dummyRef, secret, dummyVerifier)
		return Client{}, s.failAfter(ctx, start)
	}
	c, secrets, err := s.Credentials.ClientForAuthentication(ctx, id)
	if errors.Is(err, ErrClientNotFound) {
		VerifySecret(dummyRef, secret, dummyVerifier)
		return Client{}, s.failAfter(ctx, start)
	}
	if err != nil {
		return Client{}, err
	}
	now := s.now()
	verifiers := s.verifiers(ctx, secrets, now)
	matched := false
	var used Secret
	for _, sec := range secrets {
		if !sec.Active(now) {
			continue
		}
		ref := MaterialRef{TenantID: sec.TenantID, ClientID: sec.ClientID, SecretID: sec.ID}
		verifier, err := verifiers[ref].v, verifiers[ref].err
		if errors.Is(err, ErrNoMaterial) {
			// Missing material: the secret cannot authenticate.
			s.logger().ErrorContext(ctx, "secret material missing", "tenant", sec.TenantID, "client", sec.ClientID, "secret", sec.ID)
			continue
		}
		if errors.Is(err, ErrMaterialNotMigrated) {
			// Material from before the verifier binding: unusable until
			// the operator's migration binds it to this record.
			s.logger().ErrorContext(ctx, "secret material not migrated", "tenant", sec.TenantID, "client", sec.ClientID, "secret", sec.ID)
			continue
		}
		if err != nil {
			// Unreadable is not wrong: a store failure is a 5xx, never
			// invalid_client, which tells the caller its secret is bad.
			return Client{}, Internal("read secret material", err)
		}
		if VerifySecret(ref, secret, verifier) {
			matched, used = true, sec
		}
	}
	if !matched {
		VerifySecret(dummyRef, secret, dummyVerifier)
	}
	if !matched || !c.Enabled {
		s.logger().InfoContext(ctx, "client authentication failed", "client", id)
		return Client{}, s.failAfter(ctx, start)
	}
	holds, err := s.sealHolds(ctx, c)
	if err != nil {
		return Client{}, err
	}
	if !holds {
		// Someone without the seal key wrote what a token says of this
		// client (its tenant, kind, roles, enabled state or lifetime):
		// no token until the client functions (or the operator's
		// migration) write it again.
		s.logger().ErrorContext(ctx, "token item seal does not hold", "tenant", c.TenantID, "client", id)
		return Client{}, s.failAfter(ctx, start)
	}
	s.markUsed(ctx, used, now)
	return c, nil
}

// FailureFloor is the least time a failed authentication takes: above
// the slowest failure (a wrong secret of a client with ten active
// secrets, none of their verifiers cached), so that every failure ends at
// the floor. AuthFailureFloor sets it; zero means DefaultFailureFloor.
func (s *Service) FailureFloor() time.Duration {
	if s.AuthFailureFloor > 0 {
		return s.AuthFailureFloor
	}
	return DefaultFailureFloor
}

// failAfter waits until FailureFloor after start (or until ctx ends) and
// returns ErrInvalidClient.
func (s *Service) failAfter(ctx context.Context, start time.Time) error {
	pause := s.Pause
	if pause == nil {
		pause = sleep
	}
	if d := s.FailureFloor() - time.Since(start); d > 0 {
		pause(ctx, d)
	}
	return ErrInvalidClient
}

// markUsed records the hour of a secret's use, once per hour: the token
// item says when it was last recorded, so a request in an hour already
// recorded writes nothing. A failure is logged; the token is issued anyway.
func (s *Service) markUsed(ctx context.Context, sec Secret, now time.Time) {
	hour := now.Truncate(time.Hour)
	if sec.LastUsed != nil && !sec.LastUsed.Before(hour) {
		return
	}
	if err := s.Credentials.MarkUsed(ctx, sec.ClientID, sec.ID, hour); err != nil {
		s.logger().WarnContext(ctx, "secret last use not recorded", "tenant", sec.TenantID, "client", sec.ClientID, "secret", sec.ID, "error", err.Error())
	}
}

// materialCacheSize bounds the verifier cache.
const materialCacheSize = 10000

// verifierCache holds verifiers by secret: material never changes after
// creation, so a cached verifier is never stale; a deleted secret is
// refused by its record before its verifier is looked at.
type verifierCache struct {
	mu sync.Mutex
	m  map[MaterialRef][]byte
}

type verifierRead struct {
	v   []byte
	err error
}

// verifiers reads the verifiers of the active secrets, those not cached
// all at once: a cold cache costs the time of one Secrets Manager read,
// not one per secret, which keeps the slowest failure near the floor.
func (s *Service) verifiers(ctx context.Context, secrets []Secret, now time.Time) map[MaterialRef]verifierRead {
	out := make(map[MaterialRef]verifierRead, len(secrets))
	var missing []MaterialRef
	s.cache.mu.Lock()
	for _, sec := range secrets {
		if !sec.Active(now) {
			continue
		}
		ref := MaterialRef{TenantID: sec.TenantID, ClientID: sec.ClientID, SecretID: sec.ID}
		if v, ok := s.cache.m[ref]; ok {
			out[ref] = verifierRead{v: v}
		} else {
			missing = append(missing, ref)
		}
	}
	s.cache.mu.Unlock()
	if len(missing) == 1 {
		v, err := s.verifier(ctx, missing[0])
		out[missing[0]] = verifierRead{v, err}
		return out
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, ref := range missing {
		wg.Add(1)
		go func() {
			defer wg.Done()
			v, err := s.verifier(ctx, ref)
			mu.Lock()
			out[ref] = verifierRead{v, err}
			mu.Unlock()
		}()
	}
	wg.Wait()
	return out
}

func (s *Service) verifier(ctx context.Context, ref MaterialRef) ([]byte, error) {
	s.cache.mu.Lock()
	v, ok := s.cache.m[ref]
	s.cache.mu.Unlock()
	if ok {
		return v, nil
	}
	v, err := s.Vault.Verifier(ctx, ref)
	if err != nil {
		return nil, err
	}
	s.cache.mu.Lock()
	if s.cache.m == nil || len(s.cache.m) >= materialCacheSize {
		s.cache.m = make(map[MaterialRef][]byte)
	}
	s.cache.m[ref] = v
	s.cache.mu.Unlock()
	return v, nil
}
