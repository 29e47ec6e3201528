package auth

import (
	"context"
	"encoding/json"
	"fmt"
)

// stillActiveAndPublished decides whether a process that cannot read its
// key set (Secrets Manager unreachable past KeyRefresh) may keep signing
// with the set it holds: only if the published JWKS, which it can still
// read from the table, holds the active key as an active key (present,
// without the "exp" that marks a retired one). A revocation removes the
// key from the published set and a rotation retires it there at once, so
// an operator's change reaches a process that cannot read the key set
// within KeyRefresh, as it reaches one that can: it refuses to sign
// rather than issue tokens of a key withdrawn or retired.
func stillActiveAndPublished(ctx context.Context, pub PublicKeyStore, ks KeySet) error {
	raw, err := pub.JWKS(ctx)
	if err != nil {
		return fmt.Errorf("the key set is unreadable and so is the published JWKS: %w", err)
	}
	var doc struct {
		Keys []struct {
			Kid string          `json:"kid"`
			Exp json.RawMessage `json:"exp"`
		} `json:"keys"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		return fmt.Errorf("the key set is unreadable and the published JWKS is not a JWKS: %w", err)
	}
	for _, k := range doc.Keys {
		if k.Kid == ks.Active {
			if k.Exp != nil {
				return fmt.Errorf("the key set is unreadable and the published set has retired the active key %s", ks.Active)
			}
			return nil
		}
	}
	return fmt.Errorf("the key set is unreadable and the published set no longer holds the active key %s (revoked)", ks.Active)
}
