package portal

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"identityservice/shared/identity"
	"identityservice/shared/signin"
)

// ClientCreator creates the dashboard's client (identity.Service).
type ClientCreator interface {
	CreateClient(ctx context.Context, tenantID string, in identity.NewClient) (identity.CreatedClient, error)
}

// Registration is a tenant's dashboard client as Register made or found it.
type Registration struct {
	ClientID    string
	RedirectURI string
	New         bool // false: the tenant had one, which was kept
}

// DashboardClientName is the name of every tenant's dashboard client.
const DashboardClientName = "Operations dashboard"

// Register gives a tenant a dashboard client, unless it has one: a Hybrid
// client whose redirect URI is the dashboard's callback at apiURL (the
// API's base URL, as people's browsers reach it) and whose post-logout
// redirect URI is the dashboard, with no access token via the browser and
// no offline access; its id and secret go to clients (Secrets Manager),
// where only PortalFunction reads them. The operator CLI
// (`make admin ARGS='dashboard register ...'`) and `make run` call it.
func Register(ctx context.Context, svc ClientCreator, clients signin.DashboardClients, tenantID, apiURL string) (Registration, error) {
	u, err := url.Parse(apiURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return Registration{}, fmt.Errorf("--url %q is not the API's base URL (such as https://abc123.execute-api.eu-west-1.amazonaws.com)", apiURL)
	}
	base := strings.TrimSuffix(apiURL, "/")
	redirect := base + CallbackPath
	existing, err := clients.DashboardClient(ctx, tenantID)
	if err == nil {
		return Registration{ClientID: existing.ClientID, RedirectURI: redirect}, nil
	}
	if !errors.Is(err, signin.ErrNotFound) {
		return Registration{}, err
	}
	c, err := svc.CreateClient(ctx, tenantID, identity.NewClient{
		Kind: identity.Hybrid, Name: DashboardClientName,
		RedirectURIs: []string{redirect}, PostLogoutRedirectURIs: []string{base + DashboardPath},
		ClientURI: base + DashboardPath, SecretDescription: "the operations dashboard's (PortalFunction reads it from Secrets Manager)",
	})
	if err != nil {
		return Registration{}, err
	}
	if err := clients.PutDashboardClient(ctx, tenantID, signin.DashboardClient{ClientID: c.Client.ID, ClientSecret: c.SecretString}); err != nil {
		return Registration{}, fmt.Errorf("client %s was created, but its secret could not be stored (delete the client and run this again): %w", c.Client.ID, err)
	}
	return Registration{ClientID: c.Client.ID, RedirectURI: redirect, New: true}, nil
}
