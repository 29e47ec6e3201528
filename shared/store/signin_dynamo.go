package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"identityservice/shared/signin"
	"identityservice/shared/store/layout"
)

// SignIn is the DynamoDB store of sign-in: people, sessions, consents,
// authorization codes and interactions, each in partitions of its own
// (so each function's policy names the ones it writes):
//
//	PERSON#<tenant>#<sha256(issuer, upstream sub)>  #PERSON       a person (Subject, Name, Email)
//	SESSION#<session id>                            #SESSION      a session (cookie secret as SHA-256)
//	CONSENT#<tenant>#<subject>                      CLIENT#<id>   a consent
//	CODE#<sha256(code)>                             #CODE         an authorization code
//	INTERACTION#<sha256(id)>                        #INTERACTION  an authorization request on its way
//	REFRESH#<sha256(token)>                         #REFRESH      a refresh token (spent or not)
//	FAMILY#<family id>                              #FAMILY       a revoked refresh token family
//
// Each item keeps its fields as one JSON document (Data); short-lived ones
// carry TTL (unix seconds, the table's TimeToLiveSpecification) and are
// also refused on read once past it. It is built on the DynamoDB client and
// the table name alone, beside Dynamo, sharing only its key and error
// helpers.
type SignIn struct {
	api   API
	table string
}

var (
	_ signin.People        = (*SignIn)(nil)
	_ signin.Sessions      = (*SignIn)(nil)
	_ signin.Consents      = (*SignIn)(nil)
	_ signin.Codes         = (*SignIn)(nil)
	_ signin.Interactions  = (*SignIn)(nil)
	_ signin.RefreshTokens = (*SignIn)(nil)
)

// NewSignIn returns the sign-in store on the named table.
func NewSignIn(api API, table string) *SignIn { return &SignIn{api: api, table: table} }

// Sign-in attributes and keys.
const (
	attrData     = "Data"
	attrTTL      = "TTL" // template.yaml's TimeToLiveSpecification.AttributeName
	attrSubject  = "Subject"
	attrRedeemed = "Redeemed"
	attrClientID = "ClientId" // a code's client, which its redemption is conditional on
	// RedemptionId is the random id of the RedeemCode call that redeemed a
	// code, so that an SDK retry of that call is not mistaken for a replay.
	attrRedemptionID = "RedemptionId"

	skPerson      = "#PERSON"
	skSession     = "#SESSION"
	skCode        = "#CODE"
	skInteraction = "#INTERACTION"
	skRefresh     = "#REFRESH"
	skFamily      = "#FAMILY"
	attrSpent     = "Spent"
	// Scopes is a refresh token's scopes as a string set, so that the
	// spend's condition holds a narrowing refresh to them.
	attrScopes = "Scopes"
	// Ended marks a session ended by sign-out (or a replayed code), as
	// opposed to one that expired.
	attrEnded = "Ended"
)

func personPK(tenantID, issuer, upstreamSub string) string {
	sum := sha256.Sum256([]byte(issuer + "\x00" + upstreamSub))
	return "PERSON#" + tenantID + "#" + hex.EncodeToString(sum[:])
}
func sessionPK(id string) string                { return "SESSION#" + id }
func consentPK(tenantID, subject string) string { return "CONSENT#" + tenantID + "#" + subject }
func consentSK(clientID string) string          { return "CLIENT#" + clientID }
func codePK(hash string) string                 { return "CODE#" + hash }
func interactionPK(hash string) string          { return "INTERACTION#" + hash }
func refreshPK(hash string) string              { return "REFRESH#" + hash }
func familyPK(id string) string                 { return "FAMILY#" + id }
func ttl(t time.Time) types.AttributeValue      { return layout.N(t.Unix()) }
func unixN(t time.Time) *types.AttributeValueMemberN {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(t.Unix(), 10)}
}

