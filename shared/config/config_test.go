package config_test

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

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
