// Package vault keeps client secret verifiers in AWS Secrets Manager:
// many to a secret, in a tenant's verifier packs
// <prefix>/verifiers/<tenant>/<n> (packs.go), named under the tenant so
// that IAM policies can be scoped by name. Records written before packs
// have material of their own, <prefix>/clients/<tenant>/<client>/<secret>,
// which the vault still reads and destroys until the migration moves it.
package vault

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"

	"identityservice/shared/identity"
)

// API is the part of the Secrets Manager client the vault uses.
type API interface {
	CreateSecret(context.Context, *secretsmanager.CreateSecretInput, ...func(*secretsmanager.Options)) (*secretsmanager.CreateSecretOutput, error)
	DeleteSecret(context.Context, *secretsmanager.DeleteSecretInput, ...func(*secretsmanager.Options)) (*secretsmanager.DeleteSecretOutput, error)
	GetSecretValue(context.Context, *secretsmanager.GetSecretValueInput, ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error)
	PutSecretValue(context.Context, *secretsmanager.PutSecretValueInput, ...func(*secretsmanager.Options)) (*secretsmanager.PutSecretValueOutput, error)
}

// SecretsManager is the Secrets Manager implementation of identity.Vault.
type SecretsManager struct {
	api API
	naming
	packs
}

var (
	_ identity.Vault        = (*SecretsManager)(nil)
	_ identity.BatchDeleter = (*SecretsManager)(nil)
	_ identity.PackReader   = (*SecretsManager)(nil)
)

// New returns a vault that names its secrets under prefix (the stack name).
func New(api API, prefix string) *SecretsManager {
	n := naming{prefix: prefix}
	return &SecretsManager{api: api, naming: n, packs: packs{api: api, naming: n}}
}

// VerifierPack returns the verifiers of a tenant's pack, by ref.
func (v *SecretsManager) VerifierPack(ctx context.Context, tenantID string, pack int) (map[identity.MaterialRef][]byte, error) {
	p, err := v.ReadPack(ctx, tenantID, pack)
	if err != nil {
		return nil, err
	}
	out := make(map[identity.MaterialRef][]byte, len(p.Entries))
	for id, e := range p.Entries {
		out[identity.MaterialRef{TenantID: tenantID, ClientID: e.ClientID, SecretID: id, Pack: pack}] = e.Verifier
	}
	return out, nil
}

// naming is how material is named: <prefix>/clients/<tenant>/<client>/<secret>.
type naming struct{ prefix string }

// Name returns the Secrets Manager name of a secret's material.
func (n naming) Name(ref identity.MaterialRef) string {
	return fmt.Sprintf("%s/clients/%s/%s/%s", n.prefix, ref.TenantID, ref.ClientID, ref.SecretID)
}

// ClientsPrefix is the name prefix under which all material lives.
func (n naming) ClientsPrefix() string { return n.prefix + "/clients/" }

// material is the stored JSON: a verifier, never the secret. Version 2
// (MaterialVersion) holds identity.Verifier, bound to the record it is
// named after; version 1, written before the binding, holds the bare
// SHA-256 of the secret and authenticates nothing until the operator's
// migration rewrites it (upgrade.go).
type material struct {
	Version   int    `json:"v"`
	Algorithm string `json:"alg"`
	Verifier  string `json:"verifier"`
}

// MaterialVersion is the version of the material this code writes and
// the one version the token path accepts.
const MaterialVersion = 2

// boundAlgorithm names version 2's verifier: identity.BoundVerifier.
const boundAlgorithm = "SHA-256/bound"

// encodeMaterial is the JSON of version 2 material.
func encodeMaterial(verifier []byte) (string, error) {
	body, err := json.Marshal(material{Version: MaterialVersion, Algorithm: boundAlgorithm, Verifier: base64.StdEncoding.EncodeToString(verifier)})
	return string(body), err
}

// PutVerifier stores a verifier: an entry of its pack (packs hold only
// bound verifiers: they came after the binding), or (ref without a pack)
// a secret of its own, version 2, tagged with the ids it belongs to.
func (v *SecretsManager) PutVerifier(ctx context.Context, ref identity.MaterialRef, verifier []byte) error {
	if ref.Pack > 0 {
		return v.addEntry(ctx, ref, verifier)
	}
	body, err := encodeMaterial(verifier)
	if err != nil {
		return err
	}
	_, err = v.api.CreateSecret(ctx, &secretsmanager.CreateSecretInput{
		Name:         aws.String(v.Name(ref)),
		SecretString: aws.String(body),
		Description:  aws.String("Verifier (SHA-256, bound to its tenant, client and secret ids) of an OAuth client secret; the secret itself is not stored."),
		Tags: []types.Tag{
			{Key: aws.String("identity:tenant"), Value: aws.String(ref.TenantID)},
			{Key: aws.String("identity:client"), Value: aws.String(ref.ClientID)},
			{Key: aws.String("identity:secret"), Value: aws.String(ref.SecretID)},
		},
	})
	if err != nil {
		return fmt.Errorf("create secret material: %w", err)
	}
	return nil
}

