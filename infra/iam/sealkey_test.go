package iam_test

import (
	"fmt"
	"testing"

	"identityservice/infra/iam"
)

// Who may read and write the token item seal keys (template.yaml
// TokenItemSealSecret): function by function, each action on the secret
// is decided by the function's role policy and by the secret's resource
// policy (a Deny there wins over any Allow, the role's own included). The
// client functions and TokenFunction read it; no function writes it (a
// CreateSecret, which makes the key where the template did not, fails on
// a secret that exists); the operator alone writes it (`seal rotate`),
// and the resource policy would refuse every function's write even if a
// role policy allowed it.
func TestOnlyTheOperatorWritesTheSealKeys(t *testing.T) {
	tp, err := iam.LoadTemplate("../../template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	stack := iam.Stack{Name: "prod", Physical: map[string]string{"ClientsTable": "prod-table", "HttpApi": "abc123"}}
	key := stack.SecretARN("prod/token-item-seal")
	resource, err := tp.ResourcePolicy("TokenItemSealSecretPolicy", stack)
	if err != nil {
		t.Fatal(err)
	}
	readers := map[string]bool{"ClientCredentialClientsFunction": true, "HybridClientsFunction": true, "TokenFunction": true}
	writes := []string{"secretsmanager:PutSecretValue", "secretsmanager:UpdateSecret", "secretsmanager:UpdateSecretVersionStage",
		"secretsmanager:RotateSecret", "secretsmanager:DeleteSecret"}
	// denied says whether the resource policy refuses the principal.
	denied := func(action, principal string) bool {
		for _, s := range resource.Statements {
			if s.Effect != "Deny" {
				continue
			}
			// The statement alone, as an Allow, tells whether it applies.
			probe := iam.Policy{Statements: []iam.Statement{{Effect: "Allow", Actions: s.Actions, Resources: s.Resources, Conditions: s.Conditions}}}
			if probe.Allows(iam.Request{Action: action, Resource: key, Context: map[string][]string{"aws:PrincipalArn": {principal}}}) {
				return true
			}
		}
		return false
	}
	role := func(fn string) string {
		return fmt.Sprintf("arn:aws:iam::%s:role/prod-%sRole-1A2B3C4D5E6F", iam.Account, fn)
	}
	operator := "arn:aws:iam::" + iam.Account + ":root"
	matrix := "function: read / write (role policy, resource policy)\n"
	for _, fn := range tp.Functions() {
		p, err := tp.Policy(fn, stack)
		if err != nil {
			t.Fatal(err)
		}
		read := p.Allows(iam.Request{Action: "secretsmanager:GetSecretValue", Resource: key})
		readDenied := denied("secretsmanager:GetSecretValue", role(fn))
		if got := read && !readDenied; got != readers[fn] {
			t.Errorf("%s: may read the seal keys=%v (role allows %v, resource policy denies %v), want %v", fn, got, read, readDenied, readers[fn])
		}
		if readDenied == readers[fn] {
			t.Errorf("%s: the resource policy denies its read=%v, want %v", fn, readDenied, !readers[fn])
		}
		row := fmt.Sprintf("%s: read=%v", fn, read && !readDenied)
		for _, a := range writes {
			allowed, refused := p.Allows(iam.Request{Action: a, Resource: key}), denied(a, role(fn))
			if allowed || !refused {
				t.Errorf("%s: %s allowed by its role=%v, denied by the resource policy=%v; want refused by both", fn, a, allowed, refused)
			}
		}
		row += " write=false\n"
		matrix += row
	}
	for _, a := range append([]string{"secretsmanager:GetSecretValue"}, writes...) {
		if denied(a, operator) {
			t.Errorf("the resource policy denies the operator %s: `seal rotate` could not run", a)
		}
	}
	t.Log(matrix)
}
