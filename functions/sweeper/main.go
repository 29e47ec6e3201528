// Command sweeper is the Lambda function that EventBridge Scheduler runs
// every hour: the expiration sweep of client secrets (shared/sweep).
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"

	"identityservice/shared/config"
	"identityservice/shared/eventbus"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

// run wires the sweeper once per cold start, without a network call, and
// serves invocations; it returns only on a configuration error.
func run() error {
	cfg, err := config.FromEnv()
	if err != nil {
		return err
	}
	sc, err := config.SweepFromEnv()
	if err != nil {
		return err
	}
	app, err := config.Start(context.Background(), cfg, cfg.Logger(os.Stdout))
	if err != nil {
		return err
	}
	events := eventbus.New(eventbridge.NewFromConfig(app.AWS), sc.EventBus, sc.EventSource)
	sw := cfg.Sweeper(app.Clients, events, sc.Settings, app.Log, config.SummaryLogger(os.Stdout))
	lambda.Start(sw.Handle)
	return nil
}
