package tableops

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"identityservice/shared/identity"
	"identityservice/shared/store/layout"
	"identityservice/shared/vault"
)

// ResealAPI is the part of the DynamoDB client the reseal uses: it scans
// the token items (the operator's credentials only) and writes their
// seals.
type ResealAPI interface {
	Scanner
	GetItem(context.Context, *dynamodb.GetItemInput, ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	UpdateItem(context.Context, *dynamodb.UpdateItemInput, ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
}

// ResealReport is what a reseal found and wrote.
type ResealReport struct {
	Resealed int `json:"Resealed"` // sealed again with the current key (their seal held under another key of the set)
	Current  int `json:"Current"`  // sealed with the current key already
	Broken   int `json:"Broken"`   // seal missing or not holding under any key: left (no token, as before; `admin migrate` seals items from the client items)
	Pending  int `json:"Pending"`  // changed by someone else at every try: run again
}

// resealTries bounds the conditional writes of one item.
const resealTries = 3

// Reseal seals every token item whose seal holds under a key of ks other
// than the current one again with the current key, each with a write
// conditional on the seal read (a client function's write in between
// wins; the item is read again). An item whose seal does not hold is
// never sealed again: that would vouch for attributes written without
// the key. Resumable: an item sealed with the current key is left.
func Reseal(ctx context.Context, api ResealAPI, table string, ks identity.SealKeySet) (ResealReport, error) {
	var rep ResealReport
	in := &dynamodb.ScanInput{TableName: &table, ConsistentRead: aws.Bool(true),
		FilterExpression:          aws.String("SK = :reg AND begins_with(PK, :client)"),
		ExpressionAttributeValues: item{":reg": layout.S(layout.SkRegistration), ":client": layout.S("CLIENT#")}}
	err := scan(ctx, api, "reseal", in, func(it item) error { return resealItem(ctx, api, table, ks, it, &rep) })
	return rep, err
}

func resealItem(ctx context.Context, api ResealAPI, table string, ks identity.SealKeySet, it item, rep *ResealReport) error {
	clientID := strings.TrimPrefix((&layout.Reader{It: it}).Str(layout.AttrPK, true), "CLIENT#")
	for try := 0; ; try++ {
		if it == nil || layout.IsTombstone(it) {
			return nil // deleted: nothing to seal
		}
		reg, err := layout.DecodeRegistration(it)
		if err != nil {
			rep.Broken++
			return nil
		}
		c := identity.Client{ID: clientID, TenantID: reg.TenantID, Kind: reg.Kind, Enabled: reg.Enabled, RoleIDs: reg.RoleIDs,
			AccessTokenLifetime: reg.AccessTokenLifetime, TokenSeal: reg.Seal}
		holds, current := ks.Holds(c)
		switch {
		case current:
			rep.Current++
			return nil
		case !holds:
			rep.Broken++
			return nil
		case try == resealTries:
			rep.Pending++
			return nil
		}
		_, err = api.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: &table, Key: layout.Key(layout.ClientPK(clientID), layout.SkRegistration),
			UpdateExpression:          aws.String("SET " + layout.AttrSeal + " = :new"),
			ConditionExpression:       aws.String(layout.AttrSeal + " = :old"),
			ExpressionAttributeValues: item{":new": &types.AttributeValueMemberB{Value: ks.Seal(c)}, ":old": &types.AttributeValueMemberB{Value: reg.Seal}}})
		var failed *types.ConditionalCheckFailedException
		if errors.As(err, &failed) {
			got, err := api.GetItem(ctx, &dynamodb.GetItemInput{TableName: &table, Key: layout.Key(layout.ClientPK(clientID), layout.SkRegistration), ConsistentRead: aws.Bool(true)})
			if err != nil {
				return fmt.Errorf("reseal: read token item %s: %w", clientID, err)
			}
			it = got.Item
			continue
		}
		if err != nil {
			return fmt.Errorf("reseal: token item %s: %w", clientID, err)
		}
		rep.Resealed++
		return nil
	}
}