// put writes an item of key pk/sk holding v, expiring at exp (zero: never),
// on the condition cond (empty: none).
// extra are more attributes, as name, value pairs.
func (d *SignIn) put(ctx context.Context, op, pk, sk string, v any, exp time.Time, cond string, extra ...any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	it := layout.Key(pk, sk)
	it[attrData] = layout.S(string(data))
	if !exp.IsZero() {
		it[attrTTL] = ttl(exp)
	}
	for i := 0; i+1 < len(extra); i += 2 {
		it[extra[i].(string)] = extra[i+1].(types.AttributeValue)
	}
	in := &dynamodb.PutItemInput{TableName: &d.table, Item: it}
	if cond != "" {
		in.ConditionExpression = aws.String(cond)
	}
	if _, err := d.api.PutItem(ctx, in); err != nil {
		return storageError(op, err)
	}
	return nil
}

// get reads the item pk/sk (strongly consistent) into v: false when absent.
func (d *SignIn) get(ctx context.Context, op, pk, sk string, v any) (bool, error) {
	out, err := d.api.GetItem(ctx, &dynamodb.GetItemInput{TableName: &d.table, Key: layout.Key(pk, sk), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return false, storageError(op, err)
	}
	if out.Item == nil {
		return false, nil
	}
	return true, decodeData(out.Item, v)
}

func decodeData(it map[string]types.AttributeValue, v any) error {
	data, ok := it[attrData].(*types.AttributeValueMemberS)
	if !ok {
		return errors.New("sign-in item without Data")
	}
	return json.Unmarshal([]byte(data.Value), v)
}

func conditionFailed(err error) bool {
	var ccf *types.ConditionalCheckFailedException
	return errors.As(err, &ccf)
}

// SavePerson implements signin.People: one UpdateItem that keeps a stored
// Subject (if_not_exists), so two first sign-ins at once agree on it.
func (d *SignIn) SavePerson(ctx context.Context, p signin.Person, newSubject string) (signin.Person, error) {
	profile := p
	profile.Subject = ""
	data, err := json.Marshal(profile)
	if err != nil {
		return signin.Person{}, err
	}
	out, err := d.api.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 &d.table,
		Key:                       layout.Key(personPK(p.TenantID, p.Issuer, p.UpstreamSubject), skPerson),
		UpdateExpression:          aws.String("SET #sub = if_not_exists(#sub, :sub), #data = :data"),
		ExpressionAttributeNames:  map[string]string{"#sub": attrSubject, "#data": attrData},
		ExpressionAttributeValues: map[string]types.AttributeValue{":sub": layout.S(newSubject), ":data": layout.S(string(data))},
		ReturnValues:              types.ReturnValueAllNew,
	})
	if err != nil {
		return signin.Person{}, storageError("save person", err)
	}
	sub, _ := out.Attributes[attrSubject].(*types.AttributeValueMemberS)
	if sub == nil || sub.Value == "" {
		return signin.Person{}, errors.New("person stored without a subject")
	}
	p.Subject = sub.Value
	return p, nil
}

// CreateSession implements signin.Sessions.
func (d *SignIn) CreateSession(ctx context.Context, se signin.Session) error {
	return ownRetry(d.put(ctx, "create session", sessionPK(se.ID), skSession, se, se.ExpiresAt(), "attribute_not_exists(PK)"))
}

// ownRetry reads a failed "is new" condition of an item keyed by a random
// id (a session's UUID, the SHA-256 of a 256-bit code or interaction id)
// as what it can only be: the SDK's retry of this very write, whose first
// attempt DynamoDB applied but whose answer was lost.
func ownRetry(err error) error {
	if conditionFailed(err) {
		return nil
	}
	return err
}

