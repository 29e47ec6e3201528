// Command signin is the Lambda function serving sign-in, this service as
// the OpenID Provider of Hybrid clients: authorize, the upstream's
// callback, consent, userinfo and end session.
package main

import (
	"identityservice/shared/lambdafn"
	"identityservice/shared/signinapi"
)

func main() { lambdafn.Main(signinapi.Routes) }
