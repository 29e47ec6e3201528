package auth

import (
	"context"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/awslabs/aws-lambda-go-api-proxy/core"
	jose "github.com/go-jose/go-jose/v4"
	"github.com/google/uuid"

	"identityservice/shared/identity"
)

// DefaultAudience is the aud of access tokens for this API.
const DefaultAudience = "identity-clients-api"

// Claims are the claims of an access token.
type Claims struct {
	Issuer    string   `json:"iss"`
	Subject   string   `json:"sub"`
	Audience  audience `json:"aud"`
	Expiry    *int64   `json:"exp"` // NumericDate: seconds since the epoch
	NotBefore *int64   `json:"nbf,omitempty"`
	IssuedAt  *int64   `json:"iat,omitempty"`
	ID        string   `json:"jti"`
	ClientID  string   `json:"client_id"`
	TenantID  string   `json:"tid"`
	Roles     []string `json:"role"`
}

// Principal is who a verified token speaks for.
type Principal struct {
	ClientID string
	TenantID string
	Roles    []string
}

// APIIDPlaceholder in a configured ISSUER stands for the id of the HTTP
// API that received the request, as API Gateway states it in the Lambda
// event's request context (requestContext.apiId) — never a request header.
// template.yaml's default ISSUER is the API's own URL written this way,
// since a function cannot reference its own API in the template (that is
// a circular dependency).
const APIIDPlaceholder = "{apiId}"

// IssuerURL is the token issuer for a request: ISSUER when configured
// (with APIIDPlaceholder filled from the API Gateway request context), so
// that no request header can change it; else, for local development only,
// the request's own address plus /identity.
func IssuerURL(configured string, r *http.Request) string {
	if configured != "" {
		iss := strings.TrimRight(configured, "/")
		if strings.Contains(iss, APIIDPlaceholder) {
			if rc, ok := core.GetAPIGatewayV2ContextFromContext(r.Context()); ok && rc.APIID != "" {
				iss = strings.ReplaceAll(iss, APIIDPlaceholder, rc.APIID)
			}
		}
		return iss
	}
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

// Issue returns a signed access token for a client, and its lifetime.
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
	roles := c.RoleIDs
	if roles == nil {
		roles = []string{}
	}
	iat, exp := now.Unix(), now.Add(TokenLifetime).Unix()
	claims := Claims{
		Issuer:    issuer,
		Subject:   c.ID,
		Audience:  audience{i.audience()},
		Expiry:    &exp,
		IssuedAt:  &iat,
		NotBefore: &iat,
		ID:        uuid.NewString(),
		ClientID:  c.ID,
		TenantID:  c.TenantID,
		Roles:     roles,
	}
	token, err := signRS256(key.Private, key.KID, claims)
	if err != nil {
		return "", 0, err
	}
	return token, TokenLifetime, nil
}

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

// Verify checks a token's signature (RS256 only: "none" and every other
// algorithm are refused), issuer, audience and times.
func (v *Verifier) Verify(ctx context.Context, raw, issuer string) (Principal, error) {
	tok, err := parseCompact(raw)
	if err != nil {
		return Principal{}, ErrInvalidToken
	}
	key, err := v.key(ctx, tok.header.Kid)
	if err != nil {
		if errors.Is(err, ErrInvalidToken) {
			return Principal{}, err
		}
		return Principal{}, fmt.Errorf("read signing keys: %w", err)
	}
	pub, ok := key.Key.(*rsa.PublicKey)
	if !ok || (key.Algorithm != "" && key.Algorithm != algRS256) || tok.verifyRS256(pub) != nil {
		return Principal{}, ErrInvalidToken
	}
	var c Claims
	if err := json.Unmarshal(tok.payload, &c); err != nil {
		return Principal{}, ErrInvalidToken
	}
	aud := v.Audience
	if aud == "" {
		aud = DefaultAudience
	}
	now := v.now()
	switch {
	case c.Issuer != issuer, !c.Audience.contains(aud), c.ClientID == "":
		return Principal{}, ErrInvalidToken
	case c.Expiry == nil || !now.Before(time.Unix(*c.Expiry, 0).Add(leeway)):
		return Principal{}, ErrInvalidToken // expired, or never expires
	case c.NotBefore != nil && now.Add(leeway).Before(time.Unix(*c.NotBefore, 0)):
		return Principal{}, ErrInvalidToken // not valid yet
	case c.IssuedAt != nil && now.Add(leeway).Before(time.Unix(*c.IssuedAt, 0)):
		return Principal{}, ErrInvalidToken // issued in the future
	}
	return Principal{ClientID: c.ClientID, TenantID: c.TenantID, Roles: c.Roles}, nil
}
