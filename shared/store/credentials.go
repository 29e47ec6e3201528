package store

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"identityservice/shared/identity"
	"identityservice/shared/store/layout"
)

// Credentials is what a token request reads and writes: the client's
// token item (CLIENT#<client> / #CLIENT), one small item, and a secret's
// last use.
type Credentials struct{ base }

var _ identity.Credentials = (*Credentials)(nil)

// ClientForAuthentication reads the client's token item: one strongly
// consistent GetItem of a small item (the registration), whatever the
// number of the client's retained secret records.
func (d *Credentials) ClientForAuthentication(ctx context.Context, clientID string) (identity.Client, []identity.Secret, error) {
	reg, err := d.tokenItem(ctx, clientID)
	if err != nil {
		return identity.Client{}, nil, err
	}
	if reg == nil {
		return identity.Client{}, nil, identity.ErrClientNotFound
	}
	c := identity.Client{TenantID: reg.TenantID, ID: reg.ClientID, Kind: reg.Kind, Enabled: reg.Enabled, RoleIDs: reg.RoleIDs, AccessTokenLifetime: reg.AccessTokenLifetime, TokenSeal: reg.Seal}
	return c, reg.Secrets, nil
}

// MarkUsed sets a secret's LastUsed (record) and U (token item entry) to
// hour in one transaction, conditional on the entry's U being earlier (or
// absent): at most one write per secret per hour, however many processes
// see the old value. A secret deleted meanwhile, or an hour already
// recorded, cancels it, which is not an error.
func (d *Credentials) MarkUsed(ctx context.Context, clientID, secretID string, hour time.Time) error {
	h := hour.UTC().Unix()
	_, err := d.transact(ctx, []types.TransactWriteItem{
		{Update: &types.Update{TableName: &d.table, Key: layout.Key(layout.ClientPK(clientID), layout.SkRegistration),
			UpdateExpression:          aws.String("SET Secrets.#s.U = :h"),
			ConditionExpression:       aws.String("attribute_exists(Secrets.#s) AND (attribute_not_exists(Secrets.#s.U) OR Secrets.#s.U < :h)"),
			ExpressionAttributeNames:  map[string]string{"#s": secretID},
			ExpressionAttributeValues: item{":h": layout.N(h)}}},
		{Update: &types.Update{TableName: &d.table, Key: layout.Key(layout.ClientPK(clientID), layout.SecretSK(secretID)),
			UpdateExpression:          aws.String("SET LastUsed = :t"),
			ConditionExpression:       aws.String("attribute_exists(PK)"),
			ExpressionAttributeValues: item{":t": layout.Ts(hour)}}},
	})
	return err
}
