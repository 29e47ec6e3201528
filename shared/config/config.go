// Package config reads the service's settings from the environment and
// builds the AWS clients and the service from them, once per process.
package config

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/smithy-go/logging"

	"identityservice/shared/auth"
	"identityservice/shared/httpapi"
	"identityservice/shared/identity"
	"identityservice/shared/store"
	"identityservice/shared/vault"
)

// Config is the service's configuration.
type Config struct {
	Table              string     // TABLE_NAME: the DynamoDB table
	SecretPrefix       string     // SECRET_PREFIX: Secrets Manager name prefix (the stack name)
	DefaultClientLimit int        // DEFAULT_CLIENT_LIMIT: clients per tenant unless the tenant sets its own
	LogLevel           slog.Level // LOG_LEVEL: DEBUG, INFO, WARN or ERROR
	Issuer             string     // ISSUER: the tokens' iss; empty: the API's own address + /identity
	Audience           string     // AUDIENCE: the tokens' aud
	RetentionDays      int        // RETENTION_DAYS: days the sweeper keeps expired and deleted records (30; the secret record limit's 400 names it)
	SigningAlg         auth.Alg   // SIGNING_ALG: RS256 (default) or ES256, the algorithm of new signing keys
	// SIGNING_KEYS_KMS_KEY: the customer-managed KMS key (id, ARN or alias)
	// the signing keys' secret is created with; empty: the account's
	// default key (local emulators). template.yaml sets it.
	SigningKeysKMSKey string
	// AUTH_FAILURE_FLOOR: the least time a failed client authentication
	// takes (a Go duration, e.g. 50ms; identity.DefaultFailureFloor when
	// unset), so that its time does not tell an unknown client id from a
	// wrong secret. Set it above the slowest failure: a wrong secret
	// whose verifiers are not cached (one Secrets Manager read).
	AuthFailureFloor time.Duration
	// SEAL_KEY_REFRESH: how long a process keeps the token item seal keys
	// it read (a Go duration; identity.DefaultSealKeyRefresh, 1m, when
	// unset). The operator's `seal rotate` must run with the functions'
	// value: it waits twice that between its steps.
	SealKeyRefresh time.Duration
}

// FromEnv reads the configuration from environment variables.
func FromEnv() (Config, error) {
	c := Config{
		Table:              os.Getenv("TABLE_NAME"),
		SecretPrefix:       os.Getenv("SECRET_PREFIX"),
		DefaultClientLimit: identity.DefaultClientLimit,
		Issuer:             os.Getenv("ISSUER"),
		Audience:           os.Getenv("AUDIENCE"),
		RetentionDays:      identity.DefaultRetentionDays,
		SigningKeysKMSKey:  os.Getenv("SIGNING_KEYS_KMS_KEY"),
	}
	if c.Audience == "" {
		c.Audience = auth.DefaultAudience
	}
	alg, err := auth.ParseAlg(os.Getenv("SIGNING_ALG"))
	if err != nil {
		return c, fmt.Errorf("SIGNING_ALG: %w", err)
	}
	c.SigningAlg = alg
	if c.Table == "" {
		return c, fmt.Errorf("TABLE_NAME is not set: name the DynamoDB table")
	}
	if c.SecretPrefix == "" {
		return c, fmt.Errorf("SECRET_PREFIX is not set: name the Secrets Manager prefix (the stack name)")
	}
	if v := os.Getenv("DEFAULT_CLIENT_LIMIT"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return c, fmt.Errorf("DEFAULT_CLIENT_LIMIT=%q: want a positive integer", v)
		}
		c.DefaultClientLimit = n
	}
	if v := os.Getenv("RETENTION_DAYS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return c, fmt.Errorf("RETENTION_DAYS=%q: want a whole number of days, 0 or more", v)
		}
		c.RetentionDays = n
	}
	if v := os.Getenv("AUTH_FAILURE_FLOOR"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 || d > 10*time.Second {
			return c, fmt.Errorf("AUTH_FAILURE_FLOOR=%q: want a duration above 0 and at most 10s, e.g. 50ms", v)
		}
		c.AuthFailureFloor = d
	}
	if v := os.Getenv("SEAL_KEY_REFRESH"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 || d > time.Hour {
			return c, fmt.Errorf("SEAL_KEY_REFRESH=%q: want a duration above 0 and at most 1h, e.g. 1m", v)
		}
		c.SealKeyRefresh = d
	}
	if v := os.Getenv("LOG_LEVEL"); v != "" {
		if err := c.LogLevel.UnmarshalText([]byte(strings.ToUpper(v))); err != nil {
			return c, fmt.Errorf("LOG_LEVEL=%q: want DEBUG, INFO, WARN or ERROR", v)
		}
	}
	return c, nil
}

