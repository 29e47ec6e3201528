package iam

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"regexp"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// Stack is what CloudFormation would substitute into a template: the
// pseudo parameters, the parameter values (defaults where unset) and the
// physical names of resources (a table's name, an HTTP API's id).
type Stack struct {
	Name       string // AWS::StackName
	Region     string // AWS::Region; "us-east-1" when empty
	Account    string // AWS::AccountId; Account when empty
	Partition  string // AWS::Partition; "aws" when empty
	Parameters map[string]string
	Physical   map[string]string // logical id -> physical name
	// SecretKeys names the customer-managed KMS key (id or ARN) of each
	// secret encrypted with one, by secret name: a call that reads or
	// writes such a secret also needs the key (kms:Decrypt to read,
	// kms:GenerateDataKey and kms:Decrypt to write) for its caller.
	SecretKeys map[string]string
}

// Account is the account id of stacks that name none (moto's default).
const Account = "123456789012"

func (s Stack) region() string    { return or(s.Region, "us-east-1") }
func (s Stack) account() string   { return or(s.Account, Account) }
func (s Stack) partition() string { return or(s.Partition, "aws") }

func or(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

// TableARN is the ARN of a DynamoDB table of the stack.
func (s Stack) TableARN(table string) string {
	return fmt.Sprintf("arn:%s:dynamodb:%s:%s:table/%s", s.partition(), s.region(), s.account(), table)
}

// SecretARN is the ARN of a Secrets Manager secret of the stack. A secret's
// ARN ends in "-" and six random characters; a name is given a fixed
// suffix, so a policy must allow for it as it must in AWS.
func (s Stack) SecretARN(nameOrARN string) string {
	if _, name, ok := strings.Cut(nameOrARN, ":secret:"); ok && strings.HasPrefix(nameOrARN, "arn:") {
		return fmt.Sprintf("arn:%s:secretsmanager:%s:%s:secret:%s", s.partition(), s.region(), s.account(), name)
	}
	return fmt.Sprintf("arn:%s:secretsmanager:%s:%s:secret:%s-AbCdEf", s.partition(), s.region(), s.account(), nameOrARN)
}

// KeyARN is the ARN of a KMS key of the stack, by its id (a key's ARN
// is arn:...:kms:<region>:<account>:key/<id>).
func (s Stack) KeyARN(idOrARN string) string {
	if strings.HasPrefix(idOrARN, "arn:") {
		return idOrARN
	}
	return fmt.Sprintf("arn:%s:kms:%s:%s:key/%s", s.partition(), s.region(), s.account(), idOrARN)
}

// EventBusARN is the ARN of an EventBridge bus of the stack.
func (s Stack) EventBusARN(nameOrARN string) string {
	if strings.HasPrefix(nameOrARN, "arn:") {
		return nameOrARN
	}
	return fmt.Sprintf("arn:%s:events:%s:%s:event-bus/%s", s.partition(), s.region(), s.account(), or(nameOrARN, "default"))
}

// Template is the policy part of a SAM template.
type Template struct {
	params    map[string]string     // parameter -> default
	types     map[string]string     // logical id -> resource type
	functions map[string]*yaml.Node // function logical id -> its Policies node
	resources map[string]*yaml.Node // logical id -> its Properties
}

// LoadTemplate reads a SAM template.
func LoadTemplate(path string) (*Template, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	t, err := ParseTemplate(raw)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return t, nil
}

// ParseTemplate parses a SAM template's text.
func ParseTemplate(raw []byte) (*Template, error) {
	var doc yaml.Node
	if err := yaml.NewDecoder(bytes.NewReader(raw)).Decode(&doc); err != nil {
		return nil, err
	}
	if len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, errors.New("not a YAML mapping")
	}
	root := doc.Content[0]
	t := &Template{params: map[string]string{}, types: map[string]string{}, functions: map[string]*yaml.Node{}, resources: map[string]*yaml.Node{}}
	if ps := child(root, "Parameters"); ps != nil {
		for i := 0; i+1 < len(ps.Content); i += 2 {
			if d := child(ps.Content[i+1], "Default"); d != nil {
				t.params[ps.Content[i].Value] = d.Value
			}
		}
	}
	res := child(root, "Resources")
	if res == nil {
		return nil, errors.New("no Resources")
	}
	for i := 0; i+1 < len(res.Content); i += 2 {
		id, r := res.Content[i].Value, res.Content[i+1]
		typ := child(r, "Type")
		if typ == nil {
			return nil, fmt.Errorf("resource %s has no Type", id)
		}
		t.types[id] = typ.Value
		t.resources[id] = child(r, "Properties")
		if typ.Value == "AWS::Serverless::Function" {
			t.functions[id] = child(child(r, "Properties"), "Policies")
		}
	}
	return t, nil
}

