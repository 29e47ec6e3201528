// Command local runs the whole service on this machine: DynamoDB Local and
// the Secrets Manager emulator, the table from template.yaml, a seeded demo
// tenant, and every function's routes on http://127.0.0.1:3000. Ctrl-C stops
// everything it started.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"identityservice/infra/emulator"
	"identityservice/infra/local/server"
	"identityservice/infra/template"
	"identityservice/shared/config"
	"identityservice/shared/identity"
	"identityservice/shared/store"
	"identityservice/shared/tokenapi"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "make run:", err)
		os.Exit(1)
	}
}

func run() error {
	addr := flag.String("addr", "127.0.0.1:3000", "address of the API")
	dynamoAddr := flag.String("dynamodb", "127.0.0.1:8000", "address of DynamoDB Local")
	smAddr := flag.String("secretsmanager", "127.0.0.1:4566", "address of the Secrets Manager emulator")
	bootPath := flag.String("bootstrap", "", "`file` to write the demo client's credentials to (default .local/bootstrap.json in the repository)")
	flag.Parse()

	// Deferred first, so it runs last: the terminal goes back to make once
	// everything below has stopped.
	defer takeForeground()()
	// SIGHUP: the terminal was closed, which now signals this process's own
	// group only.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer stop()

	for _, a := range []string{*addr, *dynamoAddr, *smAddr, *upstreamAddr} {
		if err := portFree(a); err != nil {
			return fmt.Errorf("%s is in use (is another `make run` running?): %w", a, err)
		}
	}
	root, err := emulator.RepoRoot()
	if err != nil {
		return err
	}
	fmt.Println("starting DynamoDB Local on", *dynamoAddr, "and the Secrets Manager emulator on", *smAddr, "...")
	stack, err := emulator.StartStack(ctx, *dynamoAddr, *smAddr)
	if err != nil {
		return err
	}
	defer stack.Stop()
	if err := stack.Setenv(); err != nil {
		return err
	}
	setDefault("TABLE_NAME", "identity-local")
	setDefault("SECRET_PREFIX", "identity-local")
	// The issuer is pinned, as template.yaml pins it in AWS: no request
	// header changes the tokens' iss (make invoke's LOCAL_ENV says the same).
	setDefault("ISSUER", "http://"+*addr+"/identity")

	cfg, err := config.FromEnv()
	if err != nil {
		return err
	}
	app, err := config.Start(ctx, cfg, cfg.Logger(os.Stderr))
	if err != nil {
		return err
	}
	tpl, err := template.Load(filepath.Join(root, "template.yaml"))
	if err != nil {
		return err
	}
	table, err := tpl.Table("ClientsTable", cfg.Table)
	if err != nil {
		return err
	}
	if err := store.CreateTable(ctx, app.Clients.DynamoDB, table); err != nil {
		return err
	}
	svc := app.Service
	h, err := server.Handler(tpl, app)
	if err != nil {
		return err
	}

	tenant, err := svc.CreateTenant(ctx, DemoTenantID, "Demo tenant", 0)
	if err != nil {
		return fmt.Errorf("seed demo tenant: %w", err)
	}
	admin, err := svc.CreateClient(ctx, tenant.ID, identity.NewClient{
		Kind: identity.ClientCredential, Name: "demo administrator",
		RoleIDs:           &[]string{identity.RoleAccountAdministrator, identity.RoleAccountMember},
		SecretDescription: "seeded by make run",
	})
	if err != nil {
		return fmt.Errorf("seed the demo tenant's Account Administrator client: %w", err)
	}
	apiURL := "http://" + *addr
	boot := map[string]string{
		"TenantId":               tenant.ID,
		"ClientId":               admin.Client.ID,
		"ClientSecret":           admin.SecretString,
		"TokenUrl":               apiURL + tokenapi.TokenPath,
		"ApiUrl":                 apiURL,
		"DynamoDBEndpoint":       stack.DynamoDB.Endpoint,
		"SecretsManagerEndpoint": stack.SecretsManager.Endpoint,
	}
	stopUpstream, err := startSignIn(ctx, cfg, app.Clients, svc, tenant.ID, apiURL, boot)
	if err != nil {
		return err
	}
	defer stopUpstream()
	if *bootPath == "" {
		*bootPath = filepath.Join(root, ".local", "bootstrap.json")
	}
	if err := writeBootstrap(*bootPath, boot); err != nil {
		return err
	}

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: demoPages(h), ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	printWelcome(boot)
	printSignIn(boot)

	select {
	case <-ctx.Done():
		fmt.Println("\nstopping ...")
	case err := <-errc:
		return err
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// DemoTenantID is the seeded tenant's id, fixed so that the events/ cases
// and `make invoke` address it.
const DemoTenantID = "5f0c3a52-7a1e-4c4e-9a57-2d7b1f0e6a10"

func portFree(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	return ln.Close()
}

func setDefault(k, v string) {
	if os.Getenv(k) == "" {
		os.Setenv(k, v)
	}
}

func writeBootstrap(path string, v map[string]string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	body, err := bootJSON(v)
	if err != nil {
		return err
	}
	return os.WriteFile(path, body, 0o600)
}

func printWelcome(boot map[string]string) {
	body, _ := bootJSON(boot)
	fmt.Printf(`
The identity client service is running on %[1]s
.local/bootstrap.json (the demo tenant's Account Administrator client; its secret is shown only here):
%[2]s

Try it: get a token, then list and create clients with it.
  TOKEN=$(curl -s -u '%[4]s:%[5]s' -d grant_type=client_credentials %[6]s \
          | sed -E 's/.*"access_token":"([^"]+)".*/\1/')
  curl -s -H "Authorization: Bearer $TOKEN" %[1]s/api/v1-preview/Tenants/%[3]s/ClientCredentialClients
  curl -s -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
       -X POST %[1]s/api/v1-preview/Tenants/%[3]s/ClientCredentialClients -d '{"Name":"my-service","Tags":["demo"]}'

Ctrl-C stops the API and both emulators.
`, boot["ApiUrl"], body, boot["TenantId"], boot["ClientId"], boot["ClientSecret"], boot["TokenUrl"])
}
