package awscalls_test

import (
	"testing"

	"identityservice/infra/iam"
	"identityservice/infra/testenv/awscalls"
)

// Reading or writing the signing keys' secret, which is encrypted with a
// customer-managed KMS key, needs that key for the caller (Secrets Manager
// uses it on the caller's behalf): the check models those KMS calls, and
// template.yaml allows them to TokenFunction only.
func TestSigningKeysNeedTheirKMSKey(t *testing.T) {
	tpl, err := iam.LoadTemplate("../../../template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	key := "0f3c8e52-5a1b-4e0d-9c6a-2b7d4e8f1a30"
	st := iam.Stack{Name: "st", Physical: map[string]string{"ClientsTable": "tbl", "SigningKeysKey": key},
		SecretKeys: map[string]string{"st/signing-keys": key}}
	keyARN := st.KeyARN(key)
	for _, c := range []struct {
		target, body string
		want         []string // KMS actions the call implies
	}{
		{"secretsmanager.GetSecretValue", `{"SecretId":"st/signing-keys"}`, []string{"kms:Decrypt"}},
		{"secretsmanager.PutSecretValue", `{"SecretId":"st/signing-keys","SecretString":"x"}`, []string{"kms:GenerateDataKey", "kms:Decrypt"}},
		{"secretsmanager.CreateSecret", `{"Name":"st/signing-keys","KmsKeyId":"` + key + `"}`, []string{"kms:GenerateDataKey", "kms:Decrypt"}},
		{"secretsmanager.GetSecretValue", `{"SecretId":"st/clients/a/b/c"}`, nil},
	} {
		_, op, reqs, ok, err := awscalls.Decode(c.target, []byte(c.body), st, schema)
		if !ok || err != nil {
			t.Fatalf("%s: %v", c.target, err)
		}
		var got []iam.Request
		for _, r := range reqs {
			if r.Resource == keyARN {
				got = append(got, r)
			}
		}
		if len(got) != len(c.want) {
			t.Fatalf("%s %s: KMS requests %v, want %v", op, c.body, got, c.want)
		}
		for i, r := range got {
			if r.Action != c.want[i] {
				t.Fatalf("%s: %v, want %v", op, got, c.want)
			}
		}
		for _, fn := range tpl.Functions() {
			p, err := tpl.Policy(fn, st)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range got {
				if p.Allows(r) != (fn == "TokenFunction") {
					t.Errorf("%s: %s allowed=%v; want it allowed to TokenFunction only", fn, r, p.Allows(r))
				}
			}
		}
	}
}
