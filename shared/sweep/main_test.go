package sweep_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"identityservice/infra/testenv"
	"identityservice/infra/testenv/awscalls"
	"identityservice/shared/config"
	"identityservice/shared/eventbus"
	"identityservice/shared/identity"
	"identityservice/shared/store"
	"identityservice/shared/sweep"
	"identityservice/shared/vault"
)

var env *testenv.Env

func TestMain(m *testing.M) { testenv.Main(m, &env) }

// clock is the controllable clock of a test: the service and the sweepers
// read it; the test moves it.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

// lockedBuffer collects log lines from concurrent sweeps.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) Lines() []map[string]any {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(b.buf.String()), "\n") {
		var m map[string]any
		if json.Unmarshal([]byte(l), &m) == nil {
			out = append(out, m)
		}
	}
	return out
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

var fixtures atomic.Int32

// fixture is one test's world: its own table (so the index holds only its
// records), its own material prefix, its own event source with an
// EventBridge rule delivering to its own SQS queue, and a clock.
type fixture struct {
	t      *testing.T
	ctx    context.Context
	table  string
	prefix string
	source string
	clock  *clock
	// base is where the clock starts: the real time when the fixture was
	// made, so that material (which Secrets Manager dates with the real
	// clock) is older than an hour only once a test moves the clock on.
	base   time.Time
	store  *store.Dynamo
	vault  *vault.SecretsManager
	svc    *identity.Service
	tenant string
	logs   *lockedBuffer
	sqs    *sqs.Client
	queue  string // URL
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := t.Context()
	n := fixtures.Add(1)
	id := fmt.Sprintf("sweep-%d-%d", time.Now().UnixNano()%1e6, n)
	base := time.Now().UTC().Truncate(time.Second)
	f := &fixture{t: t, ctx: ctx, table: id, prefix: id, source: "identity-test." + id, clock: &clock{t: base}, base: base, logs: &lockedBuffer{}}
	if err := env.CreateTable(ctx, f.table); err != nil {
		t.Fatal(err)
	}
	f.store = store.New(env.Clients.DynamoDB, f.table)
	f.vault = vault.New(env.Clients.SecretsManager, f.prefix)
	f.svc = &identity.Service{Stores: f.store.Identity(), Vault: f.vault, SealKeys: vault.NewSealKey(env.Clients.SecretsManager, f.prefix), Now: f.clock.Now, Log: slog.New(slog.NewJSONHandler(f.logs, nil))}
	ten, err := f.svc.CreateTenant(ctx, "", "sweep test", 0)
	if err != nil {
		t.Fatal(err)
	}
	f.tenant = ten.ID
	f.listen()
	return f
}

// listen routes the fixture's warning events to an SQS queue on moto,
// through an EventBridge rule on the default bus, as a subscriber would.
func (f *fixture) listen() {
	f.t.Helper()
	eb := eventbridge.NewFromConfig(env.AWS)
	f.sqs = sqs.NewFromConfig(env.AWS)
	q, err := f.sqs.CreateQueue(f.ctx, &sqs.CreateQueueInput{QueueName: aws.String(f.table)})
	if err != nil {
		f.t.Fatalf("create queue: %v", err)
	}
	f.queue = aws.ToString(q.QueueUrl)
	attrs, err := f.sqs.GetQueueAttributes(f.ctx, &sqs.GetQueueAttributesInput{QueueUrl: q.QueueUrl, AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn}})
	if err != nil {
		f.t.Fatal(err)
	}
	pattern, _ := json.Marshal(map[string][]string{"source": {f.source}, "detail-type": {eventbus.DetailTypeSecretExpiring}})
	if _, err := eb.PutRule(f.ctx, &eventbridge.PutRuleInput{Name: aws.String(f.table), EventPattern: aws.String(string(pattern))}); err != nil {
		f.t.Fatalf("put rule: %v", err)
	}
	if _, err := eb.PutTargets(f.ctx, &eventbridge.PutTargetsInput{Rule: aws.String(f.table), Targets: []ebtypes.Target{{Id: aws.String("queue"), Arn: aws.String(attrs.Attributes[string(sqstypes.QueueAttributeNameQueueArn)])}}}); err != nil {
		f.t.Fatalf("put targets: %v", err)
	}
}

// event is a warning as a subscriber receives it.
type event struct {
	Source     string                        `json:"source"`
	DetailType string                        `json:"detail-type"`
	Detail     eventbus.SecretExpiringDetail `json:"detail"`
}

