package identity

import (
	"context"
	"errors"
	"sync"
	"time"
)

// ErrInvalidClient is the one answer to every failed client
// authentication: unknown client, wrong secret, disabled client, deleted,
// soft-deleted or expired secret. Callers must not be able to tell them apart.
var ErrInvalidClient = &Error{Kind: KindUnauthorized, Code: CodeInvalidClient, Message: "Client authentication failed."}

// dummyVerifier is compared against when there is nothing real to compare,
// so an unknown client costs the same work as a wrong secret.
var dummyVerifier = Verifier("not a secret")

// AuthenticateClient checks a client's id and secret. Validity (client
// enabled, secret neither deleted nor expired) is read live on every call;
// only the material, which never changes, may come from a cache.
func (s *Service) AuthenticateClient(ctx context.Context, clientID, secret string) (Client, error) {
	id, err := ParseGUID("client_id", clientID)
	if err != nil || secret == "" {
		VerifySecret(secret, dummyVerifier)
		return Client{}, ErrInvalidClient
	}
	c, secrets, err := s.Credentials.ClientForAuthentication(ctx, id)
	if errors.Is(err, ErrClientNotFound) {
		VerifySecret(secret, dummyVerifier)
		return Client{}, ErrInvalidClient
	}
	if err != nil {
		return Client{}, err
	}
	now := s.now()
	matched := false
	var used Secret
	for _, sec := range secrets {
		if !sec.Active(now) {
			continue
		}
		verifier, err := s.verifier(ctx, MaterialRef{TenantID: sec.TenantID, ClientID: sec.ClientID, SecretID: sec.ID})
		if errors.Is(err, ErrNoMaterial) {
			// Missing material: the secret cannot authenticate.
			s.logger().ErrorContext(ctx, "secret material missing", "tenant", sec.TenantID, "client", sec.ClientID, "secret", sec.ID)
			continue
		}
		if err != nil {
			// Unreadable is not wrong: a store failure is a 5xx, never
			// invalid_client, which tells the caller its secret is bad.
			return Client{}, Internal("read secret material", err)
		}
		if VerifySecret(secret, verifier) {
			matched, used = true, sec
		}
	}
	if !matched {
		VerifySecret(secret, dummyVerifier)
	}
	if !matched || !c.Enabled {
		s.logger().InfoContext(ctx, "client authentication failed", "client", id)
		return Client{}, ErrInvalidClient
	}
	s.markUsed(ctx, used, now)
	return c, nil
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
