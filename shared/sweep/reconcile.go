package sweep

import (
	"context"
	"fmt"

	"identityservice/shared/identity"
)

// reconcilePage is how much one step of a reconciliation walk handles: a
// listing page of material, one BatchGetItem of their records.
const reconcilePage = 100

// reconcileMaterial walks the material under the service's prefix, from
// where the previous run stopped, and destroys the material that no live
// record refers to: no record (a create or add that failed after writing
// the material, a delete whose destruction failed), or a record already
// swept or soft-deleted. Material younger than MaterialMinAge is left
// alone: its record may still be being written.
func (r *run) reconcileMaterial(ctx context.Context) error {
	if r.set.ReconcileBatch == 0 {
		return nil
	}
	cursors, err := r.Store.LoadCursors(ctx)
	if err != nil {
		return fmt.Errorf("load cursors: %w", err)
	}
	for done := 0; done < r.set.ReconcileBatch; {
		if r.spent() {
			return errBudget
		}
		mats, next, err := r.Inventory.List(ctx, cursors.Material, min(reconcilePage, r.set.ReconcileBatch-done))
		if err != nil {
			return fmt.Errorf("list material: %w", err)
		}
		done += max(len(mats), 1) // a page may be empty yet not the last
		var old []Material
		for _, m := range mats {
			switch {
			case !m.Named:
				r.logger().WarnContext(ctx, "material under the clients prefix with a name the service does not give; left alone", "name", m.Name)
			case r.now.Sub(m.CreatedAt) >= r.set.MaterialMinAge:
				old = append(old, m)
			}
		}
		if err := r.destroyOrphans(ctx, old); err != nil {
			return err
		}
		// Saved after each page: an interrupted run resumes after the
		// last page it finished.
		cursors.Material = next
		if err := r.Store.SaveCursors(ctx, cursors); err != nil {
			return fmt.Errorf("save cursors: %w", err)
		}
		if next == "" {
			return nil // the walk is complete; the next run starts over
		}
	}
	return nil
}

func (r *run) destroyOrphans(ctx context.Context, mats []Material) error {
	if len(mats) == 0 {
		return nil
	}
	refs := make([]identity.MaterialRef, len(mats))
	for i, m := range mats {
		refs[i] = m.Ref
	}
	states, err := r.Store.RecordStates(ctx, refs)
	if err != nil {
		return fmt.Errorf("read the records of material: %w", err)
	}
	for i, st := range states {
		if st == Live {
			continue
		}
		if r.spent() {
			return errBudget
		}
		sec := identity.Secret{TenantID: refs[i].TenantID, ClientID: refs[i].ClientID, ID: refs[i].SecretID}
		if err := r.Inventory.Destroy(ctx, refs[i]); err != nil {
			r.fail(ctx, "destroy orphaned material", sec, err)
			continue
		}
		r.counts.OrphansDestroyed++
		reason := "no record"
		if st == Finished {
			reason = "record swept or soft-deleted"
		}
		r.logger().InfoContext(ctx, "orphaned secret material destroyed", ids(sec, "reason", reason)...)
	}
	return nil
}

// reconcileRecords walks the records that may be active, from where the
// previous run stopped, and logs as an error every active secret whose
// material is missing: it can no longer authenticate, and only an operator
// can tell why (the records are the source of truth; nothing is deleted).
func (r *run) reconcileRecords(ctx context.Context) error {
	if r.set.ReconcileBatch == 0 {
		return nil
	}
	cursors, err := r.Store.LoadCursors(ctx)
	if err != nil {
		return fmt.Errorf("load cursors: %w", err)
	}
	for done := 0; done < r.set.ReconcileBatch; {
		if r.spent() {
			return errBudget
		}
		secs, next, err := r.Store.ActiveRecords(ctx, cursors.Records, min(reconcilePage, r.set.ReconcileBatch-done), r.now)
		if err != nil {
			return fmt.Errorf("read active records: %w", err)
		}
		done += max(len(secs), 1)
		if err := r.checkMaterial(ctx, secs); err != nil {
			return err
		}
		cursors.Records = next
		if err := r.Store.SaveCursors(ctx, cursors); err != nil {
			return fmt.Errorf("save cursors: %w", err)
		}
		if next == "" {
			return nil
		}
	}
	return nil
}

func (r *run) checkMaterial(ctx context.Context, secs []identity.Secret) error {
	byRef := map[identity.MaterialRef]identity.Secret{}
	var refs []identity.MaterialRef
	for _, sec := range secs {
		if sec.Active(r.now) {
			byRef[ref(sec)] = sec
			refs = append(refs, ref(sec))
		}
	}
	if len(refs) == 0 {
		return nil
	}
	missing, err := r.Inventory.Missing(ctx, refs)
	if err != nil {
		return fmt.Errorf("look up material: %w", err)
	}
	for _, m := range missing {
		sec := byRef[m]
		// The index is eventually consistent: confirm on the record itself
		// that the secret is still active (a delete removes the material
		// just after the record).
		active, err := r.Store.StillActive(ctx, sec, r.now)
		if err != nil {
			r.fail(ctx, "re-read secret record", sec, err)
			continue
		}
		if active {
			r.counts.MaterialMissing++
			r.logger().ErrorContext(ctx, "active secret has no material: it cannot authenticate", ids(sec)...)
		}
	}
	return nil
}
