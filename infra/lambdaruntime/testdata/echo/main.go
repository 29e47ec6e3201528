// Command echo is the function lambdaruntime's tests invoke: it returns its
// event, or fails when the event is {"fail":true}.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"log"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
)

func main() {
	lambda.Start(handle)
}

func handle(ctx context.Context, event json.RawMessage) (json.RawMessage, error) {
	lc, _ := lambdacontext.FromContext(ctx)
	_, hasDeadline := ctx.Deadline()
	log.Printf("echo: function %s, request %s, arn %s, deadline %v", lambdacontext.FunctionName, lc.AwsRequestID, lc.InvokedFunctionArn, hasDeadline)
	var e struct {
		Fail bool `json:"fail"`
	}
	if json.Unmarshal(event, &e) == nil && e.Fail {
		return nil, errors.New("echo: asked to fail")
	}
	return event, nil
}
