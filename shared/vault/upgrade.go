package vault

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
	"github.com/google/uuid"

	"identityservice/shared/identity"
)

// UpgradeAPI is the part of the Secrets Manager client the operator's
// material migration uses: it lists, reads, describes and rewrites
// material, never deletes it. No function's role allows PutSecretValue or
// DescribeSecret on material; only the operator runs it.
type UpgradeAPI interface {
	ListSecrets(context.Context, *secretsmanager.ListSecretsInput, ...func(*secretsmanager.Options)) (*secretsmanager.ListSecretsOutput, error)
	GetSecretValue(context.Context, *secretsmanager.GetSecretValueInput, ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error)
	DescribeSecret(context.Context, *secretsmanager.DescribeSecretInput, ...func(*secretsmanager.Options)) (*secretsmanager.DescribeSecretOutput, error)
	PutSecretValue(context.Context, *secretsmanager.PutSecretValueInput, ...func(*secretsmanager.Options)) (*secretsmanager.PutSecretValueOutput, error)
}

// Upgrader rewrites version 1 material (a bare SHA-256 of the secret) as
// version 2, the verifier bound to its record. Which material may be
// rewritten is the caller's decision (infra/tableops MigrateMaterial).
type Upgrader struct {
	api UpgradeAPI
	naming
}

// NewUpgrader returns the upgrader of the material under prefix.
func NewUpgrader(api UpgradeAPI, prefix string) *Upgrader {
	return &Upgrader{api: api, naming: naming{prefix: prefix}}
}

// StoredMaterial is one secret's material as the migration reads it.
type StoredMaterial struct {
	Name  string
	Ref   identity.MaterialRef
	Named bool // Name is a name this service gives (Ref holds its ids)
	// Version is the material's version (1 or MaterialVersion); 0 when its
	// value is not material this service writes.
	Version int
	// Digest is version 1's verifier: the SHA-256 of the secret.
	Digest []byte
	// VersionID and VersionCreated are the Secrets Manager version read
	// and when it was made.
	VersionID      string
	VersionCreated time.Time
	// SecretCreated is when the secret was created and Versions how many
	// versions carry a staging label (DescribeSecret; version 1 only).
	// Material this service wrote was made once, by CreateSecret: one
	// version, made with the secret.
	SecretCreated time.Time
	Versions      int
}

// Names lists the names of all material under <prefix>/clients/.
func (u *Upgrader) Names(ctx context.Context) ([]string, error) {
	in := &secretsmanager.ListSecretsInput{
		Filters:    []types.Filter{{Key: types.FilterNameStringTypeName, Values: []string{u.ClientsPrefix()}}},
		MaxResults: aws.Int32(100),
	}
	var names []string
	for {
		out, err := u.api.ListSecrets(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("list secret material: %w", err)
		}
		for _, e := range out.SecretList {
			names = append(names, aws.ToString(e.Name))
		}
		if aws.ToString(out.NextToken) == "" {
			return names, nil
		}
		in.NextToken = out.NextToken
	}
}

// Read reads the material named name; version 1 material is described
// too (its versions and creation). Material gone since it was listed is
// ErrNoMaterial.
func (u *Upgrader) Read(ctx context.Context, name string) (StoredMaterial, error) {
	m := StoredMaterial{Name: name}
	m.Ref, m.Named = (&Inventory{naming: u.naming}).ParseName(name)
	out, err := u.api.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(name)})
	var nf *types.ResourceNotFoundException
	if errors.As(err, &nf) {
		return m, ErrNoMaterial
	}
	if err != nil {
		return m, fmt.Errorf("read secret material %s: %w", name, err)
	}
	m.VersionID, m.VersionCreated = aws.ToString(out.VersionId), aws.ToTime(out.CreatedDate)
	var body material
	if json.Unmarshal([]byte(aws.ToString(out.SecretString)), &body) != nil {
		return m, nil
	}
	switch body.Version {
	case MaterialVersion:
		m.Version = MaterialVersion
		return m, nil
	case 1:
		d, err := base64.StdEncoding.DecodeString(body.Verifier)
		if err != nil || len(d) != 32 {
			return m, nil // not a SHA-256: not material this service wrote
		}
		m.Version, m.Digest = 1, d
	default:
		return m, nil
	}
	desc, err := u.api.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String(name)})
	if errors.As(err, &nf) {
		return m, ErrNoMaterial
	}
	if err != nil {
		return m, fmt.Errorf("describe secret material %s: %w", name, err)
	}
	m.SecretCreated, m.Versions = aws.ToTime(desc.CreatedDate), len(desc.VersionIdsToStages)
	return m, nil
}

// upgradeNamespace derives the request token of a rewrite from the
// version it rewrites, so a repeated run (or two at once) writes the one
// same version, never a second.
var upgradeNamespace = uuid.MustParse("5b0e7a52-3f1c-4d8e-9a61-0c2f4e6b8d10")

// Upgrade writes m's digest bound to m.Ref as version 2 material (a new
// Secrets Manager version of the same secret; the version 1 value stays
// as its previous version).
func (u *Upgrader) Upgrade(ctx context.Context, m StoredMaterial) error {
	if m.Version != 1 || !m.Named {
		return fmt.Errorf("upgrade material %s: not version 1 material of a named record", m.Name)
	}
	body, err := encodeMaterial(identity.BoundVerifier(m.Ref, m.Digest))
	if err != nil {
		return err
	}
	_, err = u.api.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{
		SecretId:           aws.String(m.Name),
		SecretString:       aws.String(body),
		ClientRequestToken: aws.String(uuid.NewSHA1(upgradeNamespace, []byte(m.VersionID)).String()),
	})
	if err != nil {
		return fmt.Errorf("upgrade material %s: %w", m.Name, err)
	}
	return nil
}
