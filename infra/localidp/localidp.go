// Package localidp is a tenant's upstream OpenID Provider on this machine,
// for `make run` and for tests: zitadel's example provider
// (github.com/zitadel/oidc/v3/example/server/exampleop, an OpenID Certified
// provider library with a plain HTML login form) with demo people and one
// client, this service, whose redirect URI is this service's upstream
// callback. It serves in-process on a loopback port. It is never part of a
// Lambda function: only infra/local and tests import it.
package localidp

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/example/server/exampleop"
	"github.com/zitadel/oidc/v3/example/server/storage"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
	"golang.org/x/text/language"

	"identityservice/shared/identity"
	"identityservice/shared/signin"
)

// RoleClaim is the claim in which the local provider names a person's
// groups, in the ID token and at userinfo.
const RoleClaim = "groups"

// AdminGroup is the group of the demo administrator: `make run` maps it to
// Account Administrator and Account Member.
const AdminGroup = "identity-admins"

// Person is a demo person of the local provider.
type Person struct {
	// Subject is the person's stable `sub` at the local provider.
	Subject  string
	Username string
	Password string // random for every Start
	Name     string
	Email    string
	Groups   []string // the RoleClaim values
}

// IdP is a running local provider.
type IdP struct {
	// Issuer is the provider's issuer URL (http://<addr>, no path).
	Issuer string
	// ClientID and ClientSecret are this service's client at the provider,
	// allowed to return to the RedirectURIs given to Start.
	ClientID, ClientSecret string
	// Admin is in AdminGroup; NoRole is in a group nothing maps
	// (issue 17's person without a role); Outsider is in AdminGroup with
	// an email outside example.com (for AllowedDomains).
	Admin, NoRole, Outsider Person

	srv   *http.Server
	store *idpStorage
}

// Upstream is the provider as a tenant's upstream: its groups claim is
// the role claim, AdminGroup gives Account Administrator and Account
// Member, nothing else gives a role. Store it with
// signin.UpstreamStore.PutUpstream and ClientSecret with
// signin.UpstreamSecrets.PutUpstreamSecret.
func (p *IdP) Upstream(tenantID string) signin.Upstream {
	return signin.Upstream{TenantID: tenantID, Issuer: p.Issuer, ClientID: p.ClientID, RoleClaim: RoleClaim,
		RoleMap: map[string][]string{AdminGroup: {identity.RoleAccountAdministrator, identity.RoleAccountMember}}}
}

// People are the demo people.
func (p *IdP) People() []Person { return []Person{p.Admin, p.NoRole, p.Outsider} }

// Config says where the provider listens and whom it returns people to.
type Config struct {
	// Addr is the listening address; "" is a free loopback port.
	Addr string
	// RedirectURIs are this service's upstream callbacks (the issuer's
	// host + signin.CallbackPath).
	RedirectURIs []string
	// ProfileInUserinfoOnly leaves name, email and groups out of the ID
	// token (as many providers do when an access token is issued with it):
	// the relying party must read userinfo.
	ProfileInUserinfoOnly bool
}

// Start starts a provider; Stop stops it.
func Start(ctx context.Context, cfg Config) (*IdP, error) {
	addr := cfg.Addr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("local upstream provider: listen on %s: %w", addr, err)
	}
	p := &IdP{Issuer: "http://" + ln.Addr().String(), ClientID: "identity-service-" + randomString(8), ClientSecret: randomString(32)}
	p.Admin = Person{Subject: "demo-admin", Username: "ada", Password: randomString(12), Name: "Ada Admin", Email: "ada@example.com", Groups: []string{AdminGroup}}
	p.NoRole = Person{Subject: "demo-norole", Username: "nora", Password: randomString(12), Name: "Nora Norole", Email: "nora@example.com", Groups: []string{"visitors"}}
	p.Outsider = Person{Subject: "demo-outsider", Username: "otto", Password: randomString(12), Name: "Otto Outsider", Email: "otto@elsewhere.example", Groups: []string{AdminGroup}}

	users := users{}
	for _, person := range p.People() {
		users[person.Subject] = person
	}
	client := storage.WebClient(p.ClientID, p.ClientSecret, cfg.RedirectURIs...)
	p.store = &idpStorage{
		Storage: storage.NewStorageWithClients(users, map[string]*storage.Client{p.ClientID: client}),
		users:   users, profileInToken: !cfg.ProfileInUserinfoOnly,
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		ln.Close()
		return nil, err
	}
	p.store.foreignKey = key

	// wrapServer false: the provider's own http.Handler (its legacy
	// server adds nothing this needs).
	router := exampleop.SetupServer(p.Issuer, p.store, nil, false)
	p.srv = &http.Server{Handler: p.store.claimFaults(router), ReadHeaderTimeout: 10 * time.Second}
	go p.srv.Serve(ln)
	return p, nil
}

// ForTest starts a provider that returns people to callbackURL and stops
// when the test ends.
func ForTest(t testing.TB, cfg Config) *IdP {
	t.Helper()
	p, err := Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Stop)
	return p
}

