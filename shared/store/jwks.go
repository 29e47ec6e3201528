package store

import (
	"context"
	"errors"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"identityservice/shared/auth"
	"identityservice/shared/store/layout"
)

// PublishedKeys keeps the published JWKS (SIGNINGKEYS / #JWKS).
type PublishedKeys struct{ base }

var _ auth.PublicKeyStore = (*PublishedKeys)(nil)

// The published JWKS: public keys only, readable by every function;
// template.yaml lets only TokenFunction write this partition.
const (
	pkSigningKeys = "SIGNINGKEYS"
	skJWKS        = "#JWKS"
)

func jwksItem(jwks []byte, version int64) item {
	it := layout.Key(pkSigningKeys, skJWKS)
	it["Type"] = layout.S("JWKS")
	it["Jwks"] = layout.S(string(jwks))
	it["SetVersion"] = layout.N(version)
	return it
}

// PublishJWKS stores the public key set unless one of a higher version is
// published; then it answers *auth.NewerJWKSError with what is stored
// (see auth.PublicKeyStore).
func (d *PublishedKeys) PublishJWKS(ctx context.Context, jwks []byte, version int64) error {
	_, err := d.api.PutItem(ctx, &dynamodb.PutItemInput{TableName: &d.table, Item: jwksItem(jwks, version),
		ConditionExpression:       aws.String("attribute_not_exists(SetVersion) OR SetVersion <= :v"),
		ExpressionAttributeValues: item{":v": layout.N(version)}})
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		out, err := d.api.GetItem(ctx, &dynamodb.GetItemInput{TableName: &d.table, Key: layout.Key(pkSigningKeys, skJWKS), ConsistentRead: aws.Bool(true)})
		if err != nil {
			return storageError("read JWKS", err)
		}
		newer := &auth.NewerJWKSError{}
		if v, ok := out.Item["Jwks"].(*types.AttributeValueMemberS); ok {
			newer.JWKS = []byte(v.Value)
		}
		if v, ok := out.Item["SetVersion"].(*types.AttributeValueMemberN); ok {
			newer.Version, _ = strconv.ParseInt(v.Value, 10, 64)
		}
		return newer
	}
	if err != nil {
		return storageError("publish JWKS", err)
	}
	return nil
}

// ReplaceJWKS stores the public key set whatever is published.
func (d *PublishedKeys) ReplaceJWKS(ctx context.Context, jwks []byte, version int64) error {
	if _, err := d.api.PutItem(ctx, &dynamodb.PutItemInput{TableName: &d.table, Item: jwksItem(jwks, version)}); err != nil {
		return storageError("replace JWKS", err)
	}
	return nil
}

// JWKS reads the public key set.
func (d *PublishedKeys) JWKS(ctx context.Context) ([]byte, error) {
	out, err := d.api.GetItem(ctx, &dynamodb.GetItemInput{TableName: &d.table, Key: layout.Key(pkSigningKeys, skJWKS), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return nil, storageError("read JWKS", err)
	}
	v, ok := out.Item["Jwks"].(*types.AttributeValueMemberS)
	if !ok {
		return nil, auth.ErrNoKeySet
	}
	return []byte(v.Value), nil
}
