package iam_test

import (
	"strings"
	"testing"

	"identityservice/infra/iam"
)

// A template in the shape of template.yaml: !GetAtt, !Sub with the
// stack's name and a table's ARN, !Ref of a parameter, a LeadingKeys
// condition and an explicit Deny.
const tpl = `
Parameters:
  EventSource:
    Type: String
    Default: identity-service
Resources:
  ClientsTable:
    Type: AWS::DynamoDB::Table
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Policies:
        - Version: "2012-10-17"
          Statement:
            - Sid: Reads
              Effect: Allow
              Action:
                - dynamodb:GetItem
                - dynamodb:Query # why it stays
              Resource: !GetAtt ClientsTable.Arn
            - Sid: Index
              Effect: Allow
              Action: dynamodb:Query
              Resource: !Sub ${ClientsTable.Arn}/index/*
            - Sid: OwnWrites
              Effect: Allow
              Action: ["dynamodb:Put*", "dynamodb:UpdateItem"]
              Resource: !GetAtt ClientsTable.Arn
              Condition:
                ForAllValues:StringLike:
                  dynamodb:LeadingKeys: ["CLIENT#*", "TENANT#*"]
            - Sid: NoKeys
              Effect: Deny
              Action: dynamodb:PutItem
              Resource: !GetAtt ClientsTable.Arn
              Condition:
                ForAnyValue:StringEquals:
                  dynamodb:LeadingKeys: SIGNINGKEYS
            - Sid: Material
              Effect: Allow
              Action: secretsmanager:CreateSecret
              Resource: !Sub arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}:secret:${AWS::StackName}/clients/*
            - Sid: Keys
              Effect: Allow
              Action: secretsmanager:GetSecretValue
              Resource: !Sub arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}:secret:${AWS::StackName}/signing-keys-??????
            - Sid: Events
              Effect: Allow
              Action: events:PutEvents
              Resource: "*"
              Condition:
                StringEquals:
                  events:source: !Ref EventSource
`

func TestEvaluate(t *testing.T) {
	tp, err := iam.ParseTemplate([]byte(tpl))
	if err != nil {
		t.Fatal(err)
	}
	stack := iam.Stack{Name: "prod", Physical: map[string]string{"ClientsTable": "prod-table"}}
	p, err := tp.Policy("Fn", stack)
	if err != nil {
		t.Fatal(err)
	}
	table := "arn:aws:dynamodb:us-east-1:123456789012:table/prod-table"
	keys := func(k ...string) map[string][]string { return map[string][]string{"dynamodb:LeadingKeys": k} }
	for _, c := range []struct {
		name    string
		req     iam.Request
		allowed bool
		sid     string
	}{
		{"allowed action on the table (GetAtt resolved)", iam.Request{Action: "dynamodb:GetItem", Resource: table}, true, "Reads"},
		{"action names are case-insensitive", iam.Request{Action: "DynamoDB:getitem", Resource: table}, true, "Reads"},
		{"action not listed", iam.Request{Action: "dynamodb:DeleteItem", Resource: table, Context: keys("CLIENT#1")}, false, ""},
		{"another table", iam.Request{Action: "dynamodb:GetItem", Resource: "arn:aws:dynamodb:us-east-1:123456789012:table/other"}, false, ""},
		{"the table's ARN does not cover its index", iam.Request{Action: "dynamodb:GetItem", Resource: table + "/index/ByExpiry"}, false, ""},
		{"index wildcard (Sub of GetAtt)", iam.Request{Action: "dynamodb:Query", Resource: table + "/index/ByExpiry"}, true, "Index"},
		{"wildcard action, leading keys all allowed", iam.Request{Action: "dynamodb:PutItem", Resource: table, Context: keys("CLIENT#1", "TENANT#2")}, true, "OwnWrites"},
		{"wildcard action matches another Put action", iam.Request{Action: "dynamodb:PutResourcePolicy", Resource: table, Context: keys("CLIENT#1")}, true, "OwnWrites"},
		{"one leading key outside the allowed partitions", iam.Request{Action: "dynamodb:UpdateItem", Resource: table, Context: keys("CLIENT#1", "SWEEPER")}, false, ""},
		{"explicit deny beats allow", iam.Request{Action: "dynamodb:PutItem", Resource: table, Context: keys("SIGNINGKEYS")}, false, "NoKeys"},
		{"ForAllValues holds with no leading keys (as in IAM)", iam.Request{Action: "dynamodb:UpdateItem", Resource: table}, true, "OwnWrites"},
		{"secret under the stack's prefix", iam.Request{Action: "secretsmanager:CreateSecret", Resource: "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/clients/t/c/s-AbCdEf"}, true, "Material"},
		{"secret of another stack", iam.Request{Action: "secretsmanager:CreateSecret", Resource: "arn:aws:secretsmanager:us-east-1:123456789012:secret:dev/clients/t/c/s-AbCdEf"}, false, ""},
		{"signing keys with their 6-character suffix", iam.Request{Action: "secretsmanager:GetSecretValue", Resource: "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/signing-keys-x1Y2z3"}, true, "Keys"},
		{"? is one character: a longer name is not the signing keys", iam.Request{Action: "secretsmanager:GetSecretValue", Resource: "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/signing-keys-evil-x1Y2z3"}, false, ""},
		{"condition on a parameter default (Ref)", iam.Request{Action: "events:PutEvents", Resource: "arn:aws:events:us-east-1:123456789012:event-bus/default", Context: map[string][]string{"events:source": {"identity-service"}}}, true, "Events"},
		{"condition value differs", iam.Request{Action: "events:PutEvents", Resource: "arn:aws:events:us-east-1:123456789012:event-bus/default", Context: map[string][]string{"events:source": {"aws.evil"}}}, false, ""},
		{"single-valued condition with the key missing", iam.Request{Action: "events:PutEvents", Resource: "arn:aws:events:us-east-1:123456789012:event-bus/default"}, false, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			d := p.Evaluate(c.req)
			if d.Allowed != c.allowed || d.Sid != c.sid {
				t.Fatalf("%s: allowed %v by %q, want %v by %q", c.req, d.Allowed, d.Sid, c.allowed, c.sid)
			}
		})
	}
	if got := tp.ActionComments("Fn")["dynamodb:Query"]; got != "why it stays" {
		t.Fatalf("comment on dynamodb:Query: %q", got)
	}
}

