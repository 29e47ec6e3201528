package auth

import (
	"context"
	"crypto/subtle"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// IDToken is what an ID token this service issued says of a person.
type IDToken struct {
	Subject   string
	TenantID  string
	SessionID string
	Name      string
	Email     string
	AuthTime  time.Time
}

// VerifyIDToken checks an ID token a relying party of this service got
// from its token endpoint (OpenID Connect Core 3.1.3.7): signed by one of
// the published keys, issued by issuer, for clientID, unexpired, and
// carrying nonce. The operations dashboard uses it on its own sign-in.
// Any failure is ErrInvalidToken.
func (v *Verifier) VerifyIDToken(ctx context.Context, raw, issuer, clientID, nonce string) (IDToken, error) {
	var c struct {
		jwt.RegisteredClaims
		Nonce    string `json:"nonce"`
		SID      string `json:"sid"`
		TID      string `json:"tid"`
		Name     string `json:"name"`
		Email    string `json:"email"`
		AuthTime int64  `json:"auth_time"`
	}
	parser := jwt.NewParser(jwt.WithValidMethods(acceptedAlgs), jwt.WithIssuer(issuer), jwt.WithAudience(clientID),
		jwt.WithLeeway(leeway), jwt.WithExpirationRequired(), jwt.WithIssuedAt(), jwt.WithTimeFunc(v.now))
	if _, err := parser.ParseWithClaims(raw, &c, v.idTokenKey(ctx)); err != nil {
		return IDToken{}, ErrInvalidToken
	}
	if nonce == "" || subtle.ConstantTimeCompare([]byte(c.Nonce), []byte(nonce)) != 1 || c.Subject == "" {
		return IDToken{}, ErrInvalidToken
	}
	return IDToken{Subject: c.Subject, TenantID: c.TID, SessionID: c.SID, Name: c.Name, Email: c.Email, AuthTime: time.Unix(c.AuthTime, 0).UTC()}, nil
}

// idTokenKey finds the published key of an ID token: by its kid, held to
// the algorithm the key states; no critical header parameters.
func (v *Verifier) idTokenKey(ctx context.Context) jwt.Keyfunc {
	return func(t *jwt.Token) (any, error) {
		if _, ok := t.Header["crit"]; ok {
			return nil, errCritical
		}
		kid, _ := t.Header["kid"].(string)
		key, err := v.key(ctx, kid)
		if err != nil {
			return nil, err
		}
		return verificationKey(key, t.Method.Alg())
	}
}
