// Package testenv gives integration tests a real local stack: DynamoDB
// Local and the Secrets Manager emulator on free ports, started by the test
// binary itself, with the table created from template.yaml. Under `make
// test` every package uses the one stack infra/teststack started for the
// run (TESTENV_STACK), each with a table and secret prefix of its own.
package testenv

import (
	"context"
	"crypto/rand"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"net/http"

	"github.com/aws/aws-sdk-go-v2/aws"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
	"github.com/aws/smithy-go/middleware"

	"identityservice/infra/emulator"
	"identityservice/infra/iam"
	"identityservice/infra/template"
	"identityservice/infra/testenv/awscalls"
	"identityservice/shared/config"
	"identityservice/shared/identity"
	"identityservice/shared/store"
	"identityservice/shared/vault"
)

// Env is a running local stack.
type Env struct {
	Stack   *emulator.Stack
	AWS     aws.Config // records the calls of tagged contexts (awscalls)
	Clients config.Clients
	Config  config.Config
	Root    string // repository root
	// Calls records every AWS call made through AWS or Clients (and through
	// proxies from Proxies) with a function's tag; Main checks them against
	// the functions' policies in template.yaml after the tests.
	Calls *awscalls.Recorder
	tpl   *template.Template
}

// Start starts the emulators, points the AWS SDK at them through the
// environment, and creates the table.
func Start(ctx context.Context) (*Env, error) {
	root, err := emulator.RepoRoot()
	if err != nil {
		return nil, err
	}
	// The stack of the whole run if infra/teststack started one (make
	// test), else one of the package's own. On a shared stack the
	// package's table and secret prefix are its own: packages that run at
	// the same time never see each other's items or material.
	name := "identity-test"
	stack, err := emulator.AttachShared()
	if err != nil {
		return nil, err
	}
	if stack != nil {
		name = sharedName()
	} else if stack, err = emulator.StartStack(ctx, "127.0.0.1:0", "127.0.0.1:0"); err != nil {
		return nil, err
	}
	env := &Env{Stack: stack, Root: root, Config: config.Config{Table: name, SecretPrefix: name, DefaultClientLimit: identity.DefaultClientLimit, RetentionDays: identity.DefaultRetentionDays,
		SigningKeysKMSKey: TestSigningKeysKMSKey, AuthFailureFloor: TestAuthFailureFloor}}
	if err := env.setup(ctx); err != nil {
		stack.Stop()
		return nil, err
	}
	return env, nil
}

// sharedName is a package's table name and secret prefix on a shared
// stack: "identity-test-<package directory>-<random>".
func sharedName() string {
	dir := "pkg"
	if wd, err := os.Getwd(); err == nil {
		dir = filepath.Base(wd)
	}
	var b [4]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return fmt.Sprintf("identity-test-%s-%x", dir, b)
}

// TestAuthFailureFloor is the tests' AUTH_FAILURE_FLOOR: short, so that
// tests of many refused authentications stay quick. That failures are
// held to the floor is shown by shared/identity's
// TestFailedAuthenticationsAreHeldToTheFloor; the floor's effect on
// timings is measured by make bench, never decided by a test.
const TestAuthFailureFloor = 5 * time.Millisecond

func (e *Env) setup(ctx context.Context) error {
	if err := e.Stack.Setenv(); err != nil {
		return err
	}
	for _, kv := range [][2]string{{"TABLE_NAME", e.Config.Table}, {"SECRET_PREFIX", e.Config.SecretPrefix}, {"AUTH_FAILURE_FLOOR", e.Config.AuthFailureFloor.String()}} {
		if err := os.Setenv(kv[0], kv[1]); err != nil {
			return err
		}
	}
	tpl, err := template.Load(filepath.Join(e.Root, "template.yaml"))
	if err != nil {
		return err
	}
	e.tpl = tpl
	schema, err := tableSchema(tpl)
	if err != nil {
		return err
	}
	e.Calls = awscalls.NewRecorder(schema)
	awsCfg, err := config.AWS(ctx)
	if err != nil {
		return err
	}
	e.AWS = awsCfg.Copy()
	e.AWS.APIOptions = append(e.AWS.APIOptions, e.Calls.Middleware(nil))
	e.Clients = config.NewClients(e.AWS)
	return e.CreateTable(ctx, e.Config.Table)
}

// tableSchema is the partition keys of ClientsTable and its indexes.
func tableSchema(tpl *template.Template) (awscalls.Schema, error) {
	in, err := tpl.Table("ClientsTable", "schema")
	if err != nil {
		return awscalls.Schema{}, err
	}
	hash := func(ks []ddbtypes.KeySchemaElement) string {
		for _, k := range ks {
			if k.KeyType == ddbtypes.KeyTypeHash {
				return aws.ToString(k.AttributeName)
			}
		}
		return ""
	}
	s := awscalls.Schema{TableHash: hash(in.KeySchema), IndexHash: map[string]string{}}
	for _, g := range in.GlobalSecondaryIndexes {
		s.IndexHash[aws.ToString(g.IndexName)] = hash(g.KeySchema)
	}
	return s, nil
}

// IAMStack is the stack the test environment stands for, as IAM sees it:
// named by the secret prefix, with table as ClientsTable (empty: the
// environment's table).
func (e *Env) IAMStack(table, prefix string) iam.Stack {
	if table == "" {
		table = e.Config.Table
	}
	if prefix == "" {
		prefix = e.Config.SecretPrefix
	}
	return iam.Stack{Name: prefix, Physical: map[string]string{"ClientsTable": table, "SigningKeysKey": TestSigningKeysKMSKey},
		SecretKeys: map[string]string{vault.SigningKeysName(prefix): TestSigningKeysKMSKey}}
}

