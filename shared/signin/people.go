package signin

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"identityservice/shared/identity"
)

// Person is someone this service knows through a tenant's upstream: a
// stable Subject of its own (the sub of the tokens it issues) per
// (tenant, upstream issuer, upstream sub), and the profile claims tokens
// and userinfo need. Nothing else about people is kept.
type Person struct {
	TenantID        string
	Subject         string // this service's sub: random, fixed at the first sign-in
	Issuer          string // the upstream's issuer
	UpstreamSubject string // the upstream's sub
	Name            string
	Email           string
	EmailVerified   bool
	Updated         time.Time
}

// People keeps people.
type People interface {
	// SavePerson stores the person's profile claims, keyed by (TenantID,
	// Issuer, UpstreamSubject), and returns it with its Subject: the one
	// already stored, or a new one (newSubject) on the first sign-in.
	SavePerson(ctx context.Context, p Person, newSubject string) (Person, error)
}

// DeniedError says why a tenant's rules turn a person away (they land on
// the no-access page).
type DeniedError struct{ Reason string }

func (e *DeniedError) Error() string { return "sign-in not allowed: " + e.Reason }

// Admit applies a tenant's rules to a person the upstream vouched for: the
// email's domain must be one of AllowedDomains (when any are set), and
// the role claim's values map to this service's tenant roles through
// RoleMap (cluster roles never: an upstream cannot grant them). With
// RoleRequired, a person no value maps for is turned away. It returns the
// person's roles, sorted and without repeats.
func Admit(u Upstream, id UpstreamIdentity) ([]string, error) {
	if len(u.AllowedDomains) > 0 {
		at := strings.LastIndex(id.Email, "@")
		// The upstream is the tenant's own provider, trusted for the
		// addresses it states (many, Entra ID among them, send no
		// email_verified): docs/signin.md.
		if at < 0 {
			return nil, &DeniedError{Reason: "the upstream gave no email address, and the tenant admits only some email domains"}
		}
		domain := strings.ToLower(id.Email[at+1:])
		if !slices.ContainsFunc(u.AllowedDomains, func(d string) bool { return strings.EqualFold(d, domain) }) {
			return nil, &DeniedError{Reason: "the email domain " + domain + " is not one the tenant admits"}
		}
	}
	var roles []string
	for _, v := range id.RoleClaimValues {
		for _, r := range u.RoleMap[v] {
			role, ok := identity.RoleByID(r)
			if ok && !role.Cluster && !slices.Contains(roles, r) {
				roles = append(roles, r)
			}
		}
	}
	slices.Sort(roles)
	if u.RoleRequired && len(roles) == 0 {
		return nil, &DeniedError{Reason: "none of the person's upstream roles maps to a role of the tenant, and the tenant requires one"}
	}
	if roles == nil {
		roles = []string{}
	}
	return roles, nil
}

// ErrNotFound is what a store answers for a session, code or interaction
// that does not exist (or no longer does).
var ErrNotFound = errors.New("not found")
