// Package iam evaluates the IAM policies that template.yaml gives each
// function, so that tests can prove every AWS call the code makes is
// allowed by the policy of the function that makes it — the emulators
// enforce no IAM at all.
//
// It implements the part of IAM policy evaluation the template uses:
// Allow and Deny statements, Action and Resource lists with * and ?
// wildcards, resources written with !Sub, !GetAtt and !Ref (resolved for a
// given stack: its name, region, account, parameters and the physical names
// of its resources), and conditions with the String operators (StringEquals,
// StringLike and their negations, with the ForAllValues: and ForAnyValue:
// set prefixes), which is what dynamodb:LeadingKeys and events:source need.
// An explicit Deny wins; without an Allow a request is denied.
package iam

import (
	"fmt"
	"sort"
	"strings"
)

// Request is one authorization IAM makes for an API call: an action on a
// resource with the request's condition keys. One call can need several
// (a TransactWriteItems needs one per item).
type Request struct {
	Action   string              // e.g. "dynamodb:PutItem"
	Resource string              // an ARN, or "*"
	Context  map[string][]string // condition keys, e.g. "dynamodb:LeadingKeys": ["CLIENT#..."]
}

func (r Request) String() string {
	s := r.Action + " on " + r.Resource
	keys := make([]string, 0, len(r.Context))
	for k := range r.Context {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		s += fmt.Sprintf(" %s=%q", k, r.Context[k])
	}
	return s
}

// Statement is one resolved policy statement.
type Statement struct {
	Sid        string
	Effect     string // "Allow" or "Deny"
	Actions    []string
	Resources  []string
	Conditions []Condition
}

// Condition is one operator on one key: the key's values in the request
// must match Values as Operator says.
type Condition struct {
	Operator string // e.g. "ForAllValues:StringLike"
	Key      string
	Values   []string
}

// Policy is the statements of one function's role.
type Policy struct {
	Function   string
	Statements []Statement
}

// Decision is the outcome of evaluating one request.
type Decision struct {
	Allowed bool
	Sid     string // the statement that allowed or explicitly denied it
}

// Evaluate decides a request: an explicit Deny wins over any Allow, and a
// request no statement allows is denied.
func (p Policy) Evaluate(r Request) Decision {
	var allow *Statement
	for i, s := range p.Statements {
		if !s.matches(r) {
			continue
		}
		if strings.EqualFold(s.Effect, "Deny") {
			return Decision{Allowed: false, Sid: s.Sid}
		}
		if allow == nil {
			allow = &p.Statements[i]
		}
	}
	if allow != nil {
		return Decision{Allowed: true, Sid: allow.Sid}
	}
	return Decision{}
}

// Allows reports whether the policy allows the request.
func (p Policy) Allows(r Request) bool { return p.Evaluate(r).Allowed }

func (s Statement) matches(r Request) bool {
	ok := false
	for _, a := range s.Actions {
		if Match(strings.ToLower(a), strings.ToLower(r.Action)) {
			ok = true
			break
		}
	}
	if !ok {
		return false
	}
	ok = false
	for _, res := range s.Resources {
		if Match(res, r.Resource) {
			ok = true
			break
		}
	}
	if !ok {
		return false
	}
	for _, c := range s.Conditions {
		if !c.holds(r.Context) {
			return false
		}
	}
	return true
}

// holds evaluates the condition against the request's context. Keys are
// case-insensitive. A missing key fails a positive operator and satisfies
// a negated one; ForAllValues holds for a missing or empty key (as in IAM:
// which is why a LeadingKeys condition must never guard a Scan).
func (c Condition) holds(ctx map[string][]string) bool {
	var values []string
	present := false
	for k, v := range ctx {
		if strings.EqualFold(k, c.Key) {
			values, present = v, true
		}
	}
	op := c.Operator
	set := ""
	if p, rest, ok := strings.Cut(op, ":"); ok {
		set, op = p, rest
	}
	negated := strings.Contains(op, "Not")
	one := func(v string) bool {
		for _, want := range c.Values {
			var m bool
			switch op {
			case "StringEquals", "StringNotEquals":
				m = v == want
			case "StringLike", "StringNotLike", "ArnLike", "ArnNotLike":
				m = Match(want, v)
			default:
				return false // unknown operators never match: fail closed
			}
			if m {
				return !negated
			}
		}
		return negated
	}
	switch set {
	case "ForAllValues":
		for _, v := range values {
			if !one(v) {
				return false
			}
		}
		return true
	case "ForAnyValue":
		for _, v := range values {
			if one(v) {
				return true
			}
		}
		return false
	case "":
		if !present || len(values) == 0 {
			return negated
		}
		return one(values[0])
	}
	return false
}

// Match reports whether s matches the IAM pattern p: * matches any run of
// characters (: and / included), ? any one character, everything else
// itself.
func Match(p, s string) bool {
	// Iterative glob with backtracking on the last *.
	pi, si, star, mark := 0, 0, -1, 0
	for si < len(s) {
		switch {
		case pi < len(p) && (p[pi] == '?' || p[pi] == s[si]):
			pi++
			si++
		case pi < len(p) && p[pi] == '*':
			star, mark = pi, si
			pi++
		case star >= 0:
			pi = star + 1
			mark++
			si = mark
		default:
			return false
		}
	}
	for pi < len(p) && p[pi] == '*' {
		pi++
	}
	return pi == len(p)
}