// Logger returns a JSON logger at the configured level.
func (c Config) Logger(w io.Writer) *slog.Logger {
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: c.LogLevel}))
}

// AWS loads the SDK configuration. Endpoints come from the SDK's standard
// variables (AWS_ENDPOINT_URL_DYNAMODB, AWS_ENDPOINT_URL_SECRETS_MANAGER), so
// the emulators, LocalStack or AWS are a matter of configuration. It makes no
// network call.
// The SDK's own log lines (its warnings) go out as JSON lines like ours,
// so a log pipeline that parses JSON never meets a plain-text line.
// Retries are bounded: at most RetryMaxAttempts attempts per call, backing
// off at most RetryMaxBackoff between them (jittered exponential, the SDK's
// standard retryer), and never past the request's deadline: every call
// carries the request's context (httpapi.WithDeadline).
func AWS(ctx context.Context) (aws.Config, error) {
	return awsconfig.LoadDefaultConfig(ctx,
		awsconfig.WithLogger(sdkLogger{slog.New(slog.NewJSONHandler(os.Stderr, nil))}),
		awsconfig.WithRetryer(func() aws.Retryer {
			return retry.NewStandard(func(o *retry.StandardOptions) {
				o.MaxAttempts = RetryMaxAttempts
				o.MaxBackoff = RetryMaxBackoff
			})
		}))
}

// The SDK retryer's bounds (see AWS).
const (
	RetryMaxAttempts = 3
	RetryMaxBackoff  = 1 * time.Second
)

// sdkLogger writes the SDK's log lines through slog.
type sdkLogger struct{ log *slog.Logger }

func (l sdkLogger) Logf(c logging.Classification, format string, v ...any) {
	level := slog.LevelInfo
	if c == logging.Warn {
		level = slog.LevelWarn
	}
	l.log.Log(context.Background(), level, fmt.Sprintf(format, v...), "source", "aws-sdk")
}

// Clients are the AWS clients of a process, built once.
type Clients struct {
	DynamoDB       *dynamodb.Client
	SecretsManager *secretsmanager.Client
}

// NewClients builds the AWS clients. Against DynamoDB on this machine
// (DynamoDB Local) the SDK does not check responses' CRC32: DynamoDB Local
// sends no X-Amz-Crc32 header on an error answer, and the SDK then checks
// the body against 0 and logs a WARN "failed to close HTTP response body"
// for every refused condition (aws-sdk-go-v2 issue 3545): thousands of
// false alarms in a `make bench` and one per 409 in `make run`. DynamoDB
// itself sends the header on every answer, and is checked.
func NewClients(awsCfg aws.Config) Clients {
	return Clients{
		DynamoDB: dynamodb.NewFromConfig(awsCfg, func(o *dynamodb.Options) {
			// BaseEndpoint: the SDK has resolved it (aws.Config's, or
			// AWS_ENDPOINT_URL_DYNAMODB) before the options run.
			if loopback(aws.ToString(o.BaseEndpoint)) {
				o.DisableValidateResponseChecksum = true
			}
		}),
		SecretsManager: secretsmanager.NewFromConfig(awsCfg),
	}
}

