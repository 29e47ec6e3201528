package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"
	"unicode"

	"identityservice/shared/config"
	"identityservice/shared/federation"
	"identityservice/shared/identity"
	"identityservice/shared/signin"
	"identityservice/shared/store"
	"identityservice/shared/vault"
)

const idpUsage = `
  admin idp set --tenant ID --issuer URL --client-id X --client-secret-file F [--allowed-domain D]...
                [--role-claim C --role-map VALUE=ROLE [--role-map ...]] [--role-required] [--no-check]
      sets the tenant's upstream OpenID Provider, where its people sign in (replacing the one it had):
      F holds this service's client secret at the upstream ("-": standard input), stored in Secrets
      Manager and never printed; --allowed-domain admits only people whose email is in one of the
      domains; --role-map gives people whose --role-claim has VALUE the tenant role ROLE (a name or id);
      --role-required refuses people none of whose values maps to a role. The issuer's discovery
      document and JWKS must answer first, unless --no-check. Register the printed CallbackUrl as a
      redirect URI of the client at the upstream.
  admin idp show --tenant ID
  admin idp remove --tenant ID
      nobody of the tenant can sign in any more; the client secret is destroyed`

// idpCommand runs `idp set|show|remove`.
func idpCommand(ctx context.Context, cfg config.Config, clients config.Clients, tenants tenantReader, verb string, args []string, out io.Writer) error {
	c := idpCLI{cfg: cfg, tenants: tenants,
		upstreams: store.NewUpstreams(clients.DynamoDB, cfg.Table),
		secrets:   vault.NewUpstreams(clients.SecretsManager, cfg.SecretPrefix)}
	c.check = federation.New(c.secrets, nil).Check
	switch verb {
	case "set":
		return c.set(ctx, args, out)
	case "show":
		return c.show(ctx, args, out)
	case "remove":
		return c.remove(ctx, args, out)
	}
	return fmt.Errorf("unknown command \"idp %s\"\n%s", verb, usage)
}

// tenantReader is how idp finds that a tenant exists.
type tenantReader interface {
	GetTenant(ctx context.Context, tenantID string) (identity.Tenant, error)
}

type idpCLI struct {
	cfg       config.Config
	tenants   tenantReader
	upstreams *store.Upstreams
	secrets   *vault.Upstreams
	check     func(ctx context.Context, issuer string) error
}

// tenantFlag parses --tenant and checks the tenant exists.
func (c idpCLI) tenant(ctx context.Context, raw string, verb string) (string, error) {
	if raw == "" {
		return "", fmt.Errorf("idp %s needs --tenant\n%s", verb, usage)
	}
	id, err := identity.ParseGUID("--tenant", raw)
	if err != nil {
		return "", describe(err)
	}
	if _, err := c.tenants.GetTenant(ctx, id); errors.Is(err, identity.ErrTenantNotFound) {
		return "", fmt.Errorf("tenant %s does not exist (make admin ARGS='tenant create ...' creates one)", id)
	} else if err != nil {
		return "", err
	}
	return id, nil
}

type repeated []string

func (r *repeated) String() string     { return strings.Join(*r, ",") }
func (r *repeated) Set(v string) error { *r = append(*r, v); return nil }

