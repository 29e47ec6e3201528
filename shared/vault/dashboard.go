package vault

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"

	"identityservice/shared/signin"
)

// DashboardClients keeps each tenant's dashboard client (its id and
// secret, as JSON) under <prefix>/dashboard/<tenant>: the operations
// dashboard sends the secret to the token endpoint, so it is kept as it
// is, like an upstream's client secret, and only PortalFunction may read
// it (template.yaml). Outside the clients/ prefix, so the sweeper's
// reconciliation of client material never sees it.
type DashboardClients struct {
	api    UpstreamsAPI
	prefix string
}

var _ signin.DashboardClients = (*DashboardClients)(nil)

// NewDashboardClients returns the dashboard clients under prefix (the
// stack name).
func NewDashboardClients(api UpstreamsAPI, prefix string) *DashboardClients {
	return &DashboardClients{api: api, prefix: prefix}
}

// DashboardClientName is the Secrets Manager name of a tenant's dashboard
// client.
func DashboardClientName(prefix, tenantID string) string { return prefix + "/dashboard/" + tenantID }

// PutDashboardClient implements signin.DashboardClients.
func (v *DashboardClients) PutDashboardClient(ctx context.Context, tenantID string, c signin.DashboardClient) error {
	if c.ClientID == "" || c.ClientSecret == "" {
		return errors.New("the dashboard client needs an id and a secret")
	}
	b, err := json.Marshal(c)
	if err != nil {
		return err
	}
	if err := putPlain(ctx, v.api, DashboardClientName(v.prefix, tenantID), string(b), tenantID,
		"The operations dashboard's client in this tenant (id and secret, sent to the token endpoint)."); err != nil {
		return fmt.Errorf("store the dashboard client of tenant %s: %w", tenantID, err)
	}
	return nil
}

// DashboardClient implements signin.DashboardClients.
func (v *DashboardClients) DashboardClient(ctx context.Context, tenantID string) (signin.DashboardClient, error) {
	out, err := v.api.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(DashboardClientName(v.prefix, tenantID))})
	var nf *types.ResourceNotFoundException
	if errors.As(err, &nf) {
		return signin.DashboardClient{}, signin.ErrNotFound
	}
	if err != nil {
		return signin.DashboardClient{}, fmt.Errorf("read the dashboard client of tenant %s: %w", tenantID, err)
	}
	var c signin.DashboardClient
	if err := json.Unmarshal([]byte(aws.ToString(out.SecretString)), &c); err != nil || c.ClientID == "" {
		return signin.DashboardClient{}, fmt.Errorf("the dashboard client of tenant %s is not readable: store it again with make admin ARGS='dashboard register'", tenantID)
	}
	return c, nil
}
