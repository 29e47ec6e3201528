package auth

import (
	"net/http"
	"strings"
)

// BearerAuthenticator reads and verifies the bearer token of a request.
type BearerAuthenticator struct {
	Verifier *Verifier
	Issuer   func(*http.Request) string // the tokens' iss for the request (IssuerURL)
}

// Authenticate returns the request's principal, ErrInvalidToken for a
// missing, malformed, expired, wrongly signed or unsigned token, or another
// error when the keys could not be read.
func (a *BearerAuthenticator) Authenticate(r *http.Request) (Principal, error) {
	h := r.Header.Get("Authorization")
	scheme, token, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(token) == "" {
		return Principal{}, ErrInvalidToken
	}
	return a.Verifier.Verify(r.Context(), strings.TrimSpace(token), a.Issuer(r))
}
