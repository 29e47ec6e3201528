package auth

import (
	"bytes"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
)

// Access tokens are compact JWS (RFC 7515) with one fixed header shape and
// one algorithm, RS256, so they are built and checked here directly: the
// general builder and parser of go-jose marshal the claims twice (through
// a map) and decode them with reflection, which cost about as much CPU as
// the rest of a token request besides the signature (make bench-profile).
// go-jose still reads and writes the JWKS.

// algRS256 is the only algorithm tokens are signed and accepted with.
const algRS256 = "RS256"

// tokenType is the access token's typ header (RFC 9068).
const tokenType = "at+jwt"

// header is a token's JOSE header.
type header struct {
	Alg  string   `json:"alg"`
	Kid  string   `json:"kid,omitempty"`
	Typ  string   `json:"typ,omitempty"`
	Crit []string `json:"crit,omitempty"`
}

var b64 = base64.RawURLEncoding

// signRS256 returns the compact serialization of claims signed with key.
func signRS256(key *rsa.PrivateKey, kid string, claims any) (string, error) {
	h, err := json.Marshal(header{Alg: algRS256, Kid: kid, Typ: tokenType})
	if err != nil {
		return "", err
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	var buf strings.Builder
	buf.Grow(b64.EncodedLen(len(h)) + b64.EncodedLen(len(payload)) + b64.EncodedLen(key.Size()) + 2)
	buf.WriteString(b64.EncodeToString(h))
	buf.WriteByte('.')
	buf.WriteString(b64.EncodeToString(payload))
	digest := sha256.Sum256([]byte(buf.String()))
	sig, err := rsa.SignPKCS1v15(nil, key, crypto.SHA256, digest[:])
	if err != nil {
		return "", err
	}
	buf.WriteByte('.')
	buf.WriteString(b64.EncodeToString(sig))
	return buf.String(), nil
}

var errMalformed = errors.New("malformed token")

// parsedToken is a compact JWS split into its parts, the header decoded;
// the signature is not checked yet.
type parsedToken struct {
	header       header
	signingInput string // header.payload, what the signature covers
	payload, sig []byte
}

// parseCompact splits and decodes a compact JWS. It refuses anything but
// exactly three base64url parts, a header that is not a JSON object, an
// algorithm other than RS256 (so "none" and HMAC with a public key are
// impossible) and critical header parameters, none of which tokens use.
func parseCompact(raw string) (parsedToken, error) {
	var t parsedToken
	first := strings.IndexByte(raw, '.')
	last := strings.LastIndexByte(raw, '.')
	if first <= 0 || last == first || last == len(raw)-1 || strings.Count(raw, ".") != 2 {
		return t, errMalformed
	}
	h, err := b64.DecodeString(raw[:first])
	if err != nil {
		return t, errMalformed
	}
	dec := json.NewDecoder(bytes.NewReader(h))
	if err := dec.Decode(&t.header); err != nil || dec.More() {
		return t, errMalformed
	}
	if t.header.Alg != algRS256 || len(t.header.Crit) > 0 {
		return t, errMalformed
	}
	if t.payload, err = b64.DecodeString(raw[first+1 : last]); err != nil {
		return t, errMalformed
	}
	if t.sig, err = b64.DecodeString(raw[last+1:]); err != nil {
		return t, errMalformed
	}
	t.signingInput = raw[:last]
	return t, nil
}

// verifyRS256 checks the token's signature with key.
func (t parsedToken) verifyRS256(key *rsa.PublicKey) error {
	digest := sha256.Sum256([]byte(t.signingInput))
	return rsa.VerifyPKCS1v15(key, crypto.SHA256, digest[:], t.sig)
}

// audience is the aud claim: one string, or an array of them (RFC 7519
// 4.1.3). It is written as a string when it holds one value, as go-jose did.
type audience []string

func (a audience) MarshalJSON() ([]byte, error) {
	if len(a) == 1 {
		return json.Marshal(a[0])
	}
	return json.Marshal([]string(a))
}

func (a *audience) UnmarshalJSON(b []byte) error {
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		*a = audience{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return err
	}
	*a = many
	return nil
}

func (a audience) contains(v string) bool {
	for _, x := range a {
		if x == v {
			return true
		}
	}
	return false
}