func (c idpCLI) set(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("idp set", flag.ContinueOnError)
	tenant := fs.String("tenant", "", "tenant id (required)")
	issuer := fs.String("issuer", "", "the upstream's issuer URL (required)")
	clientID := fs.String("client-id", "", "this service's client id at the upstream (required)")
	secretFile := fs.String("client-secret-file", "", `file holding the client secret at the upstream, "-" for standard input (required)`)
	roleClaim := fs.String("role-claim", "", "the upstream claim whose values --role-map maps")
	roleRequired := fs.Bool("role-required", false, "refuse people none of whose role claim values maps to a role")
	noCheck := fs.Bool("no-check", false, "store without reading the issuer's discovery document first")
	var domains, roleMaps repeated
	fs.Var(&domains, "allowed-domain", "an email domain whose people may sign in; repeatable (none: everyone)")
	fs.Var(&roleMaps, "role-map", "VALUE=ROLE: a role claim value and the tenant role (name or id) it gives; repeatable")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("idp set: unexpected argument %q\n%s", fs.Arg(0), usage)
	}
	if *issuer == "" || *clientID == "" || *secretFile == "" {
		return fmt.Errorf("idp set needs --tenant, --issuer, --client-id and --client-secret-file\n%s", usage)
	}
	tenantID, err := c.tenant(ctx, *tenant, "set")
	if err != nil {
		return err
	}
	u := signin.Upstream{TenantID: tenantID, ClientID: *clientID, RoleClaim: *roleClaim, RoleRequired: *roleRequired, Updated: time.Now().UTC()}
	if u.Issuer, err = parseIssuer(*issuer); err != nil {
		return err
	}
	if err := checkText("--client-id", u.ClientID, 255); err != nil {
		return err
	}
	if u.AllowedDomains, err = parseDomains(domains); err != nil {
		return err
	}
	if u.RoleMap, err = parseRoleMap(roleMaps); err != nil {
		return err
	}
	switch {
	case u.RoleClaim != "":
		if err := checkText("--role-claim", u.RoleClaim, 255); err != nil {
			return err
		}
	case len(u.RoleMap) > 0:
		return errors.New("--role-map needs --role-claim: name the upstream claim whose values it maps")
	}
	if u.RoleRequired && len(u.RoleMap) == 0 {
		return errors.New("--role-required needs --role-claim and at least one --role-map: without a mapping nobody could sign in")
	}
	secret, err := readSecret(*secretFile)
	if err != nil {
		return err
	}
	if !*noCheck {
		if err := c.check(ctx, u.Issuer); err != nil {
			return fmt.Errorf("%v\nthe issuer must answer %s/.well-known/openid-configuration with \"issuer\": %q (and its jwks_uri answer); --no-check stores it unchecked", err, strings.TrimSuffix(u.Issuer, "/"), u.Issuer)
		}
	}

	current, err := c.upstreams.GetUpstream(ctx, tenantID)
	switch {
	case errors.Is(err, signin.ErrUpstreamNotFound):
	case err != nil:
		return err
	default:
		u.Version = current.Version
	}
	// The secret first: an upstream is never stored without one.
	if err := c.secrets.PutUpstreamSecret(ctx, tenantID, secret); err != nil {
		return err
	}
	if err := c.upstreams.PutUpstream(ctx, u); errors.Is(err, signin.ErrUpstreamChanged) {
		return errors.New("the tenant's upstream changed while this command ran (another operator?): run `idp show`, then this command again")
	} else if err != nil {
		return err
	}
	u.Version++
	res := c.describe(u, true)
	res["DiscoveryChecked"] = !*noCheck
	return printJSON(out, res)
}

func (c idpCLI) show(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("idp show", flag.ContinueOnError)
	tenant := fs.String("tenant", "", "tenant id (required)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	tenantID, err := c.tenant(ctx, *tenant, "show")
	if err != nil {
		return err
	}
	u, err := c.upstreams.GetUpstream(ctx, tenantID)
	if errors.Is(err, signin.ErrUpstreamNotFound) {
		return fmt.Errorf("tenant %s has no upstream identity provider (idp set gives it one)", tenantID)
	}
	if err != nil {
		return err
	}
	_, err = c.secrets.UpstreamSecret(ctx, tenantID)
	if err != nil && !errors.Is(err, signin.ErrUpstreamNotFound) {
		return err
	}
	return printJSON(out, c.describe(u, err == nil))
}

func (c idpCLI) remove(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("idp remove", flag.ContinueOnError)
	tenant := fs.String("tenant", "", "tenant id (required)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	tenantID, err := c.tenant(ctx, *tenant, "remove")
	if err != nil {
		return err
	}
	_, err = c.upstreams.GetUpstream(ctx, tenantID)
	had := err == nil
	if err != nil && !errors.Is(err, signin.ErrUpstreamNotFound) {
		return err
	}
	// The item first: sign-in stops with it; then the secret.
	if err := c.upstreams.DeleteUpstream(ctx, tenantID); err != nil {
		return err
	}
	if err := c.secrets.DeleteUpstreamSecret(ctx, tenantID); err != nil {
		return err
	}
	return printJSON(out, map[string]any{"TenantId": tenantID, "Removed": had})
}

// describe is what idp set and show print: never the secret, only
// whether it is stored.
func (c idpCLI) describe(u signin.Upstream, secretStored bool) map[string]any {
	roleMap := map[string][]map[string]string{}
	for value, ids := range u.RoleMap {
		for _, id := range ids {
			r, _ := identity.RoleByID(id)
			roleMap[value] = append(roleMap[value], map[string]string{"Id": id, "Name": r.Name})
		}
	}
	res := map[string]any{
		"TenantId": u.TenantID, "Issuer": u.Issuer, "ClientId": u.ClientID, "ClientSecretStored": secretStored,
		"AllowedDomains": nonNil(u.AllowedDomains), "RoleClaim": u.RoleClaim, "RoleMap": roleMap, "RoleRequired": u.RoleRequired,
		"Version": u.Version, "Updated": u.Updated.UTC().Format(time.RFC3339),
	}
	if cb := callbackURL(c.cfg.Issuer); cb != "" {
		res["CallbackUrl"] = cb
	}
	return res
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// callbackURL is this service's upstream callback: the issuer's scheme and
// host with signin.CallbackPath.
func callbackURL(issuer string) string {
	u, err := url.Parse(issuer)
	if err != nil || u.Host == "" {
		return ""
	}
	return u.Scheme + "://" + u.Host + signin.CallbackPath
}

// parseIssuer accepts an absolute https URL without query or fragment, or
// http on a loopback host (a local provider).
func parseIssuer(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("--issuer %q is not a URL: %v", raw, err)
	}
	if u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return "", fmt.Errorf("--issuer %q is not an absolute https URL such as https://login.example.com/tenant", raw)
	}
	if u.Scheme == "http" && !loopback(u.Hostname()) {
		return "", fmt.Errorf("--issuer %q uses http: only https is accepted, except on a loopback host (127.0.0.1, ::1, localhost)", raw)
	}
	if u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return "", fmt.Errorf("--issuer %q has a query, a fragment or credentials: an issuer is a scheme, a host and a path only", raw)
	}
	return raw, nil
}

