package auth

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"

	"identityservice/shared/identity"
)

// DefaultAudience is the aud of access tokens for this API.
const DefaultAudience = "identity-clients-api"

// Claims are the claims of an access token (RFC 9068). They implement
// jwt.Claims, so golang-jwt validates exp, nbf, iat, iss and aud, and
// Validate adds the service's own rule (a client_id).
type Claims struct {
	Issuer    string           `json:"iss"`
	Subject   string           `json:"sub"`
	Audience  audience         `json:"aud"`
	Expiry    *jwt.NumericDate `json:"exp"`
	NotBefore *jwt.NumericDate `json:"nbf,omitempty"`
	IssuedAt  *jwt.NumericDate `json:"iat,omitempty"`
	ID        string           `json:"jti"`
	ClientID  string           `json:"client_id"`
	TenantID  string           `json:"tid"`
	Roles     []string         `json:"role"`
	// A person's access token (PersonIssuer) also says what was consented
	// to and in which session; a client's has neither.
	Scope     string `json:"scope,omitempty"`
	SessionID string `json:"sid,omitempty"`
	// Name is the person's name, when the person consented to profile: the
	// management routes record it as who made a write.
	Name string `json:"name,omitempty"`
}

func (c *Claims) GetExpirationTime() (*jwt.NumericDate, error) { return c.Expiry, nil }
func (c *Claims) GetNotBefore() (*jwt.NumericDate, error)      { return c.NotBefore, nil }
func (c *Claims) GetIssuedAt() (*jwt.NumericDate, error)       { return c.IssuedAt, nil }
func (c *Claims) GetIssuer() (string, error)                   { return c.Issuer, nil }
func (c *Claims) GetSubject() (string, error)                  { return c.Subject, nil }
func (c *Claims) GetAudience() (jwt.ClaimStrings, error)       { return jwt.ClaimStrings(c.Audience), nil }

var errNoClientID = errors.New("no client_id")

// Validate is called by the parser after the registered claims checked out.
func (c *Claims) Validate() error {
	if c.ClientID == "" {
		return errNoClientID
	}
	return nil
}

// audience is the aud claim: one string, or an array of them (RFC 7519
// 4.1.3). It is written as a string when it holds one value (jwt's
// ClaimStrings writes an array unless a package-wide switch is turned).
type audience []string

func (a audience) MarshalJSON() ([]byte, error) {
	if len(a) == 1 {
		return json.Marshal(a[0])
	}
	return json.Marshal([]string(a))
}

func (a *audience) UnmarshalJSON(b []byte) error {
	var cs jwt.ClaimStrings
	if err := cs.UnmarshalJSON(b); err != nil {
		return err
	}
	*a = audience(cs)
	return nil
}

// Principal is who a verified token speaks for.
type Principal struct {
	ClientID string
	TenantID string
	Roles    []string
	// Of a person's token (empty for a client's): who, in which session,
	// with which scopes.
	Subject   string
	SessionID string
	Scope     string
	Name      string // the person's name, when their token states it (scope profile)
}

// APIIDPlaceholder in a configured ISSUER stands for the id of the HTTP
// API that received the request, as API Gateway states it in the Lambda
// event's request context (requestContext.apiId) — never a request header.
// template.yaml's default ISSUER is the API's own URL written this way,
// since a function cannot reference its own API in the template (that is
// a circular dependency).
const APIIDPlaceholder = "{apiId}"

// IssuerURL returns the token issuer of each request: configured (ISSUER)
// when set, so that no request header can change it, with
// APIIDPlaceholder filled by apiID(r) — the id of the HTTP API that
// received the request as the platform states it (the HTTP edge reads it
// from the API Gateway request context); the placeholder stays when apiID
// is nil or answers "". Without ISSUER, for local development only, the
// request's own address plus /identity.
func IssuerURL(configured string, apiID func(*http.Request) string) func(*http.Request) string {
	iss := strings.TrimRight(configured, "/")
	if iss == "" {
		return requestIssuer
	}
	if apiID == nil || !strings.Contains(iss, APIIDPlaceholder) {
		return func(*http.Request) string { return iss }
	}
	return func(r *http.Request) string {
		if id := apiID(r); id != "" {
			return strings.ReplaceAll(iss, APIIDPlaceholder, id)
		}
		return iss
	}
}

// requestIssuer is the issuer of local development: the request's own
// address plus /identity.
func requestIssuer(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil || strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https") {
		scheme = "https"
	}
	return scheme + "://" + r.Host + "/identity"
}

// Issuer signs access tokens.
type Issuer struct {
	Keys     *KeyManager
	Audience string
	Now      func() time.Time
}

