package awscalls

import (
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strings"

	"identityservice/infra/iam"
)

// Schema names the partition key attributes DynamoDB's LeadingKeys refer
// to: the table's, and each index's (template.yaml's key schema).
type Schema struct {
	TableHash string            // e.g. "PK"
	IndexHash map[string]string // index name -> its partition key attribute
}

// attributeValue is DynamoDB's JSON encoding of a value; only strings can
// be partition keys here.
type attributeValue struct {
	S *string `json:"S"`
}

type ddbItem map[string]attributeValue

// Decode turns one request on the wire (the X-Amz-Target header and the
// JSON body of the AWS JSON protocols DynamoDB, Secrets Manager and
// EventBridge speak) into the service, operation and the IAM requests it
// needs in stack. Other services answer ok=false.
func Decode(target string, body []byte, stack iam.Stack, schema Schema) (service, operation string, reqs []iam.Request, ok bool, err error) {
	prefix, op, found := strings.Cut(target, ".")
	if !found {
		return "", "", nil, false, nil
	}
	switch {
	case strings.HasPrefix(prefix, "DynamoDB_"):
		reqs, err = decodeDynamoDB(op, body, stack, schema)
		return "dynamodb", op, reqs, true, err
	case prefix == "secretsmanager":
		reqs, err = decodeSecretsManager(op, body, stack)
		return "secretsmanager", op, reqs, true, err
	case prefix == "AWSEvents":
		reqs, err = decodeEvents(op, body, stack)
		return "events", op, reqs, true, err
	}
	return "", "", nil, false, nil
}

func leading(keys ...string) map[string][]string {
	uniq := map[string]bool{}
	var out []string
	for _, k := range keys {
		if !uniq[k] {
			uniq[k] = true
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return map[string][]string{"dynamodb:LeadingKeys": out}
}

func hashOf(it ddbItem, attr string) (string, error) {
	v, ok := it[attr]
	if !ok || v.S == nil {
		return "", fmt.Errorf("no string partition key %s", attr)
	}
	return *v.S, nil
}

func decodeDynamoDB(op string, body []byte, stack iam.Stack, schema Schema) ([]iam.Request, error) {
	var in struct {
		TableName                 string
		IndexName                 string
		Key                       ddbItem
		Item                      ddbItem
		KeyConditionExpression    string
		ExpressionAttributeNames  map[string]string
		ExpressionAttributeValues ddbItem
		RequestItems              map[string]json.RawMessage
		TransactItems             []map[string]json.RawMessage
	}
	if err := json.Unmarshal(body, &in); err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	action := "dynamodb:" + op
	resource := stack.TableARN(in.TableName)
	if in.IndexName != "" {
		resource += "/index/" + in.IndexName
	}
	switch op {
	case "GetItem", "DeleteItem", "UpdateItem":
		k, err := hashOf(in.Key, schema.TableHash)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", op, err)
		}
		return []iam.Request{{Action: action, Resource: resource, Context: leading(k)}}, nil
	case "PutItem":
		k, err := hashOf(in.Item, schema.TableHash)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", op, err)
		}
		return []iam.Request{{Action: action, Resource: resource, Context: leading(k)}}, nil
	case "Query":
		attr := schema.TableHash
		if in.IndexName != "" {
			attr = schema.IndexHash[in.IndexName]
		}
		k, err := queryHash(in.KeyConditionExpression, attr, in.ExpressionAttributeNames, in.ExpressionAttributeValues)
		if err != nil {
			return nil, fmt.Errorf("Query: %w", err)
		}
		return []iam.Request{{Action: action, Resource: resource, Context: leading(k)}}, nil
	case "BatchGetItem", "BatchWriteItem":
		var reqs []iam.Request
		tables := make([]string, 0, len(in.RequestItems))
		for t := range in.RequestItems {
			tables = append(tables, t)
		}
		sort.Strings(tables)
		for _, t := range tables {
			var keys []string
			if op == "BatchGetItem" {
				var ka struct{ Keys []ddbItem }
				if err := json.Unmarshal(in.RequestItems[t], &ka); err != nil {
					return nil, err
				}
				for _, it := range ka.Keys {
					k, err := hashOf(it, schema.TableHash)
					if err != nil {
						return nil, fmt.Errorf("%s: %w", op, err)
					}
					keys = append(keys, k)
				}
			} else {
				var ws []struct {
					PutRequest    *struct{ Item ddbItem }
					DeleteRequest *struct{ Key ddbItem }
				}
				if err := json.Unmarshal(in.RequestItems[t], &ws); err != nil {
					return nil, err
				}
				for _, w := range ws {
					it := ddbItem{}
					if w.PutRequest != nil {
						it = w.PutRequest.Item
					} else if w.DeleteRequest != nil {
						it = w.DeleteRequest.Key
					}
					k, err := hashOf(it, schema.TableHash)
					if err != nil {
						return nil, fmt.Errorf("%s: %w", op, err)
					}
					keys = append(keys, k)
				}
			}
			reqs = append(reqs, iam.Request{Action: action, Resource: stack.TableARN(t), Context: leading(keys...)})
		}
		return reqs, nil
	case "TransactWriteItems", "TransactGetItems":
		// Authorized item by item, by the item's own action.
		actions := map[string]string{"Put": "PutItem", "Update": "UpdateItem", "Delete": "DeleteItem", "ConditionCheck": "ConditionCheckItem", "Get": "GetItem"}
		var reqs []iam.Request
		for _, ti := range in.TransactItems {
			for kind, raw := range ti {
				var it struct {
					TableName string
					Key       ddbItem
					Item      ddbItem
				}
				if err := json.Unmarshal(raw, &it); err != nil {
					return nil, err
				}
				src := it.Key
				if kind == "Put" {
					src = it.Item
				}
				k, err := hashOf(src, schema.TableHash)
				if err != nil {
					return nil, fmt.Errorf("%s %s: %w", op, kind, err)
				}
				a, ok := actions[kind]
				if !ok {
					return nil, fmt.Errorf("%s: unknown item kind %s", op, kind)
				}
				reqs = append(reqs, iam.Request{Action: "dynamodb:" + a, Resource: stack.TableARN(it.TableName), Context: leading(k)})
			}
		}
		return reqs, nil
	}
	// Scan, DescribeTable, ...: no partition key.
	return []iam.Request{{Action: action, Resource: resource}}, nil
}

