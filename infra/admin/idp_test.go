package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"identityservice/infra/localidp"
	"identityservice/shared/identity"
	"identityservice/shared/signin"
	"identityservice/shared/store"
	"identityservice/shared/vault"
)

type idpOutput struct {
	TenantId           string
	Issuer             string
	ClientId           string
	ClientSecretStored bool
	AllowedDomains     []string
	RoleClaim          string
	RoleMap            map[string][]struct{ Id, Name string }
	RoleRequired       bool
	Version            int64
	CallbackUrl        string
	DiscoveryChecked   bool
	Removed            bool
}

func idp(t *testing.T, args ...string) (idpOutput, string, error) {
	t.Helper()
	var out bytes.Buffer
	err := run(context.Background(), append([]string{"idp"}, args...), &out)
	var o idpOutput
	if out.Len() > 0 {
		if jerr := json.Unmarshal(out.Bytes(), &o); jerr != nil {
			t.Fatalf("output %s: %v", out.String(), jerr)
		}
	}
	return o, out.String(), err
}

func newTenant(t *testing.T) string {
	t.Helper()
	tenant, err := env.Service(nil).CreateTenant(context.Background(), "", "idp test", 0)
	if err != nil {
		t.Fatal(err)
	}
	return tenant.ID
}

func secretFile(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// idp set, show and remove as an operator types them, against a running
// local provider: the secret is stored as given (without the file's line
// break) and never printed; set again replaces at the next version;
// remove ends both the item and the secret.
func TestIdpSetShowRemove(t *testing.T) {
	t.Setenv("ISSUER", "http://127.0.0.1:3000/identity")
	ctx := context.Background()
	up := localidp.ForTest(t, localidp.Config{})
	tenant := newTenant(t)
	file := secretFile(t, up.ClientSecret+"\n")

	set, raw, err := idp(t, "set", "--tenant", tenant, "--issuer", up.Issuer, "--client-id", up.ClientID, "--client-secret-file", file,
		"--allowed-domain", "Example.com", "--allowed-domain", "example.org", "--role-claim", "groups",
		"--role-map", "identity-admins=Account Administrator", "--role-map", "identity-admins="+identity.RoleAccountMember, "--role-map", "staff=account member",
		"--role-required")
	if err == nil {
		t.Fatalf("a role name in the wrong case was accepted: %s", raw)
	}
	set, raw, err = idp(t, "set", "--tenant", tenant, "--issuer", up.Issuer, "--client-id", up.ClientID, "--client-secret-file", file,
		"--allowed-domain", "Example.com", "--allowed-domain", "example.org", "--role-claim", "groups",
		"--role-map", "identity-admins=Account Administrator", "--role-map", "identity-admins="+identity.RoleAccountMember, "--role-map", "staff=Account Member",
		"--role-required")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(raw, up.ClientSecret) {
		t.Fatalf("idp set printed the client secret: %s", raw)
	}
	admins := set.RoleMap["identity-admins"]
	if set.TenantId != tenant || set.Issuer != up.Issuer || set.ClientId != up.ClientID || !set.ClientSecretStored || !set.DiscoveryChecked ||
		strings.Join(set.AllowedDomains, ",") != "example.com,example.org" || set.RoleClaim != "groups" || !set.RoleRequired || set.Version != 1 ||
		len(admins) != 2 || admins[0].Name != "Account Administrator" || admins[1].Id != identity.RoleAccountMember || len(set.RoleMap["staff"]) != 1 ||
		set.CallbackUrl != "http://127.0.0.1:3000"+signin.CallbackPath {
		t.Fatalf("idp set printed %s", raw)
	}
	secret, err := vault.NewUpstreams(env.Clients.SecretsManager, env.Config.SecretPrefix).UpstreamSecret(ctx, tenant)
	if err != nil || secret != up.ClientSecret {
		t.Fatalf("stored secret %q (%v), want the file's content without its line break", secret, err)
	}
	stored, err := store.NewUpstreams(env.Clients.DynamoDB, env.Config.Table).GetUpstream(ctx, tenant)
	if err != nil || stored.RoleMap["identity-admins"][0] != identity.RoleAccountAdministrator || !stored.RoleRequired {
		t.Fatalf("stored %+v (%v)", stored, err)
	}

	shown, raw, err := idp(t, "show", "--tenant", tenant)
	if err != nil || shown.Version != 1 || !shown.ClientSecretStored || shown.ClientId != up.ClientID || strings.Contains(raw, up.ClientSecret) {
		t.Fatalf("idp show: %s (%v)", raw, err)
	}

	again, _, err := idp(t, "set", "--tenant", tenant, "--issuer", up.Issuer, "--client-id", up.ClientID, "--client-secret-file", secretFile(t, "rotated"))
	if err != nil || again.Version != 2 || len(again.AllowedDomains) != 0 || len(again.RoleMap) != 0 || again.RoleRequired {
		t.Fatalf("idp set again: %+v (%v), want version 2 without domains or roles", again, err)
	}
	if secret, _ := vault.NewUpstreams(env.Clients.SecretsManager, env.Config.SecretPrefix).UpstreamSecret(ctx, tenant); secret != "rotated" {
		t.Fatalf("the secret after the second set: %q", secret)
	}

	removed, _, err := idp(t, "remove", "--tenant", tenant)
	if err != nil || !removed.Removed {
		t.Fatalf("idp remove: %+v (%v)", removed, err)
	}
	if _, _, err := idp(t, "show", "--tenant", tenant); err == nil || !strings.Contains(err.Error(), "has no upstream identity provider") {
		t.Fatalf("idp show after remove: %v", err)
	}
	if _, err := vault.NewUpstreams(env.Clients.SecretsManager, env.Config.SecretPrefix).UpstreamSecret(ctx, tenant); !errors.Is(err, signin.ErrUpstreamNotFound) {
		t.Fatalf("the secret after remove: %v, want it gone", err)
	}
	if again, _, err := idp(t, "remove", "--tenant", tenant); err != nil || again.Removed {
		t.Fatalf("idp remove again: %+v (%v), want Removed false", again, err)
	}
}

// Every mistake is an error that says what is wrong, and stores nothing.
func TestIdpSetRefuses(t *testing.T) {
	ctx := context.Background()
	up := localidp.ForTest(t, localidp.Config{})
	tenant := newTenant(t)
	file := secretFile(t, "s3cret")
	base := func(extra ...string) []string {
		return append([]string{"set", "--tenant", tenant, "--issuer", up.Issuer, "--client-id", up.ClientID, "--client-secret-file", file}, extra...)
	}
	with := func(flag, value string, extra ...string) []string {
		args := base(extra...)
		for i, a := range args {
			if a == flag {
				args[i+1] = value
			}
		}
		return args
	}
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"an unknown tenant", with("--tenant", identity.NewID()), "does not exist"},
		{"a tenant id that is not a GUID", with("--tenant", "nope"), "not a GUID"},
		{"no issuer", with("--issuer", ""), "needs --tenant, --issuer"},
		{"an issuer that is not absolute", with("--issuer", "login.example.com"), "not an absolute https URL"},
		{"an ftp issuer", with("--issuer", "ftp://login.example.com"), "not an absolute https URL"},
		{"an http issuer off loopback", with("--issuer", "http://login.example.com"), "only https"},
		{"an issuer with a query", with("--issuer", "https://login.example.com/?tenant=1"), "has a query"},
		{"an issuer that does not answer", with("--issuer", "http://127.0.0.1:1"), "discovery"},
		{"an issuer that answers as another", with("--issuer", up.Issuer+"/"), "discovery"},
		{"an unknown role", base("--role-claim", "groups", "--role-map", "admins=Owner"), `"Owner" is not a role`},
		{"a cluster role", base("--role-claim", "groups", "--role-map", "admins=Cluster Operator"), "cluster role"},
		{"a cluster role by id", base("--role-claim", "groups", "--role-map", "admins="+identity.RoleClusterSupport), "cluster role"},
		{"a role map without =", base("--role-claim", "groups", "--role-map", "admins"), "write VALUE=ROLE"},
		{"a role map without a claim", base("--role-map", "admins=Account Member"), "needs --role-claim"},
		{"role required without a map", base("--role-required"), "nobody could sign in"},
		{"a domain with an @", base("--allowed-domain", "a@example.com"), "not a domain"},
		{"a missing secret file", with("--client-secret-file", filepath.Join(t.TempDir(), "none")), "--client-secret-file"},
		{"an empty secret file", with("--client-secret-file", secretFile(t, "\n")), "is empty"},
		{"a client id with a line break", with("--client-id", "a\nb"), "control characters"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, raw, err := idp(t, tc.args...)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("idp %v: %v (printed %q), want an error containing %q", tc.args, err, raw, tc.want)
			}
			if raw != "" {
				t.Fatalf("a refused set printed %s", raw)
			}
			if _, err := store.NewUpstreams(env.Clients.DynamoDB, env.Config.Table).GetUpstream(ctx, tenant); !errors.Is(err, signin.ErrUpstreamNotFound) {
				t.Fatalf("a refused set stored an upstream: %v", err)
			}
			if _, err := vault.NewUpstreams(env.Clients.SecretsManager, env.Config.SecretPrefix).UpstreamSecret(ctx, tenant); !errors.Is(err, signin.ErrUpstreamNotFound) {
				t.Fatalf("a refused set stored a secret: %v", err)
			}
		})
	}
	t.Run("--no-check stores an issuer that does not answer", func(t *testing.T) {
		o, _, err := idp(t, with("--issuer", "https://login.invalid/t", "--no-check")...)
		if err != nil || o.DiscoveryChecked || o.Version != 1 {
			t.Fatalf("idp set --no-check: %+v (%v)", o, err)
		}
	})
}
