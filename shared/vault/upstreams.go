package vault

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"

	"identityservice/shared/signin"
)

// UpstreamsAPI is the part of the Secrets Manager client the upstream
// secrets use.
type UpstreamsAPI interface {
	CreateSecret(context.Context, *secretsmanager.CreateSecretInput, ...func(*secretsmanager.Options)) (*secretsmanager.CreateSecretOutput, error)
	PutSecretValue(context.Context, *secretsmanager.PutSecretValueInput, ...func(*secretsmanager.Options)) (*secretsmanager.PutSecretValueOutput, error)
	GetSecretValue(context.Context, *secretsmanager.GetSecretValueInput, ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error)
	DeleteSecret(context.Context, *secretsmanager.DeleteSecretInput, ...func(*secretsmanager.Options)) (*secretsmanager.DeleteSecretOutput, error)
}

// Upstreams keeps the client secret this service uses at each tenant's
// upstream identity provider, one secret per tenant named
// <prefix>/upstreams/<tenant>. Unlike a client secret's verifier, the
// SecretString is the secret itself, as the operator gave it: it is sent
// to the upstream's token endpoint. Outside the clients/ prefix, so the
// sweeper's reconciliation of client material never sees it.
type Upstreams struct {
	api    UpstreamsAPI
	prefix string
}

var _ signin.UpstreamSecrets = (*Upstreams)(nil)

// NewUpstreams returns the upstream secrets under prefix (the stack name).
func NewUpstreams(api UpstreamsAPI, prefix string) *Upstreams {
	return &Upstreams{api: api, prefix: prefix}
}

// UpstreamSecretName is the Secrets Manager name of a tenant's upstream
// client secret.
func UpstreamSecretName(prefix, tenantID string) string {
	return prefix + "/upstreams/" + tenantID
}

// PutUpstreamSecret creates the tenant's upstream secret, or stores a new
// current version of it.
func (v *Upstreams) PutUpstreamSecret(ctx context.Context, tenantID, secret string) error {
	if secret == "" {
		return errors.New("the upstream client secret is empty")
	}
	err := putPlain(ctx, v.api, UpstreamSecretName(v.prefix, tenantID), secret, tenantID,
		"Client secret of the identity service at this tenant's upstream OpenID Provider (sent to its token endpoint).")
	if err != nil {
		// The SDK's error names the secret, never its value.
		return fmt.Errorf("store the upstream client secret of tenant %s: %w", tenantID, err)
	}
	return nil
}

// putPlain creates the secret name holding value, or stores a new current
// version of it.
func putPlain(ctx context.Context, api UpstreamsAPI, name, value, tenantID, description string) error {
	_, err := api.CreateSecret(ctx, &secretsmanager.CreateSecretInput{
		Name:         aws.String(name),
		SecretString: aws.String(value),
		Description:  aws.String(description),
		Tags:         []types.Tag{{Key: aws.String("identity:tenant"), Value: aws.String(tenantID)}},
	})
	var exists *types.ResourceExistsException
	if errors.As(err, &exists) {
		_, err = api.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String(name), SecretString: aws.String(value)})
	}
	return err
}

// UpstreamSecret reads the tenant's upstream secret, or
// signin.ErrUpstreamNotFound.
func (v *Upstreams) UpstreamSecret(ctx context.Context, tenantID string) (string, error) {
	out, err := v.api.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(UpstreamSecretName(v.prefix, tenantID))})
	var nf *types.ResourceNotFoundException
	if errors.As(err, &nf) {
		return "", signin.ErrUpstreamNotFound
	}
	if err != nil {
		return "", fmt.Errorf("read the upstream client secret of tenant %s: %w", tenantID, err)
	}
	if aws.ToString(out.SecretString) == "" {
		return "", signin.ErrUpstreamNotFound
	}
	return aws.ToString(out.SecretString), nil
}

// DeleteUpstreamSecret destroys the tenant's upstream secret at once, with
// no recovery window; one already gone is not an error.
func (v *Upstreams) DeleteUpstreamSecret(ctx context.Context, tenantID string) error {
	if err := deleteMaterial(ctx, v.api, UpstreamSecretName(v.prefix, tenantID)); err != nil {
		return fmt.Errorf("tenant %s: %w", tenantID, err)
	}
	return nil
}
