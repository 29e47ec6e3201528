// Command hybridclients is the Lambda function serving the Hybrid Clients.
package main

import (
	"identityservice/shared/lambdafn"
	"identityservice/shared/ocsapi"
)

func main() { lambdafn.Main(lambdafn.ServiceRoutes(ocsapi.HybridClientRoutes)) }