// DeleteVerifier destroys material at once: the entry leaves its pack's
// current value (earlier versions of the pack keep it for a while:
// docs/SECURITY.md), or the secret of its own goes with no recovery window.
func (v *SecretsManager) DeleteVerifier(ctx context.Context, ref identity.MaterialRef) error {
	return destroy(ctx, v.packs, v.api, ref)
}

// DeleteVerifiers destroys the material of refs at once: one pack read
// and write for each pack they are in, in the order first named, and one
// DeleteSecret for each secret of its own. It goes on past a failure and
// returns every one.
func (v *SecretsManager) DeleteVerifiers(ctx context.Context, refs []identity.MaterialRef) error {
	type packKey struct {
		tenantID string
		pack     int
	}
	byPack := map[packKey][]identity.MaterialRef{}
	var packs []packKey
	var errs []error
	for _, ref := range refs {
		if ref.Pack <= 0 {
			errs = append(errs, deleteMaterial(ctx, v.api, v.Name(ref)))
			continue
		}
		k := packKey{ref.TenantID, ref.Pack}
		if _, seen := byPack[k]; !seen {
			packs = append(packs, k)
		}
		byPack[k] = append(byPack[k], ref)
	}
	for _, k := range packs {
		errs = append(errs, v.removeEntries(ctx, k.tenantID, k.pack, byPack[k]))
	}
	return errors.Join(errs...)
}

// destroy destroys one piece of material: its pack's entry, or (a ref
// without a pack) the secret of its own.
func destroy(ctx context.Context, p packs, api secretDeleter, ref identity.MaterialRef) error {
	if ref.Pack > 0 {
		return p.removeEntry(ctx, ref)
	}
	return deleteMaterial(ctx, api, p.Name(ref))
}

// secretDeleter is the one Secrets Manager call that destroys material.
type secretDeleter interface {
	DeleteSecret(context.Context, *secretsmanager.DeleteSecretInput, ...func(*secretsmanager.Options)) (*secretsmanager.DeleteSecretOutput, error)
}

// deleteMaterial deletes the secret named name at once, without a recovery
// window; a secret already gone is not an error.
func deleteMaterial(ctx context.Context, api secretDeleter, name string) error {
	_, err := api.DeleteSecret(ctx, &secretsmanager.DeleteSecretInput{
		SecretId:                   aws.String(name),
		ForceDeleteWithoutRecovery: aws.Bool(true),
	})
	var nf *types.ResourceNotFoundException
	if errors.As(err, &nf) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("delete secret material: %w", err)
	}
	return nil
}

// ErrNoMaterial means a secret has no material (deleted, or never written).
var ErrNoMaterial = identity.ErrNoMaterial

// Verifier reads a verifier.
func (v *SecretsManager) Verifier(ctx context.Context, ref identity.MaterialRef) ([]byte, error) {
	if ref.Pack > 0 {
		p, err := v.ReadPack(ctx, ref.TenantID, ref.Pack)
		if err != nil {
			return nil, err
		}
		return entryOf(p, ref)
	}
	out, err := v.api.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(v.Name(ref))})
	var nf *types.ResourceNotFoundException
	if errors.As(err, &nf) {
		return nil, ErrNoMaterial
	}
	if err != nil {
		return nil, fmt.Errorf("read secret material: %w", err)
	}
	var m material
	if err := json.Unmarshal([]byte(aws.ToString(out.SecretString)), &m); err != nil {
		return nil, fmt.Errorf("decode secret material: %w", err)
	}
	// Version 2 only. Version 1 is identity.ErrMaterialNotMigrated, never
	// converted here: a version 1 verifier copied under another record's
	// name would be bound to that record (the migration converts only the
	// material its own record's add wrote).
	switch m.Version {
	case MaterialVersion:
		return base64.StdEncoding.DecodeString(m.Verifier)
	case 1:
		return nil, identity.ErrMaterialNotMigrated
	}
	return nil, fmt.Errorf("secret material of unknown version %d", m.Version)
}
