package vault

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"

	"identityservice/shared/identity"
	"identityservice/shared/sweep"
)

// InventoryAPI is the part of the Secrets Manager client the inventory
// uses: it lists and destroys material; of packs it reads the entries
// (secret ids, client ids, when added) and writes them back without the
// destroyed ones.
type InventoryAPI interface {
	ListSecrets(context.Context, *secretsmanager.ListSecretsInput, ...func(*secretsmanager.Options)) (*secretsmanager.ListSecretsOutput, error)
	DeleteSecret(context.Context, *secretsmanager.DeleteSecretInput, ...func(*secretsmanager.Options)) (*secretsmanager.DeleteSecretOutput, error)
	packAPI
}

// Inventory is the client secret material under the service's prefix, as
// the sweeper sees it: listed by name (a pack's entries one by one),
// checked for existence, destroyed.
type Inventory struct {
	api InventoryAPI
	naming
	packs
}

var _ sweep.Inventory = (*Inventory)(nil)

// NewInventory returns the inventory of the material under prefix.
func NewInventory(api InventoryAPI, prefix string) *Inventory {
	n := naming{prefix: prefix}
	return &Inventory{api: api, naming: n, packs: packs{api: api, naming: n}}
}

// maxNameFilterValues is Secrets Manager's limit of values in one filter.
const maxNameFilterValues = 10

// List returns a page of the material whose name starts with
// <prefix>/clients/ or <prefix>/verifiers/ (the "name" filter is a prefix
// match; two values match either): each secret of its own, and each entry
// of each pack listed (a pack is read for them; Material.Name is the
// pack's name, #, the secret id). cursor is the previous page's NextToken;
// a token Secrets Manager no longer accepts restarts the listing.
func (v *Inventory) List(ctx context.Context, cursor string, limit int) ([]sweep.Material, string, error) {
	in := &secretsmanager.ListSecretsInput{
		Filters:    []types.Filter{{Key: types.FilterNameStringTypeName, Values: []string{v.ClientsPrefix(), v.VerifiersPrefix()}}},
		MaxResults: aws.Int32(int32(min(max(limit, 1), 100))),
	}
	if cursor != "" {
		in.NextToken = aws.String(cursor)
	}
	out, err := v.api.ListSecrets(ctx, in)
	var invalid *types.InvalidNextTokenException
	if cursor != "" && errors.As(err, &invalid) {
		in.NextToken = nil
		out, err = v.api.ListSecrets(ctx, in)
	}
	if err != nil {
		return nil, "", fmt.Errorf("list secret material: %w", err)
	}
	mats := make([]sweep.Material, 0, len(out.SecretList))
	for _, e := range out.SecretList {
		name := aws.ToString(e.Name)
		if strings.HasPrefix(name, v.VerifiersPrefix()) {
			entries, err := v.packMaterial(ctx, name)
			if err != nil {
				return nil, "", err
			}
			mats = append(mats, entries...)
			continue
		}
		ref, ok := v.ParseName(name)
		mats = append(mats, sweep.Material{Name: name, Ref: ref, Named: ok, CreatedAt: aws.ToTime(e.CreatedDate)})
	}
	return mats, aws.ToString(out.NextToken), nil
}

// packMaterial is a pack's entries as material; a pack whose name the
// service does not give is one unnamed piece (left alone).
func (v *Inventory) packMaterial(ctx context.Context, name string) ([]sweep.Material, error) {
	tenantID, pack, ok := v.ParsePackName(name)
	if !ok {
		return []sweep.Material{{Name: name}}, nil
	}
	p, err := v.ReadPack(ctx, tenantID, pack)
	if err != nil {
		return nil, fmt.Errorf("list secret material: %w", err)
	}
	mats := make([]sweep.Material, 0, len(p.Entries))
	for id, e := range p.Entries {
		ref := identity.MaterialRef{TenantID: tenantID, ClientID: e.ClientID, SecretID: id, Pack: pack}
		_, named := v.ParseName(v.Name(ref))
		mats = append(mats, sweep.Material{Name: name + "#" + id, Ref: ref, Named: named, CreatedAt: e.Added})
	}
	return mats, nil
}

// ParseName returns the ids a material name stands for, if it is a name
// this service gives: <prefix>/clients/<tenant>/<client>/<secret>, GUIDs
// in lower case.
func (v *Inventory) ParseName(name string) (identity.MaterialRef, bool) {
	rest, ok := strings.CutPrefix(name, v.ClientsPrefix())
	if !ok {
		return identity.MaterialRef{}, false
	}
	parts := strings.Split(rest, "/")
	if len(parts) != 3 {
		return identity.MaterialRef{}, false
	}
	for _, p := range parts {
		if g, err := identity.ParseGUID("id", p); err != nil || g != p {
			return identity.MaterialRef{}, false
		}
	}
	return identity.MaterialRef{TenantID: parts[0], ClientID: parts[1], SecretID: parts[2]}, true
}

// Missing returns the refs without material: one read per pack the refs
// are in, and for secrets of their own one ListSecrets call per ten refs,
// each name a filter value (a prefix match, exact here: every name ends
// in a fixed-length id).
func (v *Inventory) Missing(ctx context.Context, all []identity.MaterialRef) ([]identity.MaterialRef, error) {
	var missing, refs []identity.MaterialRef
	byPack := map[identity.MaterialRef][]identity.MaterialRef{}
	for _, ref := range all {
		if ref.Pack > 0 {
			key := identity.MaterialRef{TenantID: ref.TenantID, Pack: ref.Pack}
			byPack[key] = append(byPack[key], ref)
		} else {
			refs = append(refs, ref)
		}
	}
	for key, in := range byPack {
		p, err := v.ReadPack(ctx, key.TenantID, key.Pack)
		if err != nil {
			return nil, fmt.Errorf("look up secret material: %w", err)
		}
		for _, ref := range in {
			if _, err := entryOf(p, ref); err != nil {
				missing = append(missing, ref)
			}
		}
	}
	for start := 0; start < len(refs); start += maxNameFilterValues {
		chunk := refs[start:min(start+maxNameFilterValues, len(refs))]
		names := make([]string, len(chunk))
		for i, ref := range chunk {
			names[i] = v.Name(ref)
		}
		found := map[string]bool{}
		in := &secretsmanager.ListSecretsInput{
			Filters:    []types.Filter{{Key: types.FilterNameStringTypeName, Values: names}},
			MaxResults: aws.Int32(100),
		}
		for {
			out, err := v.api.ListSecrets(ctx, in)
			if err != nil {
				return nil, fmt.Errorf("look up secret material: %w", err)
			}
			for _, e := range out.SecretList {
				found[aws.ToString(e.Name)] = true
			}
			if aws.ToString(out.NextToken) == "" {
				break
			}
			in.NextToken = out.NextToken
		}
		for i, ref := range chunk {
			if !found[names[i]] {
				missing = append(missing, ref)
			}
		}
	}
	return missing, nil
}

// Destroy deletes material at once, without a recovery window; material
// already gone is not an error.
func (v *Inventory) Destroy(ctx context.Context, ref identity.MaterialRef) error {
	return destroy(ctx, v.packs, v.api, ref)
}
