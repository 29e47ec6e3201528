package tableops

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"identityservice/shared/identity"
	"identityservice/shared/store/layout"
)

// MigrationAPI is the part of the DynamoDB client the migration uses: it
// scans the table once, which only an operator's credentials allow.
type MigrationAPI interface {
	BatchWriter
	Scanner
	DeleteItem(context.Context, *dynamodb.DeleteItemInput, ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error)
}

// MigrationReport is what a migration wrote.
type MigrationReport struct {
	Tenants         int `json:"Tenants"`         // tenant items whose counters were set
	Clients         int `json:"Clients"`         // client items written with their Seq, list copy and tag entries
	TagEntries      int `json:"TagEntries"`      // tag entries written
	StaleRemoved    int `json:"StaleRemoved"`    // list copies and tag entries of no current client, removed
	TokenItems      int `json:"TokenItems"`      // registrations rebuilt as token items, with their RecordCount
	SecretsResorted int `json:"SecretsResorted"` // secret records moved into their expiry index shard
	Tombstones      int `json:"Tombstones"`      // deleted clients' reserved ids, left as they are
}

// Migrate brings items written by earlier versions of the store to the
// current layout, and is idempotent (a second run writes the same items
// again and changes nothing): per tenant, the clients get a place in the
// creation order (Seq, by CreatedAt, for those without one), a list copy
// and tag entries, and the tenant's counters (ClientCount, the per-kind
// counts, LastSeq) are set from the clients; every registration is rebuilt
// as the token item (Enabled, RoleIds from the client, the secrets that are
// neither deleted nor swept from the records, RecordCount from the number of
// its secret records, retained ones included, SecretsVersion kept); every
// secret record whose ExpiryPK has no shard (or is missing) moves into its
// shard. Every token item is sealed (seal: identity.Service.TokenSeal, with
// the operator's read of the seal key), so items written before seals
// existed get tokens again. It reads the table with one Scan: run it with
// the API quiet (before deploying the version that needs it, or in a
// maintenance window).
func Migrate(ctx context.Context, api MigrationAPI, table string, seal func(context.Context, identity.Client) ([]byte, error)) (MigrationReport, error) {
	var rep MigrationReport
	tenants := map[string]item{}
	clients := map[string][]item{} // by tenant
	listed := map[string][]item{}  // existing list copies and tag entries, by tenant
	regs := map[string]item{}      // by client
	secrets := map[string][]item{} // by client
	err := scan(ctx, api, "migrate", &dynamodb.ScanInput{TableName: &table, ConsistentRead: aws.Bool(true)}, func(it item) error {
		r := layout.Reader{It: it}
		pk, sk := r.Str(layout.AttrPK, true), r.Str(layout.AttrSK, true)
		switch {
		case strings.HasPrefix(pk, "TENANT#") && sk == layout.SkTenant:
			tenants[strings.TrimPrefix(pk, "TENANT#")] = it
		case strings.HasPrefix(pk, "TENANT#") && (strings.HasPrefix(sk, layout.PrefixOrder) || strings.HasPrefix(sk, layout.PrefixTag)):
			listed[strings.TrimPrefix(pk, "TENANT#")] = append(listed[strings.TrimPrefix(pk, "TENANT#")], it)
		case strings.HasPrefix(pk, "TENANT#"):
			clients[strings.TrimPrefix(pk, "TENANT#")] = append(clients[strings.TrimPrefix(pk, "TENANT#")], it)
		case strings.HasPrefix(pk, "CLIENT#") && sk == layout.SkRegistration && layout.IsTombstone(it):
			rep.Tombstones++ // a deleted client's reserved id: kept as it is
		case strings.HasPrefix(pk, "CLIENT#") && sk == layout.SkRegistration:
			regs[strings.TrimPrefix(pk, "CLIENT#")] = it
		case strings.HasPrefix(pk, "CLIENT#") && strings.HasPrefix(sk, layout.PrefixSecret):
			secrets[strings.TrimPrefix(pk, "CLIENT#")] = append(secrets[strings.TrimPrefix(pk, "CLIENT#")], it)
		}
		return nil
	})
	if err != nil {
		return rep, err
	}

	byID := map[string]identity.Client{}
	for tenantID, tenant := range tenants {
		var cs []identity.Client
		for _, it := range clients[tenantID] {
			c, err := layout.DecodeClient(it)
			if err != nil {
				return rep, fmt.Errorf("migrate: tenant %s: client item %s: %w", tenantID, (&layout.Reader{It: it}).Str(layout.AttrSK, false), err)
			}
			cs = append(cs, c)
		}
		// Clients with a place keep it; the others follow, by creation.
		slices.SortStableFunc(cs, func(a, b identity.Client) int {
			switch {
			case a.Seq > 0 && b.Seq > 0:
				return cmp.Compare(a.Seq, b.Seq)
			case a.Seq > 0:
				return -1
			case b.Seq > 0:
				return 1
			case !a.CreatedAt.Equal(b.CreatedAt):
				return a.CreatedAt.Compare(b.CreatedAt)
			}
			return strings.Compare(a.ID, b.ID)
		})
		r := layout.Reader{It: tenant}
		last := r.Num("LastSeq", false)
		counts := map[identity.ClientKind]int64{}
		var writes []item
		want := map[string]bool{}
		for i := range cs {
			c := &cs[i]
			if c.Seq <= 0 {
				c.Seq = max(c.CreatedAt.UnixMicro(), last+1)
			}
			last = max(last, c.Seq)
			counts[c.Kind]++
			writes = append(writes, layout.ClientItem(*c), layout.OrderItem(*c))
			want[layout.OrderSK(c.Kind, c.Seq)] = true
			for _, tag := range c.Tags {
				writes = append(writes, layout.TagItem(*c, tag))
				want[layout.TagSK(c.Kind, tag, c.Seq)] = true
				rep.TagEntries++
			}
			byID[c.ID] = *c
		}
		if err := batchWrite(ctx, api, table, writes); err != nil {
			return rep, fmt.Errorf("migrate: tenant %s: %w", tenantID, err)
		}
		rep.Clients += len(cs)
		for _, it := range listed[tenantID] {
			sk := (&layout.Reader{It: it}).Str(layout.AttrSK, true)
			if want[sk] {
				continue
			}
			if _, err := api.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: &table, Key: layout.Key(layout.TenantPK(tenantID), sk)}); err != nil {
				return rep, fmt.Errorf("migrate: tenant %s: remove %s: %w", tenantID, sk, err)
			}
			rep.StaleRemoved++
		}
		names := map[string]string{}
		values := item{":total": layout.N(int64(len(cs))), ":last": layout.N(last)}
		update := "SET ClientCount = :total, LastSeq = :last"
		for _, k := range identity.ClientKinds {
			alias := fmt.Sprintf("#k%d", int(k))
			names[alias] = layout.KindCountAttr(k)
			values[":k"+alias[2:]] = layout.N(counts[k])
			update += ", " + alias + " = :k" + alias[2:]
		}
		if _, err := api.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: &table, Key: layout.Key(layout.TenantPK(tenantID), layout.SkTenant),
			UpdateExpression: aws.String(update), ExpressionAttributeNames: names, ExpressionAttributeValues: values}); err != nil {
			return rep, fmt.Errorf("migrate: tenant %s counters: %w", tenantID, err)
		}
		rep.Tenants++
	}

	for clientID, it := range regs {
		reg, err := layout.DecodeRegistration(it)
		if err != nil {
			return rep, fmt.Errorf("migrate: registration %s: %w", clientID, err)
		}
		entries := item{}
		for _, sit := range secrets[clientID] {
			sec, err := layout.DecodeSecret(sit)
			if err != nil {
				return rep, fmt.Errorf("migrate: client %s: secret record: %w", clientID, err)
			}
			if sec.DeletedAt != nil || sec.Swept {
				continue
			}
			e := layout.SecretEntry(sec).(*types.AttributeValueMemberM)
			if sec.LastUsed != nil {
				e.Value["U"] = layout.N(sec.LastUsed.Unix())
			}
			entries[sec.ID] = e
		}
		c, ok := byID[clientID]
		if !ok || c.TenantID != reg.TenantID {
			return rep, fmt.Errorf("migrate: registration %s: no client item in tenant %s", clientID, reg.TenantID)
		}
		sealed, err := seal(ctx, identity.Client{ID: clientID, TenantID: reg.TenantID, Kind: reg.Kind, Enabled: c.Enabled, RoleIDs: c.RoleIDs,
			AccessTokenLifetime: reg.AccessTokenLifetime})
		if err != nil {
			return rep, fmt.Errorf("migrate: seal token item %s: %w", clientID, err)
		}
		if _, err := api.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: &table, Key: layout.Key(layout.ClientPK(clientID), layout.SkRegistration),
			UpdateExpression:    aws.String("SET Enabled = :en, RoleIds = :roles, Secrets = :secrets, RecordCount = :records, " + layout.AttrSeal + " = :seal"),
			ConditionExpression: aws.String("SecretsVersion = :v"),
			ExpressionAttributeValues: item{":en": layout.B(c.Enabled), ":roles": layout.List(c.RoleIDs), ":secrets": &types.AttributeValueMemberM{Value: entries},
				":records": layout.N(int64(len(secrets[clientID]))), ":v": layout.N(reg.SecretsVersion), ":seal": &types.AttributeValueMemberB{Value: sealed}}}); err != nil {
			return rep, fmt.Errorf("migrate: token item %s: %w", clientID, err)
		}
		rep.TokenItems++
	}

	for _, its := range secrets {
		for _, it := range its {
			moved, err := reshard(ctx, api, table, it)
			if err != nil {
				return rep, err
			}
			if moved {
				rep.SecretsResorted++
			}
		}
	}
	return rep, nil
}

