package auth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"github.com/google/uuid"

	"identityservice/shared/identity"
)

// DefaultAudience is the aud of access tokens for this API.
const DefaultAudience = "identity-clients-api"

// Claims are the claims of an access token.
type Claims struct {
	jwt.Claims
	ClientID string   `json:"client_id"`
	TenantID string   `json:"tid"`
	Roles    []string `json:"role"`
}

// Principal is who a verified token speaks for.
type Principal struct {
	ClientID string
	TenantID string
	Roles    []string
}

// IssuerURL is the token issuer for a request: ISSUER when configured,
// else the API's own address (https behind API Gateway) plus /identity.
func IssuerURL(configured string, r *http.Request) string {
	if configured != "" {
		return strings.TrimRight(configured, "/")
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
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: key.Private, KeyID: key.KID}},
		(&jose.SignerOptions{}).WithType("at+jwt"))
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
	claims := Claims{
		Claims: jwt.Claims{
			Issuer:    issuer,
			Subject:   c.ID,
			Audience:  jwt.Audience{i.audience()},
			Expiry:    jwt.NewNumericDate(now.Add(TokenLifetime)),
			IssuedAt:  jwt.NewNumericDate(now),
			NotBefore: jwt.NewNumericDate(now),
			ID:        uuid.NewString(),
		},
		ClientID: c.ID,
		TenantID: c.TenantID,
		Roles:    roles,
	}
	token, err := jwt.Signed(signer).Claims(claims).Serialize()
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
// caches and re-reads when a token names a key it does not know.
type Verifier struct {
	Keys     PublicKeyStore
	Audience string
	Now      func() time.Time

	mu        sync.Mutex
	jwks      *jose.JSONWebKeySet
	fetchedAt time.Time
}

const (
	jwksTTL          = 5 * time.Minute
	jwksRefetchAfter = 10 * time.Second
)

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
		if ks := v.jwks.Key(kid); len(ks) > 0 {
			return &ks[0]
		}
		return nil
	}
	if k := find(); k != nil && v.now().Sub(v.fetchedAt) < jwksTTL {
		return k, nil
	}
	if v.jwks == nil || v.now().Sub(v.fetchedAt) >= jwksRefetchAfter {
		raw, err := v.Keys.JWKS(ctx)
		if err != nil && !errors.Is(err, ErrNoKeySet) {
			if k := find(); k != nil {
				return k, nil
			}
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
		v.jwks, v.fetchedAt = &set, v.now()
	}
	if k := find(); k != nil {
		return k, nil
	}
	return nil, ErrInvalidToken
}

// Verify checks a token's signature (RS256 only: "none" and every other
// algorithm are refused), issuer, audience and times.
func (v *Verifier) Verify(ctx context.Context, raw, issuer string) (Principal, error) {
	tok, err := jwt.ParseSigned(raw, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil || len(tok.Headers) != 1 {
		return Principal{}, ErrInvalidToken
	}
	key, err := v.key(ctx, tok.Headers[0].KeyID)
	if err != nil {
		if errors.Is(err, ErrInvalidToken) {
			return Principal{}, err
		}
		return Principal{}, fmt.Errorf("read signing keys: %w", err)
	}
	var c Claims
	if err := tok.Claims(key.Key, &c); err != nil {
		return Principal{}, ErrInvalidToken
	}
	aud := v.Audience
	if aud == "" {
		aud = DefaultAudience
	}
	if err := c.ValidateWithLeeway(jwt.Expected{Issuer: issuer, AnyAudience: jwt.Audience{aud}, Time: v.now()}, 5*time.Second); err != nil {
		return Principal{}, ErrInvalidToken
	}
	if c.Expiry == nil || c.ClientID == "" {
		return Principal{}, ErrInvalidToken
	}
	return Principal{ClientID: c.ClientID, TenantID: c.TenantID, Roles: c.Roles}, nil
}