// Tagged wraps a handler serving functions' routes so that the AWS calls
// of each request are recorded as those of the function that serves its
// route in template.yaml.
func (e *Env) Tagged(h http.Handler) http.Handler {
	return awscalls.Handler(e.tpl.Routes(), e.IAMStack("", ""), h)
}

// FunctionOf returns the logical id of the function whose Go package is
// functions/<dir>, or "" if template.yaml has none.
func (e *Env) FunctionOf(dir string) string {
	for _, f := range e.tpl.Functions() {
		if f.Dir == "functions/"+dir {
			return f.LogicalID
		}
	}
	return ""
}

// As returns AWS clients whose calls are recorded as tag's function's.
func (e *Env) As(tag awscalls.Tag) (aws.Config, config.Clients) {
	cfg := e.AWS.Copy()
	cfg.APIOptions = append(cfg.APIOptions[:len(cfg.APIOptions):len(cfg.APIOptions)], e.Calls.Middleware(&tag))
	return cfg, config.NewClients(cfg)
}

// Proxies returns the environment variables that point a function's
// bootstrap at recording proxies of the emulators, whose calls are
// recorded as tag's; the proxies stop when the test ends.
func (e *Env) Proxies(t testing.TB, tag awscalls.Tag) []string {
	t.Helper()
	ddb, err := e.Calls.Proxy(tag, e.Stack.DynamoDB.Endpoint)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ddb.Close)
	moto, err := e.Calls.Proxy(tag, e.Stack.SecretsManager.Endpoint)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(moto.Close)
	return []string{"AWS_ENDPOINT_URL_DYNAMODB=" + ddb.URL, "AWS_ENDPOINT_URL_SECRETS_MANAGER=" + moto.URL, "AWS_ENDPOINT_URL_EVENTBRIDGE=" + moto.URL}
}

// CheckIAM checks every recorded call against its function's policy in
// template.yaml and reports denials to w. With AWSCALLS_DIR set, it also
// stores the actions used, for the unused-action report of `make test`.
func (e *Env) CheckIAM(w io.Writer) (failed bool) {
	tpl, err := iam.LoadTemplate(filepath.Join(e.Root, "template.yaml"))
	if err != nil {
		fmt.Fprintln(w, "IAM check:", err)
		return true
	}
	res := awscalls.Check(tpl, e.Calls.Calls())
	res.Report(w)
	if dir := os.Getenv("AWSCALLS_DIR"); dir != "" {
		wd, _ := os.Getwd()
		name, err := filepath.Rel(e.Root, wd)
		if err == nil {
			err = res.WriteUsed(dir, name)
		}
		if err != nil {
			fmt.Fprintln(w, "IAM check: store the actions used:", err)
			return true
		}
	}
	return res.Failed()
}

// CreateTable creates a table with the schema of template.yaml.
func (e *Env) CreateTable(ctx context.Context, name string) error {
	in, err := e.tpl.Table("ClientsTable", name)
	if err != nil {
		return err
	}
	return store.CreateTable(ctx, e.Clients.DynamoDB, in)
}

// Service returns a service on the stack; log output goes to w (nil: discarded).
func (e *Env) Service(w io.Writer) *identity.Service {
	if w == nil {
		w = io.Discard
	}
	return e.Config.Service(e.Clients, slog.New(slog.NewJSONHandler(w, nil)))
}

// ClientsWith returns AWS clients on the stack with extra SDK middleware
// (e.g. a faults.Injector's or a call recorder's) on every call they make.
// Pass them to config.NewApp to put the middleware under the code under test.
func (e *Env) ClientsWith(opts ...func(*middleware.Stack) error) config.Clients {
	cfg := e.AWS.Copy()
	cfg.APIOptions = append(append([]func(*middleware.Stack) error(nil), cfg.APIOptions...), opts...)
	return config.NewClients(cfg)
}

// Stop stops the emulators (a shared stack's are left to the process that
// started them).
func (e *Env) Stop() { e.Stack.Stop() }

// Main is a TestMain body: it starts the stack into *env, runs the tests
// and stops the stack. A stack that cannot start fails the run: it is
// never skipped. A run that only fuzzes (-run '^$' -fuzz X, and the fuzz
// workers it starts) needs no stack: fuzz targets use no emulator, and a
// stack per worker would cost a DynamoDB Local each.
func Main(m *testing.M, env **Env) {
	flag.Parse()
	if onlyFuzzing() {
		os.Exit(m.Run())
	}
	e, err := Start(context.Background())
	if err != nil {
		fmt.Fprintln(os.Stderr, "local stack:", err)
		os.Exit(1)
	}
	*env = e
	code := m.Run()
	if e.CheckIAM(os.Stderr) && code == 0 {
		fmt.Fprintln(os.Stderr, "FAIL: AWS calls that template.yaml's policies deny (above); fix the policy or the call")
		code = 1
	}
	e.Stop()
	os.Exit(code)
}

func onlyFuzzing() bool {
	value := func(name string) string {
		if f := flag.Lookup(name); f != nil {
			return f.Value.String()
		}
		return ""
	}
	return value("test.fuzzworker") == "true" || (value("test.fuzz") != "" && value("test.run") == "^$")
}

// OwnSecrets is a ListSecrets request for the package's own secrets: its
// material and signing keys, all named under Config.SecretPrefix. On a
// shared stack other packages create and delete secrets meanwhile, so a
// test that reads "every secret" reads these.
func (e *Env) OwnSecrets() *secretsmanager.ListSecretsInput {
	return &secretsmanager.ListSecretsInput{Filters: []smtypes.Filter{{Key: smtypes.FilterNameStringTypeName, Values: []string{e.Config.SecretPrefix}}}}
}
