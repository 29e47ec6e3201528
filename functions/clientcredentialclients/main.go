// Command clientcredentialclients is the Lambda function serving the Client Credential Clients.
package main

import (
	"identityservice/shared/lambdafn"
	"identityservice/shared/ocsapi"
)

func main() { lambdafn.Main(lambdafn.ServiceRoutes(ocsapi.ClientCredentialClientRoutes)) }