// Issue returns a signed access token for a client, and its lifetime: the
// client's AccessTokenLifetime.
func (i *Issuer) Issue(ctx context.Context, issuer string, c identity.Client) (string, time.Duration, error) {
	ks, err := i.Keys.KeySet(ctx)
	if err != nil {
		return "", 0, err
	}
	key, err := ks.ActiveKey()
	if err != nil {
		return "", 0, err
	}
	now := time.Now()
	if i.Now != nil {
		now = i.Now()
	}
	// The client's own lifetime; never beyond TokenLifetime, which the
	// retirement of signing keys counts on (RetiredKeyKept).
	lifetime := min(c.TokenLifetime(), TokenLifetime)
	roles := c.RoleIDs
	if roles == nil {
		roles = []string{}
	}
	claims := &Claims{
		Issuer:    issuer,
		Subject:   c.ID,
		Audience:  audience{i.audience()},
		Expiry:    jwt.NewNumericDate(now.Add(lifetime)),
		IssuedAt:  jwt.NewNumericDate(now),
		NotBefore: jwt.NewNumericDate(now),
		ID:        uuid.NewString(),
		ClientID:  c.ID,
		TenantID:  c.TenantID,
		Roles:     roles,
	}
	method := jwt.GetSigningMethod(string(key.Alg))
	if method == nil || keyAlg(key.Private) != key.Alg {
		return "", 0, fmt.Errorf("signing key %s: no %q signer", key.KID, key.Alg)
	}
	tok := jwt.NewWithClaims(method, claims)
	tok.Header["kid"] = key.KID
	tok.Header["typ"] = tokenType
	token, err := tok.SignedString(key.Private)
	if err != nil {
		return "", 0, err
	}
	return token, lifetime, nil
}

// KeySet returns the signing keys the issuer signs with (KeyManager.KeySet:
// on a fresh stack, the first key is created and published).
func (i *Issuer) KeySet(ctx context.Context) (KeySet, error) { return i.Keys.KeySet(ctx) }

// PublishedJWKS returns the JWKS as published, which is newer than the
// issuer's cached set when another process (or the operator) rotated.
func (i *Issuer) PublishedJWKS(ctx context.Context) ([]byte, error) { return i.Keys.Public.JWKS(ctx) }

func (i *Issuer) audience() string {
	if i.Audience != "" {
		return i.Audience
	}
	return DefaultAudience
}

// ErrInvalidToken is every reason a bearer token is refused.
var ErrInvalidToken = errors.New("invalid token")

// Verifier checks bearer tokens against the published JWKS, which it
// re-reads every KeyRefresh (so a revoked key is refused within it) and
// when a token names a key it does not know. A key whose "exp" member
// (PublishedJWKS) has passed is refused even if still published.
type Verifier struct {
	Keys     PublicKeyStore
	Audience string
	Now      func() time.Time

	pmu     sync.Mutex
	parsers map[string]*jwt.Parser // by issuer: built once, see parser

	mu        sync.Mutex
	jwks      *jose.JSONWebKeySet
	expiry    map[string]time.Time // kid -> when the key stops being trusted
	fetchedAt time.Time
}

// jwksRefetchAfter spaces re-reads for unknown kids, so garbage tokens
// cannot make every request read the table.
const jwksRefetchAfter = 10 * time.Second

func (v *Verifier) now() time.Time {
	if v.Now != nil {
		return v.Now()
	}
	return time.Now()
}

// key returns the public key with this kid.
func (v *Verifier) key(ctx context.Context, kid string) (*jose.JSONWebKey, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	find := func() *jose.JSONWebKey {
		if v.jwks == nil {
			return nil
		}
		if exp, ok := v.expiry[kid]; ok && !v.now().Before(exp) {
			return nil
		}
		if ks := v.jwks.Key(kid); len(ks) > 0 {
			return &ks[0]
		}
		return nil
	}
	if k := find(); k != nil && v.now().Sub(v.fetchedAt) < KeyRefresh {
		return k, nil
	}
	if v.jwks == nil || v.now().Sub(v.fetchedAt) >= jwksRefetchAfter {
		raw, err := v.Keys.JWKS(ctx)
		if err != nil && !errors.Is(err, ErrNoKeySet) {
			// No fallback to a set older than KeyRefresh: it might still
			// hold a revoked key.
			return nil, err
		}
		if errors.Is(err, ErrNoKeySet) {
			// Nothing published yet (a new deployment before its first
			// token): remember nothing, so the first key is seen as soon
			// as the token function publishes it.
			return nil, ErrInvalidToken
		}
		var set jose.JSONWebKeySet
		if err := json.Unmarshal(raw, &set); err != nil {
			return nil, fmt.Errorf("decode JWKS: %w", err)
		}
		var exps struct {
			Keys []struct {
				Kid string `json:"kid"`
				Exp *int64 `json:"exp"`
			} `json:"keys"`
		}
		if err := json.Unmarshal(raw, &exps); err != nil {
			return nil, fmt.Errorf("decode JWKS: %w", err)
		}
		expiry := map[string]time.Time{}
		for _, k := range exps.Keys {
			if k.Exp != nil {
				expiry[k.Kid] = time.Unix(*k.Exp, 0)
			}
		}
		v.jwks, v.expiry, v.fetchedAt = &set, expiry, v.now()
	}
	if k := find(); k != nil {
		return k, nil
	}
	return nil, ErrInvalidToken
}

