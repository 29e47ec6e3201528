package iam_test

import (
	"testing"

	"identityservice/infra/iam"
)

// Each function writes only the partitions it owns (template.yaml's
// dynamodb:LeadingKeys conditions), and only TokenFunction can write the
// published key set (shared/store/jwks.go: SIGNINGKEYS / #JWKS), the root
// of trust of every bearer check. Every write action is tried on every
// partition kind of the table (shared/store/layout/layout.go) from every function.
func TestEachFunctionWritesOnlyItsPartitions(t *testing.T) {
	tp, err := iam.LoadTemplate("../../template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	stack := iam.Stack{Name: "prod", Physical: map[string]string{"ClientsTable": "prod-table", "HttpApi": "abc123"}}
	partitions := []string{"TENANT#5f0c3a52", "CLIENT#4a5b6c7d", "SWEEPER", "SIGNINGKEYS", "SOMETHING-NEW",
		"PERSON#5f0c3a52#ab12", "SESSION#6e1f", "CONSENT#5f0c3a52#p1", "CODE#9a8b", "INTERACTION#7c6d", "REFRESH#5e4f", "FAMILY#9a8b"}
	// The partitions each function may write; any other write is denied.
	owns := map[string][]string{
		"ClientCredentialClientsFunction": {"TENANT#5f0c3a52", "CLIENT#4a5b6c7d"},
		"HybridClientsFunction":           {"TENANT#5f0c3a52", "CLIENT#4a5b6c7d"},
		"ClientSecretsFunction":           {"CLIENT#4a5b6c7d"},
		"ApplicationSecretsFunction":      {"CLIENT#4a5b6c7d"},
		"TokenFunction":                   {"SIGNINGKEYS", "CLIENT#4a5b6c7d", "CODE#9a8b", "INTERACTION#7c6d", "SESSION#6e1f", "REFRESH#5e4f", "FAMILY#9a8b"}, // LastUsed; codes, front-channel answers, a replayed code's session, refresh tokens
		"SignInFunction":                  {"PERSON#5f0c3a52#ab12", "SESSION#6e1f", "CONSENT#5f0c3a52#p1", "CODE#9a8b", "INTERACTION#7c6d"},
		"SweeperFunction":                 {"CLIENT#4a5b6c7d", "SWEEPER"},
		"PortalFunction":                  {}, // read-only
		"TenantsFunction":                 {}, // read-only
	}
	writes := []string{"dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem",
		"dynamodb:PartiQLInsert", "dynamodb:PartiQLUpdate", "dynamodb:PartiQLDelete"}
	table := stack.TableARN("prod-table")
	for _, fn := range tp.Functions() {
		allowed, ok := owns[fn]
		if !ok {
			t.Errorf("%s: no expectation in this test; say which partitions it may write", fn)
			continue
		}
		p, err := tp.Policy(fn, stack)
		if err != nil {
			t.Fatal(err)
		}
		for _, part := range partitions {
			mayWrite := false
			for _, a := range allowed {
				mayWrite = mayWrite || a == part
			}
			anyAllowed := false
			for _, action := range writes {
				for _, res := range []string{table, table + "/index/ByExpiry"} {
					req := iam.Request{Action: action, Resource: res, Context: map[string][]string{"dynamodb:LeadingKeys": {part}}}
					if d := p.Evaluate(req); d.Allowed {
						anyAllowed = true
						if !mayWrite {
							t.Errorf("%s may %s (statement %s): it does not own that partition", fn, req, d.Sid)
						}
					}
				}
			}
			if mayWrite && !anyAllowed {
				t.Errorf("%s cannot write %s, which it owns", fn, part)
			}
		}
	}
	// The key set item in particular, with a real write: denied to all but
	// the token function.
	jwks := iam.Request{Action: "dynamodb:PutItem", Resource: table, Context: map[string][]string{"dynamodb:LeadingKeys": {"SIGNINGKEYS"}}}
	for _, fn := range tp.Functions() {
		p, _ := tp.Policy(fn, stack)
		if got := p.Allows(jwks); got != (fn == "TokenFunction") {
			t.Errorf("%s: PutItem of the published key set allowed=%v", fn, got)
		}
	}
}
