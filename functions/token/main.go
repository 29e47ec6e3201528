// Command token is the Lambda function serving the token endpoint, the
// OpenID discovery document and the JWKS.
package main

import (
	"identityservice/shared/config"
	"identityservice/shared/httpapi"
	"identityservice/shared/lambdafn"
	"identityservice/shared/tokenapi"
)

func main() {
	lambdafn.Main(func(a *config.App) []httpapi.Route {
		return tokenapi.Routes(tokenapi.NewDeps(a.Service, a.TokenIssuer(), a.IssuerURL, a.SignIn(), a.Upstreams()))
	})
}
