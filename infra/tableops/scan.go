package tableops

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

// Scanner is the one DynamoDB call that reads a whole table: only an
// operator's credentials allow it.
type Scanner interface {
	Scan(context.Context, *dynamodb.ScanInput, ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error)
}

// scan calls each on every item in, page by page (strongly consistent
// reads are the caller's to ask for), and stops at the first error: each's
// as it is, a failed Scan as "<op>: scan: <error>".
func scan(ctx context.Context, api Scanner, op string, in *dynamodb.ScanInput, each func(item) error) error {
	for {
		out, err := api.Scan(ctx, in)
		if err != nil {
			return fmt.Errorf("%s: scan: %w", op, err)
		}
		for _, it := range out.Items {
			if err := each(it); err != nil {
				return err
			}
		}
		if out.LastEvaluatedKey == nil {
			return nil
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
}
