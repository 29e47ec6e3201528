package template

import (
	"fmt"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"gopkg.in/yaml.v3"
)

// Table returns the CreateTableInput for the AWS::DynamoDB::Table resource
// logicalID, named tableName: its attribute definitions, key schema and
// secondary indexes with their projections, billed PAY_PER_REQUEST. It is
// for DynamoDB Local and tests; the properties that only AWS honours
// (point-in-time recovery, encryption, policies) are left out.
func (t *Template) Table(logicalID, tableName string) (*dynamodb.CreateTableInput, error) {
	res, ok := t.resources[logicalID]
	if !ok {
		return nil, fmt.Errorf("template has no resource %s", logicalID)
	}
	if typ, _ := literal(res, "Type"); typ != typeTable {
		return nil, fmt.Errorf("resource %s is %s, not %s", logicalID, typ, typeTable)
	}
	in, err := createTableInput(lookup(res, "Properties"))
	if err != nil {
		return nil, fmt.Errorf("table %s: %w", logicalID, err)
	}
	in.TableName = aws.String(tableName)
	return in, nil
}

func createTableInput(props *yaml.Node) (*dynamodb.CreateTableInput, error) {
	in := &dynamodb.CreateTableInput{BillingMode: types.BillingModePayPerRequest}
	defs, err := each(props, "AttributeDefinitions", true, func(n *yaml.Node) (types.AttributeDefinition, error) {
		name, err := literal(n, "AttributeName")
		if err != nil {
			return types.AttributeDefinition{}, err
		}
		typ, err := enum[types.ScalarAttributeType](n, "AttributeType")
		return types.AttributeDefinition{AttributeName: aws.String(name), AttributeType: typ}, err
	})
	if err != nil {
		return nil, err
	}
	in.AttributeDefinitions = defs
	if in.KeySchema, err = keySchema(props); err != nil {
		return nil, err
	}
	in.GlobalSecondaryIndexes, err = each(props, "GlobalSecondaryIndexes", false, func(n *yaml.Node) (types.GlobalSecondaryIndex, error) {
		name, ks, p, err := index(n)
		return types.GlobalSecondaryIndex{IndexName: name, KeySchema: ks, Projection: p}, err
	})
	if err != nil {
		return nil, err
	}
	in.LocalSecondaryIndexes, err = each(props, "LocalSecondaryIndexes", false, func(n *yaml.Node) (types.LocalSecondaryIndex, error) {
		name, ks, p, err := index(n)
		return types.LocalSecondaryIndex{IndexName: name, KeySchema: ks, Projection: p}, err
	})
	if err != nil {
		return nil, err
	}
	return in, nil
}

func keySchema(n *yaml.Node) ([]types.KeySchemaElement, error) {
	return each(n, "KeySchema", true, func(n *yaml.Node) (types.KeySchemaElement, error) {
		name, err := literal(n, "AttributeName")
		if err != nil {
			return types.KeySchemaElement{}, err
		}
		typ, err := enum[types.KeyType](n, "KeyType")
		return types.KeySchemaElement{AttributeName: aws.String(name), KeyType: typ}, err
	})
}

// index reads what global and local secondary indexes have in common.
func index(n *yaml.Node) (*string, []types.KeySchemaElement, *types.Projection, error) {
	name, err := literal(n, "IndexName")
	if err != nil {
		return nil, nil, nil, err
	}
	ks, err := keySchema(n)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("index %s: %w", name, err)
	}
	proj := lookup(n, "Projection")
	if proj == nil {
		return nil, nil, nil, fmt.Errorf("index %s: no Projection", name)
	}
	typ, err := enum[types.ProjectionType](proj, "ProjectionType")
	if err != nil {
		return nil, nil, nil, fmt.Errorf("index %s: %w", name, err)
	}
	p := &types.Projection{ProjectionType: typ}
	if lookup(proj, "NonKeyAttributes") != nil {
		p.NonKeyAttributes, err = each(proj, "NonKeyAttributes", true, func(n *yaml.Node) (string, error) {
			if n.Kind != yaml.ScalarNode {
				return "", fmt.Errorf("line %d: not a scalar", n.Line)
			}
			return n.Value, nil
		})
		if err != nil {
			return nil, nil, nil, fmt.Errorf("index %s: %w", name, err)
		}
	}
	return aws.String(name), ks, p, nil
}

// each maps f over the sequence at key in mapping m. A missing key is an
// error if required, else an empty result.
func each[T any](m *yaml.Node, key string, required bool, f func(*yaml.Node) (T, error)) ([]T, error) {
	seq := lookup(m, key)
	if seq == nil {
		if required {
			return nil, fmt.Errorf("no %s", key)
		}
		return nil, nil
	}
	if seq.Kind != yaml.SequenceNode {
		return nil, fmt.Errorf("%s (line %d) is not a list", key, seq.Line)
	}
	out := make([]T, 0, len(seq.Content))
	for i, n := range seq.Content {
		v, err := f(deref(n))
		if err != nil {
			return nil, fmt.Errorf("%s[%d]: %w", key, i, err)
		}
		out = append(out, v)
	}
	return out, nil
}

// enum reads the literal at key in m as one of the SDK enum E's values.
func enum[E interface {
	~string
	Values() []E
}](m *yaml.Node, key string) (E, error) {
	v, err := literal(m, key)
	if err != nil {
		return "", err
	}
	e := E(v)
	if !slices.Contains(e.Values(), e) {
		return "", fmt.Errorf("%s %q: want one of %v", key, v, e.Values())
	}
	return e, nil
}
