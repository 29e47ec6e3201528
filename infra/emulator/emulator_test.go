package emulator_test

import (
	"context"
	"net"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"identityservice/infra/emulator"
)

func TestStack(t *testing.T) {
	if testing.Short() {
		t.Skip("starts DynamoDB Local and moto_server")
	}
	began := time.Now()
	s, err := emulator.StartStack(t.Context(), "127.0.0.1:0", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Stop)
	t.Logf("stack up in %s: DynamoDB Local at %s, moto_server at %s",
		time.Since(began).Round(time.Millisecond), s.DynamoDB.Endpoint, s.SecretsManager.Endpoint)

	for _, kv := range s.Env() {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		t.Fatal(err)
	}
	tables, err := dynamodb.NewFromConfig(cfg).ListTables(ctx, &dynamodb.ListTablesInput{})
	if err != nil {
		t.Fatalf("DynamoDB ListTables: %v", err)
	}
	if len(tables.TableNames) != 0 {
		t.Errorf("a fresh in-memory DynamoDB Local has tables: %v", tables.TableNames)
	}
	secrets, err := secretsmanager.NewFromConfig(cfg).ListSecrets(ctx, &secretsmanager.ListSecretsInput{})
	if err != nil {
		t.Fatalf("Secrets Manager ListSecrets: %v", err)
	}
	if len(secrets.SecretList) != 0 {
		t.Errorf("a fresh moto_server has secrets: %v", secrets.SecretList)
	}

	// Another process of the run finds the stack through SharedEnv.
	t.Setenv(emulator.SharedEnv, s.Shared())
	shared, err := emulator.AttachShared()
	if err != nil || shared == nil || shared.DynamoDB.Endpoint != s.DynamoDB.Endpoint || shared.SecretsManager.Endpoint != s.SecretsManager.Endpoint {
		t.Fatalf("AttachShared from %q: %+v, %v; want the stack's endpoints", s.Shared(), shared, err)
	}
	shared.Stop() // not its to stop: the emulators keep serving
	if _, err := secretsmanager.NewFromConfig(cfg).ListSecrets(ctx, &secretsmanager.ListSecretsInput{}); err != nil {
		t.Errorf("the stack stopped when an attached copy of it was stopped: %v", err)
	}

	s.Stop()
	s.Stop() // idempotent
	for _, p := range []*emulator.Process{s.DynamoDB, s.SecretsManager} {
		if err := p.Stop(); err != nil {
			t.Errorf("%s: Stop after Stop: %v", p.Name, err)
		}
		if p.CPU() <= 0 {
			t.Errorf("%s: no CPU time after it exited", p.Name)
		}
		u, err := url.Parse(p.Endpoint)
		if err != nil {
			t.Fatal(err)
		}
		if conn, err := net.DialTimeout("tcp", u.Host, time.Second); err == nil {
			conn.Close()
			t.Errorf("%s still accepts connections on %s after Stop", p.Name, u.Host)
		}
	}
}

func TestStartOnBusyPort(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	for name, start := range map[string]func(context.Context, string) (*emulator.Process, error){
		"DynamoDB":       emulator.StartDynamoDB,
		"SecretsManager": emulator.StartSecretsManager,
	} {
		p, err := start(t.Context(), ln.Addr().String())
		if err == nil {
			p.Stop()
			t.Errorf("%s started on a port something else listens on", name)
		} else if !strings.Contains(err.Error(), "in use") {
			t.Errorf("%s on a busy port: want an error saying it is in use, got: %v", name, err)
		}
	}
}

func TestAttachSharedRefusesAMalformedValue(t *testing.T) {
	t.Setenv(emulator.SharedEnv, "")
	if s, err := emulator.AttachShared(); s != nil || err != nil {
		t.Errorf("unset: %+v, %v; want no stack and no error", s, err)
	}
	for _, v := range []string{"http://127.0.0.1:1", "127.0.0.1:1 127.0.0.1:2", "http://a http://b http://c"} {
		t.Setenv(emulator.SharedEnv, v)
		if _, err := emulator.AttachShared(); err == nil || !strings.Contains(err.Error(), emulator.SharedEnv) {
			t.Errorf("%q: want an error naming %s, got %v", v, emulator.SharedEnv, err)
		}
	}
}
