package httpapi

import (
	"net/http"

	"github.com/awslabs/aws-lambda-go-api-proxy/core"
)

// APIID returns the id of the HTTP API that received r, as API Gateway
// states it in the Lambda event's request context (requestContext.apiId,
// which the adapter puts in the request's context), never a request
// header; "" outside Lambda (the local server, tests over plain HTTP).
// It fills the {apiId} of a configured issuer (auth.IssuerURL).
func APIID(r *http.Request) string {
	if rc, ok := core.GetAPIGatewayV2ContextFromContext(r.Context()); ok {
		return rc.APIID
	}
	return ""
}
