package config

import (
	"context"
	"time"

	"identityservice/shared/auth"
	"identityservice/shared/federation"
	"identityservice/shared/identity"
	"identityservice/shared/signin"
	"identityservice/shared/store"
	"identityservice/shared/vault"
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
	c, secrets, err := a.Store.Credentials.ClientForAuthentication(ctx, clientID)
	if err != nil {
		return identity.Client{}, false, err
	}
	now := time.Now()
	active := false
	for _, sec := range secrets {
		active = active || sec.Active(now)
	}
	full, err := a.Store.Clients.GetClient(ctx, c.TenantID, c.Kind, clientID)
	return full, active, err
}

// Upstreams is each tenant's upstream provider (signin.UpstreamStore) on
// the service's table.
func (a *App) Upstreams() signin.UpstreamStore {
	return store.NewUpstreams(a.Clients.DynamoDB, a.Config.Table)
}

// Federation talks to the tenants' upstreams (signin.Federation), with
// their client secrets from Secrets Manager.
func (a *App) Federation() signin.Federation {
	return federation.New(vault.NewUpstreams(a.Clients.SecretsManager, a.Config.SecretPrefix), federation.HTTPClient())
}

// DashboardClients is each tenant's operations-dashboard client
// (signin.DashboardClients) in Secrets Manager.
func (a *App) DashboardClients() signin.DashboardClients {
	return vault.NewDashboardClients(a.Clients.SecretsManager, a.Config.SecretPrefix)
}
