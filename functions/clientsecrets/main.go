// Command clientsecrets is the Lambda function serving the secret routes of both client kinds (and the obsolete Clients/{clientId}/Secret routes).
package main

import (
	"identityservice/shared/lambdafn"
	"identityservice/shared/ocsapi"
)

func main() { lambdafn.Main(lambdafn.ServiceRoutes(ocsapi.ClientSecretRoutes)) }
