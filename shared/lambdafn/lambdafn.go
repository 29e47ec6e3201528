// Package lambdafn is what every HTTP function's main does: read the
// configuration, build the AWS clients once per cold start (no network
// call), wire the service and serve the routes through the API Gateway v2
// adapter.
package lambdafn

import (
	"context"
	"fmt"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"

	"identityservice/shared/config"
	"identityservice/shared/httpapi"
	"identityservice/shared/identity"
)

// ServeHTTP runs a function that serves routes; it returns only on a
// configuration error, which main reports.
func ServeHTTP(routes func(*identity.Service) []httpapi.Route) error {
	cfg, err := config.FromEnv()
	if err != nil {
		return err
	}
	awsCfg, err := config.AWS(context.Background())
	if err != nil {
		return err
	}
	log := cfg.Logger(os.Stdout)
	svc := cfg.Service(config.NewClients(awsCfg), log)
	h := httpapi.NewHandler(log, routes(svc))
	lambda.Start(httpadapter.NewV2(h).ProxyWithContext)
	return nil
}

// Main runs ServeHTTP and exits non-zero on a configuration error.
func Main(routes func(*identity.Service) []httpapi.Route) {
	if err := ServeHTTP(routes); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