// leeway is the clock skew allowed on exp, nbf and iat.
const leeway = 5 * time.Second

// tokenType is the access token's typ header (RFC 9068).
const tokenType = "at+jwt"

// acceptedAlgs are the algorithms a token may be signed with; each key is
// further held to the one algorithm its JWK states (verificationKey).
// "none", HMAC and every other algorithm are refused before any key is
// looked up.
var acceptedAlgs = []string{string(RS256), string(ES256)}

// maxParsers bounds the parsers kept per issuer. A deployment has one
// issuer (ISSUER); only local development derives it from the request.
const maxParsers = 8

// parser returns the jwt.Parser for tokens of this issuer, built once:
// its options are fixed (algorithms, issuer, audience, leeway, required
// exp, iat checked, the service clock).
func (v *Verifier) parser(issuer string) *jwt.Parser {
	v.pmu.Lock()
	defer v.pmu.Unlock()
	if p, ok := v.parsers[issuer]; ok {
		return p
	}
	aud := v.Audience
	if aud == "" {
		aud = DefaultAudience
	}
	p := jwt.NewParser(
		jwt.WithValidMethods(acceptedAlgs),
		jwt.WithIssuer(issuer),
		jwt.WithAudience(aud),
		jwt.WithLeeway(leeway),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithTimeFunc(v.now),
	)
	if v.parsers == nil {
		v.parsers = map[string]*jwt.Parser{}
	}
	if len(v.parsers) < maxParsers {
		v.parsers[issuer] = p
	}
	return p
}

var errCritical = errors.New("critical header parameters are not supported")

// verificationKey is the public key of k for a token signed with alg: the
// JWK's own "alg" (or, for a JWK without one, the algorithm its key type
// implies) must be alg, and the key of the type alg needs, so a token
// cannot choose how it is checked (RFC 8725 3.1).
func verificationKey(k *jose.JSONWebKey, alg string) (any, error) {
	if k.Use != "" && k.Use != "sig" {
		return nil, ErrInvalidToken
	}
	jwkAlg := k.Algorithm
	pub := k.Key
	if jwkAlg == "" { // not a JWKS of ours (they state it); infer from the key
		switch pk := pub.(type) {
		case *rsa.PublicKey:
			jwkAlg = string(RS256)
		case *ecdsa.PublicKey:
			if pk.Curve == elliptic.P256() {
				jwkAlg = string(ES256)
			}
		}
	}
	if jwkAlg != alg {
		return nil, ErrInvalidToken
	}
	switch Alg(alg) {
	case RS256:
		if rk, ok := pub.(*rsa.PublicKey); ok {
			return rk, nil
		}
	case ES256:
		if ek, ok := pub.(*ecdsa.PublicKey); ok && ek.Curve == elliptic.P256() {
			return ek, nil
		}
	}
	return nil, ErrInvalidToken
}

// Verify checks a token with golang-jwt: its algorithm (acceptedAlgs, and
// the one its key states), signature, issuer, audience, times (exp
// required; nbf and iat not in the future; leeway 5 s on the service
// clock) and client_id. Any failure is ErrInvalidToken; an error reading
// the keys is another error.
func (v *Verifier) Verify(ctx context.Context, raw, issuer string) (Principal, error) {
	var keyErr error
	keyfunc := func(t *jwt.Token) (any, error) {
		if _, ok := t.Header["crit"]; ok {
			return nil, errCritical // tokens use none (RFC 7515 4.1.11)
		}
		kid, _ := t.Header["kid"].(string)
		key, err := v.key(ctx, kid)
		if err != nil {
			keyErr = err
			return nil, err
		}
		return verificationKey(key, t.Method.Alg())
	}
	var c Claims
	if _, err := v.parser(issuer).ParseWithClaims(raw, &c, keyfunc); err != nil {
		if keyErr != nil && !errors.Is(keyErr, ErrInvalidToken) {
			return Principal{}, fmt.Errorf("read signing keys: %w", keyErr)
		}
		return Principal{}, ErrInvalidToken
	}
	return Principal{ClientID: c.ClientID, TenantID: c.TenantID, Roles: c.Roles, Subject: c.Subject, SessionID: c.SessionID, Scope: c.Scope, Name: c.Name}, nil
}
