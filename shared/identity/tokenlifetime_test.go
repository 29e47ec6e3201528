package identity_test

import (
	"testing"
	"time"

	"identityservice/shared/identity"
)

func TestAccessTokenLifetime(t *testing.T) {
	for _, tc := range []struct {
		seconds int
		valid   bool
	}{{59, false}, {60, true}, {1800, true}, {3600, true}, {3601, false}, {0, false}, {-60, false}} {
		if err := identity.ValidateAccessTokenLifetime(tc.seconds); (err == nil) != tc.valid || (err != nil && identity.KindOf(err) != identity.KindInvalid) {
			t.Errorf("ValidateAccessTokenLifetime(%d) = %v, want valid=%v", tc.seconds, err, tc.valid)
		}
	}
	for stored, want := range map[int]time.Duration{0: time.Hour, 60: time.Minute, 900: 15 * time.Minute, 3600: time.Hour} {
		if got := (identity.Client{AccessTokenLifetime: stored}).TokenLifetime(); got != want {
			t.Errorf("TokenLifetime of a client storing %d = %v, want %v", stored, got, want)
		}
	}
}
