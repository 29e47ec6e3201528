package sweep

import (
	"context"
	"fmt"

	"identityservice/shared/identity"
)

// reconcilePage is how much one step of a reconciliation walk handles: a
// listing page of material, one BatchGetItem of their records.
const reconcilePage = 100

// walk runs one reconciliation walk a page at a time, from the position
// that cursor selects in the saved cursors, until the run's batch is done,
// the walk is complete (the next run starts over) or the budget is spent.
// The position is saved after each page, so an interrupted run resumes
// after the last page it finished. page handles one page from a position
// and returns the next position ("" at the end) and how many items it read.
func (r *run) walk(ctx context.Context, cursor func(*Cursors) *string,
	page func(ctx context.Context, from string, limit int) (next string, read int, err error)) error {
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
		next, read, err := page(ctx, *cursor(&cursors), min(reconcilePage, r.set.ReconcileBatch-done))
		if err != nil {
			return err
		}
		done += max(read, 1) // a page may be empty yet not the last
		*cursor(&cursors) = next
		if err := r.Store.SaveCursors(ctx, cursors); err != nil {
			return fmt.Errorf("save cursors: %w", err)
		}
		if next == "" {
			return nil
		}
	}
	return nil
}

// reconcileMaterial walks the material under the service's prefix, from
// where the previous run stopped, and destroys the material that no live
// record refers to: no record (a create or add that failed after writing
// the material, a delete whose destruction failed), or a record already
// swept or soft-deleted. Material younger than MaterialMinAge is left
// alone: its record may still be being written.
func (r *run) reconcileMaterial(ctx context.Context) error {
	return r.walk(ctx, func(c *Cursors) *string { return &c.Material },
		func(ctx context.Context, from string, limit int) (string, int, error) {
			mats, next, err := r.Inventory.List(ctx, from, limit)
			if err != nil {
				return "", 0, fmt.Errorf("list material: %w", err)
			}
			var old []Material
			for _, m := range mats {
				switch {
				case !m.Named:
					r.logger().WarnContext(ctx, "material under the clients prefix with a name the service does not give; left alone", "name", m.Name)
				case r.now.Sub(m.CreatedAt) >= r.set.MaterialMinAge:
					old = append(old, m)
				}
			}
			return next, len(mats), r.destroyOrphans(ctx, old)
		})
}

func (r *run) destroyOrphans(ctx context.Context, mats []Material) error {
	if len(mats) == 0 {
		return nil
	}
	refs := make([]identity.MaterialRef, len(mats))
	for i, m := range mats {
		refs[i] = m.Ref
	}
	// A pack lists up to identity.PackSize entries: their records are
	// read 100 at a time.
	var states []RecordState
	for start := 0; start < len(refs); start += reconcilePage {
		got, err := r.Store.RecordStates(ctx, refs[start:min(start+reconcilePage, len(refs))])
		if err != nil {
			return fmt.Errorf("read the records of material: %w", err)
		}
		states = append(states, got...)
	}
	for i, st := range states {
		if st == Live {
			continue
		}
		if r.spent() {
			return errBudget
		}
		sec := identity.Secret{TenantID: refs[i].TenantID, ClientID: refs[i].ClientID, ID: refs[i].SecretID, Pack: refs[i].Pack}
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
	return r.walk(ctx, func(c *Cursors) *string { return &c.Records },
		func(ctx context.Context, from string, limit int) (string, int, error) {
			secs, next, err := r.Store.ActiveRecords(ctx, from, limit, r.now)
			if err != nil {
				return "", 0, fmt.Errorf("read active records: %w", err)
			}
			return next, len(secs), r.checkMaterial(ctx, secs)
		})
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