// GetSession implements signin.Sessions. A session past its end (which TTL
// has not deleted yet) is not found.
func (d *SignIn) GetSession(ctx context.Context, id string) (signin.Session, error) {
	out, err := d.api.GetItem(ctx, &dynamodb.GetItemInput{TableName: &d.table, Key: layout.Key(sessionPK(id), skSession), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return signin.Session{}, storageError("read session", err)
	}
	if _, ended := out.Item[attrEnded]; out.Item == nil || ended {
		return signin.Session{}, signin.ErrNotFound
	}
	var se signin.Session
	if err := decodeData(out.Item, &se); err != nil {
		return signin.Session{}, err
	}
	if !se.Live(time.Now()) {
		return signin.Session{}, signin.ErrNotFound
	}
	return se, nil
}

// TouchSession implements signin.Sessions: the new LastSeen is written only
// while the session exists (an ended session is not revived).
func (d *SignIn) TouchSession(ctx context.Context, se signin.Session, now time.Time) error {
	se.LastSeen = now
	err := d.put(ctx, "touch session", sessionPK(se.ID), skSession, se, se.ExpiresAt(), "attribute_exists(PK) AND attribute_not_exists("+attrEnded+")")
	if conditionFailed(err) {
		return signin.ErrNotFound
	}
	return err
}

// EndSession implements signin.Sessions: the session's item becomes its
// end (Ended, and nothing of the person), kept as long as a refresh token
// of the session could live, so that its refresh token families stop at
// once (UseRefresh reads it) while those of a session that merely expired
// keep their offline access.
func (d *SignIn) EndSession(ctx context.Context, id string) error {
	now := time.Now()
	it := layout.Key(sessionPK(id), skSession)
	it[attrEnded] = unixN(now)
	it[attrTTL] = ttl(now.Add(signin.RefreshLifetime))
	if _, err := d.api.PutItem(ctx, &dynamodb.PutItemInput{TableName: &d.table, Item: it}); err != nil {
		return storageError("end session", err)
	}
	return nil
}

// GetConsent implements signin.Consents.
func (d *SignIn) GetConsent(ctx context.Context, tenantID, subject, clientID string) (signin.Consent, error) {
	var c signin.Consent
	ok, err := d.get(ctx, "read consent", consentPK(tenantID, subject), consentSK(clientID), &c)
	if err != nil {
		return signin.Consent{}, err
	}
	if !ok {
		return signin.Consent{}, signin.ErrNotFound
	}
	return c, nil
}

// PutConsent implements signin.Consents.
func (d *SignIn) PutConsent(ctx context.Context, c signin.Consent) error {
	return d.put(ctx, "store consent", consentPK(c.TenantID, c.Subject), consentSK(c.ClientID), c, time.Time{}, "")
}

// RevokeConsent implements signin.Consents.
func (d *SignIn) RevokeConsent(ctx context.Context, tenantID, subject, clientID string) error {
	if _, err := d.api.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: &d.table, Key: layout.Key(consentPK(tenantID, subject), consentSK(clientID))}); err != nil {
		return storageError("revoke consent", err)
	}
	return nil
}

// CreateCode implements signin.Codes.
func (d *SignIn) CreateCode(ctx context.Context, c signin.Code) error {
	return ownRetry(d.put(ctx, "create code", codePK(c.Hash), skCode, c, c.Expires, "attribute_not_exists(PK)", attrClientID, layout.S(c.ClientID)))
}

// RedeemCode implements signin.Codes: one conditional UpdateItem sets
// Redeemed (and this call's own RedemptionId) if it is not set, the code
// has not expired and is the client's, returning the code. When the
// condition fails, the item (ALL_OLD on failure) says whether this very
// call redeemed it (the SDK retried an attempt whose answer was lost:
// success), another redeemed it before (ErrCodeReplayed), or it is
// unknown, expired or another client's (ErrCodeInvalid).
func (d *SignIn) RedeemCode(ctx context.Context, hash, clientID string, now time.Time) (signin.Code, error) {
	attempt, err := signin.RandomToken()
	if err != nil {
		return signin.Code{}, err
	}
	out, err := d.api.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                           &d.table,
		Key:                                 layout.Key(codePK(hash), skCode),
		UpdateExpression:                    aws.String("SET #r = :now, #rid = :rid"),
		ConditionExpression:                 aws.String("attribute_exists(PK) AND attribute_not_exists(#r) AND #ttl > :now AND #cid = :cid"),
		ExpressionAttributeNames:            map[string]string{"#r": attrRedeemed, "#rid": attrRedemptionID, "#ttl": attrTTL, "#cid": attrClientID},
		ExpressionAttributeValues:           map[string]types.AttributeValue{":now": unixN(now), ":cid": layout.S(clientID), ":rid": layout.S(attempt)},
		ReturnValues:                        types.ReturnValueAllNew,
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		var c signin.Code
		if ccf.Item == nil || decodeData(ccf.Item, &c) != nil || c.ClientID != clientID {
			return signin.Code{}, signin.ErrCodeInvalid
		}
		if rid, ok := ccf.Item[attrRedemptionID].(*types.AttributeValueMemberS); ok && rid.Value == attempt {
			t := now
			c.Redeemed = &t
			return c, nil // our own attempt, applied before its answer was lost
		}
		if _, redeemed := ccf.Item[attrRedeemed]; redeemed {
			return c, signin.ErrCodeReplayed
		}
		return signin.Code{}, signin.ErrCodeInvalid
	}
	if err != nil {
		return signin.Code{}, storageError("redeem code", err)
	}
	var c signin.Code
	if err := decodeData(out.Attributes, &c); err != nil {
		return signin.Code{}, err
	}
	t := now
	c.Redeemed = &t
	return c, nil
}

