package apitest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"

	"identityservice/shared/identity"
)

// tokenError is an RFC 6749 section 5.2 error body.
type tokenError struct {
	Error       string `json:"error"`
	Description string `json:"error_description"`
}

// unknownClientAnswer is the token endpoint's answer to a client id it has
// never seen: the answer every other authentication failure must match.
func (s *stack) unknownClientAnswer(t *testing.T, m authMethod) response {
	t.Helper()
	secret, _, err := identity.GenerateSecret(identity.MaterialRef{})
	if err != nil {
		t.Fatal(err)
	}
	return s.tokenRequest(t, m, identity.NewID(), secret)
}

// checkInvalidClient checks that res is the invalid_client answer and
// that it is indistinguishable from ref, the answer to an unknown client:
// same status, same body byte for byte, same headers but Date and
// Operation-Id.
func checkInvalidClient(t *testing.T, res, ref response) {
	t.Helper()
	var e tokenError
	if res.Status != http.StatusUnauthorized || decodeStrict(res.Body, &e) != nil || e.Error != "invalid_client" {
		t.Fatalf("got %s, want 401 invalid_client", res)
	}
	if !bytes.Equal(res.Body, ref.Body) {
		t.Errorf("body %s differs from the unknown client's %s", res.Body, ref.Body)
	}
	if got, want := comparableHeader(res.Header), comparableHeader(ref.Header); !maps(got, want) {
		t.Errorf("headers %v differ from the unknown client's %v", got, want)
	}
	if cc := res.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control %q, want no-store", cc)
	}
}

// comparableHeader drops the headers that differ on every response.
func comparableHeader(h http.Header) http.Header {
	out := h.Clone()
	out.Del("Date")
	out.Del("Operation-Id")
	return out
}

func maps(a, b http.Header) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if !slices.Equal(v, b[k]) {
			return false
		}
	}
	return true
}

// Each way of revoking a client's access stops token issuance on the very
// next token request, though the client got a token just before (so the
// secret's material is in the token endpoint's cache): validity is read
// live. Revoking one secret leaves the client's other secret working;
// disabling or deleting the client stops both.
func TestRevocationTakesEffectOnTheNextTokenRequest(t *testing.T) {
	s := api(t)
	admin := s.callers[accountAdmin]
	refs := map[authMethod]response{
		clientSecretBasic: s.unknownClientAnswer(t, clientSecretBasic),
		clientSecretPost:  s.unknownClientAnswer(t, clientSecretPost),
	}
	for _, tc := range []struct {
		name string
		// expiring: the first secret expires in an hour.
		expiring bool
		revoke   func(t *testing.T, c createdClient) response
		want     int
		// clientWide: the revocation stops the client's other secret too.
		clientWide bool
	}{
		{name: "client disabled (PUT Enabled false)", want: 200, clientWide: true, revoke: func(t *testing.T, c createdClient) response {
			return s.as(t, admin, http.MethodPut, fmt.Sprintf(cccPath+"/%s", s.tenant, c.ClientId), map[string]any{"Enabled": false})
		}},
		{name: "secret deleted (OCS DELETE)", want: 204, revoke: func(t *testing.T, c createdClient) response {
			return s.as(t, admin, http.MethodDelete, fmt.Sprintf(cccPath+"/%s/Secret/%s", s.tenant, c.ClientId, c.SecretId), nil)
		}},
		{name: "secret soft-deleted (Key Rotation DELETE)", want: 200, revoke: func(t *testing.T, c createdClient) response {
			return s.as(t, admin, http.MethodDelete, fmt.Sprintf("/api/tenants/%s/applications/%s/secrets/%s", s.tenant, c.ClientId, c.SecretId), nil)
		}},
		{name: "secret expired", expiring: true, want: 0, revoke: func(t *testing.T, c createdClient) response {
			// The service's clock passes the expiration; no request, no sleep.
			s.clock.advance(t, time.Hour+time.Minute)
			return response{}
		}},
		{name: "client deleted", want: 204, clientWide: true, revoke: func(t *testing.T, c createdClient) response {
			return s.as(t, admin, http.MethodDelete, fmt.Sprintf(cccPath+"/%s", s.tenant, c.ClientId), nil)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body := map[string]any{"Name": "revocation: " + tc.name}
			if tc.expiring {
				body["SecretExpirationDate"] = s.clock.Now().Add(time.Hour).UTC().Format(time.RFC3339)
			}
			c := s.createClient(t, body)
			var second struct{ ClientSecret string }
			res := s.as(t, admin, http.MethodPost, fmt.Sprintf(cccPath+"/%s/Secret", s.tenant, c.ClientId), map[string]any{"Description": "second, never expires"})
			if res.Status != http.StatusCreated || json.Unmarshal(res.Body, &second) != nil || second.ClientSecret == "" {
				t.Fatalf("add a second secret: %s", res)
			}
			for _, m := range []authMethod{clientSecretBasic, clientSecretPost} {
				s.mustToken(t, m, c.ClientId, c.ClientSecret)
			}

			if res := tc.revoke(t, c); res.Status != tc.want {
				t.Fatalf("revoke: got %s, want %d", res, tc.want)
			}

			for _, m := range []authMethod{clientSecretBasic, clientSecretPost} {
				t.Run(string(m), func(t *testing.T) {
					checkInvalidClient(t, s.tokenRequest(t, m, c.ClientId, c.ClientSecret), refs[m])
					if tc.clientWide {
						checkInvalidClient(t, s.tokenRequest(t, m, c.ClientId, second.ClientSecret), refs[m])
					} else {
						s.mustToken(t, m, c.ClientId, second.ClientSecret)
					}
				})
			}
		})
	}
}

// An unknown client and a wrong secret get the same answer, byte for byte,
// by either authentication method: a caller cannot learn which client ids
// exist.
func TestUnknownClientAndWrongSecretAreIndistinguishable(t *testing.T) {
	s := api(t)
	admin := s.callers[accountAdmin]
	otherSecret, _, err := identity.GenerateSecret(identity.MaterialRef{})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range []authMethod{clientSecretBasic, clientSecretPost} {
		t.Run(string(m), func(t *testing.T) {
			unknown := s.unknownClientAnswer(t, m)
			for _, tc := range []struct{ name, clientID, secret string }{
				{"wrong secret", admin.clientID, otherSecret},
				{"another client's secret", admin.clientID, s.callers[accountMember].secret},
				{"unknown client with a real secret", identity.NewID(), admin.secret},
				{"client id that is not a GUID", "not-a-guid", admin.secret},
				{"empty secret", admin.clientID, ""},
			} {
				t.Run(tc.name, func(t *testing.T) {
					checkInvalidClient(t, s.tokenRequest(t, m, tc.clientID, tc.secret), unknown)
				})
			}
		})
	}
}
