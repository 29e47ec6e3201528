// Command tenants is the Lambda function serving the Tenants resource
// (GET /api/v1/Tenants/{tenantId}, and its v1-preview twin).
package main

import (
	"identityservice/shared/lambdafn"
	"identityservice/shared/ocsapi"
)

func main() { lambdafn.Main(lambdafn.ServiceRoutes(ocsapi.TenantRoutes)) }
