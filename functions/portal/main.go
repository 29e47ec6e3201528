// Command portal is the Lambda function serving the operations dashboard
// (/_/op-dashboard, with its sign-in of people as a backend-for-frontend)
// and the Key Rotation API's UI routes (/profile, /no-access-callback),
// with their assets embedded in the binary.
package main

import (
	"identityservice/shared/config"
	"identityservice/shared/httpapi"
	"identityservice/shared/lambdafn"
	"identityservice/shared/portal"
)

func main() {
	lambdafn.Main(func(a *config.App) []httpapi.Route {
		return portal.Routes(portal.Deps{Sweeps: a.Store.Runs, Clients: a.Service, Tenants: a.Store.Tenants, Changes: a.Service, SignIn: portal.SignInDeps{
			Sessions: a.SignIn(), Clients: a.DashboardClients(), Upstreams: a.Upstreams(),
			Verifier: a.Authenticator.Verifier, IssuerURL: a.IssuerURL,
		}})
	})
}
