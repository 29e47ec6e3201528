package tableops

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"identityservice/shared/identity"
	"identityservice/shared/store/layout"
)

// PackMigrationAPI is the part of the DynamoDB client the move of
// verifiers into packs uses.
type PackMigrationAPI interface {
	Scanner
	UpdateItem(context.Context, *dynamodb.UpdateItemInput, ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	TransactWriteItems(context.Context, *dynamodb.TransactWriteItemsInput, ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error)
}

// PackMigrationReport is what a move of verifiers into packs did.
type PackMigrationReport struct {
	Moved           int `json:"VerifiersPacked"`         // verifiers copied into a pack, their records (and token item entries) pointed at it
	OldDestroyed    int `json:"OldVerifiersDestroyed"`   // the copies of their own, destroyed once the record pointed at the pack
	MaterialMissing int `json:"ActiveWithoutMaterial"`   // active records without material of their own: nothing to move (an operator's question)
	Raced           int `json:"PackMovesLeftForNextRun"` // records that changed while moved (deleted, moved by another run): their new entry taken out again
	Unbound         int `json:"UnboundLeftInPlace"`      // material written before the verifier binding that the binding refused: left where it is, not moved
}

// MigrateVerifiersIntoPacks moves the verifiers of secret records written
// before packs (no Pack) into their tenant's packs, one record at a time:
// read the old verifier; take a verifier slot of the tenant (its pack); put
// the verifier into the pack; then point the record, and its token item
// entry when it has one, at the pack in one transaction, on the condition
// that the record still has no pack; then destroy the old verifier. So a
// record never points at missing material: until the transaction it
// points at the old verifier, after it at the entry. A run stopped
// anywhere is resumed by running it again (records with a pack are done):
// an entry whose transaction did not happen has no record pointing at it,
// and an old verifier whose destruction did not happen has a record
// pointing elsewhere; the sweeper's reconciliation removes both.
// Soft-deleted and swept records are left as they are: their material is
// gone, or leaving; so is material written before the verifier binding
// that MigrateMaterial (run before) refused to bind.
func MigrateVerifiersIntoPacks(ctx context.Context, api PackMigrationAPI, table string, slots identity.Tenants, v identity.Vault) (PackMigrationReport, error) {
	var rep PackMigrationReport
	entries := map[string]map[string]bool{} // client -> secret ids in its token item
	var records []identity.Secret
	err := scan(ctx, api, "pack verifiers", &dynamodb.ScanInput{TableName: &table, ConsistentRead: aws.Bool(true)}, func(it item) error {
		r := layout.Reader{It: it}
		pk, sk := r.Str(layout.AttrPK, true), r.Str(layout.AttrSK, true)
		switch {
		case strings.HasPrefix(pk, "CLIENT#") && sk == layout.SkRegistration && !layout.IsTombstone(it):
			reg, err := layout.DecodeRegistration(it)
			if err != nil {
				return fmt.Errorf("pack verifiers: registration %s: %w", pk, err)
			}
			ids := map[string]bool{}
			for _, s := range reg.Secrets {
				ids[s.ID] = true
			}
			entries[strings.TrimPrefix(pk, "CLIENT#")] = ids
		case strings.HasPrefix(pk, "CLIENT#") && strings.HasPrefix(sk, layout.PrefixSecret):
			sec, err := layout.DecodeSecret(it)
			if err != nil {
				return fmt.Errorf("pack verifiers: secret record %s: %w", sk, err)
			}
			if sec.Pack == 0 && sec.DeletedAt == nil && !sec.Swept {
				records = append(records, sec)
			}
		}
		return nil
	})
	if err != nil {
		return rep, err
	}
	// The token items are all read by now: whether a record has its entry
	// is known only after the whole scan.
	for _, sec := range records {
		moved, err := packOne(ctx, api, table, slots, v, sec, entries[sec.ClientID][sec.ID], &rep)
		if err != nil {
			return rep, err
		}
		if moved {
			rep.Moved++
		}
	}
	return rep, nil
}

// packOne moves one record's verifier into its tenant's pack.
func packOne(ctx context.Context, api PackMigrationAPI, table string, slots identity.Tenants, v identity.Vault, sec identity.Secret, hasEntry bool, rep *PackMigrationReport) (bool, error) {
	old := sec.Ref()
	verifier, err := v.Verifier(ctx, old)
	if errors.Is(err, identity.ErrNoMaterial) {
		rep.MaterialMissing++
		return false, nil
	}
	if errors.Is(err, identity.ErrMaterialNotMigrated) {
		// Material the binding (MigrateMaterial) could not vouch for: it
		// authenticates nothing, and moving it would bind it; it stays.
		rep.Unbound++
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("pack verifiers: read the verifier of secret %s: %w", sec.ID, err)
	}
	slot, err := slots.NextVerifierSlot(ctx, sec.TenantID)
	if err != nil {
		return false, fmt.Errorf("pack verifiers: a verifier slot of tenant %s: %w", sec.TenantID, err)
	}
	packed := old
	packed.Pack = identity.PackOf(slot)
	if err := v.PutVerifier(ctx, packed, verifier); err != nil {
		return false, fmt.Errorf("pack verifiers: put the verifier of secret %s into pack %d: %w", sec.ID, packed.Pack, err)
	}
	record := &types.Update{TableName: &table, Key: layout.Key(layout.ClientPK(sec.ClientID), layout.SecretSK(sec.ID)),
		UpdateExpression:          aws.String("SET " + layout.AttrPack + " = :p"),
		ConditionExpression:       aws.String("attribute_exists(PK) AND attribute_not_exists(" + layout.AttrPack + ") AND attribute_not_exists(DeletedAt) AND attribute_not_exists(SweptAt)"),
		ExpressionAttributeValues: item{":p": layout.N(int64(packed.Pack))}}
	items := []types.TransactWriteItem{{Update: record}}
	if hasEntry {
		items = append(items, types.TransactWriteItem{Update: &types.Update{TableName: &table, Key: layout.Key(layout.ClientPK(sec.ClientID), layout.SkRegistration),
			UpdateExpression:          aws.String("SET Secrets.#s.P = :p"),
			ConditionExpression:       aws.String("attribute_exists(Secrets.#s)"),
			ExpressionAttributeNames:  map[string]string{"#s": sec.ID},
			ExpressionAttributeValues: item{":p": layout.N(int64(packed.Pack))}}})
	}
	_, err = api.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
	var cancelled *types.TransactionCanceledException
	if errors.As(err, &cancelled) {
		// The record changed meanwhile (deleted, soft-deleted, swept, its
		// entry gone, or another run moved it): the new entry is no
		// one's. The next run looks at the record again.
		rep.Raced++
		if err := v.DeleteVerifier(ctx, packed); err != nil {
			return false, fmt.Errorf("pack verifiers: take the unused entry of secret %s out of pack %d (the sweeper will): %w", sec.ID, packed.Pack, err)
		}
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("pack verifiers: point secret %s at pack %d (its entry stays for the sweeper): %w", sec.ID, packed.Pack, err)
	}
	if err := v.DeleteVerifier(ctx, old); err != nil {
		return true, fmt.Errorf("pack verifiers: destroy the old verifier of secret %s (the sweeper will): %w", sec.ID, err)
	}
	rep.OldDestroyed++
	return true, nil
}
