// Package template reads the SAM template (template.yaml), the one place
// where the table schema and the route table are defined, so that the local
// stack and the tests derive both from it instead of repeating them.
//
// The template is decoded into yaml.Node, so CloudFormation's short-form
// tags (!Ref, !Sub, !GetAtt, ...) parse; the values read here (key schema,
// methods, paths, package directories) must be literals.
package template

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Resource types read by this package.
const (
	typeFunction = "AWS::Serverless::Function"
	typeTable    = "AWS::DynamoDB::Table"
)

// GoPackageKey is the top-level Metadata key of every
// AWS::Serverless::Function that names its Go package directory, relative
// to the repo root (e.g. "functions/clientcredentialclients"). CodeUri is
// "." for every function (SAM builds them all from the one Go module with
// `make build-<LogicalId>`), so it cannot say which package a function is.
const GoPackageKey = "GoPackage"

// Template is a parsed SAM template.
type Template struct {
	resources map[string]*yaml.Node // logical id -> the resource's mapping
	functions []Function
	routes    []Route
}

// Function is an AWS::Serverless::Function of the template.
type Function struct {
	LogicalID string // e.g. "ClientCredentialClientsFunction"
	Dir       string // Go package directory (Metadata.GoPackage), e.g. "functions/clientcredentialclients"
	// Timeout is the function's Timeout: its own, else Globals.Function's,
	// else Lambda's default of 3 seconds. The local server gives each
	// request the same deadline Lambda would.
	Timeout time.Duration
}

// defaultTimeout is Lambda's (and SAM's) Timeout when the template sets none.
const defaultTimeout = 3 * time.Second

// Route is one HttpApi event of a function: a route of the API.
type Route struct {
	Function string // logical id of the function serving the route
	CodeDir  string // the function's Go package directory (its Function.Dir)
	Method   string // upper case, e.g. "GET"
	Path     string // as API Gateway matches it, e.g. "/api/v1-preview/Tenants/{tenantId}/ClientCredentialClients"
}