// Functions returns the logical ids of the template's functions.
func (t *Template) Functions() []string {
	var out []string
	for id := range t.functions {
		out = append(out, id)
	}
	sort.Strings(out)
	return out
}

// Policy returns a function's policy with every intrinsic resolved for stack.
func (t *Template) Policy(function string, stack Stack) (Policy, error) {
	policies, ok := t.functions[function]
	if !ok {
		return Policy{}, fmt.Errorf("template has no function %s", function)
	}
	p := Policy{Function: function}
	if policies == nil {
		return p, nil
	}
	for _, doc := range policies.Content {
		sts := child(doc, "Statement")
		if sts == nil {
			return Policy{}, fmt.Errorf("%s: a policy that is not an inline statement list (line %d)", function, doc.Line)
		}
		for _, sn := range sts.Content {
			st, err := t.statement(sn, stack)
			if err != nil {
				return Policy{}, fmt.Errorf("%s: statement at line %d: %w", function, sn.Line, err)
			}
			p.Statements = append(p.Statements, st)
		}
	}
	return p, nil
}

// ResourcePolicy returns the statements of a Secrets Manager resource
// policy (an AWS::SecretsManager::ResourcePolicy's ResourcePolicy), for
// requests whose context carries the caller's aws:PrincipalArn. Only
// statements of Principal "*" are supported (the caller is then told by
// conditions); an !If contributes the values of both its branches.
func (t *Template) ResourcePolicy(logicalID string, stack Stack) (Policy, error) {
	if t.types[logicalID] != "AWS::SecretsManager::ResourcePolicy" {
		return Policy{}, fmt.Errorf("template has no AWS::SecretsManager::ResourcePolicy %s", logicalID)
	}
	sts := child(child(t.resources[logicalID], "ResourcePolicy"), "Statement")
	if sts == nil {
		return Policy{}, fmt.Errorf("%s: no ResourcePolicy.Statement", logicalID)
	}
	p := Policy{Function: logicalID}
	for _, sn := range sts.Content {
		if pr := child(sn, "Principal"); pr == nil || pr.Value != "*" {
			return Policy{}, fmt.Errorf("%s: statement at line %d: only Principal \"*\" is supported", logicalID, sn.Line)
		}
		n := *sn
		n.Content = nil
		for i := 0; i+1 < len(sn.Content); i += 2 {
			if sn.Content[i].Value != "Principal" {
				n.Content = append(n.Content, sn.Content[i], sn.Content[i+1])
			}
		}
		st, err := t.statement(&n, stack)
		if err != nil {
			return Policy{}, fmt.Errorf("%s: statement at line %d: %w", logicalID, sn.Line, err)
		}
		p.Statements = append(p.Statements, st)
	}
	return p, nil
}

// ActionComments returns, per function, each action its policy lists and
// the comment on that action's line ("" for none): where the template says
// why an action no recorded call uses stays.
func (t *Template) ActionComments(function string) map[string]string {
	out := map[string]string{}
	policies := t.functions[function]
	if policies == nil {
		return out
	}
	for _, doc := range policies.Content {
		for _, sn := range child(doc, "Statement").Content {
			a := child(sn, "Action")
			nodes := []*yaml.Node{a}
			if a != nil && a.Kind == yaml.SequenceNode {
				nodes = a.Content
			}
			for _, n := range nodes {
				if n == nil {
					continue
				}
				if c := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(n.LineComment), "#")); c != "" || out[n.Value] == "" {
					out[n.Value] = c
				}
			}
		}
	}
	return out
}

func (t *Template) statement(n *yaml.Node, stack Stack) (Statement, error) {
	for _, unsupported := range []string{"NotAction", "NotResource", "Principal", "NotPrincipal"} {
		if child(n, unsupported) != nil {
			return Statement{}, fmt.Errorf("%s is not supported by this evaluator", unsupported)
		}
	}
	s := Statement{Effect: "Allow"}
	if v := child(n, "Sid"); v != nil {
		s.Sid = v.Value
	}
	if v := child(n, "Effect"); v != nil {
		s.Effect = v.Value
	}
	var err error
	if s.Actions, err = t.values(child(n, "Action"), stack); err != nil {
		return s, fmt.Errorf("Action: %w", err)
	}
	if s.Resources, err = t.values(child(n, "Resource"), stack); err != nil {
		return s, fmt.Errorf("Resource: %w", err)
	}
	if len(s.Actions) == 0 || len(s.Resources) == 0 {
		return s, errors.New("needs Action and Resource")
	}
	if c := child(n, "Condition"); c != nil {
		for i := 0; i+1 < len(c.Content); i += 2 {
			op, keys := c.Content[i].Value, c.Content[i+1]
			for j := 0; j+1 < len(keys.Content); j += 2 {
				vals, err := t.values(keys.Content[j+1], stack)
				if err != nil {
					return s, fmt.Errorf("Condition %s %s: %w", op, keys.Content[j].Value, err)
				}
				s.Conditions = append(s.Conditions, Condition{Operator: op, Key: keys.Content[j].Value, Values: vals})
			}
		}
	}
	return s, nil
}

