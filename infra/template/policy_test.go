package template_test

import (
	"os"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// statement is one IAM policy statement of a function in template.yaml.
type statement struct {
	Sid       string
	Actions   []string
	Resources []string // scalar values as written (the text of !Sub / !GetAtt)
}

// templateRoot is template.yaml's top-level mapping, parsed as YAML nodes
// (so CloudFormation's short-form tags such as !Ref stay visible).
func templateRoot(t *testing.T) *yaml.Node {
	t.Helper()
	raw, err := os.ReadFile(templateFile)
	if err != nil {
		t.Fatal(err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	return doc.Content[0]
}

func child(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

// scalars returns the scalar values under n (one scalar, or a sequence).
func scalars(n *yaml.Node) []string {
	if n == nil {
		return nil
	}
	if n.Kind == yaml.ScalarNode {
		return []string{n.Value}
	}
	var out []string
	for _, c := range n.Content {
		out = append(out, scalars(c)...)
	}
	return out
}

// functionStatements returns every function's inline policy statements.
func functionStatements(t *testing.T) map[string][]statement {
	t.Helper()
	out := map[string][]statement{}
	res := child(templateRoot(t), "Resources")
	for i := 0; i+1 < len(res.Content); i += 2 {
		id, r := res.Content[i].Value, res.Content[i+1]
		if v := child(r, "Type"); v == nil || v.Value != "AWS::Serverless::Function" {
			continue
		}
		out[id] = nil
		policies := child(child(r, "Properties"), "Policies")
		if policies == nil {
			continue
		}
		for _, p := range policies.Content {
			st := child(p, "Statement")
			if st == nil {
				t.Fatalf("%s: a policy that is not an inline statement list; this test reads only those", id)
			}
			for _, s := range st.Content {
				out[id] = append(out[id], statement{Sid: scalars(child(s, "Sid"))[0], Actions: scalars(child(s, "Action")), Resources: scalars(child(s, "Resource"))})
			}
		}
	}
	return out
}

// Only the token function can read the signing keys' private halves, and
// it can; no function can read or write Secrets Manager outside the
// service's prefixes.
func TestOnlyTheTokenFunctionReadsSigningKeys(t *testing.T) {
	sealHolders := map[string]bool{"TokenFunction": true, "ClientCredentialClientsFunction": true, "HybridClientsFunction": true}
	functions := functionStatements(t)
	if _, ok := functions["TokenFunction"]; !ok {
		t.Fatal("template.yaml has no TokenFunction")
	}
	tokenReads := false
	for id, statements := range functions {
		for _, s := range statements {
			for _, a := range s.Actions {
				if !strings.HasPrefix(strings.ToLower(a), "secretsmanager:") || strings.EqualFold(a, "secretsmanager:ListSecrets") {
					continue // ListSecrets names secrets, it reads no value
				}
				if strings.Contains(a, "*") {
					t.Errorf("%s/%s: wildcard action %s", id, s.Sid, a)
				}
				for _, r := range s.Resources {
					signing := strings.Contains(r, "${AWS::StackName}/signing-keys")
					// verifiers/: client secret verifiers in packs;
					// clients/: verifiers of their own (before packs);
					// upstreams/: the client secret this service uses at
					// each tenant's upstream (sign-in); dashboard/: each
					// tenant's dashboard client (docs/dashboard.md).
					clients := strings.Contains(r, "${AWS::StackName}/verifiers/") || strings.Contains(r, "${AWS::StackName}/clients/") ||
						strings.Contains(r, "${AWS::StackName}/upstreams/") || strings.Contains(r, "${AWS::StackName}/dashboard/")
					// token-item-seal: the key of the token items' seals
					// (shared/identity/seal.go), read by the functions that
					// own what a token says, and by TokenFunction.
					seal := strings.Contains(r, "${AWS::StackName}/token-item-seal")
					// A pack holds up to 400 clients' verifiers: no
					// function may delete one (docs/storage.md, "Blast
					// radius").
					if strings.Contains(r, "${AWS::StackName}/verifiers/") && strings.EqualFold(a, "secretsmanager:DeleteSecret") {
						t.Errorf("%s/%s: DeleteSecret on verifier packs; no function may delete a pack", id, s.Sid)
					}
					switch {
					case seal && !sealHolders[id]:
						t.Errorf("%s/%s: %s on the token item seal key; only %v may read it", id, s.Sid, a, sealHolders)
					case seal:
					case !signing && !clients:
						t.Errorf("%s/%s: %s on %q, outside the service's prefixes", id, s.Sid, a, r)
					case signing && id != "TokenFunction":
						t.Errorf("%s/%s: %s on the signing keys; only TokenFunction may touch them", id, s.Sid, a)
					case signing && a == "secretsmanager:GetSecretValue":
						tokenReads = true
					}
				}
			}
		}
	}
	if !tokenReads {
		t.Error("TokenFunction cannot read the signing keys (secretsmanager:GetSecretValue on ${AWS::StackName}/signing-keys-??????)")
	}
}

// The deployed form pins the issuer and throttles the token route:
// ISSUER and AUDIENCE reach every function (Globals), ISSUER defaulting to
// the HTTP API's own URL (its id as {apiId}, which the functions fill from
// API Gateway's request context), and POST /identity/connect/token has
// API Gateway route throttling from parameters that are on by default.
func TestIssuerPinnedAndTokenRouteThrottled(t *testing.T) {
	root := templateRoot(t)
	vars := child(child(child(child(root, "Globals"), "Function"), "Environment"), "Variables")
	iss := child(vars, "ISSUER")
	if iss == nil || iss.Tag != "!If" || len(iss.Content) != 3 || iss.Content[0].Value != "HasIssuer" ||
		iss.Content[2].Value != "https://{apiId}.execute-api.${AWS::Region}.${AWS::URLSuffix}/identity" {
		t.Fatalf("Globals ISSUER: want !If [HasIssuer, !Ref Issuer, !Sub https://{apiId}.execute-api.${AWS::Region}.${AWS::URLSuffix}/identity]")
	}
	if aud := child(vars, "AUDIENCE"); aud == nil || aud.Tag != "!Ref" || aud.Value != "Audience" {
		t.Fatal("Globals AUDIENCE: want !Ref Audience")
	}
	params := child(root, "Parameters")
	route := child(child(child(child(root, "Resources"), "HttpApi"), "Properties"), "RouteSettings")
	token := child(route, "POST /identity/connect/token")
	for _, k := range []string{"ThrottlingBurstLimit", "ThrottlingRateLimit"} {
		v := child(token, k)
		if v == nil || v.Tag != "!Ref" {
			t.Fatalf("HttpApi RouteSettings[POST /identity/connect/token].%s: want !Ref of a parameter", k)
		}
		if d := child(child(params, v.Value), "Default"); d == nil || d.Value == "" || d.Value == "0" {
			t.Fatalf("parameter %s: want a positive default (throttling on by default)", v.Value)
		}
	}
}
