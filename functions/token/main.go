// Command token is the Lambda function serving the token endpoint, the
// OpenID discovery document and the JWKS.
package main

import (
	"identityservice/shared/lambdafn"
	"identityservice/shared/tokenapi"
)

func main() { lambdafn.Main(tokenapi.Routes) }
