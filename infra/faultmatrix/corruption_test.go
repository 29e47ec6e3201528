package faultmatrix

import (
	"context"
	"encoding/base64"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	dbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"identityservice/shared/identity"
)

// corruptWorld is a world with a little of everything the data model
// derives: a Client Credential client with tags, roles, an expiring and a
// soft-deleted secret, and a Hybrid client.
type corruptWorld struct {
	*world
	ccc      identity.CreatedClient
	expiring identity.CreatedSecret // active, with an expiration
	soft     identity.CreatedSecret // soft-deleted
	hybrid   identity.CreatedClient
	known    []knownSecret
}

func newCorruptWorld(t *testing.T, table string) *corruptWorld {
	t.Helper()
	ctx := context.Background()
	w := &corruptWorld{world: newWorld(t, table)}
	roles := []string{identity.RoleAccountMember}
	var err error
	w.ccc, err = w.clean.Service.CreateClient(ctx, w.tenant, identity.NewClient{Kind: identity.ClientCredential, Name: "corrupt", Tags: []string{"red", "blue"}, RoleIDs: &roles})
	if err != nil {
		t.Fatal(err)
	}
	exp := w.clock.Now().Add(30 * 24 * time.Hour)
	if w.expiring, err = w.clean.Service.AddSecret(ctx, w.tenant, identity.ClientCredential, w.ccc.Client.ID, "expiring", "Description", &exp, "Expiration"); err != nil {
		t.Fatal(err)
	}
	if w.soft, err = w.clean.Service.AddSecret(ctx, w.tenant, identity.ClientCredential, w.ccc.Client.ID, "soft", "Description", nil, "Expiration"); err != nil {
		t.Fatal(err)
	}
	if _, err := w.clean.Service.SoftDeleteSecret(ctx, w.tenant, identity.ClientCredential, w.ccc.Client.ID, w.soft.Secret.ID); err != nil {
		t.Fatal(err)
	}
	w.hybrid = w.createClient(identity.Hybrid, nil, "hybrid")
	for _, k := range []struct {
		c   identity.Client
		s   identity.Secret
		txt string
	}{{w.ccc.Client, w.ccc.Secret, w.ccc.SecretString}, {w.ccc.Client, w.expiring.Secret, w.expiring.SecretString},
		{w.ccc.Client, w.soft.Secret, w.soft.SecretString}, {w.hybrid.Client, w.hybrid.Secret, w.hybrid.SecretString}} {
		w.known = append(w.known, knownSecret{tenant: w.tenant, client: k.c.ID, id: k.s.ID, kind: k.c.Kind, plain: k.txt})
	}
	return w
}

func (w *corruptWorld) update(pk, sk, expr string, names map[string]string, values map[string]dbtypes.AttributeValue) {
	w.t.Helper()
	in := &dynamodb.UpdateItemInput{TableName: &w.table, Key: keyOf(pk, sk), UpdateExpression: aws.String(expr), ConditionExpression: aws.String("attribute_exists(PK)")}
	if len(names) > 0 {
		in.ExpressionAttributeNames = names
	}
	if len(values) > 0 {
		in.ExpressionAttributeValues = values
	}
	if _, err := env.Clients.DynamoDB.UpdateItem(context.Background(), in); err != nil {
		w.t.Fatalf("corrupt %s %s: %v", pk, sk, err)
	}
}

func (w *corruptWorld) delete(pk, sk string) {
	w.t.Helper()
	if _, err := env.Clients.DynamoDB.DeleteItem(context.Background(), &dynamodb.DeleteItemInput{TableName: &w.table, Key: keyOf(pk, sk),
		ConditionExpression: aws.String("attribute_exists(PK)")}); err != nil {
		w.t.Fatalf("corrupt: delete %s %s: %v", pk, sk, err)
	}
}

func (w *corruptWorld) put(it map[string]dbtypes.AttributeValue) {
	w.t.Helper()
	if _, err := env.Clients.DynamoDB.PutItem(context.Background(), &dynamodb.PutItemInput{TableName: &w.table, Item: it}); err != nil {
		w.t.Fatalf("corrupt: put: %v", err)
	}
}

