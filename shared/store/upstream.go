package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"identityservice/shared/signin"
)

// A tenant's upstream identity provider is one item in a partition of its
// own, so that the sign-in function's policy can allow reading it (and
// only it) with dynamodb:LeadingKeys "UPSTREAM#*":
//
//	UPSTREAM#<tenant>  #UPSTREAM   Issuer, ClientId, AllowedDomains, RoleClaim,
//	                               RoleMap {<claim value>: [role id ...]}, RoleRequired,
//	                               Version, Updated
//
// The client secret at the upstream is not here: it is in Secrets Manager
// (vault.Upstreams).
const (
	upstreamPKPrefix = "UPSTREAM#"
	upstreamSK       = "#UPSTREAM"
)

// UpstreamAPI is the part of the DynamoDB client the upstream store uses.
type UpstreamAPI interface {
	GetItem(context.Context, *dynamodb.GetItemInput, ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	PutItem(context.Context, *dynamodb.PutItemInput, ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	DeleteItem(context.Context, *dynamodb.DeleteItemInput, ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error)
}

// Upstreams is the DynamoDB implementation of signin.UpstreamStore.
type Upstreams struct {
	api   UpstreamAPI
	table string
}

var _ signin.UpstreamStore = (*Upstreams)(nil)

// NewUpstreams returns the upstream store on the named table.
func NewUpstreams(api UpstreamAPI, table string) *Upstreams {
	return &Upstreams{api: api, table: table}
}

func upstreamKey(tenantID string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		"PK": &types.AttributeValueMemberS{Value: upstreamPKPrefix + tenantID},
		"SK": &types.AttributeValueMemberS{Value: upstreamSK},
	}
}

// PutUpstream creates or replaces the tenant's upstream. u.Version is the
// version it was read at (0: the tenant had none); the stored item gets
// u.Version+1, on the condition that nobody changed it in between, else
// signin.ErrUpstreamChanged.
func (s *Upstreams) PutUpstream(ctx context.Context, u signin.Upstream) error {
	if u.Updated.IsZero() {
		u.Updated = time.Now()
	}
	it := upstreamKey(u.TenantID)
	it["Type"] = &types.AttributeValueMemberS{Value: "Upstream"}
	it["TenantId"] = &types.AttributeValueMemberS{Value: u.TenantID}
	it["Issuer"] = &types.AttributeValueMemberS{Value: u.Issuer}
	it["ClientId"] = &types.AttributeValueMemberS{Value: u.ClientID}
	it["AllowedDomains"] = stringList(u.AllowedDomains)
	it["RoleClaim"] = &types.AttributeValueMemberS{Value: u.RoleClaim}
	roleMap := map[string]types.AttributeValue{}
	for value, roles := range u.RoleMap {
		roleMap[value] = stringList(roles)
	}
	it["RoleMap"] = &types.AttributeValueMemberM{Value: roleMap}
	it["RoleRequired"] = &types.AttributeValueMemberBOOL{Value: u.RoleRequired}
	it["Version"] = &types.AttributeValueMemberN{Value: strconv.FormatInt(u.Version+1, 10)}
	it["Updated"] = &types.AttributeValueMemberS{Value: u.Updated.UTC().Format(time.RFC3339Nano)}

	in := &dynamodb.PutItemInput{TableName: &s.table, Item: it}
	if u.Version == 0 {
		in.ConditionExpression = aws.String("attribute_not_exists(PK)")
	} else {
		in.ConditionExpression = aws.String("Version = :v")
		in.ExpressionAttributeValues = map[string]types.AttributeValue{":v": &types.AttributeValueMemberN{Value: strconv.FormatInt(u.Version, 10)}}
	}
	_, err := s.api.PutItem(ctx, in)
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return signin.ErrUpstreamChanged
	}
	if err != nil {
		return fmt.Errorf("put the upstream of tenant %s: %w", u.TenantID, err)
	}
	return nil
}

