package config

import (
	"context"
	"errors"
	"time"

	"identityservice/shared/auth"
	"identityservice/shared/identity"
	"identityservice/shared/signin"
	"identityservice/shared/store"
)

// SignIn is the sign-in store (people, sessions, consents, codes,
// interactions) on the service's table.
func (a *App) SignIn() *store.SignIn { return store.NewSignIn(a.Clients.DynamoDB, a.Config.Table) }

// PersonIssuer signs ID tokens and people's access tokens with keys (the
// token function's KeyManager: no other function holds them).
func (a *App) PersonIssuer(keys auth.KeySource) *auth.PersonIssuer {
	return &auth.PersonIssuer{Keys: keys, Audience: a.Config.Audience}
}

// ClientByID finds a client of any tenant by its id alone: its token item
// names the tenant (and its secrets), then the client's item in the
// tenant (two reads). It says whether the client has an active secret:
// one without could not redeem a code.
func (a *App) ClientByID(ctx context.Context, clientID string) (identity.Client, bool, error) {
	c, secrets, err := a.Store.ClientForAuthentication(ctx, clientID)
	if err != nil {
		return identity.Client{}, false, err
	}
	now := time.Now()
	active := false
	for _, sec := range secrets {
		active = active || sec.Active(now)
	}
	full, err := a.Store.GetClient(ctx, c.TenantID, c.Kind, clientID)
	return full, active, err
}

// Upstreams is each tenant's upstream provider (signin.UpstreamStore).
// The DynamoDB implementation is the upstream half of sign-in (issue 16,
// its other branch); until it is wired here, no tenant has an upstream,
// and nobody can sign in (every authorization request is answered
// access_denied, every code exchange invalid_grant).
func (a *App) Upstreams() signin.UpstreamStore { return noUpstreams{} }

// Federation talks to the tenants' upstreams (signin.Federation); see
// Upstreams.
func (a *App) Federation() signin.Federation { return noUpstreams{} }

type noUpstreams struct{}

func (noUpstreams) PutUpstream(context.Context, signin.Upstream) error {
	return errors.New("no upstream store is wired")
}
func (noUpstreams) GetUpstream(context.Context, string) (signin.Upstream, error) {
	return signin.Upstream{}, signin.ErrUpstreamNotFound
}
func (noUpstreams) DeleteUpstream(context.Context, string) error { return nil }
func (noUpstreams) AuthCodeURL(context.Context, signin.Upstream, signin.UpstreamRequest) (string, error) {
	return "", signin.ErrUpstreamNotFound
}
func (noUpstreams) Finish(context.Context, signin.Upstream, string, string, string, string) (signin.UpstreamIdentity, error) {
	return signin.UpstreamIdentity{}, signin.ErrUpstreamNotFound
}
