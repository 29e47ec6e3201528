package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"
)

// bootstrapFile is what `make run` writes: the demo tenant's Account
// Administrator client and the local token endpoint.
type bootstrapFile struct {
	ClientId, ClientSecret, TokenUrl string
}

// Markers the token events hold where the client's credentials go.
var credentialMarkers = []string{"REPLACE_WITH_CLIENT_ID", "REPLACE_WITH_CLIENT_SECRET", "REPLACE_WITH_BASIC_CREDENTIALS"}

// withCredentials fills an event from the stack of `make run`, so that the
// sample events work as they are: the token events' credential markers get
// the demo client's id and secret, and an HTTP event without an
// Authorization header gets that client's bearer token, issued by the local
// token endpoint (iss: the pinned ISSUER both sides share). It returns the event unchanged,
// and says why on stderr, when there is nothing to fill or no stack.
func withCredentials(event []byte, bootPath string) []byte {
	var ev map[string]any
	if json.Unmarshal(event, &ev) != nil {
		return event
	}
	rc, _ := ev["requestContext"].(map[string]any)
	if _, isHTTP := rc["http"]; !isHTTP {
		return event // not an API Gateway v2 HTTP event (e.g. the scheduled sweep)
	}
	headers, _ := ev["headers"].(map[string]any)
	for k := range headers {
		if strings.EqualFold(k, "authorization") && !strings.Contains(fmt.Sprint(headers[k]), "REPLACE_WITH_") {
			return event // the event brings its own
		}
	}
	needsMarkers := bytes.Contains(event, []byte("REPLACE_WITH_"))
	if !needsMarkers && strings.HasPrefix(fmt.Sprint(rc["routeKey"]), "POST /identity/") {
		return event
	}
	raw, err := os.ReadFile(bootPath)
	if err != nil {
		fmt.Fprintf(os.Stderr, "invoke: %s not found (is `make run` up?): the event is sent without credentials\n", bootPath)
		return event
	}
	var boot bootstrapFile
	if err := json.Unmarshal(raw, &boot); err != nil || boot.ClientId == "" || boot.ClientSecret == "" {
		fmt.Fprintf(os.Stderr, "invoke: %s has no ClientId/ClientSecret: the event is sent without credentials\n", bootPath)
		return event
	}
	if needsMarkers {
		basic := base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(boot.ClientId) + ":" + url.QueryEscape(boot.ClientSecret)))
		filled := strings.NewReplacer(credentialMarkers[0], boot.ClientId, credentialMarkers[1], url.QueryEscape(boot.ClientSecret),
			credentialMarkers[2], basic).Replace(string(event))
		fmt.Fprintln(os.Stderr, "invoke: filled in the demo client's credentials from", bootPath)
		return []byte(filled)
	}
	token, err := fetchToken(boot)
	if err != nil {
		fmt.Fprintf(os.Stderr, "invoke: no bearer token (%v): the event is sent without one\n", err)
		return event
	}
	if headers == nil {
		headers = map[string]any{}
		ev["headers"] = headers
	}
	headers["authorization"] = "Bearer " + token
	out, err := json.Marshal(ev)
	if err != nil {
		return event
	}
	fmt.Fprintln(os.Stderr, "invoke: added a bearer token of the demo Account Administrator client from", bootPath)
	return out
}

// fetchToken gets an access token from the local token endpoint. Its iss
// is the pinned ISSUER of `make run`, which make invoke's LOCAL_ENV gives
// the invoked function too, whatever the event's domain.
func fetchToken(boot bootstrapFile) (string, error) {
	form := url.Values{"grant_type": {"client_credentials"}}
	req, err := http.NewRequest(http.MethodPost, boot.TokenUrl, strings.NewReader(form.Encode()))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(boot.ClientId), url.QueryEscape(boot.ClientSecret))
	res, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		return "", err
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(res.Body, 64<<10))
	var tr struct {
		AccessToken string `json:"access_token"`
	}
	if res.StatusCode != http.StatusOK || json.Unmarshal(body, &tr) != nil || tr.AccessToken == "" {
		return "", errors.New("the token endpoint answered " + res.Status)
	}
	return tr.AccessToken, nil
}