func TestStackOverridesParameters(t *testing.T) {
	tp, err := iam.ParseTemplate([]byte(tpl))
	if err != nil {
		t.Fatal(err)
	}
	p, err := tp.Policy("Fn", iam.Stack{Name: "s", Physical: map[string]string{"ClientsTable": "t"}, Parameters: map[string]string{"EventSource": "custom"}})
	if err != nil {
		t.Fatal(err)
	}
	if !p.Allows(iam.Request{Action: "events:PutEvents", Resource: "*", Context: map[string][]string{"events:source": {"custom"}}}) {
		t.Fatal("the stack's parameter value is not used")
	}
	if _, err := tp.Policy("Fn", iam.Stack{Name: "s"}); err == nil || !strings.Contains(err.Error(), "ClientsTable") {
		t.Fatalf("a stack without the table's name: %v, want an error naming ClientsTable", err)
	}
}

func TestMatch(t *testing.T) {
	for _, c := range []struct {
		p, s string
		want bool
	}{
		{"*", "", true}, {"*", "anything:at/all", true}, {"a*c", "abbbc", true}, {"a*c", "abbb", false},
		{"a?c", "abc", true}, {"a?c", "ac", false}, {"*/index/*", "table/x/index/y", true}, {"abc", "abcd", false},
		{"CLIENT#*", "CLIENT#", true}, {"CLIENT#*", "TENANT#1", false},
	} {
		if got := iam.Match(c.p, c.s); got != c.want {
			t.Errorf("Match(%q, %q) = %v, want %v", c.p, c.s, got, c.want)
		}
	}
}

// The repository's own template resolves for a stack: every statement of
// every function, with no intrinsic left unresolved.
func TestTheTemplateResolves(t *testing.T) {
	tp, err := iam.LoadTemplate("../../template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	stack := iam.Stack{Name: "prod", Physical: map[string]string{"ClientsTable": "prod-table", "HttpApi": "abc123"}}
	if len(tp.Functions()) == 0 {
		t.Fatal("no functions")
	}
	for _, fn := range tp.Functions() {
		p, err := tp.Policy(fn, stack)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range p.Statements {
			for _, r := range s.Resources {
				if strings.Contains(r, "${") {
					t.Errorf("%s/%s: unresolved resource %s", fn, s.Sid, r)
				}
			}
		}
	}
}