// reshard moves a secret record into its shard of its queue: ExpiryPK
// EXPIRY becomes EXPIRY#nn, and so on; a record without ExpiryPK enters the
// inbox (or NOEXPIRY) as the API would have put it.
func reshard(ctx context.Context, api MigrationAPI, table string, it item) (bool, error) {
	sec, err := layout.DecodeSecret(it)
	if err != nil {
		return false, fmt.Errorf("migrate: secret record: %w", err)
	}
	r := layout.Reader{It: it}
	old := r.Str(layout.AttrExpiryPK, false)
	if layout.Sharded(old) {
		return false, nil // sharded already
	}
	queue, due := old, r.Num(layout.AttrExpiresAt, false)
	if old == "" {
		queue, due = layout.NoExpiryPartition, layout.NeverExpires
		if sec.Expiration != nil {
			queue, due = layout.ExpiryPartition, sec.Expiration.Unix()
		}
		if sec.DeletedAt != nil {
			queue, due = layout.ExpiryPartition, sec.DeletedAt.Unix()
		}
	}
	cond := "ExpiryPK = :old"
	values := item{":new": layout.S(layout.ExpiryPK(queue, sec.ID)), ":due": layout.N(due)}
	if old == "" {
		cond = "attribute_not_exists(ExpiryPK)"
	} else {
		values[":old"] = layout.S(old)
	}
	_, err = api.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: &table, Key: layout.Key(layout.ClientPK(sec.ClientID), layout.SecretSK(sec.ID)),
		UpdateExpression: aws.String("SET ExpiryPK = :new, ExpiresAt = :due"), ConditionExpression: aws.String(cond), ExpressionAttributeValues: values})
	if err != nil {
		return false, fmt.Errorf("migrate: secret record %s: %w", sec.ID, err)
	}
	return true, nil
}