// Stop stops the provider.
func (p *IdP) Stop() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	p.srv.Shutdown(ctx)
}

// Faults make the provider issue ID tokens a relying party must refuse,
// for tests of its checks. The zero value is a correct provider.
type Faults struct {
	// ExpiredIDTokens: ID tokens that expired a minute before they were
	// issued.
	ExpiredIDTokens bool
	// Audience, when set, replaces the ID tokens' aud.
	Audience []string
	// Claims, when set, replace or add these claims of the ID tokens
	// (e.g. iss, azp, nonce).
	Claims map[string]any
	// ForeignKey: ID tokens signed by a key that is not in the JWKS (under
	// the kid of the published one).
	ForeignKey bool
}

// SetFaults sets the faults of the ID tokens issued from now on.
func (p *IdP) SetFaults(f Faults) {
	p.store.mu.Lock()
	p.store.faults = f
	p.store.mu.Unlock()
}

// randomString is n (at most 52) crypto/rand letters and digits.
func randomString(n int) string {
	return (rand.Text() + rand.Text())[:n]
}

// users are the demo people as the example storage wants them.
type users map[string]Person

func (u users) GetUserByID(id string) *storage.User {
	p, ok := u[id]
	if !ok {
		return nil
	}
	first, last, _ := strings.Cut(p.Name, " ")
	return &storage.User{ID: p.Subject, Username: p.Username, Password: p.Password, FirstName: first, LastName: last,
		Email: p.Email, EmailVerified: true, PreferredLanguage: language.English}
}

func (u users) GetUserByUsername(username string) *storage.User {
	for id, p := range u {
		if p.Username == username {
			return u.GetUserByID(id)
		}
	}
	return nil
}

// ExampleClientID is the example storage's service user (JWT profile
// grant), which nothing here uses.
func (u users) ExampleClientID() string { return "service" }

// idpStorage is the example storage with the demo people's groups in the
// ID token and at userinfo, and the test faults.
type idpStorage struct {
	*storage.Storage
	users          users
	profileInToken bool
	foreignKey     *rsa.PrivateKey

	mu     sync.Mutex
	faults Faults
}

func (s *idpStorage) currentFaults() Faults {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.faults
}

// SetUserinfoFromRequest fills the ID token's claims.
func (s *idpStorage) SetUserinfoFromRequest(ctx context.Context, userinfo *oidc.UserInfo, token op.IDTokenRequest, scopes []string) error {
	if err := s.Storage.SetUserinfoFromRequest(ctx, userinfo, token, scopes); err != nil {
		return err
	}
	if s.profileInToken {
		s.addGroups(userinfo, token.GetSubject())
	}
	return nil
}

// SetUserinfoFromToken fills the userinfo endpoint's answer.
func (s *idpStorage) SetUserinfoFromToken(ctx context.Context, userinfo *oidc.UserInfo, tokenID, subject, origin string) error {
	if err := s.Storage.SetUserinfoFromToken(ctx, userinfo, tokenID, subject, origin); err != nil {
		return err
	}
	s.addGroups(userinfo, userinfo.Subject)
	return nil
}

func (s *idpStorage) addGroups(userinfo *oidc.UserInfo, subject string) {
	if p, ok := s.users[subject]; ok {
		userinfo.AppendClaims(RoleClaim, p.Groups)
	}
}

// GetClientByClientID returns this service's client, which asserts the
// profile claims in the ID token unless ProfileInUserinfoOnly, and issues
// expired ID tokens under the ExpiredIDTokens fault.
func (s *idpStorage) GetClientByClientID(ctx context.Context, clientID string) (op.Client, error) {
	c, err := s.Storage.GetClientByClientID(ctx, clientID)
	if err != nil {
		return nil, err
	}
	return &idpClient{Client: c, profileInToken: s.profileInToken, expired: s.currentFaults().ExpiredIDTokens}, nil
}

// SigningKey signs with a key outside the JWKS under the ForeignKey fault.
func (s *idpStorage) SigningKey(ctx context.Context) (op.SigningKey, error) {
	k, err := s.Storage.SigningKey(ctx)
	if err != nil || !s.currentFaults().ForeignKey {
		return k, err
	}
	return foreignKey{id: k.ID(), key: s.foreignKey}, nil
}

type idpClient struct {
	op.Client
	profileInToken, expired bool
}

func (c *idpClient) IDTokenUserinfoClaimsAssertion() bool { return c.profileInToken }

func (c *idpClient) IDTokenLifetime() time.Duration {
	if c.expired {
		return -time.Minute
	}
	return c.Client.IDTokenLifetime()
}

type foreignKey struct {
	id  string
	key *rsa.PrivateKey
}

func (k foreignKey) SignatureAlgorithm() jose.SignatureAlgorithm { return jose.RS256 }
func (k foreignKey) Key() any                                    { return k.key }
func (k foreignKey) ID() string                                  { return k.id }