// GetUpstream reads the tenant's upstream (one strongly consistent
// GetItem), or signin.ErrUpstreamNotFound.
func (s *Upstreams) GetUpstream(ctx context.Context, tenantID string) (signin.Upstream, error) {
	out, err := s.api.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.table, Key: upstreamKey(tenantID), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return signin.Upstream{}, fmt.Errorf("get the upstream of tenant %s: %w", tenantID, err)
	}
	if out.Item == nil {
		return signin.Upstream{}, signin.ErrUpstreamNotFound
	}
	u, err := decodeUpstream(out.Item)
	if err != nil {
		return signin.Upstream{}, fmt.Errorf("decode the upstream of tenant %s: %w", tenantID, err)
	}
	return u, nil
}

// DeleteUpstream removes the tenant's upstream; one already gone is not an
// error.
func (s *Upstreams) DeleteUpstream(ctx context.Context, tenantID string) error {
	if _, err := s.api.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: &s.table, Key: upstreamKey(tenantID)}); err != nil {
		return fmt.Errorf("delete the upstream of tenant %s: %w", tenantID, err)
	}
	return nil
}

// stringList is a list (not a string set: sets cannot be empty, and the
// order an operator gave is kept).
func stringList(vs []string) types.AttributeValue {
	l := make([]types.AttributeValue, len(vs))
	for i, v := range vs {
		l[i] = &types.AttributeValueMemberS{Value: v}
	}
	return &types.AttributeValueMemberL{Value: l}
}

func decodeUpstream(it map[string]types.AttributeValue) (signin.Upstream, error) {
	str := func(name string) (string, error) {
		v, ok := it[name].(*types.AttributeValueMemberS)
		if !ok {
			return "", fmt.Errorf("%s is missing or not a string", name)
		}
		return v.Value, nil
	}
	list := func(av types.AttributeValue, name string) ([]string, error) {
		l, ok := av.(*types.AttributeValueMemberL)
		if !ok {
			return nil, fmt.Errorf("%s is missing or not a list", name)
		}
		out := make([]string, 0, len(l.Value))
		for _, e := range l.Value {
			v, ok := e.(*types.AttributeValueMemberS)
			if !ok {
				return nil, fmt.Errorf("%s holds a value that is not a string", name)
			}
			out = append(out, v.Value)
		}
		return out, nil
	}
	var u signin.Upstream
	var err error
	var errs []error
	collect := func(e error) {
		if e != nil {
			errs = append(errs, e)
		}
	}
	u.TenantID, err = str("TenantId")
	collect(err)
	u.Issuer, err = str("Issuer")
	collect(err)
	u.ClientID, err = str("ClientId")
	collect(err)
	u.RoleClaim, err = str("RoleClaim")
	collect(err)
	u.AllowedDomains, err = list(it["AllowedDomains"], "AllowedDomains")
	collect(err)
	if m, ok := it["RoleMap"].(*types.AttributeValueMemberM); ok {
		u.RoleMap = make(map[string][]string, len(m.Value))
		for v, roles := range m.Value {
			u.RoleMap[v], err = list(roles, "RoleMap["+v+"]")
			collect(err)
		}
	} else {
		collect(errors.New("RoleMap is missing or not a map"))
	}
	if b, ok := it["RoleRequired"].(*types.AttributeValueMemberBOOL); ok {
		u.RoleRequired = b.Value
	} else {
		collect(errors.New("RoleRequired is missing or not a boolean"))
	}
	if n, ok := it["Version"].(*types.AttributeValueMemberN); ok {
		u.Version, err = strconv.ParseInt(n.Value, 10, 64)
		collect(err)
	} else {
		collect(errors.New("Version is missing or not a number"))
	}
	updated, err := str("Updated")
	collect(err)
	if err == nil {
		u.Updated, err = time.Parse(time.RFC3339Nano, updated)
		collect(err)
	}
	return u, errors.Join(errs...)
}