// get reads an item as stored.
func (w *corruptWorld) get(pk, sk string) map[string]dbtypes.AttributeValue {
	w.t.Helper()
	out, err := env.Clients.DynamoDB.GetItem(context.Background(), &dynamodb.GetItemInput{TableName: &w.table, Key: keyOf(pk, sk), ConsistentRead: aws.Bool(true)})
	if err != nil || out.Item == nil {
		w.t.Fatalf("get %s %s: %v (found %v)", pk, sk, err, out != nil && out.Item != nil)
	}
	return out.Item
}

func keyOf(pk, sk string) map[string]dbtypes.AttributeValue {
	return map[string]dbtypes.AttributeValue{"PK": sv(pk), "SK": sv(sk)}
}

func sv(v string) dbtypes.AttributeValue { return &dbtypes.AttributeValueMemberS{Value: v} }
func nv(v int64) dbtypes.AttributeValue  { return &dbtypes.AttributeValueMemberN{Value: fmt.Sprint(v)} }

func (w *corruptWorld) tenantPK() string { return "TENANT#" + w.tenant }
func cpk(id string) string               { return "CLIENT#" + id }

// cccRow is the stored Client Credential client as the snapshot reads it.
func (w *corruptWorld) cccRow() clientRow {
	w.t.Helper()
	c, ok := w.read(w.t).clients[w.ccc.Client.ID]
	if !ok {
		w.t.Fatal("client not stored")
	}
	return c
}

