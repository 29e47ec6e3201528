package emulator

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
)

// Stack is both emulators plus the AWS environment that points the SDK at
// them.
type Stack struct {
	DynamoDB       *Process
	SecretsManager *Process // moto_server, which also serves EventBridge and SQS
}

// StartStack starts DynamoDB Local on dynamoAddr and the Secrets Manager
// emulator on smAddr concurrently. If either fails, the other is stopped (or
// its startup abandoned) and the error says why. ctx bounds only the startup.
func StartStack(ctx context.Context, dynamoAddr, smAddr string) (*Stack, error) {
	// The first failure cancels the other startup rather than waiting for it.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		s             Stack
		dynErr, smErr error
		wg            sync.WaitGroup
	)
	wg.Go(func() {
		if s.DynamoDB, dynErr = StartDynamoDB(ctx, dynamoAddr); dynErr != nil {
			cancel()
		}
	})
	wg.Go(func() {
		if s.SecretsManager, smErr = StartSecretsManager(ctx, smAddr); smErr != nil {
			cancel()
		}
	})
	wg.Wait()
	if dynErr == nil && smErr == nil {
		return &s, nil
	}
	s.Stop()
	// Report the failure itself, not the startup it cancelled.
	if dynErr != nil && smErr != nil {
		if errors.Is(smErr, context.Canceled) {
			smErr = nil
		} else if errors.Is(dynErr, context.Canceled) {
			dynErr = nil
		}
	}
	return nil, fmt.Errorf("start the local stack: %w", errors.Join(dynErr, smErr))
}

// Stop stops both emulators. It is safe to call more than once.
func (s *Stack) Stop() {
	if s == nil {
		return
	}
	var wg sync.WaitGroup
	for _, p := range []*Process{s.DynamoDB, s.SecretsManager} {
		wg.Go(func() { p.Stop() }) // Stop only fails if the group cannot be signalled
	}
	wg.Wait()
}

// Env returns the variables the AWS SDK for Go v2 (and the aws CLI) read to
// reach the stack, as KEY=VALUE strings: region, static credentials, and a
// service-specific endpoint for DynamoDB, and for Secrets Manager,
// EventBridge and SQS, which moto serves on one port.
func (s *Stack) Env() []string {
	moto := s.SecretsManager.Endpoint
	return []string{
		"AWS_REGION=us-east-1",
		"AWS_ACCESS_KEY_ID=local",
		"AWS_SECRET_ACCESS_KEY=local",
		"AWS_ENDPOINT_URL_DYNAMODB=" + s.DynamoDB.Endpoint,
		"AWS_ENDPOINT_URL_SECRETS_MANAGER=" + moto,
		"AWS_ENDPOINT_URL_EVENTBRIDGE=" + moto,
		"AWS_ENDPOINT_URL_SQS=" + moto,
	}
}

// Setenv sets Env in the current process, for a test's TestMain or the local
// server, so that config.LoadDefaultConfig finds the stack.
func (s *Stack) Setenv() error {
	for _, kv := range s.Env() {
		k, v, _ := strings.Cut(kv, "=")
		if err := os.Setenv(k, v); err != nil {
			return err
		}
	}
	return nil
}

// Attach returns a Stack for emulators that another process started and
// stops (the one stack of a whole `make test` run, infra/teststack): its
// Stop does nothing and its Pids are 0.
func Attach(dynamoEndpoint, smEndpoint string) *Stack {
	return &Stack{DynamoDB: attached("DynamoDB Local", dynamoEndpoint), SecretsManager: attached("moto_server", smEndpoint)}
}

func attached(name, endpoint string) *Process {
	p := &Process{Name: name, Endpoint: endpoint, exited: make(chan struct{})}
	close(p.exited) // not ours: Stop has nothing to end
	return p
}

// SharedEnv names the environment variable through which one stack serves
// every test package of a run: "<DynamoDB endpoint> <Secrets Manager
// endpoint>", set by infra/teststack for the command it runs.
const SharedEnv = "TESTENV_STACK"

// Shared returns the value of SharedEnv that points at s.
func (s *Stack) Shared() string {
	return s.DynamoDB.Endpoint + " " + s.SecretsManager.Endpoint
}

// AttachShared returns the stack SharedEnv names (nil if it is unset).
func AttachShared() (*Stack, error) {
	v := os.Getenv(SharedEnv)
	if v == "" {
		return nil, nil
	}
	ep := strings.Fields(v)
	if len(ep) != 2 || !strings.HasPrefix(ep[0], "http") || !strings.HasPrefix(ep[1], "http") {
		return nil, fmt.Errorf("%s=%q: want \"<DynamoDB endpoint> <Secrets Manager endpoint>\"", SharedEnv, v)
	}
	return Attach(ep[0], ep[1]), nil
}
