package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"sync"

	"identityservice/shared/identity"
)

// Fixtures are written through the domain service (the real store and
// vault), so they follow the data model, whatever it is when the bench runs.

// caller is a client whose access token the bench sends.
type caller struct {
	tenant   string
	clientID string
	secret   string
	bearer   string // "Bearer <token>"
}

// newTenant creates a tenant.
func (b *bench) newTenant(ctx context.Context, name string) (string, error) {
	t, err := b.s.service().CreateTenant(ctx, identity.NewID(), name, 0)
	return t.ID, err
}

// newCaller creates an Account Administrator (and Member) client in tenant
// and gets its access token from the token function.
func (b *bench) newCaller(ctx context.Context, tenant string) (*caller, error) {
	c, err := b.s.service().CreateClient(ctx, tenant, identity.NewClient{
		Kind: identity.ClientCredential, Name: "bench administrator",
		RoleIDs: &[]string{identity.RoleAccountAdministrator, identity.RoleAccountMember},
	})
	if err != nil {
		return nil, err
	}
	cl := &caller{tenant: tenant, clientID: c.Client.ID, secret: c.SecretString}
	resp, err := b.s.fn("functions/token").invoke(ctx, tokenRequest(cl.clientID, cl.secret).event())
	if err != nil {
		return nil, err
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal([]byte(resp.Body), &tok); err != nil || tok.AccessToken == "" {
		return nil, fmt.Errorf("token for the bench caller: %d %s", resp.StatusCode, resp.Body)
	}
	cl.bearer = "Bearer " + tok.AccessToken
	return cl, nil
}

func tokenRequest(clientID, secret string) request {
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {clientID}, "client_secret": {secret}}
	return request{method: "POST", path: "/identity/connect/token",
		header: map[string]string{"content-type": "application/x-www-form-urlencoded"}, body: form.Encode()}
}

// fixtureClient is a client and the secrets the bench added to it.
type fixtureClient struct {
	id      string
	secrets []string // first secret first
	secret  string   // the first secret's plain text
}

// seeder is the service with a vault that writes no material: fixtures
// that never authenticate are written through the real store (so they
// follow the data model) without a Secrets Manager write each, which on a
// loaded machine made moto the bench's bottleneck. A measured DELETE of
// such a fixture still reads its verifier pack, but finds no entry and
// writes nothing: it measures one Secrets Manager call (and one KMS
// request) fewer than a delete of a secret with material, which also
// writes the pack back (PutSecretValue).
func (b *bench) seeder() *identity.Service {
	app := b.s.fn("functions/clientcredentialclients").app
	return &identity.Service{Stores: app.Store.Identity(), Vault: noMaterial{}, SealKeys: app.Service.SealKeys, Log: b.s.log, DefaultClientLimit: identity.DefaultClientLimit}
}

// newClients creates n clients of a kind in tenant, 8 at a time, without
// material (see seeder).
func (b *bench) newClients(ctx context.Context, tenant string, kind identity.ClientKind, n int) ([]fixtureClient, error) {
	return b.createClients(ctx, b.seeder(), tenant, kind, n)
}

// newAuthClients creates clients that can authenticate: their material is
// stored.
func (b *bench) newAuthClients(ctx context.Context, tenant string, kind identity.ClientKind, n int) ([]fixtureClient, error) {
	return b.createClients(ctx, b.s.service(), tenant, kind, n)
}

func (b *bench) createClients(ctx context.Context, svc *identity.Service, tenant string, kind identity.ClientKind, n int) ([]fixtureClient, error) {
	out := make([]fixtureClient, n)
	err := parallel(n, 8, func(i int) error {
		in := identity.NewClient{Kind: kind, Name: fmt.Sprintf("bench-%d", i), Tags: []string{"bench", fmt.Sprintf("t%d", i%10)}}
		if kind == identity.Hybrid {
			in.RedirectURIs = []string{"https://app.example.com/signin-oidc"}
			in.ClientURI = "https://app.example.com/"
		}
		c, err := svc.CreateClient(ctx, tenant, in)
		if err != nil {
			return err
		}
		out[i] = fixtureClient{id: c.Client.ID, secrets: []string{c.Secret.ID}, secret: c.SecretString}
		return nil
	})
	return out, err
}

// addSecrets adds n secrets to a client, one after another, without
// material (see seeder).
func (b *bench) addSecrets(ctx context.Context, tenant string, kind identity.ClientKind, c *fixtureClient, n int) error {
	svc := b.seeder()
	for range n {
		s, err := svc.AddSecret(ctx, tenant, kind, c.id, "bench", "Description", nil, "Expiration")
		if err != nil {
			return err
		}
		c.secrets = append(c.secrets, s.Secret.ID)
	}
	return nil
}

// parallel runs f(0..n-1) on at most p goroutines and returns the first error.
func parallel(n, p int, f func(i int) error) error {
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
	)
	next := make(chan int)
	for range min(p, max(n, 1)) {
		wg.Go(func() {
			for i := range next {
				if err := f(i); err != nil {
					mu.Lock()
					if first == nil {
						first = err
					}
					mu.Unlock()
				}
			}
		})
	}
	for i := range n {
		mu.Lock()
		failed := first != nil
		mu.Unlock()
		if failed {
			break // the first error ends the work
		}
		next <- i
	}
	close(next)
	wg.Wait()
	return first
}
