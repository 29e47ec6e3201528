package signin

import "errors"

// ErrUpstreamChanged means PutUpstream was given a Version that is no
// longer the stored one: someone else set or removed the tenant's upstream
// since it was read. Read it again and retry.
//
// PutUpstream's Version contract: the Version of the Upstream as it was
// read (0 when the tenant had none); the store writes Version+1, on the
// condition that the stored item still has that Version (or, for 0, that
// there is none).
var ErrUpstreamChanged = errors.New("the tenant's upstream identity provider changed since it was read")
