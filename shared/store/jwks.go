package store

import (
	"context"
	"errors"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"identityservice/shared/auth"
)

// The published JWKS: public keys only, readable by every function.
const (
	pkSigningKeys = "SIGNINGKEYS"
	skJWKS        = "#JWKS"
)

var _ auth.PublicKeyStore = (*Dynamo)(nil)

// PublishJWKS stores the public key set, unless one with a newer key is
// already published (see auth.PublicKeyStore).
func (d *Dynamo) PublishJWKS(ctx context.Context, jwks []byte, newest time.Time) error {
	it := key(pkSigningKeys, skJWKS)
	it["Type"] = s("JWKS")
	it["Jwks"] = s(string(jwks))
	it["NewestKey"] = n(newest.UnixNano())
	_, err := d.api.PutItem(ctx, &dynamodb.PutItemInput{TableName: &d.table, Item: it,
		ConditionExpression:       aws.String("attribute_not_exists(NewestKey) OR NewestKey <= :newest"),
		ExpressionAttributeValues: item{":newest": n(newest.UnixNano())}})
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return nil // a newer set is published; it includes this one's active key
	}
	if err != nil {
		return storageError("publish JWKS", err)
	}
	return nil
}

// JWKS reads the public key set.
func (d *Dynamo) JWKS(ctx context.Context) ([]byte, error) {
	out, err := d.api.GetItem(ctx, &dynamodb.GetItemInput{TableName: &d.table, Key: key(pkSigningKeys, skJWKS), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return nil, storageError("read JWKS", err)
	}
	v, ok := out.Item["Jwks"].(*types.AttributeValueMemberS)
	if !ok {
		return nil, auth.ErrNoKeySet
	}
	return []byte(v.Value), nil
}