// CreateInteraction implements signin.Interactions.
func (d *SignIn) CreateInteraction(ctx context.Context, i signin.Interaction) error {
	return ownRetry(d.put(ctx, "create interaction", interactionPK(i.Hash), skInteraction, i, i.Expires, "attribute_not_exists(PK)"))
}

// TakeInteraction implements signin.Interactions: a DeleteItem on the
// condition that the item exists and has not expired, returning it.
func (d *SignIn) TakeInteraction(ctx context.Context, hash string, now time.Time) (signin.Interaction, error) {
	out, err := d.api.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName:                 &d.table,
		Key:                       layout.Key(interactionPK(hash), skInteraction),
		ConditionExpression:       aws.String("attribute_exists(PK) AND #ttl > :now"),
		ExpressionAttributeNames:  map[string]string{"#ttl": attrTTL},
		ExpressionAttributeValues: map[string]types.AttributeValue{":now": unixN(now)},
		ReturnValues:              types.ReturnValueAllOld,
	})
	if conditionFailed(err) {
		return signin.Interaction{}, signin.ErrNotFound
	}
	if err != nil {
		return signin.Interaction{}, storageError("take interaction", err)
	}
	var i signin.Interaction
	if err := decodeData(out.Attributes, &i); err != nil {
		return signin.Interaction{}, err
	}
	return i, nil
}

// CreateRefresh implements signin.RefreshTokens.
func (d *SignIn) CreateRefresh(ctx context.Context, t signin.RefreshToken) error {
	extra := []any{attrClientID, layout.S(t.ClientID)}
	if len(t.Scopes) > 0 {
		extra = append(extra, attrScopes, &types.AttributeValueMemberSS{Value: t.Scopes})
	}
	return ownRetry(d.put(ctx, "create refresh token", refreshPK(t.Hash), skRefresh, t, t.Expires, "attribute_not_exists(PK)", extra...))
}

