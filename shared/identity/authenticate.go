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
		ref := sec.Ref()
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

// MaterialCacheSize bounds the verifier cache, in verifiers: 250 packs
// (PackSize each), about 30 MB. A miss reads a whole pack, so the cache
// must hold many of them to be worth its reads: at 10,000 (the bound when
// each verifier was read alone) it held 25 packs, and a tenant of 100,000
// secrets would miss nine requests in ten.
const MaterialCacheSize = 100000

// verifierCache holds verifiers by secret: material never changes after
// creation, so a cached verifier is never stale; a deleted secret is
// refused by its record before its verifier is looked at. A miss of a
// secret in a pack caches the whole pack, so a cold process reads
// Secrets Manager once per pack, not once per secret; a secret added to
// the pack since is a miss again, and reads the pack again.
type verifierCache struct {
	mu sync.Mutex
	m  map[MaterialRef][]byte
}

type verifierRead struct {
	v   []byte
	err error
}

// verifiers reads the verifiers of the active secrets, those not cached
// all at once (one read per pack, or per secret of its own): a cold cache
// costs the time of one Secrets Manager read, not one per secret, which
// keeps the slowest failure near the floor.
func (s *Service) verifiers(ctx context.Context, secrets []Secret, now time.Time) map[MaterialRef]verifierRead {
	out := make(map[MaterialRef]verifierRead, len(secrets))
	var missing []MaterialRef
	s.cache.mu.Lock()
	for _, sec := range secrets {
		if !sec.Active(now) {
			continue
		}
		ref := sec.Ref()
		if v, ok := s.cache.m[ref]; ok {
			out[ref] = verifierRead{v: v}
		} else {
			missing = append(missing, ref)
		}
	}
	s.cache.mu.Unlock()
	if len(missing) == 0 {
		return out
	}
	// One read per pack, and one per secret of its own.
	reads := map[MaterialRef][]MaterialRef{}
	for _, ref := range missing {
		key := ref
		if _, ok := s.Vault.(PackReader); ok && ref.Pack > 0 {
			key = MaterialRef{TenantID: ref.TenantID, Pack: ref.Pack}
		}
		reads[key] = append(reads[key], ref)
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for key, refs := range reads {
		read := func() {
			got := s.readMaterial(ctx, key, refs)
			mu.Lock()
			for ref, r := range got {
				out[ref] = r
			}
			mu.Unlock()
		}
		if len(reads) == 1 {
			read()
			break
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			read()
		}()
	}
	wg.Wait()
	return out
}

// readMaterial reads refs' verifiers: key is a pack (no SecretID), read
// whole and cached whole, or the one ref of a secret of its own.
func (s *Service) readMaterial(ctx context.Context, key MaterialRef, refs []MaterialRef) map[MaterialRef]verifierRead {
	out := make(map[MaterialRef]verifierRead, len(refs))
	if key.SecretID != "" {
		v, err := s.Vault.Verifier(ctx, key)
		if err == nil {
			s.cacheVerifiers(map[MaterialRef][]byte{key: v})
		}
		out[key] = verifierRead{v, err}
		return out
	}
	pack, err := s.Vault.(PackReader).VerifierPack(ctx, key.TenantID, key.Pack)
	if err == nil {
		s.cacheVerifiers(pack)
	}
	for _, ref := range refs {
		switch v, ok := pack[ref]; {
		case err != nil:
			out[ref] = verifierRead{err: err}
		case !ok:
			out[ref] = verifierRead{err: ErrNoMaterial}
		default:
			out[ref] = verifierRead{v: v}
		}
	}
	return out
}

// cacheVerifiers adds verifiers to the cache, emptying it first when they
// would not fit.
func (s *Service) cacheVerifiers(vs map[MaterialRef][]byte) {
	s.cache.mu.Lock()
	defer s.cache.mu.Unlock()
	if s.cache.m == nil || len(s.cache.m)+len(vs) > MaterialCacheSize {
		s.cache.m = make(map[MaterialRef][]byte, len(vs))
	}
	for ref, v := range vs {
		s.cache.m[ref] = v
	}
}