// loopback reports whether an endpoint URL names this machine.
func loopback(endpoint string) bool {
	u, err := url.Parse(endpoint)
	if err != nil || u.Hostname() == "" {
		return false
	}
	if u.Hostname() == "localhost" {
		return true
	}
	ip := net.ParseIP(u.Hostname())
	return ip != nil && ip.IsLoopback()
}

// Service wires the domain service to DynamoDB and Secrets Manager (the
// Service of NewApp, for callers that need nothing else).
func (c Config) Service(clients Clients, log *slog.Logger) *identity.Service {
	return NewApp(c, clients, log).Service
}

// App is everything a function's routes are built from, built once per
// process without any network call. Each function's main.go hands its
// route constructor only the parts the routes call.
type App struct {
	Config  Config
	AWS     aws.Config // the SDK configuration of Clients (Start); e.g. the sweeper's EventBridge client
	Clients Clients
	Store   *store.Dynamo
	Service *identity.Service
	Log     *slog.Logger
	// IssuerURL is the tokens' iss for a request: ISSUER, its {apiId}
	// filled from the API Gateway request context (httpapi.APIID).
	IssuerURL func(*http.Request) string
	// Authenticator verifies bearer tokens against the published JWKS.
	Authenticator *auth.BearerAuthenticator
}

// Start is the start-up of every process of the service (each function,
// the sweeper, `make run`, the operator CLI, the bench): the SDK's
// configuration (AWS), adjusted by each option before any client is
// built (the bench adds its metering middleware), the AWS clients, and
// the App wired to them. It makes no network call.
func Start(ctx context.Context, c Config, log *slog.Logger, opts ...func(*aws.Config)) (*App, error) {
	awsCfg, err := AWS(ctx)
	if err != nil {
		return nil, err
	}
	for _, o := range opts {
		o(&awsCfg)
	}
	app := NewApp(c, NewClients(awsCfg), log)
	app.AWS = awsCfg
	return app, nil
}

// NewApp wires an App.
func NewApp(c Config, clients Clients, log *slog.Logger) *App {
	st := store.New(clients.DynamoDB, c.Table)
	issuerURL := auth.IssuerURL(c.Issuer, httpapi.APIID)
	return &App{
		Config:  c,
		Clients: clients,
		Store:   st,
		Service: &identity.Service{
			Stores:             st.Identity(),
			Vault:              vault.New(clients.SecretsManager, c.SecretPrefix),
			SealKeys:           vault.NewSealKey(clients.SecretsManager, c.SecretPrefix),
			AuthFailureFloor:   c.AuthFailureFloor,
			SealKeyRefresh:     c.SealKeyRefresh,
			Log:                log,
			DefaultClientLimit: c.DefaultClientLimit,
			RetentionDays:      c.RetentionDays,
		},
		Log:       log,
		IssuerURL: issuerURL,
		Authenticator: &auth.BearerAuthenticator{
			Verifier: &auth.Verifier{Keys: st.Keys, Audience: c.Audience},
			Issuer:   issuerURL,
		},
	}
}

// TokenIssuer signs the token function's access tokens for the configured
// audience with the keys of KeyManager.
func (a *App) TokenIssuer() *auth.Issuer {
	return &auth.Issuer{Keys: a.KeyManager(), Audience: a.Config.Audience}
}

// KeyManager gives the token function its signing keys (Secrets Manager)
// and publishes their JWKS (DynamoDB); the keys it creates are of
// SIGNING_ALG.
func (a *App) KeyManager() *auth.KeyManager {
	return &auth.KeyManager{Private: vault.NewSigningKeys(a.Clients.SecretsManager, a.Config.SecretPrefix).EncryptedWith(a.Config.SigningKeysKMSKey), Public: a.Store.Keys, Alg: a.Config.SigningAlg}
}
