package iam_test

import (
	"slices"
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
		"ClientSecretsFunction":           {"CLIENT#4a5b6c7d", "TENANT#5f0c3a52"}, // TENANT#: VerifierSlots only (TestSecretFunctionsWriteOnlyTheVerifierSlotOfATenant)
		"ApplicationSecretsFunction":      {"CLIENT#4a5b6c7d", "TENANT#5f0c3a52"},
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

// The token item (CLIENT#<id> / #CLIENT) is a root of trust beside the
// published keys: the token function takes a client's tenant, kind, roles,
// enabled state and lifetime from it. Several functions must write that
// item (secrets map, record count, last use), and IAM cannot tell it from
// the secret records in the same partition, whose TenantId and Kind the
// secret functions write. So a function can change what a token says when
// its role may write one of those attributes of the item AND read the key
// of the seal over them (shared/identity/seal.go; template.yaml
// TokenItemSealSecret): without the key, a write only makes the client
// unable to get a token. This test shows, function by function and
// attribute by attribute, who may write what, and fails if anyone but the
// client functions can change what a token says.
func TestOnlyTheClientFunctionsChangeWhatATokenSays(t *testing.T) {
	tp, err := iam.LoadTemplate("../../template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	stack := iam.Stack{Name: "prod", Physical: map[string]string{"ClientsTable": "prod-table", "HttpApi": "abc123"}}
	table := stack.TableARN("prod-table")
	sealKey := stack.SecretARN("prod/token-item-seal")
	// What the seal covers, and the seal itself.
	sealed := []string{"TenantId", "Kind", "Enabled", "RoleIds", "AccessTokenLifetime", "Seal"}
	// Attributes of the token item others keep (not in the seal).
	others := []string{"Secrets", "RecordCount", "SecretsVersion"}
	owners := map[string]bool{"ClientCredentialClientsFunction": true, "HybridClientsFunction": true}
	// Who reads the seal key: the owners, and TokenFunction, which checks
	// seals (and holds the signing keys, so it could sign any token anyway).
	keyHolders := map[string]bool{"ClientCredentialClientsFunction": true, "HybridClientsFunction": true, "TokenFunction": true}
	policies := map[string]iam.Policy{}
	unsealed := true // no function reads a seal key: nothing is sealed, a write is a change
	for _, fn := range tp.Functions() {
		p, err := tp.Policy(fn, stack)
		if err != nil {
			t.Fatal(err)
		}
		policies[fn] = p
		unsealed = unsealed && !p.Allows(iam.Request{Action: "secretsmanager:GetSecretValue", Resource: sealKey})
	}
	if unsealed {
		t.Error("no function reads the token item seal key (template.yaml TokenItemSealSecret): whoever writes the item chooses what a token says")
	}
	matrix := "function: attribute=write (+key: may change what a token says)\n"
	for _, fn := range tp.Functions() {
		p := policies[fn]
		holdsKey := unsealed || p.Allows(iam.Request{Action: "secretsmanager:GetSecretValue", Resource: sealKey})
		if !unsealed && holdsKey != keyHolders[fn] {
			t.Errorf("%s: reads the seal key=%v, want %v", fn, holdsKey, keyHolders[fn])
		}
		row := fn + ":"
		for _, attr := range append(append([]string{}, sealed...), others...) {
			write := false
			for _, action := range []string{"dynamodb:PutItem", "dynamodb:UpdateItem"} {
				req := iam.Request{Action: action, Resource: table, Context: map[string][]string{
					"dynamodb:LeadingKeys": {"CLIENT#4a5b6c7d"}, "dynamodb:Attributes": {"PK", "SK", attr}}}
				write = write || p.Allows(req)
			}
			cell := "-"
			if write {
				cell = "write"
				if holdsKey {
					cell = "write+key"
				}
			}
			row += " " + attr + "=" + cell
			if slices.Contains(sealed, attr) && write && holdsKey && !owners[fn] {
				t.Errorf("%s may write %s of the token item and reads the seal key (or nothing is sealed): it can change what a token says", fn, attr)
			}
			if slices.Contains(sealed, attr) && owners[fn] && !(write && holdsKey) {
				t.Errorf("%s owns %s of the token item but cannot write and seal it", fn, attr)
			}
		}
		matrix += row + "\n"
	}
	t.Log(matrix)
}

// The secret functions take a verifier slot from the tenant item (its
// VerifierSlots: the pack of a new secret's verifier) and may write no
// other attribute of the tenant's partition, with no other action: not
// its ClientLimit, its counters or its name, not a client item.
func TestSecretFunctionsWriteOnlyTheVerifierSlotOfATenant(t *testing.T) {
	tp, err := iam.LoadTemplate("../../template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	stack := iam.Stack{Name: "prod", Physical: map[string]string{"ClientsTable": "prod-table", "HttpApi": "abc123"}}
	table := stack.TableARN("prod-table")
	for _, fn := range []string{"ClientSecretsFunction", "ApplicationSecretsFunction"} {
		p, err := tp.Policy(fn, stack)
		if err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			action string
			attrs  []string
			want   bool
		}{
			{"dynamodb:UpdateItem", []string{"PK", "SK", "VerifierSlots"}, true},
			{"dynamodb:UpdateItem", []string{"PK", "SK", "VerifierSlots", "ClientLimit"}, false},
			{"dynamodb:UpdateItem", []string{"PK", "SK", "ClientCount"}, false},
			{"dynamodb:UpdateItem", []string{"PK", "SK", "Name"}, false},
			{"dynamodb:PutItem", []string{"PK", "SK", "VerifierSlots"}, false},
			{"dynamodb:DeleteItem", []string{"PK", "SK"}, false},
		} {
			req := iam.Request{Action: tc.action, Resource: table, Context: map[string][]string{
				"dynamodb:LeadingKeys": {"TENANT#5f0c3a52"}, "dynamodb:Attributes": tc.attrs}}
			if got := p.Allows(req); got != tc.want {
				t.Errorf("%s: %s of %v in TENANT#: allowed=%v, want %v", fn, tc.action, tc.attrs, got, tc.want)
			}
		}
	}
}