// received drains the queue: the events delivered since the last call.
// moto delivers PutEvents to the rule's targets before it answers, so
// what a finished sweep put is in the queue.
func (f *fixture) received() []event {
	f.t.Helper()
	var evs []event
	for {
		out, err := f.sqs.ReceiveMessage(f.ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(f.queue), MaxNumberOfMessages: 10, VisibilityTimeout: 300})
		if err != nil {
			f.t.Fatalf("receive: %v", err)
		}
		if len(out.Messages) == 0 {
			return evs
		}
		for _, m := range out.Messages {
			var ev event
			if err := json.Unmarshal([]byte(aws.ToString(m.Body)), &ev); err != nil {
				f.t.Fatalf("message %s: %v", aws.ToString(m.Body), err)
			}
			evs = append(evs, ev)
			if _, err := f.sqs.DeleteMessage(f.ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(f.queue), ReceiptHandle: m.ReceiptHandle}); err != nil {
				f.t.Fatal(err)
			}
		}
	}
}

// settings are the defaults with a budget no test run reaches.
func settings() sweep.Settings {
	s := sweep.DefaultSettings()
	s.Budget = 5 * time.Minute
	return s
}

// sweeper returns a sweeper on the fixture's world; its log lines and
// summary lines go to f.logs.
func (f *fixture) sweeper(s sweep.Settings) *sweep.Sweeper {
	_, clients := f.sweeperAWS("default")
	return f.sweeperOn(s, "default", store.New(clients.DynamoDB, f.table).SweepQueue)
}

// sweeperAWS returns clients whose calls are recorded as SweeperFunction's
// in the fixture's stack, for the IAM check of template.yaml.
func (f *fixture) sweeperAWS(bus string) (aws.Config, config.Clients) {
	stack := env.IAMStack(f.table, f.prefix)
	stack.Parameters = map[string]string{"EventBusName": bus, "EventSource": f.source}
	return env.As(awscalls.Tag{Function: "SweeperFunction", Stack: stack})
}

func (f *fixture) sweeperOn(s sweep.Settings, bus string, st sweep.Store) *sweep.Sweeper {
	log := slog.New(slog.NewJSONHandler(f.logs, nil))
	awsCfg, clients := f.sweeperAWS(bus)
	return &sweep.Sweeper{
		Store:     st,
		Inventory: vault.NewInventory(clients.SecretsManager, f.prefix),
		Events:    eventbus.New(eventbridge.NewFromConfig(awsCfg), bus, f.source),
		Settings:  s,
		Now:       f.clock.Now,
		Log:       log,
		Summary:   log,
		Metrics:   sweep.Metrics{Stack: f.prefix},
	}
}

// sweep runs one sweep at instant at and fails the test on an error.
func (f *fixture) sweep(at time.Time) sweep.Counts {
	f.t.Helper()
	f.clock.Set(at)
	c, err := f.sweeper(settings()).Run(f.ctx)
	if err != nil {
		f.t.Fatalf("sweep at %s: %v\nlogs:\n%s", at.Format(time.RFC3339), err, f.logs)
	}
	return c
}

// client creates a Client Credential client at the clock's instant whose
// first secret expires at exp (nil: never).
func (f *fixture) client(exp *time.Time) identity.CreatedClient {
	f.t.Helper()
	c, err := f.svc.CreateClient(f.ctx, f.tenant, identity.NewClient{Kind: identity.ClientCredential, Name: "swept", SecretExpiration: exp})
	if err != nil {
		f.t.Fatal(err)
	}
	return c
}

// materialExists reports whether a secret's material is in Secrets Manager.
func (f *fixture) materialExists(sec identity.Secret) bool {
	f.t.Helper()
	_, err := f.vault.Verifier(f.ctx, sec.Ref())
	if err != nil && err != vault.ErrNoMaterial {
		f.t.Fatal(err)
	}
	return err == nil
}

// listed returns a client's secrets as the Key Rotation API lists them
// (soft-deleted ones included).
func (f *fixture) listed(clientID string) map[string]identity.Secret {
	f.t.Helper()
	page, err := f.svc.ListSecrets(f.ctx, f.tenant, identity.ClientCredential, clientID, true, 0, 1000)
	if err != nil {
		f.t.Fatal(err)
	}
	m := map[string]identity.Secret{}
	for _, s := range page.Secrets {
		m[s.ID] = s
	}
	return m
}

func at(t time.Time) *time.Time { return &t }
