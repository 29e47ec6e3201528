// Package lambdafn is what every HTTP function's main does: read the
// configuration, build the AWS clients once per cold start (no network
// call), wire the app and serve its routes through the API Gateway v2
// adapter, with bearer tokens verified on every route that lists roles.
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
func ServeHTTP(routes func(*config.App) []httpapi.Route) error {
	cfg, err := config.FromEnv()
	if err != nil {
		return err
	}
	app, err := config.Start(context.Background(), cfg, cfg.Logger(os.Stdout))
	if err != nil {
		return err
	}
	h := httpapi.NewHandler(app.Log, routes(app), httpapi.WithAuthenticator(app.Authenticator))
	lambda.Start(httpadapter.NewV2(h).ProxyWithContext)
	return nil
}

// Main runs ServeHTTP and exits non-zero on a configuration error.
func Main(routes func(*config.App) []httpapi.Route) {
	if err := ServeHTTP(routes); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

// ServiceRoutes adapts a route constructor that calls only the service
// (the client and secret APIs); a function whose routes call other parts
// hands them over in a function literal (functions/token/main.go).
func ServiceRoutes(routes func(*identity.Service) []httpapi.Route) func(*config.App) []httpapi.Route {
	return func(a *config.App) []httpapi.Route { return routes(a.Service) }
}
