package signinapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"golang.org/x/oauth2"

	"identityservice/shared/identity"
	"identityservice/shared/store/layout"
)

// call sends a management request with a bearer token and returns the
// status and the body.
func (s *stack) call(t *testing.T, token, method, path string, body any) (int, map[string]any) {
	t.Helper()
	raw, _ := json.Marshal(body)
	req, _ := http.NewRequest(method, s.URL+path, bytes.NewReader(raw))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var m map[string]any
	_ = json.NewDecoder(res.Body).Decode(&m)
	return res.StatusCode, m
}

// changeOf reads an item's ChangedBy and ChangedAt straight from the
// table.
func changeOf(t *testing.T, pk, sk string) *identity.Change {
	t.Helper()
	out, err := env.Clients.DynamoDB.GetItem(context.Background(), &dynamodb.GetItemInput{TableName: &env.Config.Table, Key: layout.Key(pk, sk), ConsistentRead: aws.Bool(true)})
	if err != nil || out.Item == nil {
		t.Fatalf("item %s %s: %v", pk, sk, err)
	}
	r := layout.Reader{It: out.Item}
	ch := r.Change()
	if r.Err != nil {
		t.Fatal(r.Err)
	}
	return ch
}

// logLine is the service's log line of msg that names target, decoded.
func logLine(t *testing.T, s *stack, msg, target string) map[string]any {
	t.Helper()
	for _, line := range strings.Split(s.Logs.String(), "\n") {
		var m map[string]any
		if json.Unmarshal([]byte(line), &m) == nil && m["msg"] == msg && strings.Contains(line, target) {
			return m
		}
	}
	t.Fatalf("no log line %q naming %s in\n%s", msg, target, s.Logs.String())
	return nil
}

