package localidp

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"

	jose "github.com/go-jose/go-jose/v4"
)

// claimFaults re-issues the ID token of every token response under the
// Audience and Claims faults: the same claims with those changes, signed
// by the provider's own key (the provider library always adds the client
// id to aud and sets iss itself, so these faults cannot be had through its
// storage).
func (s *idpStorage) claimFaults(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f := s.currentFaults()
		if (f.Audience == nil && f.Claims == nil) || r.URL.Path != "/oauth/token" {
			next.ServeHTTP(w, r)
			return
		}
		rec := httptest.NewRecorder()
		next.ServeHTTP(rec, r)
		body := rec.Body.Bytes()
		var res map[string]any
		if rec.Code == http.StatusOK && json.Unmarshal(body, &res) == nil {
			if raw, ok := res["id_token"].(string); ok {
				if token, err := s.resign(r, raw, f); err == nil {
					res["id_token"] = token
					body, _ = json.Marshal(res)
				}
			}
		}
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.WriteHeader(rec.Code)
		w.Write(body)
	})
}

func (s *idpStorage) resign(r *http.Request, raw string, f Faults) (string, error) {
	jws, err := jose.ParseSigned(raw, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		return "", err
	}
	var claims map[string]any
	if err := json.NewDecoder(bytes.NewReader(jws.UnsafePayloadWithoutVerification())).Decode(&claims); err != nil {
		return "", err
	}
	if f.Audience != nil {
		claims["aud"] = f.Audience
	}
	for k, v := range f.Claims {
		claims[k] = v
	}
	key, err := s.Storage.SigningKey(r.Context())
	if err != nil {
		return "", err
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: key.SignatureAlgorithm(), Key: key.Key()},
		(&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", key.ID()))
	if err != nil {
		return "", err
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	signed, err := signer.Sign(payload)
	if err != nil {
		return "", err
	}
	return signed.CompactSerialize()
}
