// Command clientcredentialclients is the Lambda function serving the Client
// Credential Clients routes.
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"

	"identityservice/shared/config"
	"identityservice/shared/httpapi"
	"identityservice/shared/ocsapi"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func run() error {
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
	h := httpapi.NewHandler(log, ocsapi.ClientCredentialClientRoutes(svc))
	lambda.Start(httpadapter.NewV2(h).ProxyWithContext)
	return nil
}
