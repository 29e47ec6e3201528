package config_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go/logging"

	"identityservice/shared/config"
)

// RETENTION_DAYS reaches the API's configuration and its service (the
// secret record limit's 400 names it), 30 when unset, 0 allowed.
func TestRetentionDaysFromEnv(t *testing.T) {
	t.Setenv("TABLE_NAME", "t")
	t.Setenv("SECRET_PREFIX", "p")
	for _, tc := range []struct {
		v    string
		want int
	}{{"", 30}, {"7", 7}, {"0", 0}} {
		t.Setenv("RETENTION_DAYS", tc.v)
		c, err := config.FromEnv()
		if err != nil {
			t.Fatalf("RETENTION_DAYS=%q: %v", tc.v, err)
		}
		if c.RetentionDays != tc.want || config.NewApp(c, config.Clients{}, nil).Service.RetentionDays != tc.want {
			t.Fatalf("RETENTION_DAYS=%q: config %d, want %d in the config and the service", tc.v, c.RetentionDays, tc.want)
		}
	}
	for _, v := range []string{"-1", "thirty"} {
		t.Setenv("RETENTION_DAYS", v)
		if _, err := config.FromEnv(); err == nil || !strings.Contains(err.Error(), "RETENTION_DAYS") {
			t.Fatalf("RETENTION_DAYS=%q: err %v, want one naming RETENTION_DAYS", v, err)
		}
	}
}

// Start is every process's start-up: its options adjust the SDK's
// configuration before any client is built (the bench meters every call
// this way), and the App it returns is wired to those clients.
func TestStartAdjustsTheSDKConfigurationBeforeTheClients(t *testing.T) {
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_ACCESS_KEY_ID", "local")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "local")
	c := config.Config{Table: "t", SecretPrefix: "p", Issuer: "https://id.example.com/identity"}
	app, err := config.Start(context.Background(), c, nil, func(a *aws.Config) { a.Region = "eu-west-3" })
	if err != nil {
		t.Fatal(err)
	}
	if app.AWS.Region != "eu-west-3" || app.Clients.DynamoDB.Options().Region != "eu-west-3" || app.Clients.SecretsManager.Options().Region != "eu-west-3" {
		t.Fatalf("regions: config %q, DynamoDB %q, Secrets Manager %q; want the option's eu-west-3 everywhere",
			app.AWS.Region, app.Clients.DynamoDB.Options().Region, app.Clients.SecretsManager.Options().Region)
	}
	if app.Config != c || app.Service == nil || app.Authenticator == nil {
		t.Fatalf("the App is not wired: %+v", app)
	}
	if iss := app.IssuerURL(httptest.NewRequest("GET", "http://evil.example.com/", nil)); iss != c.Issuer {
		t.Fatalf("issuer %q, want the configured %q", iss, c.Issuer)
	}
}

// DynamoDB Local answers errors without an X-Amz-Crc32 header; the SDK
// would check such a body against 0 and log a false WARN for every
// refused condition. Against a loopback endpoint NewClients turns the
// check off; against DynamoDB itself it stays on.
func TestNoFalseChecksumWarningFromDynamoDBLocal(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		w.WriteHeader(http.StatusBadRequest)
		_, _ = w.Write([]byte(`{"__type":"com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException","message":"The conditional request failed"}`))
	}))
	defer srv.Close()
	var logged strings.Builder
	cfg := aws.Config{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("local", "local", ""),
		BaseEndpoint: aws.String(srv.URL),
		Logger: logging.LoggerFunc(func(c logging.Classification, format string, v ...any) {
			fmt.Fprintf(&logged, format+"\n", v...)
		}),
	}
	c := config.NewClients(cfg)
	if !c.DynamoDB.Options().DisableValidateResponseChecksum {
		t.Fatal("the checksum check is on against a loopback endpoint")
	}
	_, err := c.DynamoDB.PutItem(context.Background(), &dynamodb.PutItemInput{TableName: aws.String("t"),
		Item: map[string]types.AttributeValue{"PK": &types.AttributeValueMemberS{Value: "x"}}})
	var ccf *types.ConditionalCheckFailedException
	if !errors.As(err, &ccf) {
		t.Fatalf("PutItem: %v; want the ConditionalCheckFailedException answered", err)
	}
	if strings.Contains(logged.String(), "failed to close") {
		t.Fatalf("the SDK logged a false checksum warning:\n%s", logged.String())
	}

	for endpoint, off := range map[string]bool{
		"http://localhost:8000":                    true,
		"http://[::1]:8000":                        true,
		"https://dynamodb.us-east-1.amazonaws.com": false,
		"": false,
	} {
		t.Setenv("AWS_ENDPOINT_URL_DYNAMODB", endpoint)
		t.Setenv("AWS_REGION", "us-east-1")
		cfg, err := config.AWS(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		c := config.NewClients(cfg)
		if got := c.DynamoDB.Options().DisableValidateResponseChecksum; got != off {
			t.Errorf("endpoint %q: checksum check off = %v, want %v", endpoint, got, off)
		}
	}
}
