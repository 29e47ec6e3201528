// Package contract is docs/openapi.yaml as the tests use it: loaded and
// validated once, it checks that a response the API gave is one the
// document describes (status, headers, content type and body schema).
// infra/testenv/apiclient runs every response of the API tests through it.
// Only tests import it.
package contract

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
)

// File is the document, relative to the repo root.
const File = "docs/openapi.yaml"

// Doc is a loaded, valid OpenAPI document.
type Doc struct {
	T      *openapi3.T
	router routers.Router
}

// Load reads the document at path and validates it (OpenAPI 3.0).
func Load(path string) (*Doc, error) {
	loader := openapi3.NewLoader()
	t, err := loader.LoadFromFile(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if err := t.Validate(context.Background()); err != nil {
		return nil, fmt.Errorf("%s is not a valid OpenAPI document: %w", path, err)
	}
	// Match requests to any host: the tests' servers listen on free ports.
	anyHost := *t
	anyHost.Servers = nil
	r, err := gorillamux.NewRouter(&anyHost)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &Doc{T: t, router: r}, nil
}

var (
	defaultOnce sync.Once
	defaultDoc  *Doc
	defaultErr  error
)

// Default returns the repository's document, found from the working
// directory upwards (the directory holding template.yaml).
func Default() (*Doc, error) {
	defaultOnce.Do(func() {
		dir, err := os.Getwd()
		if err != nil {
			defaultErr = err
			return
		}
		for {
			if _, err := os.Stat(filepath.Join(dir, "template.yaml")); err == nil {
				defaultDoc, defaultErr = Load(filepath.Join(dir, File))
				return
			}
			if filepath.Dir(dir) == dir {
				defaultErr = errors.New("contract: no template.yaml above the working directory")
				return
			}
			dir = filepath.Dir(dir)
		}
	})
	return defaultDoc, defaultErr
}

// Routes returns "METHOD path" of every operation of the document, sorted.
func (d *Doc) Routes() []string {
	var out []string
	for path, item := range d.T.Paths.Map() {
		for method := range item.Operations() {
			out = append(out, strings.ToUpper(method)+" "+path)
		}
	}
	sort.Strings(out)
	return out
}

// CheckResponse reports how a response to req departs from the document:
// an undocumented status, a missing required header, another content
// type, or a body its schema refuses. A request that matches no
// documented route is not checked here (the route sets are compared on
// their own); a trailing slash routes as none, as in the service.
func (d *Doc) CheckResponse(req *http.Request, status int, header http.Header, body []byte) error {
	probe := req.Clone(context.Background())
	if p := probe.URL.Path; len(p) > 1 && strings.HasSuffix(p, "/") {
		u := *probe.URL
		u.Path, u.RawPath = strings.TrimRight(p, "/"), ""
		probe.URL = &u
	}
	route, params, err := d.router.FindRoute(probe)
	if err != nil {
		return nil
	}
	opts := &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true, AuthenticationFunc: openapi3filter.NoopAuthenticationFunc}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: probe, PathParams: params, Route: route, Options: opts},
		Status:                 status,
		Header:                 header,
		Body:                   io.NopCloser(bytes.NewReader(body)),
		Options:                opts,
	}
	if err := openapi3filter.ValidateResponse(context.Background(), in); err != nil {
		return fmt.Errorf("%s %s answered %d, which %s does not describe: %w\nbody: %s", req.Method, req.URL.Path, status, File, err, body)
	}
	return nil
}
