package tableops

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"identityservice/shared/store/layout"
	"identityservice/shared/vault"
)

// RecordReader is the part of the DynamoDB client the material migration
// uses: it reads a secret's record and its client's token item.
type RecordReader interface {
	GetItem(context.Context, *dynamodb.GetItemInput, ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
}

// MaterialReport is what the material migration found and wrote.
type MaterialReport struct {
	Current  int `json:"Current"`  // material of the current version, left as it is
	Upgraded int `json:"Upgraded"` // version 1 material rewritten as the bound verifier of its record
	Refused  int `json:"Refused"`  // version 1 material left as it is (RefusedMaterial says why): its secret must be issued again
	Foreign  int `json:"Foreign"`  // secrets under the prefix that are not material this service writes, left as they are
	// RefusedMaterial names each refused material and why.
	RefusedMaterial []RefusedMaterial `json:"RefusedMaterial,omitempty"`
}

// RefusedMaterial is a version 1 material the migration did not bind.
type RefusedMaterial struct {
	Name   string `json:"Name"`
	Reason string `json:"Reason"`
}

// MaterialUpgrader is what the migration needs of the vault (vault.Upgrader).
type MaterialUpgrader interface {
	Names(ctx context.Context) ([]string, error)
	Read(ctx context.Context, name string) (vault.StoredMaterial, error)
	Upgrade(ctx context.Context, m vault.StoredMaterial) error
}

// The provenance of version 1 material: the add that wrote a secret took
// its CreatedAt, then created its material (one CreateSecret, never
// written again), then its record. Material made more than
// materialBefore before its record's CreatedAt or more than materialAfter
// after it, or written again since it was made, was not written by that
// add.
const (
	materialBefore = time.Minute     // clock skew between the function and Secrets Manager
	materialAfter  = 5 * time.Minute // the add's own time, with retries, and skew
	rewriteSkew    = time.Minute     // a version made with its secret
)

// MigrateMaterial binds each client secret's material written before the
// verifier binding (version 1: the bare SHA-256 of the secret) to its own
// record: the ids it is named after, where that record lives. It is
// rewritten as version 2 (identity.BoundVerifier of the stored digest)
// only when
//   - its name is a name this service gives, and no other material holds
//     the same verifier (a copy: all of them are refused);
//   - a live secret record (not deleted, not swept) of that tenant,
//     client and secret exists, and the client's token item is of that
//     tenant;
//   - it is the material that record's add wrote: one Secrets Manager
//     version, made with the secret, within the add's time of the record's
//     CreatedAt. A verifier copied over another record's material is a
//     second version; one created in another's place (deleted and made
//     again, or made where material was missing) was created later.
//
// Anything else is refused and left as it is (it authenticates nothing:
// the token path reads version 2 only), named with the reason; nothing is
// deleted. It is idempotent and resumable: material already of version 2
// is counted and left, and a rewrite's request token derives from the
// version it replaces, so a repeated write is the same version.
func MigrateMaterial(ctx context.Context, records RecordReader, table string, up MaterialUpgrader) (MaterialReport, error) {
	var rep MaterialReport
	names, err := up.Names(ctx)
	if err != nil {
		return rep, fmt.Errorf("migrate material: %w", err)
	}
	var old []vault.StoredMaterial
	copies := map[string]int{}
	for _, name := range names {
		m, err := up.Read(ctx, name)
		switch {
		case errors.Is(err, vault.ErrNoMaterial):
			continue // deleted since listed
		case err != nil:
			return rep, fmt.Errorf("migrate material: %w", err)
		case m.Version == vault.MaterialVersion:
			rep.Current++
		case m.Version == 1:
			old = append(old, m)
			copies[string(m.Digest)]++
		default:
			rep.Foreign++
		}
	}
	for _, m := range old {
		reason := ""
		if !m.Named {
			reason = "not a name this service gives (<prefix>/clients/<tenant>/<client>/<secret>, lower-case GUIDs)"
		} else if n := copies[string(m.Digest)]; n > 1 {
			reason = fmt.Sprintf("the same verifier is stored under %d names: copied", n)
		} else {
			reason, err = provenance(ctx, records, table, m)
			if err != nil {
				return rep, err
			}
		}
		if reason != "" {
			rep.Refused++
			rep.RefusedMaterial = append(rep.RefusedMaterial, RefusedMaterial{Name: m.Name, Reason: reason})
			continue
		}
		if err := up.Upgrade(ctx, m); err != nil {
			return rep, fmt.Errorf("migrate material: %w", err)
		}
		rep.Upgraded++
	}
	return rep, nil
}

// provenance says why m is not the material its record's add wrote, or
// "" when it is.
func provenance(ctx context.Context, records RecordReader, table string, m vault.StoredMaterial) (string, error) {
	ref := m.Ref
	it, err := getItem(ctx, records, table, layout.ClientPK(ref.ClientID), layout.SecretSK(ref.SecretID))
	if err != nil {
		return "", err
	}
	if it == nil {
		return "no secret record of these ids", nil
	}
	sec, err := layout.DecodeSecret(it)
	if err != nil {
		return "its secret record does not decode: " + err.Error(), nil
	}
	switch {
	case sec.TenantID != ref.TenantID || sec.ClientID != ref.ClientID:
		return fmt.Sprintf("its secret record is of tenant %s, client %s", sec.TenantID, sec.ClientID), nil
	case sec.DeletedAt != nil || sec.Swept:
		return "its secret was deleted or swept", nil
	}
	reg, err := getItem(ctx, records, table, layout.ClientPK(ref.ClientID), layout.SkRegistration)
	if err != nil {
		return "", err
	}
	if reg == nil || layout.IsTombstone(reg) {
		return "its client does not exist", nil
	}
	r, err := layout.DecodeRegistration(reg)
	if err != nil {
		return "its client's token item does not decode: " + err.Error(), nil
	}
	if r.TenantID != ref.TenantID {
		return "its client is of tenant " + r.TenantID, nil
	}
	switch {
	case m.Versions != 1:
		return fmt.Sprintf("written again after it was made (%d versions)", m.Versions), nil
	case m.VersionCreated.Sub(m.SecretCreated).Abs() > rewriteSkew:
		return fmt.Sprintf("its value (%s) was written after the secret was made (%s)", stamp(m.VersionCreated), stamp(m.SecretCreated)), nil
	case m.SecretCreated.Before(sec.CreatedAt.Add(-materialBefore)) || m.SecretCreated.After(sec.CreatedAt.Add(materialAfter)):
		return fmt.Sprintf("made at %s, not by the add of its record (created %s)", stamp(m.SecretCreated), stamp(sec.CreatedAt)), nil
	}
	return "", nil
}

func getItem(ctx context.Context, records RecordReader, table, pk, sk string) (item, error) {
	out, err := records.GetItem(ctx, &dynamodb.GetItemInput{TableName: &table, Key: layout.Key(pk, sk), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return nil, fmt.Errorf("migrate material: read %s %s: %w", pk, sk, err)
	}
	return out.Item, nil
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }
