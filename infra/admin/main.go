// Command admin is the operator's CLI against a stack (by default the local
// one that `make run` starts): it creates tenants and clients with any role
// (cluster roles included: the one way to grant them), rotates the token
// signing keys and the token item seal key, runs the expiration sweep on
// demand, and migrates stored data to the current layout. Each command prints
// one JSON object; see usage.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/eventbridge"

	"identityservice/infra/tableops"
	"identityservice/shared/auth"
	"identityservice/shared/config"
	"identityservice/shared/eventbus"
	"identityservice/shared/httpapi"
	"identityservice/shared/identity"
	"identityservice/shared/portal"
	"identityservice/shared/vault"
)

func main() {
	if err := run(identity.WithActor(context.Background(), operator()), os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "admin:", err)
		os.Exit(1)
	}
}

// operator is the actor of the CLI's writes: the local user who ran it
// (USER, else "admin CLI"), recorded on what it writes as ChangedBy.
func operator() identity.Actor {
	who := "admin CLI"
	if u := os.Getenv("USER"); u != "" {
		who = "admin CLI (" + u + ")"
	}
	return identity.Actor{Operator: who}
}

const usage = `usage:
  admin tenant create --name NAME [--client-limit N] [--id GUID]
  admin client create --tenant ID --role ROLE [--role ROLE ...] [--name NAME] [--id GUID]
      ROLE: "Account Administrator", "Account Member", "Cluster Operator", "Cluster Support", or a role id
  admin keys rotate [--alg RS256|ES256]
      a new token signing key of --alg (default: SIGNING_ALG, else RS256); the old one, whatever its
      algorithm, stays published until its tokens have expired (token lifetime + key refresh + margin:
      66 minutes), then leaves by itself
  admin keys revoke --kid KID
      withdraws a signing key at once: every function refuses its tokens within 60 s;
      revoking the active key first rotates (a new key takes over in the same change)
  admin seal rotate [--settle D]
      a new token item seal key: accepted first, then sealing, then every token item sealed again with it
      (conditional writes), then the previous key retired; waits --settle (default twice SEAL_KEY_REFRESH,
      2 minutes) before each step so every function has read the one before; resumes where a stopped run
      stopped; prints the versions and the reseal's counts
  admin migrate
      brings items stored by earlier versions to the current layout (counters, list copies, tag entries,
      token items, sharded expiry index), binds each client secret's material written before the
      verifier binding to its own record (material version 2; material it cannot vouch for is left and
      named under Material.RefusedMaterial), then moves the verifiers of their own into the tenants'
      verifier packs (bound ones only); idempotent and resumable; prints what it wrote
      (docs/storage.md, "Migration")
  admin sweep
      one expiration sweep now, as the scheduled SweeperFunction runs it (its variables: README, "Configuration");
      prints the run's counts
  admin dashboard register --tenant ID --url API_URL
      gives the tenant a client of the operations dashboard, so its people can sign in there: a Hybrid
      client returning to API_URL/_/op-dashboard/callback, its secret stored for the dashboard in
      Secrets Manager and never printed; a tenant that has one keeps it (New: false)` + idpUsage