// UseRefresh implements signin.RefreshTokens: a conditional UpdateItem
// spends the token (with this call's own id, so that the SDK's retry of
// an applied attempt is not a reuse; on the condition that the token
// holds every scope asked for, so that a refused widening spends
// nothing), then one BatchGetItem of its family's item (present:
// revoked) and its session's (Ended: signed out).
func (d *SignIn) UseRefresh(ctx context.Context, hash, clientID string, scopes []string, now time.Time) (signin.RefreshToken, error) {
	attempt, err := signin.RandomToken()
	if err != nil {
		return signin.RefreshToken{}, err
	}
	cond := "attribute_exists(PK) AND attribute_not_exists(#sp) AND #ttl > :now AND #cid = :cid"
	names := map[string]string{"#sp": attrSpent, "#rid": attrRedemptionID, "#ttl": attrTTL, "#cid": attrClientID}
	values := map[string]types.AttributeValue{":now": unixN(now), ":cid": layout.S(clientID), ":rid": layout.S(attempt)}
	for i, sc := range scopes {
		v := fmt.Sprintf(":sc%d", i)
		names["#sc"] = attrScopes
		cond += " AND contains(#sc, " + v + ")"
		values[v] = layout.S(sc)
	}
	out, err := d.api.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                           &d.table,
		Key:                                 layout.Key(refreshPK(hash), skRefresh),
		UpdateExpression:                    aws.String("SET #sp = :now, #rid = :rid"),
		ConditionExpression:                 aws.String(cond),
		ExpressionAttributeNames:            names,
		ExpressionAttributeValues:           values,
		ReturnValues:                        types.ReturnValueAllNew,
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	var t signin.RefreshToken
	var ccf *types.ConditionalCheckFailedException
	switch {
	case errors.As(err, &ccf):
		if ccf.Item == nil || decodeData(ccf.Item, &t) != nil || t.ClientID != clientID {
			return signin.RefreshToken{}, signin.ErrRefreshInvalid
		}
		rid, _ := ccf.Item[attrRedemptionID].(*types.AttributeValueMemberS)
		if _, spent := ccf.Item[attrSpent]; !spent {
			if now.Before(t.Expires) && len(scopes) > 0 {
				return t, signin.ErrRefreshScope // unspent: it stays usable
			}
			return signin.RefreshToken{}, signin.ErrRefreshInvalid // expired
		}
		if rid == nil || rid.Value != attempt {
			if err := d.RevokeFamily(ctx, t.FamilyID); err != nil {
				return signin.RefreshToken{}, err
			}
			return t, signin.ErrRefreshReused
		}
	case err != nil:
		return signin.RefreshToken{}, storageError("use refresh token", err)
	default:
		if err := decodeData(out.Attributes, &t); err != nil {
			return signin.RefreshToken{}, err
		}
	}
	// One strongly consistent read of two items: the family's revocation
	// and the session's end. A family of a session ended by sign-out
	// issues nothing more; one whose session merely expired lives on
	// (offline access).
	keys := []item{layout.Key(familyPK(t.FamilyID), skFamily)}
	if t.SessionID != "" {
		keys = append(keys, layout.Key(sessionPK(t.SessionID), skSession))
	}
	found, err := (&base{api: d.api, table: d.table}).batchGet(ctx, keys)
	if err != nil {
		return signin.RefreshToken{}, err
	}
	for _, it := range found {
		pk, _ := it[layout.AttrPK].(*types.AttributeValueMemberS)
		_, ended := it[attrEnded]
		if revoked := pk != nil && pk.Value == familyPK(t.FamilyID); revoked || ended {
			return signin.RefreshToken{}, signin.ErrRefreshInvalid
		}
	}
	return t, nil
}

// RevokeFamily implements signin.RefreshTokens: the family's item, which
// lives as long as any of its tokens could.
func (d *SignIn) RevokeFamily(ctx context.Context, familyID string) error {
	return d.put(ctx, "revoke refresh family", familyPK(familyID), skFamily, struct{ Revoked bool }{true}, time.Now().Add(signin.RefreshLifetime), "")
}

// RevokeRefresh implements signin.RefreshTokens: a strongly consistent
// GetItem of the token (its family and client), then a PutItem of the
// family's revocation on the condition that there is none yet (a
// revocation already stored is left as it is, so the call is idempotent
// and never shortens or extends the first one). The revocation lives as
// long as the family could (its Expires).
func (d *SignIn) RevokeRefresh(ctx context.Context, hash, clientID string, now time.Time) (signin.RefreshToken, error) {
	out, err := d.api.GetItem(ctx, &dynamodb.GetItemInput{TableName: &d.table, Key: layout.Key(refreshPK(hash), skRefresh), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return signin.RefreshToken{}, storageError("read refresh token", err)
	}
	var t signin.RefreshToken
	if out.Item == nil || decodeData(out.Item, &t) != nil || !now.Before(t.Expires) {
		return signin.RefreshToken{}, signin.ErrRefreshInvalid
	}
	if t.ClientID != clientID {
		return signin.RefreshToken{}, signin.ErrRefreshNotYours
	}
	err = d.put(ctx, "revoke refresh family", familyPK(t.FamilyID), skFamily, struct{ Revoked bool }{true}, t.Expires, "attribute_not_exists(PK)")
	if err != nil && !conditionFailed(err) {
		return signin.RefreshToken{}, err
	}
	return t, nil
}