// Load reads and parses the template at path. It checks what the rest of
// the repo relies on: every function names its Go package, and every
// HttpApi event has a literal method and path, with no route declared twice.
func Load(path string) (*Template, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	t, err := parse(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return t, nil
}

func parse(data []byte) (*Template, error) {
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil {
		return nil, err
	}
	root := deref(&doc)
	if root.Kind != yaml.MappingNode {
		return nil, errors.New("not a YAML mapping")
	}
	resources := lookup(root, "Resources")
	if resources == nil || resources.Kind != yaml.MappingNode {
		return nil, errors.New("no Resources mapping")
	}
	t := &Template{resources: map[string]*yaml.Node{}}
	globalTimeout, err := timeout(lookup(lookup(root, "Globals"), "Function"), defaultTimeout)
	if err != nil {
		return nil, fmt.Errorf("Globals.Function: %w", err)
	}
	for i := 0; i+1 < len(resources.Content); i += 2 {
		id, res := resources.Content[i].Value, deref(resources.Content[i+1])
		if res.Kind != yaml.MappingNode {
			return nil, fmt.Errorf("resource %s is not a mapping", id)
		}
		t.resources[id] = res
		typ, err := literal(res, "Type")
		if err != nil {
			return nil, fmt.Errorf("resource %s: %w", id, err)
		}
		if typ != typeFunction {
			continue
		}
		if err := t.addFunction(id, res, globalTimeout); err != nil {
			return nil, fmt.Errorf("function %s: %w", id, err)
		}
	}
	sort.Slice(t.functions, func(i, j int) bool { return t.functions[i].LogicalID < t.functions[j].LogicalID })
	sort.Slice(t.routes, func(i, j int) bool {
		a, b := t.routes[i], t.routes[j]
		if a.Path != b.Path {
			return a.Path < b.Path
		}
		return a.Method < b.Method
	})
	for i := 1; i < len(t.routes); i++ {
		a, b := t.routes[i-1], t.routes[i]
		if a.Method == b.Method && a.Path == b.Path {
			return nil, fmt.Errorf("route %s %s is declared by both %s and %s", a.Method, a.Path, a.Function, b.Function)
		}
	}
	return t, nil
}

// timeout reads the Timeout (whole seconds) of a function's Properties or
// of Globals.Function; def when there is none.
func timeout(m *yaml.Node, def time.Duration) (time.Duration, error) {
	if lookup(m, "Timeout") == nil {
		return def, nil
	}
	v, err := literal(m, "Timeout")
	if err != nil {
		return 0, err
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > 900 {
		return 0, fmt.Errorf("Timeout %q: want whole seconds from 1 to 900", v)
	}
	return time.Duration(n) * time.Second, nil
}

func (t *Template) addFunction(id string, res *yaml.Node, globalTimeout time.Duration) error {
	meta := lookup(res, "Metadata")
	if meta == nil {
		return fmt.Errorf("no Metadata.%s (the function's Go package directory)", GoPackageKey)
	}
	dir, err := literal(meta, GoPackageKey)
	if err != nil {
		return fmt.Errorf("Metadata: %w", err)
	}
	if dir == "" || !filepath.IsLocal(dir) || path.Clean(dir) != dir {
		return fmt.Errorf("Metadata.%s %q: want a clean directory relative to the repo root", GoPackageKey, dir)
	}
	to, err := timeout(lookup(res, "Properties"), globalTimeout)
	if err != nil {
		return err
	}
	t.functions = append(t.functions, Function{LogicalID: id, Dir: dir, Timeout: to})

	events := lookup(lookup(res, "Properties"), "Events")
	if events == nil {
		return nil // not invoked by the API (a scheduled function)
	}
	if events.Kind != yaml.MappingNode {
		return errors.New("Events is not a mapping")
	}
	for i := 0; i+1 < len(events.Content); i += 2 {
		name, ev := events.Content[i].Value, deref(events.Content[i+1])
		typ, err := literal(ev, "Type")
		if err != nil {
			return fmt.Errorf("event %s: %w", name, err)
		}
		if typ != "HttpApi" {
			continue
		}
		props := lookup(ev, "Properties")
		method, err := literal(props, "Method")
		if err != nil {
			return fmt.Errorf("event %s: %w", name, err)
		}
		p, err := literal(props, "Path")
		if err != nil {
			return fmt.Errorf("event %s: %w", name, err)
		}
		if !strings.HasPrefix(p, "/") {
			return fmt.Errorf("event %s: Path %q does not start with /", name, p)
		}
		t.routes = append(t.routes, Route{Function: id, CodeDir: dir, Method: strings.ToUpper(method), Path: p})
	}
	return nil
}

// Functions returns every AWS::Serverless::Function of the template, sorted
// by logical id.
func (t *Template) Functions() []Function {
	return append([]Function(nil), t.functions...)
}

// Routes returns every HttpApi event of every AWS::Serverless::Function,
// sorted by path, then method.
func (t *Template) Routes() []Route {
	return append([]Route(nil), t.routes...)
}

// deref follows documents and aliases to the node they stand for.
func deref(n *yaml.Node) *yaml.Node {
	for n != nil {
		switch {
		case n.Kind == yaml.DocumentNode && len(n.Content) == 1:
			n = n.Content[0]
		case n.Kind == yaml.AliasNode:
			n = n.Alias
		default:
			return n
		}
	}
	return nil
}

// lookup returns the value of key in mapping m, or nil if m is not a
// mapping or has no such key.
func lookup(m *yaml.Node, key string) *yaml.Node {
	m = deref(m)
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return deref(m.Content[i+1])
		}
	}
	return nil
}

// literal returns the value of key in mapping m, which must be a plain
// scalar: an intrinsic function (!Ref, !Sub, ...) is resolved only by
// CloudFormation, so it cannot stand where this package reads a value.
func literal(m *yaml.Node, key string) (string, error) {
	v := lookup(m, key)
	if v == nil {
		return "", fmt.Errorf("no %s", key)
	}
	if v.Kind != yaml.ScalarNode {
		return "", fmt.Errorf("%s (line %d) is not a scalar", key, v.Line)
	}
	if tag := v.ShortTag(); !strings.HasPrefix(tag, "!!") {
		return "", fmt.Errorf("%s (line %d) is %s, want a literal value", key, v.Line, tag)
	}
	return v.Value, nil
}