func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// checkText refuses an empty, too long or control-character value.
func checkText(flag, v string, max int) error {
	if strings.TrimSpace(v) == "" || len(v) > max || strings.IndexFunc(v, unicode.IsControl) >= 0 {
		return fmt.Errorf("%s %q: give 1 to %d characters, no control characters", flag, v, max)
	}
	return nil
}

func parseDomains(raw []string) ([]string, error) {
	var out []string
	for _, d := range raw {
		d = strings.ToLower(strings.TrimSpace(d))
		if d == "" || strings.ContainsAny(d, "@/: \t") || !strings.Contains(d, ".") || strings.HasPrefix(d, ".") || strings.HasSuffix(d, ".") {
			return nil, fmt.Errorf("--allowed-domain %q is not a domain: give the part of an email address after the @, such as example.com", d)
		}
		if !slices.Contains(out, d) {
			out = append(out, d)
		}
	}
	return out, nil
}

// parseRoleMap reads VALUE=ROLE pairs; ROLE is a tenant role's name or id.
func parseRoleMap(raw []string) (map[string][]string, error) {
	m := map[string][]string{}
	for _, pair := range raw {
		i := strings.LastIndex(pair, "=")
		if i <= 0 || i == len(pair)-1 {
			return nil, fmt.Errorf("--role-map %q: write VALUE=ROLE, such as --role-map 'identity-admins=Account Administrator'", pair)
		}
		value, name := pair[:i], strings.TrimSpace(pair[i+1:])
		if id, err := identity.ParseGUID("role", name); err == nil {
			name = id
		}
		role, ok := identity.RoleByName(name)
		if !ok {
			return nil, fmt.Errorf("--role-map %q: %q is not a role; use \"Account Administrator\", \"Account Member\" or a role id", pair, name)
		}
		if role.Cluster {
			return nil, fmt.Errorf("--role-map %q: %s is a cluster role, which an upstream cannot give; map to a tenant role (Account Administrator, Account Member)", pair, role.Name)
		}
		if !slices.Contains(m[value], role.ID) {
			m[value] = append(m[value], role.ID)
		}
	}
	return m, nil
}

// readSecret reads the client secret from a file or standard input,
// without its trailing line break.
func readSecret(path string) (string, error) {
	var b []byte
	var err error
	if path == "-" {
		b, err = io.ReadAll(io.LimitReader(os.Stdin, 64<<10))
	} else {
		b, err = os.ReadFile(path)
	}
	if err != nil {
		return "", fmt.Errorf("--client-secret-file: %v", err)
	}
	s := strings.TrimRight(string(b), "\r\n")
	if s == "" {
		return "", fmt.Errorf("--client-secret-file %s is empty: put the client secret the upstream gave this service in it", path)
	}
	if len(s) > 4096 || strings.IndexFunc(s, unicode.IsControl) >= 0 {
		return "", fmt.Errorf("--client-secret-file %s does not hold one client secret (over 4096 characters, or several lines)", path)
	}
	return s, nil
}