// values resolves a scalar or a sequence of scalars, intrinsics included.
func (t *Template) values(n *yaml.Node, stack Stack) ([]string, error) {
	if n == nil {
		return nil, nil
	}
	if n.Kind == yaml.SequenceNode && n.Tag == "!If" {
		if len(n.Content) != 3 {
			return nil, fmt.Errorf("line %d: !If needs a condition and two values", n.Line)
		}
		return t.values(&yaml.Node{Kind: yaml.SequenceNode, Content: n.Content[1:]}, stack)
	}
	if n.Kind == yaml.SequenceNode && n.Tag != "!GetAtt" && n.Tag != "!Sub" {
		var out []string
		for _, c := range n.Content {
			v, err := t.values(c, stack)
			if err != nil {
				return nil, err
			}
			out = append(out, v...)
		}
		return out, nil
	}
	v, err := t.resolve(n, stack)
	if err != nil {
		return nil, err
	}
	return []string{v}, nil
}

var subVar = regexp.MustCompile(`\$\{([^}!]+)\}`)

// resolve resolves one scalar: plain, !Ref, !Sub or !GetAtt.
func (t *Template) resolve(n *yaml.Node, stack Stack) (string, error) {
	switch n.Tag {
	case "!Ref":
		return t.ref(n.Value, stack)
	case "!GetAtt":
		name := n.Value
		if n.Kind == yaml.SequenceNode && len(n.Content) == 2 {
			name = n.Content[0].Value + "." + n.Content[1].Value
		}
		return t.getAtt(name, stack)
	case "!Sub":
		if n.Kind != yaml.ScalarNode {
			return "", fmt.Errorf("line %d: only the one-string form of !Sub is supported", n.Line)
		}
		var failed error
		out := subVar.ReplaceAllStringFunc(n.Value, func(m string) string {
			name := m[2 : len(m)-1]
			var v string
			var err error
			if strings.Contains(name, ".") {
				v, err = t.getAtt(name, stack)
			} else {
				v, err = t.ref(name, stack)
			}
			if err != nil && failed == nil {
				failed = err
			}
			return v
		})
		return out, failed
	}
	if n.Kind != yaml.ScalarNode || strings.HasPrefix(n.Tag, "!") && !strings.HasPrefix(n.Tag, "!!") {
		return "", fmt.Errorf("line %d: unsupported value %s", n.Line, n.Tag)
	}
	return n.Value, nil
}

func (t *Template) ref(name string, stack Stack) (string, error) {
	switch name {
	case "AWS::StackName":
		if stack.Name == "" {
			return "", errors.New("the stack has no name")
		}
		return stack.Name, nil
	case "AWS::Region":
		return stack.region(), nil
	case "AWS::AccountId":
		return stack.account(), nil
	case "AWS::Partition":
		return stack.partition(), nil
	case "AWS::URLSuffix":
		return "amazonaws.com", nil
	}
	if v, ok := stack.Parameters[name]; ok {
		return v, nil
	}
	if v, ok := t.params[name]; ok {
		return v, nil
	}
	if _, ok := t.types[name]; ok {
		if v, ok := stack.Physical[name]; ok {
			return v, nil
		}
		return "", fmt.Errorf("the stack has no physical name for %s", name)
	}
	return "", fmt.Errorf("!Ref %s: no such parameter or resource", name)
}

func (t *Template) getAtt(name string, stack Stack) (string, error) {
	id, attr, _ := strings.Cut(name, ".")
	switch typ := t.types[id]; {
	case typ == "AWS::DynamoDB::Table" && attr == "Arn":
		phys, ok := stack.Physical[id]
		if !ok {
			return "", fmt.Errorf("the stack has no physical name for %s", id)
		}
		return stack.TableARN(phys), nil
	case typ == "AWS::KMS::Key" && attr == "Arn":
		return stack.KeyARN(or(stack.Physical[id], id)), nil
	case typ == "":
		return "", fmt.Errorf("!GetAtt %s: no such resource", name)
	default:
		return "", fmt.Errorf("!GetAtt %s: attribute of %s not supported", name, typ)
	}
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