var clause = regexp.MustCompile(`^\s*\(?\s*([#A-Za-z0-9_]+)\s*=\s*(:[A-Za-z0-9_]+)\s*\)?\s*$`)

// queryHash finds the partition key's value in a key condition
// ("PK = :pk AND begins_with(SK, :p)", names through #aliases).
func queryHash(expr, attr string, names map[string]string, values ddbItem) (string, error) {
	for _, part := range regexp.MustCompile(`(?i)\s+AND\s+`).Split(expr, -1) {
		m := clause.FindStringSubmatch(part)
		if m == nil {
			continue
		}
		name := m[1]
		if strings.HasPrefix(name, "#") {
			name = names[name]
		}
		if name != attr {
			continue
		}
		v, ok := values[m[2]]
		if !ok || v.S == nil {
			return "", fmt.Errorf("key condition %q: %s is not a string value", expr, m[2])
		}
		return *v.S, nil
	}
	return "", fmt.Errorf("key condition %q has no equality on %s", expr, attr)
}

func decodeSecretsManager(op string, body []byte, stack iam.Stack) ([]iam.Request, error) {
	var in struct {
		Name     string
		SecretId string
		KmsKeyId string
		Tags     []json.RawMessage
	}
	if err := json.Unmarshal(body, &in); err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	action := "secretsmanager:" + op
	reqs, err := secretRequests(op, action, in.Name, in.SecretId, len(in.Tags) > 0, stack)
	if err != nil {
		return nil, err
	}
	// A secret encrypted with a customer-managed key: Secrets Manager uses
	// the key as the caller (kms:ViaService), so the caller's policy must
	// allow it too. Reads decrypt; writes generate a data key and decrypt.
	key := in.KmsKeyId
	if key == "" {
		key = stack.SecretKeys[in.SecretId]
	}
	if key == "" {
		key = stack.SecretKeys[in.Name]
	}
	if key != "" {
		via := map[string][]string{"kms:ViaService": {"secretsmanager." + or(stack.Region, "us-east-1") + ".amazonaws.com"}}
		switch op {
		case "GetSecretValue":
			reqs = append(reqs, iam.Request{Action: "kms:Decrypt", Resource: stack.KeyARN(key), Context: via})
		case "CreateSecret", "PutSecretValue", "UpdateSecret":
			reqs = append(reqs, iam.Request{Action: "kms:GenerateDataKey", Resource: stack.KeyARN(key), Context: via},
				iam.Request{Action: "kms:Decrypt", Resource: stack.KeyARN(key), Context: via})
		}
	}
	return reqs, nil
}

func or(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

// secretRequests are the Secrets Manager authorizations of one call.
func secretRequests(op, action, name, secretID string, tagged bool, stack iam.Stack) ([]iam.Request, error) {
	in := struct {
		Name, SecretId string
		Tags           []struct{}
	}{Name: name, SecretId: secretID}
	if tagged {
		in.Tags = []struct{}{{}}
	}
	switch op {
	case "ListSecrets", "GetRandomPassword", "BatchGetSecretValue":
		return []iam.Request{{Action: action, Resource: "*"}}, nil
	case "CreateSecret":
		arn := stack.SecretARN(in.Name)
		reqs := []iam.Request{{Action: action, Resource: arn}}
		if len(in.Tags) > 0 {
			// Tags in CreateSecret also need TagResource on the secret.
			reqs = append(reqs, iam.Request{Action: "secretsmanager:TagResource", Resource: arn})
		}
		return reqs, nil
	}
	if in.SecretId == "" {
		return nil, fmt.Errorf("%s: no SecretId", op)
	}
	return []iam.Request{{Action: action, Resource: stack.SecretARN(in.SecretId)}}, nil
}

func decodeEvents(op string, body []byte, stack iam.Stack) ([]iam.Request, error) {
	if op != "PutEvents" {
		return []iam.Request{{Action: "events:" + op, Resource: "*"}}, nil
	}
	var in struct {
		Entries []struct {
			EventBusName string
			Source       string
			DetailType   string
		}
	}
	if err := json.Unmarshal(body, &in); err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	var reqs []iam.Request
	for _, e := range in.Entries {
		reqs = append(reqs, iam.Request{Action: "events:PutEvents", Resource: stack.EventBusARN(e.EventBusName),
			Context: map[string][]string{"events:source": {e.Source}, "events:detail-type": {e.DetailType}}})
	}
	return reqs, nil
}
