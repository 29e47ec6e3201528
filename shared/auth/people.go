package auth

import (
	"context"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"fmt"
	"hash"
	"slices"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"
)

// IDTokenLifetime is the lifetime of an ID token: it is read once, when it
// arrives.
const IDTokenLifetime = 10 * time.Minute

// KeySource gives the current signing key set.
type KeySource interface {
	KeySet(ctx context.Context) (KeySet, error)
}

// PersonGrant is what tokens for a signed-in person say.
type PersonGrant struct {
	Issuer    string
	ClientID  string
	TenantID  string
	Subject   string
	SessionID string
	Roles     []string
	Scopes    []string
	Nonce     string
	AuthTime  time.Time
	Name      string // sent when Scopes has profile
	Email     string // sent when Scopes has email
	// Code is the authorization code issued beside the ID token in the
	// front channel ("": none), hashed into c_hash.
	Code string
}

// PersonTokens are the tokens of one grant; a part not asked for is "".
type PersonTokens struct {
	AccessToken string
	ExpiresIn   int
	IDToken     string
}

// PersonIssuer signs ID tokens and people's access tokens with the
// service's current key (the same JWKS as every token).
type PersonIssuer struct {
	Keys     KeySource
	Audience string // of access tokens (the management API)
	Now      func() time.Time
}

// Issue signs the tokens of a grant: an access token when access, an ID
// token when id (with at_hash when both, c_hash when g.Code is set).
func (p *PersonIssuer) Issue(ctx context.Context, g PersonGrant, access, id bool) (PersonTokens, error) {
	ks, err := p.Keys.KeySet(ctx)
	if err != nil {
		return PersonTokens{}, err
	}
	key, err := ks.ActiveKey()
	if err != nil {
		return PersonTokens{}, err
	}
	method := jwt.GetSigningMethod(string(key.Alg))
	if method == nil || keyAlg(key.Private) != key.Alg {
		return PersonTokens{}, fmt.Errorf("signing key %s: no %q signer", key.KID, key.Alg)
	}
	now := time.Now()
	if p.Now != nil {
		now = p.Now()
	}
	sign := func(claims jwt.Claims, typ string) (string, error) {
		tok := jwt.NewWithClaims(method, claims)
		tok.Header["kid"] = key.KID
		tok.Header["typ"] = typ
		return tok.SignedString(key.Private)
	}
	var out PersonTokens
	if access {
		roles := g.Roles
		if roles == nil {
			roles = []string{}
		}
		aud := p.Audience
		if aud == "" {
			aud = DefaultAudience
		}
		c := &Claims{
			Issuer: g.Issuer, Subject: g.Subject, Audience: audience{aud},
			Expiry: jwt.NewNumericDate(now.Add(TokenLifetime)), IssuedAt: jwt.NewNumericDate(now), NotBefore: jwt.NewNumericDate(now),
			ID: uuid.NewString(), ClientID: g.ClientID, TenantID: g.TenantID, Roles: roles,
			Scope: strings.Join(g.Scopes, " "), SessionID: g.SessionID,
		}
		// The name only with the person's consent to profile, as in the
		// ID token: the client can read its access token too.
		if slices.Contains(g.Scopes, "profile") {
			c.Name = g.Name
		}
		if out.AccessToken, err = sign(c, tokenType); err != nil {
			return PersonTokens{}, err
		}
		out.ExpiresIn = int(TokenLifetime.Seconds())
	}
	if id {
		c := jwt.MapClaims{
			"iss": g.Issuer, "sub": g.Subject, "aud": g.ClientID,
			"exp": now.Add(IDTokenLifetime).Unix(), "iat": now.Unix(),
			"auth_time": g.AuthTime.Unix(), "sid": g.SessionID, "tid": g.TenantID,
		}
		if g.Nonce != "" {
			c["nonce"] = g.Nonce
		}
		if out.AccessToken != "" {
			c["at_hash"] = ClaimHash(out.AccessToken, key.Alg)
		}
		if g.Code != "" {
			c["c_hash"] = ClaimHash(g.Code, key.Alg)
		}
		for _, s := range g.Scopes {
			switch s {
			case "profile":
				c["name"] = g.Name
			case "email":
				c["email"] = g.Email
			}
		}
		if out.IDToken, err = sign(c, "JWT"); err != nil {
			return PersonTokens{}, err
		}
	}
	return out, nil
}

// ClaimHash is at_hash or c_hash (OpenID Connect Core 3.3.2.11): the
// base64url of the left half of the hash of value, with the hash of the
// signing algorithm (SHA-256 for RS256 and ES256).
func ClaimHash(value string, alg Alg) string {
	var h hash.Hash
	switch alg {
	case RS256, ES256:
		h = sha256.New()
	default:
		h = sha512.New() // no such key today; never a weaker hash
	}
	h.Write([]byte(value))
	sum := h.Sum(nil)
	return base64.RawURLEncoding.EncodeToString(sum[:len(sum)/2])
}

// IDTokenHint is what an ID token this service issued says of the
// session it was issued in, for end session.
type IDTokenHint struct {
	ClientID  string
	TenantID  string
	Subject   string
	SessionID string
}

// VerifyIDTokenHint checks an id_token_hint: signed by one of the published
// keys, issued by issuer. Its expiry is not checked (OpenID Connect
// RP-Initiated Logout 1.0, 2: the hint may have expired). Any failure is
// ErrInvalidToken.
func (v *Verifier) VerifyIDTokenHint(ctx context.Context, raw, issuer string) (IDTokenHint, error) {
	var c jwt.MapClaims
	parser := jwt.NewParser(jwt.WithValidMethods(acceptedAlgs), jwt.WithIssuer(issuer), jwt.WithoutClaimsValidation())
	if _, err := parser.ParseWithClaims(raw, &c, v.idTokenKey(ctx)); err != nil {
		return IDTokenHint{}, ErrInvalidToken
	}
	if iss, _ := c["iss"].(string); iss != issuer {
		return IDTokenHint{}, ErrInvalidToken
	}
	aud, _ := c["aud"].(string)
	sub, _ := c["sub"].(string)
	sid, _ := c["sid"].(string)
	tid, _ := c["tid"].(string)
	if aud == "" || sub == "" || sid == "" {
		return IDTokenHint{}, ErrInvalidToken
	}
	return IDTokenHint{ClientID: aud, TenantID: tid, Subject: sub, SessionID: sid}, nil
}
