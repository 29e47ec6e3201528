// Package server mounts every function's routes on one handler, by the
// routes that template.yaml declares, for the local dev server and for
// tests that drive the whole API over HTTP.
//
// Which Go constructor serves a function is derived, not listed by hand:
// functions_gen.go maps each GoPackage of template.yaml to the constructor
// that package's main.go passes to lambdafn.Main (infra/local/mountgen
// writes it; its test fails when the file is stale).
package server

//go:generate go run ../mountgen

import (
	"fmt"
	"net/http"
	"sort"

	"identityservice/infra/template"
	"identityservice/shared/config"
	"identityservice/shared/httpapi"
)

// Deps are what the functions' routes are built from: the same App each
// function's main builds from its environment.
type Deps = *config.App

// FunctionRoutes returns the Go route table of the function in dir.
func FunctionRoutes(dir string, d Deps) ([]httpapi.Route, bool) {
	f, ok := functions[dir]
	if !ok {
		return nil, false
	}
	return f(d), true
}

// Routes returns the routes of every function in the template, checking
// that each function's Go route table and the template declare exactly the
// same routes.
func Routes(tpl *template.Template, d Deps) ([]httpapi.Route, error) {
	declared := map[string]map[string]bool{} // dir -> "METHOD path"
	for _, r := range tpl.Routes() {
		if declared[r.CodeDir] == nil {
			declared[r.CodeDir] = map[string]bool{}
		}
		declared[r.CodeDir][r.Method+" "+r.Path] = true
	}
	var all []httpapi.Route
	for _, f := range tpl.Functions() {
		routes, ok := FunctionRoutes(f.Dir, d)
		if !ok {
			if len(declared[f.Dir]) == 0 {
				continue // not an HTTP function (the sweeper)
			}
			return nil, fmt.Errorf("template function %s (%s) has no local registration", f.LogicalID, f.Dir)
		}
		served := map[string]bool{}
		for i := range routes {
			// Each request gets the deadline Lambda would give it.
			routes[i].Timeout = f.Timeout
		}
		for _, r := range routes {
			served[r.Method+" "+r.Path] = true
			if !declared[f.Dir][r.Method+" "+r.Path] {
				return nil, fmt.Errorf("%s serves %s %s, which template.yaml does not declare", f.LogicalID, r.Method, r.Path)
			}
		}
		for route := range declared[f.Dir] {
			if !served[route] {
				return nil, fmt.Errorf("template.yaml declares %s for %s, which its handler does not serve", route, f.LogicalID)
			}
		}
		all = append(all, routes...)
	}
	sort.SliceStable(all, func(i, j int) bool { return all[i].Path < all[j].Path })
	return all, nil
}

// Handler returns one handler for the whole API, verifying bearer tokens
// with the same middleware as every function.
func Handler(tpl *template.Template, d Deps) (http.Handler, error) {
	routes, err := Routes(tpl, d)
	if err != nil {
		return nil, err
	}
	return httpapi.NewHandler(d.Log, routes, httpapi.WithAuthenticator(d.Authenticator)), nil
}
