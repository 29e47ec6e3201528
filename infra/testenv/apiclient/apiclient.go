// Package apiclient is the HTTP client of the API tests: it sends a request
// to a test server, reads the answer in full, and checks it against the API
// contract (docs/openapi.yaml, through infra/contract): an answer the
// document does not describe fails the test. Only tests import it.
package apiclient

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"identityservice/infra/contract"
)

// Response is an HTTP answer, read in full.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

func (r Response) String() string { return fmt.Sprintf("%d %s", r.Status, r.Body) }

// JSON decodes the body into v (nil: the body is not read), failing the
// test on a status other than want or a body that does not decode.
func (r Response) JSON(t testing.TB, want int, v any) {
	t.Helper()
	if r.Status != want {
		t.Fatalf("status %d, want %d; body %s", r.Status, want, r.Body)
	}
	if v != nil {
		if err := json.Unmarshal(r.Body, v); err != nil {
			t.Fatalf("body %s: %v", r.Body, err)
		}
	}
}

// Client sends requests to one server.
type Client struct {
	BaseURL string       // prefixed to every path
	HTTP    *http.Client // nil: http.DefaultClient
	// Contract checks every answer; nil: the repository's
	// docs/openapi.yaml (contract.Default).
	Contract *contract.Doc
}

// Body is a request body: nil for none, a string sent as is, or a value
// sent as JSON (failing the test if it cannot be encoded).
func Body(t testing.TB, body any) io.Reader {
	t.Helper()
	switch b := body.(type) {
	case nil:
		return nil
	case string:
		return strings.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		return bytes.NewReader(raw)
	}
}

// Do sends a request and fails the test if it cannot be sent or its answer
// read. authorization is the Authorization header ("" for none); body is
// nil (no body), a string sent as is, or a value sent as JSON. A request
// with a body has Content-Type application/json.
func (c Client) Do(t testing.TB, method, path, authorization string, body any) Response {
	t.Helper()
	rd := Body(t, body)
	req, err := http.NewRequest(method, c.BaseURL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	res, err := c.Send(req)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// Send sends req as it is, reads the answer in full and checks it against
// the contract: an answer the document does not describe is an error.
func (c Client) Send(req *http.Request) (Response, error) {
	doc := c.Contract
	if doc == nil {
		var err error
		if doc, err = contract.Default(); err != nil {
			return Response{}, err
		}
	}
	res, err := c.send(req)
	if err != nil {
		return res, err
	}
	if err := doc.CheckResponse(req, res.Status, res.Header, res.Body); err != nil {
		return res, err
	}
	return res, nil
}

func (c Client) send(req *http.Request) (Response, error) {
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	res, err := hc.Do(req)
	if err != nil {
		return Response{}, err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		return Response{}, err
	}
	return Response{Status: res.StatusCode, Header: res.Header, Body: body}, nil
}