func run(ctx context.Context, args []string, out io.Writer) error {
	single := len(args) == 1 && (args[0] == "sweep" || args[0] == "migrate")
	if !single && len(args) < 2 {
		return errors.New(usage)
	}
	cfg, err := config.FromEnv()
	if err != nil {
		return err
	}
	// The service's own log lines are for operations; the CLI shows only
	// its warnings and errors beside the JSON it prints.
	app, err := config.Start(ctx, cfg, slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	if err != nil {
		return err
	}
	if single && args[0] == "sweep" {
		return sweep(ctx, app, out)
	}
	if single {
		return migrate(ctx, app, out)
	}
	svc := app.Service
	switch args[0] + " " + args[1] {
	case "tenant create":
		return tenantCreate(ctx, svc, args[2:], out)
	case "client create":
		return clientCreate(ctx, svc, args[2:], out)
	case "keys rotate":
		fs := flag.NewFlagSet("keys rotate", flag.ContinueOnError)
		alg := fs.String("alg", string(cfg.SigningAlg), "the algorithm of the new key: RS256 or ES256 (default: SIGNING_ALG, else RS256)")
		if err := fs.Parse(args[2:]); err != nil {
			return err
		}
		a, err := auth.ParseAlg(*alg)
		if err != nil {
			return fmt.Errorf("--alg: %w\n%s", err, usage)
		}
		km := app.KeyManager()
		km.Alg = a
		return keysRotate(ctx, km, out)
	case "idp set", "idp show", "idp remove":
		return idpCommand(ctx, cfg, app.Clients, app.Store.Tenants, args[1], args[2:], out)
	case "dashboard register":
		fs := flag.NewFlagSet("dashboard register", flag.ContinueOnError)
		tenant := fs.String("tenant", "", "the tenant whose people sign in to the dashboard (required)")
		apiURL := fs.String("url", "", "the API's base URL as browsers reach it (required), e.g. https://abc123.execute-api.eu-west-1.amazonaws.com")
		if err := fs.Parse(args[2:]); err != nil {
			return err
		}
		if *tenant == "" || *apiURL == "" {
			return errors.New("dashboard register needs --tenant and --url\n" + usage)
		}
		if _, err := svc.GetTenant(ctx, *tenant); err != nil {
			return describe(err)
		}
		reg, err := portal.Register(ctx, svc, app.DashboardClients(), *tenant, *apiURL)
		if err != nil {
			return describe(err)
		}
		return printJSON(out, map[string]any{"TenantId": *tenant, "ClientId": reg.ClientID, "RedirectUri": reg.RedirectURI, "New": reg.New})
	case "seal rotate":
		fs := flag.NewFlagSet("seal rotate", flag.ContinueOnError)
		refresh := cfg.SealKeyRefresh
		if refresh <= 0 {
			refresh = identity.DefaultSealKeyRefresh
		}
		settle := fs.Duration("settle", 2*refresh, "how long every function takes to read a step (default: twice SEAL_KEY_REFRESH, the functions' refresh)")
		if err := fs.Parse(args[2:]); err != nil {
			return err
		}
		return sealRotate(ctx, app, *settle, out)
	case "keys revoke":
		fs := flag.NewFlagSet("keys revoke", flag.ContinueOnError)
		kid := fs.String("kid", "", "the kid of the key to revoke (required; PublishedKids of keys rotate)")
		if err := fs.Parse(args[2:]); err != nil {
			return err
		}
		if *kid == "" {
			return errors.New("keys revoke needs --kid\n" + usage)
		}
		return keysRevoke(ctx, app.KeyManager(), *kid, out)
	}
	return fmt.Errorf("unknown command %q\n%s", args[0]+" "+args[1], usage)
}

func tenantCreate(ctx context.Context, svc *identity.Service, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("tenant create", flag.ContinueOnError)
	name := fs.String("name", "", "tenant name (required)")
	limit := fs.Int("client-limit", 0, "clients allowed in the tenant (0: the service default)")
	id := fs.String("id", "", "tenant id, a GUID (default: generated)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	t, err := svc.CreateTenant(ctx, *id, *name, *limit)
	if err != nil {
		return describe(err)
	}
	return printJSON(out, map[string]any{"TenantId": t.ID, "Name": t.Name, "ClientLimit": effectiveLimit(t, svc)})
}

type roleList []string

func (r *roleList) String() string     { return fmt.Sprint(*r) }
func (r *roleList) Set(v string) error { *r = append(*r, v); return nil }

// clientCreate creates a Client Credential client with any roles, cluster
// roles included: the one way to grant them.
func clientCreate(ctx context.Context, svc *identity.Service, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("client create", flag.ContinueOnError)
	tenant := fs.String("tenant", "", "tenant id (required)")
	name := fs.String("name", "admin-cli client", "client name")
	id := fs.String("id", "", "client id, a GUID (default: generated)")
	var roles roleList
	fs.Var(&roles, "role", "a role name or id; repeatable (required)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *tenant == "" || len(roles) == 0 {
		return errors.New("client create needs --tenant and at least one --role\n" + usage)
	}
	tenantID, err := identity.ParseGUID("--tenant", *tenant)
	if err != nil {
		return describe(err)
	}
	ids := []string(roles)
	created, err := svc.CreateClient(ctx, tenantID, identity.NewClient{
		ID: *id, Kind: identity.ClientCredential, Name: *name, RoleIDs: &ids, OperatorRoles: true,
		SecretDescription: "created by the admin CLI",
	})
	if err != nil {
		return describe(err)
	}
	return printJSON(out, map[string]any{"ClientId": created.Client.ID, "ClientSecret": created.SecretString, "SecretId": created.Secret.ID, "TenantId": tenantID, "RoleIds": created.Client.RoleIDs})
}

// keysRotate rotates the token signing keys.
func keysRotate(ctx context.Context, km *auth.KeyManager, out io.Writer) error {
	ks, err := km.Rotate(ctx)
	return printKeys(ks, err, out, nil)
}

// keysRevoke withdraws a signing key.
func keysRevoke(ctx context.Context, km *auth.KeyManager, kid string, out io.Writer) error {
	ks, err := km.Revoke(ctx, kid)
	switch {
	case errors.Is(err, auth.ErrUnknownKey):
		return fmt.Errorf("no signing key has kid %q: the published kids are in the output of `keys rotate` and at /identity/.well-known/openid-configuration/jwks", kid)
	}
	return printKeys(ks, err, out, map[string]any{"RevokedKid": kid})
}

// printKeys prints the key set after a change. A published set this
// service did not write was replaced: the result is printed, and the
// command still fails, because someone wrote the trust root.
func printKeys(ks auth.KeySet, err error, out io.Writer, extra map[string]any) error {
	var foreign *auth.ForeignJWKSError
	if err != nil && !(errors.As(err, &foreign) && foreign.Replaced) {
		return err
	}
	published, algs := []string{}, map[string]string{}
	for _, k := range ks.JWKS(time.Now()).Keys {
		published = append(published, k.KeyID)
		algs[k.KeyID] = k.Algorithm
	}
	res := map[string]any{"ActiveKid": ks.Active, "ActiveAlg": algs[ks.Active], "PublishedKids": published, "PublishedAlgs": algs, "Version": ks.Version}
	for k, v := range extra {
		res[k] = v
	}
	if foreign != nil {
		res["ReplacedForeignKids"] = foreign.Kids
	}
	if perr := printJSON(out, res); perr != nil {
		return perr
	}
	return err
}

// sealRotate rotates the token item seal key (tableops.SealRotation),
// telling each step on stderr.
func sealRotate(ctx context.Context, app *config.App, settle time.Duration, out io.Writer) error {
	rot := tableops.SealRotation{
		Keys:   vault.NewSealKey(app.Clients.SecretsManager, app.Config.SecretPrefix),
		API:    app.Clients.DynamoDB,
		Table:  app.Config.Table,
		Settle: settle,
		Now:    time.Now,
		Sleep: func(ctx context.Context, d time.Duration) error {
			fmt.Fprintf(os.Stderr, "admin: waiting %s for every function to read the seal keys\n", d.Round(time.Second))
			select {
			case <-time.After(d):
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		},
		Step: func(s string) { fmt.Fprintln(os.Stderr, "admin: seal rotate:", s) },
	}
	rep, err := rot.Run(ctx)
	if err != nil && !errors.Is(err, tableops.ErrResealPending) {
		return err
	}
	if perr := printJSON(out, rep); perr != nil {
		return perr
	}
	return err
}

// sweep runs one sweep with the sweeper function's configuration and
// wiring; its log lines (the summary line included) go to stderr, the
// counts to out.
func sweep(ctx context.Context, app *config.App, out io.Writer) error {
	sc, err := config.SweepFromEnv()
	if err != nil {
		return err
	}
	events := eventbus.New(eventbridge.NewFromConfig(app.AWS), sc.EventBus, sc.EventSource)
	sw := app.Config.Sweeper(app.Clients, events, sc.Settings, app.Config.Logger(os.Stderr), config.SummaryLogger(os.Stderr))
	counts, err := sw.Run(ctx)
	if err != nil {
		return err
	}
	return printJSON(out, counts)
}

// migrationReport is what `admin migrate` prints: the table's migration
// and the move into packs (their counts at the top level) and the
// material's binding.
type migrationReport struct {
	tableops.MigrationReport
	tableops.PackMigrationReport
	Material tableops.MaterialReport `json:"Material"`
}

// migrate runs the store's migration on the configured table, then binds
// the client secret material written before the verifier binding to its
// records (tableops.MigrateMaterial), then moves the verifiers of records
// written before packs into packs (its own step:
// tableops.MigrateVerifiersIntoPacks; material the binding refused stays
// where it is).
func migrate(ctx context.Context, app *config.App, out io.Writer) error {
	var rep migrationReport
	var err error
	rep.MigrationReport, err = tableops.Migrate(ctx, app.Clients.DynamoDB, app.Config.Table, app.Service.TokenSeal)
	if err != nil {
		return err
	}
	rep.Material, err = tableops.MigrateMaterial(ctx, app.Clients.DynamoDB, app.Config.Table, vault.NewUpgrader(app.Clients.SecretsManager, app.Config.SecretPrefix))
	if err != nil {
		return err
	}
	rep.PackMigrationReport, err = tableops.MigrateVerifiersIntoPacks(ctx, app.Clients.DynamoDB, app.Config.Table, app.Store.Tenants, app.Service.Vault)
	if err != nil {
		return err
	}
	return printJSON(out, rep)
}

func effectiveLimit(t identity.Tenant, svc *identity.Service) int {
	if t.ClientLimit > 0 {
		return t.ClientLimit
	}
	return svc.DefaultClientLimit
}

// describe turns a domain error into a message for an operator.
func describe(err error) error {
	var e *identity.Error
	if errors.As(err, &e) && e.Kind != identity.KindInternal {
		title, reason, resolution := httpapi.Describe(e)
		return fmt.Errorf("%s: %s %s", title, reason, resolution)
	}
	return err
}

func printJSON(out io.Writer, v any) error {
	enc := json.NewEncoder(out)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