// SealKeyStore is the stored seal keys (vault.SealKey).
type SealKeyStore interface {
	State(ctx context.Context) (vault.SealKeyState, error)
	Write(ctx context.Context, from, next vault.SealKeyState) error
}

// SealRotation rotates the token item seal key. Settle is how long every
// process takes to read a key set written: twice the functions' refresh
// (SEAL_KEY_REFRESH).
type SealRotation struct {
	Keys   SealKeyStore
	API    ResealAPI
	Table  string
	Settle time.Duration
	Now    func() time.Time
	Sleep  func(context.Context, time.Duration) error
	// Step, when set, hears each step as it begins.
	Step func(string)
}

// SealRotationReport is what a rotation did.
type SealRotationReport struct {
	Current uint32       `json:"CurrentVersion"` // the key that seals now
	Retired uint32       `json:"RetiredVersion"` // the key no seal may name any more
	Reseal  ResealReport `json:"Reseal"`
	Waited  string       `json:"Waited"` // time spent waiting for the functions to read each step
}

// ErrResealPending means items changed at every try of the reseal: the
// previous key is kept; run the rotation again.
var ErrResealPending = errors.New("token items changed during the reseal; the previous key is kept: run `seal rotate` again")

// Run rotates: (1) a new key, accepted but not yet sealing; after Settle,
// (2) the new key seals and the old one is still accepted; after Settle
// (no process seals with the old key any more), (3) every token item
// sealed with the old key is sealed again with the new one; (4) the old
// key is retired: a seal naming it holds nowhere once the functions have
// read that (within their refresh). Each step is stored in the key set,
// so a run that stopped resumes where it stopped.
func (r SealRotation) Run(ctx context.Context) (SealRotationReport, error) {
	var rep SealRotationReport
	var waited time.Duration
	wait := func(since time.Time) error {
		if d := since.Add(r.Settle).Sub(r.Now()); d > 0 {
			waited += d
			return r.Sleep(ctx, d)
		}
		return nil
	}
	step := func(s string) {
		if r.Step != nil {
			r.Step(s)
		}
	}
	write := func(from, next vault.SealKeyState) (vault.SealKeyState, error) {
		next.ChangedAt = r.Now().UTC()
		if err := r.Keys.Write(ctx, from, next); err != nil {
			return vault.SealKeyState{}, err
		}
		return r.Keys.State(ctx)
	}
	st, err := r.Keys.State(ctx)
	if err != nil {
		return rep, err
	}
	if st.Next == nil && st.Previous == nil {
		step(fmt.Sprintf("new key version %d, accepted, not yet sealing", st.Current.Version+1))
		next, err := vault.NewSealKeyEntry(st.Current.Version + 1)
		if err != nil {
			return rep, err
		}
		if st, err = write(st, vault.SealKeyState{Current: st.Current, Next: &next}); err != nil {
			return rep, err
		}
	}
	if st.Next != nil {
		if err := wait(st.ChangedAt); err != nil {
			return rep, err
		}
		step(fmt.Sprintf("key version %d seals; version %d still accepted", st.Next.Version, st.Current.Version))
		prev := st.Current
		if st, err = write(st, vault.SealKeyState{Current: *st.Next, Previous: &prev}); err != nil {
			return rep, err
		}
	}
	if err := wait(st.ChangedAt); err != nil {
		return rep, err
	}
	step("sealing every token item again")
	set, err := st.Set()
	if err != nil {
		return rep, err
	}
	rep.Current, rep.Retired = st.Current.Version, st.Previous.Version
	if rep.Reseal, err = Reseal(ctx, r.API, r.Table, set); err != nil {
		return rep, err
	}
	rep.Waited = waited.Round(time.Millisecond).String()
	if rep.Reseal.Pending > 0 {
		return rep, ErrResealPending
	}
	step(fmt.Sprintf("key version %d retired", st.Previous.Version))
	if _, err := write(st, vault.SealKeyState{Current: st.Current}); err != nil {
		return rep, err
	}
	return rep, nil
}
