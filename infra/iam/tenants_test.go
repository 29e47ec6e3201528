package iam_test

import (
	"testing"

	"identityservice/infra/iam"
)

// TenantsFunction reads a tenant item and the published key set (bearer
// verification), one GetItem each, and nothing else: not a client, not a
// secret record, no Query, no index.
func TestTenantsFunctionReadsOnlyTenantsAndKeys(t *testing.T) {
	tp, err := iam.LoadTemplate("../../template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	stack := iam.Stack{Name: "prod", Physical: map[string]string{"ClientsTable": "prod-table", "HttpApi": "abc123"}}
	p, err := tp.Policy("TenantsFunction", stack)
	if err != nil {
		t.Fatal(err)
	}
	table := stack.TableARN("prod-table")
	for _, tc := range []struct {
		action, resource, partition string
		want                        bool
	}{
		{"dynamodb:GetItem", table, "TENANT#5f0c3a52", true},
		{"dynamodb:GetItem", table, "SIGNINGKEYS", true},
		{"dynamodb:GetItem", table, "CLIENT#4a5b6c7d", false},
		{"dynamodb:GetItem", table, "SWEEPER", false},
		{"dynamodb:Query", table, "TENANT#5f0c3a52", false},
		{"dynamodb:BatchGetItem", table, "TENANT#5f0c3a52", false},
		{"dynamodb:Query", table + "/index/ByExpiry", "EXPIRY#00", false},
		{"dynamodb:Scan", table, "TENANT#5f0c3a52", false},
		{"secretsmanager:GetSecretValue", "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/clients/x", "", false},
	} {
		req := iam.Request{Action: tc.action, Resource: tc.resource}
		if tc.partition != "" {
			req.Context = map[string][]string{"dynamodb:LeadingKeys": {tc.partition}}
		}
		if got := p.Allows(req); got != tc.want {
			t.Errorf("%s on %s: allowed=%v, want %v", tc.action, tc.partition, got, tc.want)
		}
	}
}