// Who did what: a write by a machine client's token and one by a person's
// token each leave their actor on the written items (the client item, its
// list copy, each secret record: ChangedBy, ChangedAt) and in the write's
// structured log line; never a secret.
func TestWritesRecordTheirActor(t *testing.T) {
	s := newStack(t)
	s.setUpstream(t, nil)
	s.Upstream.Person = person
	ctx := context.Background()
	hybrid := s.hybrid(t, false, false)

	// A machine client: an Account Administrator of the tenant.
	admins := []string{identity.RoleAccountAdministrator, identity.RoleAccountMember}
	machine, err := s.App.Service.CreateClient(ctx, s.Tenant, identity.NewClient{Kind: identity.ClientCredential, Name: "automation", RoleIDs: &admins})
	if err != nil {
		t.Fatal(err)
	}
	res, err := http.PostForm(s.URL+"/identity/connect/token", url.Values{"grant_type": {"client_credentials"}, "client_id": {machine.Client.ID}, "client_secret": {machine.SecretString}})
	if err != nil {
		t.Fatal(err)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	_ = json.NewDecoder(res.Body).Decode(&tok)
	res.Body.Close()
	if tok.AccessToken == "" {
		t.Fatalf("machine token: %d", res.StatusCode)
	}
	clientPath := fmt.Sprintf("/api/Tenants/%s/HybridClient/%s", s.Tenant, hybrid.Client.ID)
	if status, body := s.call(t, tok.AccessToken, http.MethodPut, clientPath, map[string]any{"Name": "renamed by automation"}); status != http.StatusOK {
		t.Fatalf("machine update: %d %v", status, body)
	}
	clientSK := layout.ClientSK(identity.Hybrid, hybrid.Client.ID)
	if ch := changeOf(t, layout.TenantPK(s.Tenant), clientSK); ch == nil || ch.By != (identity.Actor{ClientID: machine.Client.ID}) || ch.At.IsZero() {
		t.Fatalf("client item after a machine's write: %+v", ch)
	}
	line := logLine(t, s, "client updated", hybrid.Client.ID)
	if a, _ := line["actor"].(map[string]any); a["kind"] != "client" || a["client"] != machine.Client.ID || a["subject"] != nil || line["operation"] != "update client" || line["tenant"] != s.Tenant {
		t.Fatalf("log line of a machine's write: %v", line)
	}

	// A person signed in through the Hybrid client, with profile: their
	// access token carries their subject and name.
	relying := newRP(t, s.URL+"/identity", hybrid.Client.ID, hybrid.SecretString, "profile")
	got, verifier := signIn(t, s, browser(t), relying, "code", "actor")
	ptok, err := relying.oauth.Exchange(ctx, got.Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatal(err)
	}
	idt, err := relying.verifier.Verify(ctx, ptok.Extra("id_token").(string))
	if err != nil {
		t.Fatal(err)
	}
	who := identity.Actor{ClientID: hybrid.Client.ID, Subject: idt.Subject, Name: person.Name}
	if status, body := s.call(t, ptok.AccessToken, http.MethodPut, clientPath, map[string]any{"Name": "renamed by a person"}); status != http.StatusOK {
		t.Fatalf("person's update: %d %v", status, body)
	}
	c, err := s.App.Service.GetClient(ctx, s.Tenant, identity.Hybrid, hybrid.Client.ID)
	if err != nil || c.LastChange == nil || c.LastChange.By != who {
		t.Fatalf("client after a person's write: %+v (%v), want %+v", c.LastChange, err, who)
	}
	if ch := changeOf(t, layout.TenantPK(s.Tenant), layout.OrderSK(identity.Hybrid, c.Seq)); ch == nil || ch.By != who {
		t.Fatalf("list copy after a person's write: %+v", ch)
	}
	line = logLine(t, s, "client updated", idt.Subject)
	if a, _ := line["actor"].(map[string]any); a["kind"] != "person" || a["subject"] != idt.Subject || a["name"] != person.Name || a["client"] != hybrid.Client.ID {
		t.Fatalf("log line of a person's write: %v", line)
	}

	// Secrets: the person adds one, the machine updates it; each record
	// says who last changed it.
	secretsPath := fmt.Sprintf("/api/v1-preview/Tenants/%s/HybridClients/%s/Secret", s.Tenant, hybrid.Client.ID)
	status, body := s.call(t, ptok.AccessToken, http.MethodPost, secretsPath, map[string]any{"Description": "added by a person"})
	secretID, _ := body["SecretId"].(string)
	if status != http.StatusCreated || secretID == "" {
		t.Fatalf("person's secret add: %d %v", status, body)
	}
	if ch := changeOf(t, layout.ClientPK(hybrid.Client.ID), layout.SecretSK(secretID)); ch == nil || ch.By != who {
		t.Fatalf("secret record after a person's add: %+v", ch)
	}
	plain, _ := body["ClientSecret"].(string)
	added := logLine(t, s, "secret added", secretID)
	if a, _ := added["actor"].(map[string]any); a["subject"] != idt.Subject || strings.Contains(s.Logs.String(), plain) {
		t.Fatalf("log line of a person's secret add: %v (or the secret is logged)", added)
	}
	if status, body := s.call(t, tok.AccessToken, http.MethodPut, secretsPath+"/"+secretID, map[string]any{"Description": "changed by automation"}); status != http.StatusOK {
		t.Fatalf("machine's secret update: %d %v", status, body)
	}
	if ch := changeOf(t, layout.ClientPK(hybrid.Client.ID), layout.SecretSK(secretID)); ch == nil || ch.By != (identity.Actor{ClientID: machine.Client.ID}) {
		t.Fatalf("secret record after a machine's update: %+v", ch)
	}
	// The first secret, written with the client by the service itself (no
	// token: this test's setup), keeps the create's change, with no actor.
	if ch := changeOf(t, layout.ClientPK(hybrid.Client.ID), layout.SecretSK(hybrid.Secret.ID)); ch == nil || ch.By != (identity.Actor{}) || ch.At.IsZero() {
		t.Fatalf("first secret record: %+v", ch)
	}
}
