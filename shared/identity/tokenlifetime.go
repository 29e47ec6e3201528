package identity

import "time"

// Bounds of a client's AccessTokenLifetime, in seconds, as the v1 API
// reference gives them (docs/api.md, "Access token lifetime").
const (
	MinAccessTokenLifetime     = 60
	MaxAccessTokenLifetime     = 3600
	DefaultAccessTokenLifetime = 3600
)

// ValidateAccessTokenLifetime checks a requested lifetime in seconds.
func ValidateAccessTokenLifetime(seconds int) error {
	if seconds < MinAccessTokenLifetime || seconds > MaxAccessTokenLifetime {
		return Invalid("AccessTokenLifetime %d is out of range: it is in seconds, from %d to %d.",
			"Send a lifetime from 60 to 3600 seconds, or omit it for the default of 3600.", seconds, MinAccessTokenLifetime, MaxAccessTokenLifetime)
	}
	return nil
}

// TokenLifetime is how long the client's access tokens live: its
// AccessTokenLifetime, or the default for a client stored without one
// (created before the property existed).
func (c Client) TokenLifetime() time.Duration {
	s := c.AccessTokenLifetime
	if s < MinAccessTokenLifetime || s > MaxAccessTokenLifetime {
		s = DefaultAccessTokenLifetime
	}
	return time.Duration(s) * time.Second
}

// accessTokenLifetime is the lifetime a create stores: the requested one,
// validated, or the default.
func accessTokenLifetime(requested *int) (int, error) {
	if requested == nil {
		return DefaultAccessTokenLifetime, nil
	}
	return *requested, ValidateAccessTokenLifetime(*requested)
}