// TestInvariantsCatchCorruption shows that the data model's invariants are
// not vacuous: each case corrupts the stored data the way an invariant
// forbids, and the check must report it. A world is checked clean before
// it is corrupted.
func TestInvariantsCatchCorruption(t *testing.T) {
	cases := []struct {
		name    string
		corrupt func(w *corruptWorld)
		want    string // a part of the violation reported
		auth    bool   // the token endpoint's check (authInvariants) reports it
	}{
		// 1. token item against secret records and the client.
		{name: "token item entry of a hard-deleted record", want: "which has no secret record",
			corrupt: func(w *corruptWorld) { w.delete(cpk(w.ccc.Client.ID), "SECRET#"+w.expiring.Secret.ID) }},
		{name: "stale token item entry of a soft-deleted secret", want: "whose record is soft-deleted",
			corrupt: func(w *corruptWorld) {
				w.update(cpk(w.ccc.Client.ID), "#CLIENT", "SET Secrets.#s = :e", map[string]string{"#s": w.soft.Secret.ID},
					map[string]dbtypes.AttributeValue{":e": &dbtypes.AttributeValueMemberM{Value: map[string]dbtypes.AttributeValue{}}})
			}},
		{name: "soft-deleted secret still in the token item authenticates", want: "authenticates though its record is soft-deleted", auth: true,
			corrupt: func(w *corruptWorld) {
				w.update(cpk(w.ccc.Client.ID), "SECRET#"+w.expiring.Secret.ID, "SET DeletedAt = :t", nil,
					map[string]dbtypes.AttributeValue{":t": sv(w.clock.Now().UTC().Format(time.RFC3339Nano))})
			}},
		{name: "token item expiration differs from the record", want: "its record at",
			corrupt: func(w *corruptWorld) {
				w.update(cpk(w.ccc.Client.ID), "#CLIENT", "SET Secrets.#s.E = :e", map[string]string{"#s": w.expiring.Secret.ID},
					map[string]dbtypes.AttributeValue{":e": nv(w.expiring.Secret.Expiration.Add(time.Hour).UnixNano())})
			}},
		{name: "token item says never expires, the record expires", want: "has no expiration, its record expires",
			corrupt: func(w *corruptWorld) {
				w.update(cpk(w.ccc.Client.ID), "#CLIENT", "REMOVE Secrets.#s.E", map[string]string{"#s": w.expiring.Secret.ID}, nil)
			}},
		{name: "active secret without a token item entry", want: "has no entry in its client's token item",
			corrupt: func(w *corruptWorld) {
				w.update(cpk(w.ccc.Client.ID), "#CLIENT", "REMOVE Secrets.#s", map[string]string{"#s": w.ccc.Secret.ID}, nil)
			}},
		{name: "active secret without a token item entry cannot get a token", want: "(active) does not authenticate", auth: true,
			corrupt: func(w *corruptWorld) {
				w.update(cpk(w.ccc.Client.ID), "#CLIENT", "REMOVE Secrets.#s", map[string]string{"#s": w.ccc.Secret.ID}, nil)
			}},
		{name: "token item Enabled differs", want: "Enabled false, the client's true",
			corrupt: func(w *corruptWorld) {
				w.update(cpk(w.ccc.Client.ID), "#CLIENT", "SET Enabled = :f", nil, map[string]dbtypes.AttributeValue{":f": &dbtypes.AttributeValueMemberBOOL{Value: false}})
			}},
		{name: "token item RoleIds differ", want: "RoleIds [" + identity.RoleAccountAdministrator,
			corrupt: func(w *corruptWorld) {
				w.update(cpk(w.ccc.Client.ID), "#CLIENT", "SET RoleIds = :r", nil, map[string]dbtypes.AttributeValue{":r": &dbtypes.AttributeValueMemberL{
					Value: []dbtypes.AttributeValue{sv(identity.RoleAccountAdministrator), sv(identity.RoleAccountMember)}}})
			}},
		{name: "token item of a client that does not exist", want: "has no client item",
			corrupt: func(w *corruptWorld) {
				it := w.get(cpk(w.hybrid.Client.ID), "#CLIENT")
				ghost := identity.NewID()
				it["PK"], it["ClientId"] = sv(cpk(ghost)), sv(ghost)
				w.put(it)
			}},
		{name: "client without a token item", want: "has no registration",
			corrupt: func(w *corruptWorld) { w.delete(cpk(w.hybrid.Client.ID), "#CLIENT") }},
		{name: "tombstone over a live client's registration", want: "has a client item and a tombstone",
			corrupt: func(w *corruptWorld) {
				w.put(map[string]dbtypes.AttributeValue{"PK": sv(cpk(w.hybrid.Client.ID)), "SK": sv("#CLIENT"), "Type": sv("ClientTombstone"),
					"ClientId": sv(w.hybrid.Client.ID), "TenantId": sv(w.tenant), "Kind": sv("Hybrid")})
			}},
		{name: "token item RecordCount off", want: "RecordCount 7 (present true), secret records 3",
			corrupt: func(w *corruptWorld) {
				w.update(cpk(w.ccc.Client.ID), "#CLIENT", "SET RecordCount = :n", nil, map[string]dbtypes.AttributeValue{":n": nv(7)})
			}},
		{name: "token item Secrets not a map", want: "no Secrets map",
			corrupt: func(w *corruptWorld) {
				w.update(cpk(w.hybrid.Client.ID), "#CLIENT", "SET Secrets = :x", nil, map[string]dbtypes.AttributeValue{":x": sv("x")})
			}},

		// 2. list copies.
		{name: "client without its list copy", want: "has 0 list copies",
			corrupt: func(w *corruptWorld) { w.delete(w.tenantPK(), orderSK(w.cccRow())) }},
		{name: "client with two list copies", want: "has 2 list copies",
			corrupt: func(w *corruptWorld) {
				c := w.cccRow()
				it := w.get(w.tenantPK(), orderSK(c))
				it["SK"] = sv("ORDER#CCC#" + seqKey(c.seq+1))
				w.put(it)
			}},
		{name: "list copy at another place in the creation order", want: "its list copy is ORDER#CCC#",
			corrupt: func(w *corruptWorld) {
				c := w.cccRow()
				it := w.get(w.tenantPK(), orderSK(c))
				w.delete(w.tenantPK(), orderSK(c))
				it["SK"] = sv("ORDER#CCC#" + seqKey(c.seq-1))
				w.put(it)
			}},
		{name: "stale list copy", want: "differs from the client item in [Name]",
			corrupt: func(w *corruptWorld) {
				w.update(w.tenantPK(), orderSK(w.cccRow()), "SET #n = :n", map[string]string{"#n": "Name"}, map[string]dbtypes.AttributeValue{":n": sv("stale")})
			}},
		{name: "list copy of a deleted client", want: "which does not exist",
			corrupt: func(w *corruptWorld) {
				c := w.cccRow()
				it := w.get(w.tenantPK(), orderSK(c))
				it["SK"], it["ClientId"] = sv("ORDER#CCC#"+seqKey(c.seq+7)), sv(identity.NewID())
				w.put(it)
			}},

		// 3. tag entries.
		{name: "tag entry missing", want: `carries tag "red" but has no tag entry`,
			corrupt: func(w *corruptWorld) { w.delete(w.tenantPK(), tagSK(w.cccRow(), "red")) }},
		{name: "tag entry of a tag the client no longer carries", want: `under tag "green", which it does not carry`,
			corrupt: func(w *corruptWorld) {
				w.put(map[string]dbtypes.AttributeValue{"PK": sv(w.tenantPK()), "SK": sv(tagSK(w.cccRow(), "green")), "Type": sv("ClientTag"), "ClientId": sv(w.ccc.Client.ID)})
			}},
		{name: "tag entry of a deleted client", want: "which does not exist",
			corrupt: func(w *corruptWorld) {
				sk := "TAG#CCC#" + base64.RawURLEncoding.EncodeToString([]byte("red")) + "#" + seqKey(1)
				w.put(map[string]dbtypes.AttributeValue{"PK": sv(w.tenantPK()), "SK": sv(sk), "Type": sv("ClientTag"), "ClientId": sv(identity.NewID())})
			}},
		{name: "tag entry naming another client", want: "names client",
			corrupt: func(w *corruptWorld) {
				w.update(w.tenantPK(), tagSK(w.cccRow(), "blue"), "SET ClientId = :c", nil, map[string]dbtypes.AttributeValue{":c": sv(w.hybrid.Client.ID)})
			}},

		// 4. expiry index.
		{name: "secret record without ExpiryPK", want: "has no ExpiryPK",
			corrupt: func(w *corruptWorld) {
				w.update(cpk(w.ccc.Client.ID), "SECRET#"+w.ccc.Secret.ID, "REMOVE ExpiryPK", nil, nil)
			}},
		{name: "secret record in the wrong shard", want: "its id's shard is",
			corrupt: func(w *corruptWorld) {
				wrong := fmt.Sprintf("NOEXPIRY#%02d", (expiryShard(w.ccc.Secret.ID)+1)%16)
				w.update(cpk(w.ccc.Client.ID), "SECRET#"+w.ccc.Secret.ID, "SET ExpiryPK = :p", nil, map[string]dbtypes.AttributeValue{":p": sv(wrong)})
			}},
		{name: "secret record in no queue", want: "is no queue of the sweeper",
			corrupt: func(w *corruptWorld) {
				w.update(cpk(w.ccc.Client.ID), "SECRET#"+w.ccc.Secret.ID, "SET ExpiryPK = :p", nil,
					map[string]dbtypes.AttributeValue{":p": sv(fmt.Sprintf("LOST#%02d", expiryShard(w.ccc.Secret.ID)))})
			}},
		{name: "secret record in a shard out of range", want: `in shard "16"`,
			corrupt: func(w *corruptWorld) {
				w.update(cpk(w.ccc.Client.ID), "SECRET#"+w.ccc.Secret.ID, "SET ExpiryPK = :p", nil, map[string]dbtypes.AttributeValue{":p": sv("NOEXPIRY#16")})
			}},
		{name: "soft-deleted record in the queue of secrets that never expire", want: "want EXPIRY at its deletion",
			corrupt: func(w *corruptWorld) {
				w.update(cpk(w.ccc.Client.ID), "SECRET#"+w.soft.Secret.ID, "SET ExpiryPK = :p", nil,
					map[string]dbtypes.AttributeValue{":p": sv(fmt.Sprintf("NOEXPIRY#%02d", expiryShard(w.soft.Secret.ID)))})
			}},
		{name: "expiring record at the wrong time in the index", want: "but is in EXPIRY at",
			corrupt: func(w *corruptWorld) {
				w.update(cpk(w.ccc.Client.ID), "SECRET#"+w.expiring.Secret.ID, "SET ExpiresAt = :t", nil,
					map[string]dbtypes.AttributeValue{":t": nv(w.expiring.Secret.Expiration.Unix() + 3600)})
			}},
	}
	base := newCorruptWorld(t, "")
	if v := append(storeInvariants(base.read(t), false), base.authInvariants(base.read(t), base.known)...); len(v) > 0 {
		t.Fatalf("a clean world reports violations: %v", v)
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w := newCorruptWorld(t, base.table)
			tc.corrupt(w)
			snap := w.read(t)
			var v violations
			if tc.auth {
				v = w.authInvariants(snap, w.known)
			} else {
				v = storeInvariants(snap, false)
			}
			// A report found is the pass: it is not logged, since each reads
			// like a failure ("secret ... authenticates though ...") in the
			// verbose output of make test-faults. All of them are in the
			// failure message.
			for _, msg := range v {
				if strings.Contains(msg, tc.want) {
					return
				}
			}
			t.Errorf("the corruption was not reported as %q; reported: %q", tc.want, v)
		})
	}
}
