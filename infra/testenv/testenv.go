// Package testenv gives integration tests a real local stack: DynamoDB
// Local and the Secrets Manager emulator on free ports, started by the test
// binary itself, with the table created from template.yaml.
package testenv

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/smithy-go/middleware"

	"identityservice/infra/emulator"
	"identityservice/infra/template"
	"identityservice/shared/config"
	"identityservice/shared/identity"
	"identityservice/shared/store"
)

// Env is a running local stack.
type Env struct {
	Stack   *emulator.Stack
	AWS     aws.Config
	Clients config.Clients
	Config  config.Config
	Root    string // repository root
}

// Start starts the emulators, points the AWS SDK at them through the
// environment, and creates the table.
func Start(ctx context.Context) (*Env, error) {
	root, err := emulator.RepoRoot()
	if err != nil {
		return nil, err
	}
	stack, err := emulator.StartStack(ctx, "127.0.0.1:0", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	env := &Env{Stack: stack, Root: root, Config: config.Config{Table: "identity-test", SecretPrefix: "identity-test", DefaultClientLimit: identity.DefaultClientLimit}}
	if err := env.setup(ctx); err != nil {
		stack.Stop()
		return nil, err
	}
	return env, nil
}

func (e *Env) setup(ctx context.Context) error {
	if err := e.Stack.Setenv(); err != nil {
		return err
	}
	for _, kv := range [][2]string{{"TABLE_NAME", e.Config.Table}, {"SECRET_PREFIX", e.Config.SecretPrefix}} {
		if err := os.Setenv(kv[0], kv[1]); err != nil {
			return err
		}
	}
	awsCfg, err := config.AWS(ctx)
	if err != nil {
		return err
	}
	e.AWS = awsCfg
	e.Clients = config.NewClients(awsCfg)
	return e.CreateTable(ctx, e.Config.Table)
}

// CreateTable creates a table with the schema of template.yaml.
func (e *Env) CreateTable(ctx context.Context, name string) error {
	tpl, err := template.Load(filepath.Join(e.Root, "template.yaml"))
	if err != nil {
		return err
	}
	in, err := tpl.Table("ClientsTable", name)
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

// Stop stops the emulators.
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
