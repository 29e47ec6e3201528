package identity_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"identityservice/shared/identity"
	"identityservice/shared/identity/memstore"
)

// The Service's rules, on the in-memory store (which keeps the same
// contract as DynamoDB: identitytest.RunContract), without an emulator.

type world struct {
	svc    *identity.Service
	store  *memstore.Store
	vault  *memstore.Vault
	clock  time.Time
	tenant identity.Tenant
	ctx    context.Context
	// pauses are the waits the Service asked for (its Pause): a failed
	// authentication is held to the floor by one.
	pauses []time.Duration
}

func newWorld(t *testing.T) *world {
	t.Helper()
	w := &world{store: memstore.New(), vault: &memstore.Vault{}, clock: time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC), ctx: context.Background()}
	w.svc = &identity.Service{Stores: w.store.Stores(), Vault: w.vault, SealKeys: &memstore.SealKey{}, Now: func() time.Time { return w.clock },
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)), RetentionDays: 30,
		Pause: func(_ context.Context, d time.Duration) { w.pauses = append(w.pauses, d) }}
	var err error
	if w.tenant, err = w.svc.CreateTenant(w.ctx, "", "rules", 0); err != nil {
		t.Fatal(err)
	}
	return w
}

func (w *world) create(t *testing.T, kind identity.ClientKind, in identity.NewClient) identity.CreatedClient {
	t.Helper()
	in.Kind = kind
	if in.Name == "" {
		in.Name = "client"
	}
	c, err := w.svc.CreateClient(w.ctx, w.tenant.ID, in)
	if err != nil {
		t.Fatalf("CreateClient: %v", err)
	}
	return c
}

func ref(sec identity.Secret) identity.MaterialRef {
	return sec.Ref()
}

func wantErr(t *testing.T, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("error %v, want %v", err, want)
	}
}

func TestCreateClientRules(t *testing.T) {
	w := newWorld(t)
	cluster := []string{"Cluster Operator"}
	for _, tc := range []struct {
		name     string
		kind     identity.ClientKind
		in       identity.NewClient
		mentions string
	}{
		{"blank name", identity.ClientCredential, identity.NewClient{Name: " "}, "Name"},
		{"client id not a GUID", identity.ClientCredential, identity.NewClient{Name: "x", ID: "abc"}, "ClientId"},
		{"cluster role through the tenant API", identity.ClientCredential, identity.NewClient{Name: "x", RoleIDs: &[]string{identity.RoleAccountMember, "c181a80b-f68f-4337-b944-5d0570881504"}}, "cluster role"},
		{"roles without Account Member", identity.ClientCredential, identity.NewClient{Name: "x", RoleIDs: &[]string{identity.RoleAccountAdministrator}}, "Account Member"},
		{"http redirect to a remote host", identity.Hybrid, identity.NewClient{Name: "x", RedirectURIs: []string{"http://app.example.com/cb"}}, "loopback"},
		{"too many redirect URIs", identity.Hybrid, identity.NewClient{Name: "x", RedirectURIs: strings.Split(strings.Repeat("https://a.example.com/cb,", 11), ",")[:11]}, "limit is 10"},
		{"past secret expiration", identity.ClientCredential, identity.NewClient{Name: "x", SecretExpiration: ptr(time.Date(2029, 1, 1, 0, 0, 0, 0, time.UTC))}, "not in the future"},
		{"51 tags", identity.ClientCredential, identity.NewClient{Name: "x", Tags: numbered("t", 51)}, "limit is 50"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.in.Kind = tc.kind
			before := w.store.Calls()
			_, err := w.svc.CreateClient(w.ctx, w.tenant.ID, tc.in)
			wantInvalid(t, err, tc.mentions)
			if w.store.Calls() != before {
				t.Fatal("an invalid create reached the store")
			}
		})
	}
	t.Run("operator roles only through the admin CLI's flag", func(t *testing.T) {
		c := w.create(t, identity.ClientCredential, identity.NewClient{RoleIDs: &cluster, OperatorRoles: true})
		if !identity.HasClusterRole(c.Client.RoleIDs) {
			t.Fatalf("roles %v", c.Client.RoleIDs)
		}
	})
	t.Run("secret shown once, kept as a verifier", func(t *testing.T) {
		c := w.create(t, identity.ClientCredential, identity.NewClient{})
		v, err := w.vault.Verifier(w.ctx, ref(c.Secret))
		if err != nil || !identity.VerifySecret(ref(c.Secret), c.SecretString, v) || strings.Contains(string(v), c.SecretString) {
			t.Fatalf("verifier %x, %v", v, err)
		}
	})
}

func TestClientLimitAndIDConflictDiscardMaterial(t *testing.T) {
	w := newWorld(t)
	w.svc.DefaultClientLimit = 1
	first := w.create(t, identity.ClientCredential, identity.NewClient{})
	for name, tc := range map[string]struct {
		in   identity.NewClient
		want error
	}{
		"limit":     {identity.NewClient{Kind: identity.Hybrid, Name: "x"}, identity.ErrClientLimit},
		"id exists": {identity.NewClient{Kind: identity.Hybrid, Name: "x", ID: first.Client.ID}, identity.ErrClientIDExists},
	} {
		t.Run(name, func(t *testing.T) {
			var put []identity.MaterialRef
			spy := &spyVault{Vault: w.vault, put: &put}
			svc := &identity.Service{Stores: w.svc.Stores, Vault: spy, SealKeys: w.svc.SealKeys, Now: w.svc.Now, Log: w.svc.Log, DefaultClientLimit: 1}
			_, err := svc.CreateClient(w.ctx, w.tenant.ID, tc.in)
			wantErr(t, err, tc.want)
			if len(put) != 1 || w.vault.Has(put[0]) {
				t.Fatalf("material written %v, still there: the refused create must discard it", put)
			}
		})
	}
	ten, _ := w.svc.CreateTenant(w.ctx, "", "own limit", 2)
	for range 2 {
		if _, err := w.svc.CreateClient(w.ctx, ten.ID, identity.NewClient{Kind: identity.ClientCredential, Name: "x"}); err != nil {
			t.Fatalf("a tenant's own limit (2) beats the default (1): %v", err)
		}
	}
}

type spyVault struct {
	*memstore.Vault
	put *[]identity.MaterialRef
}

func (s *spyVault) PutVerifier(ctx context.Context, ref identity.MaterialRef, v []byte) error {
	*s.put = append(*s.put, ref)
	return s.Vault.PutVerifier(ctx, ref, v)
}

func TestNotFoundSaysWhich(t *testing.T) {
	w := newWorld(t)
	cc := w.create(t, identity.ClientCredential, identity.NewClient{})
	missing := identity.NewID()
	for _, tc := range []struct {
		name string
		err  error
		want error
	}{
		{"client of a missing tenant", second(w.svc.GetClient(w.ctx, missing, identity.ClientCredential, cc.Client.ID)), identity.ErrTenantNotFound},
		{"missing client", second(w.svc.GetClient(w.ctx, w.tenant.ID, identity.ClientCredential, missing)), identity.ErrClientNotFound},
		{"client of the other kind", second(w.svc.GetClient(w.ctx, w.tenant.ID, identity.Hybrid, cc.Client.ID)), identity.ErrClientNotFound},
		{"list of a missing tenant", second(w.svc.ListClients(w.ctx, missing, identity.ClientCredential, identity.ListOptions{Count: 10})), identity.ErrTenantNotFound},
		{"tags list of a missing tenant", second(w.svc.ListClients(w.ctx, missing, identity.ClientCredential, identity.ListOptions{Count: 10, Tags: []string{"x"}})), identity.ErrTenantNotFound},
		{"secret of a missing tenant", second(w.svc.GetSecret(w.ctx, missing, identity.ClientCredential, cc.Client.ID, cc.Secret.ID)), identity.ErrTenantNotFound},
		{"secret of the other kind's client", second(w.svc.GetSecret(w.ctx, w.tenant.ID, identity.Hybrid, cc.Client.ID, cc.Secret.ID)), identity.ErrClientNotFound},
		{"missing secret", second(w.svc.GetSecret(w.ctx, w.tenant.ID, identity.ClientCredential, cc.Client.ID, missing)), identity.ErrSecretNotFound},
		{"delete of a missing secret", w.svc.DeleteSecret(w.ctx, w.tenant.ID, identity.ClientCredential, cc.Client.ID, missing), identity.ErrSecretNotFound},
		{"secrets of a missing client", second(w.svc.ListSecrets(w.ctx, w.tenant.ID, identity.ClientCredential, missing, false, 0, 10)), identity.ErrClientNotFound},
		{"kind of another tenant's client", second(w.svc.ClientKindOf(w.ctx, w.tenant.ID, missing)), identity.ErrClientNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) { wantErr(t, tc.err, tc.want) })
	}
}

func TestListOptions(t *testing.T) {
	w := newWorld(t)
	for i := range 3 {
		w.create(t, identity.ClientCredential, identity.NewClient{Tags: []string{fmt.Sprint("tag", i%2)}})
	}
	for _, tc := range []struct {
		name      string
		opt       identity.ListOptions
		mentions  string // a 400 that mentions this, or
		wantTotal int    // a page of this total
		wantPage  int
	}{
		{name: "1,000 tags", opt: identity.ListOptions{Count: 10, Tags: numbered("t", 1000)}, mentions: "tags"},
		{name: "50 tags", opt: identity.ListOptions{Count: 10, Tags: append(numbered("t", 49), "tag0")}, wantTotal: 2, wantPage: 2},
		{name: "repeated tags count once", opt: identity.ListOptions{Count: 10, Tags: append(numbered("tag", 1), numbered("tag", 1)[0], "tag0")}, wantTotal: 2, wantPage: 2},
		{name: "a 5,000-character tag", opt: identity.ListOptions{Count: 10, Tags: []string{strings.Repeat("x", 5000)}}, mentions: "128"},
		{name: "skip past int32", opt: identity.ListOptions{Skip: 2147482648, Count: 1000}, mentions: "skip"},
		{name: "skip at its bound", opt: identity.ListOptions{Skip: identity.MaxSkip, Count: 1000}, wantTotal: 3},
		{name: "count 0", opt: identity.ListOptions{Count: 0}, mentions: "count"},
		{name: "count 1001", opt: identity.ListOptions{Count: 1001}, mentions: "count"},
		{name: "a page", opt: identity.ListOptions{Skip: 1, Count: 1}, wantTotal: 3, wantPage: 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := w.store.Calls()
			page, err := w.svc.ListClients(w.ctx, w.tenant.ID, identity.ClientCredential, tc.opt)
			if tc.mentions != "" {
				wantInvalid(t, err, tc.mentions)
				if w.store.Calls() != before {
					t.Fatal("the refused list read the store")
				}
				return
			}
			if err != nil || page.Total != tc.wantTotal || len(page.Clients) != tc.wantPage {
				t.Fatalf("page of %d of %d, %v; want %d of %d", len(page.Clients), page.Total, err, tc.wantPage, tc.wantTotal)
			}
		})
	}
	t.Run("parsed from the query", func(t *testing.T) {
		for _, tc := range []struct{ skip, count, mentions string }{
			{"-1", "", "skip"}, {"x", "", "skip"}, {"2147482648", "", "skip"}, {"", "0", "count"}, {"", "1e3", "count"},
		} {
			_, err := identity.ParseListOptions(tc.skip, tc.count, nil)
			wantInvalid(t, err, tc.mentions)
		}
		o, err := identity.ParseListOptions("", "", []string{"a", "a"})
		if err != nil || o.Skip != 0 || o.Count != identity.DefaultListCount || len(o.Tags) != 1 {
			t.Fatalf("defaults %+v, %v", o, err)
		}
	})
}

func TestSecretLimitCountsActiveSecrets(t *testing.T) {
	w := newWorld(t)
	c := w.create(t, identity.ClientCredential, identity.NewClient{SecretExpiration: ptr(w.clock.Add(time.Hour))})
	add := func() error {
		_, err := w.svc.AddSecret(w.ctx, w.tenant.ID, identity.ClientCredential, c.Client.ID, "", "Description", nil, "Expiration")
		return err
	}
	for i := 1; i < identity.MaxSecretsPerClient; i++ {
		if err := add(); err != nil {
			t.Fatalf("secret %d: %v", i+1, err)
		}
	}
	err := add()
	var e *identity.Error
	if !errors.Is(err, identity.ErrSecretLimit) || !errors.As(err, &e) || e.Limit != identity.MaxSecretsPerClient || e.Count != identity.MaxSecretsPerClient ||
		!strings.Contains(e.Message, fmt.Sprintf("(%d)", identity.MaxSecretsPerClient)) {
		t.Fatalf("add past the limit: %v (%+v)", err, e)
	}
	// The first secret expires: it no longer counts, and the add that
	// follows forgets it from the set.
	w.clock = w.clock.Add(2 * time.Hour)
	if err := add(); err != nil {
		t.Fatalf("add once a secret expired: %v", err)
	}
	set, _ := w.store.SecretSet(w.ctx, w.tenant.ID, identity.ClientCredential, c.Client.ID)
	for _, sec := range set.Secrets {
		if sec.ID == c.Secret.ID {
			t.Fatal("the expired secret still counts in the set")
		}
	}
	wantErr(t, add(), identity.ErrSecretLimit)
}

func TestSecretRecordLimitSaysWhenRecordsLeave(t *testing.T) {
	w := newWorld(t)
	c := w.create(t, identity.Hybrid, identity.NewClient{})
	firstDeletion := w.clock
	for i := 1; i < identity.MaxSecretRecordsPerClient; i++ {
		s, err := w.svc.AddSecret(w.ctx, w.tenant.ID, identity.Hybrid, c.Client.ID, "", "Description", nil, "Expiration")
		if err != nil {
			t.Fatalf("record %d: %v", i+1, err)
		}
		if _, err := w.svc.SoftDeleteSecret(w.ctx, w.tenant.ID, identity.Hybrid, c.Client.ID, s.Secret.ID); err != nil {
			t.Fatal(err)
		}
		w.clock = w.clock.Add(time.Minute)
	}
	var put []identity.MaterialRef
	w.svc.Vault = &spyVault{Vault: w.vault, put: &put}
	_, err := w.svc.AddSecret(w.ctx, w.tenant.ID, identity.Hybrid, c.Client.ID, "", "Description", nil, "Expiration")
	var e *identity.Error
	leaves := firstDeletion.Add(30 * 24 * time.Hour).Format(time.RFC3339)
	if !errors.As(err, &e) || e.Code != identity.CodeSecretRecordLimit || e.Kind != identity.KindInvalid || e.Count != identity.MaxSecretRecordsPerClient ||
		e.Limit != identity.MaxSecretRecordsPerClient || !strings.Contains(e.Hint, leaves) {
		t.Fatalf("add at the record cap: %v (%+v); want a 400 saying the oldest record leaves on %s", err, e, leaves)
	}
	if len(put) != 1 || w.vault.Has(put[0]) {
		t.Fatal("the refused add kept its material")
	}
}

func TestExpiredSecretCannotChange(t *testing.T) {
	w := newWorld(t)
	exp := w.clock.Add(time.Hour)
	c := w.create(t, identity.ClientCredential, identity.NewClient{SecretExpiration: &exp})
	later := w.clock.Add(48 * time.Hour)
	if _, err := w.svc.UpdateSecret(w.ctx, w.tenant.ID, identity.ClientCredential, c.Client.ID, c.Secret.ID, ptr("before"), &later); err != nil {
		t.Fatal(err)
	}
	w.clock = w.clock.Add(49 * time.Hour)
	_, err := w.svc.UpdateSecret(w.ctx, w.tenant.ID, identity.ClientCredential, c.Client.ID, c.Secret.ID, ptr("after"), nil)
	wantInvalid(t, err, "cannot be changed")
	if got, _ := w.svc.GetSecret(w.ctx, w.tenant.ID, identity.ClientCredential, c.Client.ID, c.Secret.ID); got.Description != "before" {
		t.Fatalf("the expired secret changed: %q", got.Description)
	}
}

func TestOperatorClientIsRefusedToTheTenantAPI(t *testing.T) {
	w := newWorld(t)
	roles := []string{"Cluster Support", "Account Member"}
	op := w.create(t, identity.ClientCredential, identity.NewClient{RoleIDs: &roles, OperatorRoles: true})
	id := op.Client.ID
	for name, err := range map[string]error{
		"update":        second(w.svc.UpdateClient(w.ctx, w.tenant.ID, identity.ClientCredential, id, identity.ClientPatch{Name: ptr("x")})),
		"delete":        w.svc.DeleteClient(w.ctx, w.tenant.ID, identity.ClientCredential, id),
		"add secret":    second(w.svc.AddSecret(w.ctx, w.tenant.ID, identity.ClientCredential, id, "", "Description", nil, "Expiration")),
		"update secret": second(w.svc.UpdateSecret(w.ctx, w.tenant.ID, identity.ClientCredential, id, op.Secret.ID, ptr("x"), nil)),
		"delete secret": w.svc.DeleteSecret(w.ctx, w.tenant.ID, identity.ClientCredential, id, op.Secret.ID),
		"soft delete":   second(w.svc.SoftDeleteSecret(w.ctx, w.tenant.ID, identity.ClientCredential, id, op.Secret.ID)),
	} {
		t.Run(name, func(t *testing.T) { wantErr(t, err, identity.ErrOperatorClient) })
	}
	if _, err := w.svc.GetClient(w.ctx, w.tenant.ID, identity.ClientCredential, id); err != nil {
		t.Fatalf("the operator client is gone: %v", err)
	}
}

func TestUpdateClientPatches(t *testing.T) {
	w := newWorld(t)
	c := w.create(t, identity.Hybrid, identity.NewClient{Tags: []string{"a"}, RedirectURIs: []string{"https://a.example.com/cb"}})
	got, err := w.svc.UpdateClient(w.ctx, w.tenant.ID, identity.Hybrid, c.Client.ID, identity.ClientPatch{Name: ptr("renamed"), Enabled: ptr(false)})
	if err != nil || got.Name != "renamed" || got.Enabled || got.Version != c.Client.Version+1 || len(got.Tags) != 1 || len(got.RedirectURIs) != 1 {
		t.Fatalf("patched %+v, %v; absent properties keep their value", got, err)
	}
	_, err = w.svc.UpdateClient(w.ctx, w.tenant.ID, identity.Hybrid, c.Client.ID, identity.ClientPatch{RoleIDs: &[]string{identity.RoleAccountMember}})
	wantInvalid(t, err, "RoleIds")
}

func TestAuthenticateClient(t *testing.T) {
	w := newWorld(t)
	exp := w.clock.Add(time.Hour)
	c := w.create(t, identity.ClientCredential, identity.NewClient{SecretExpiration: &exp})
	other, err := w.svc.AddSecret(w.ctx, w.tenant.ID, identity.ClientCredential, c.Client.ID, "", "Description", nil, "Expiration")
	if err != nil {
		t.Fatal(err)
	}
	ok := func(secret string) error { _, err := w.svc.AuthenticateClient(w.ctx, c.Client.ID, secret); return err }
	if err := ok(c.SecretString); err != nil {
		t.Fatalf("the right secret: %v", err)
	}
	for name, err := range map[string]error{
		"a wrong secret":    ok("wrong"),
		"an empty secret":   ok(""),
		"an unknown client": second(w.svc.AuthenticateClient(w.ctx, identity.NewID(), c.SecretString)),
		"a malformed id":    second(w.svc.AuthenticateClient(w.ctx, "nope", c.SecretString)),
	} {
		t.Run(name, func(t *testing.T) { wantErr(t, err, identity.ErrInvalidClient) })
	}
	t.Run("an expired secret, at once", func(t *testing.T) {
		w.clock = exp
		wantErr(t, ok(c.SecretString), identity.ErrInvalidClient)
		if err := ok(other.SecretString); err != nil {
			t.Fatalf("the other secret: %v", err)
		}
	})
	t.Run("a deleted secret, at once", func(t *testing.T) {
		if err := w.svc.DeleteSecret(w.ctx, w.tenant.ID, identity.ClientCredential, c.Client.ID, other.Secret.ID); err != nil {
			t.Fatal(err)
		}
		wantErr(t, ok(other.SecretString), identity.ErrInvalidClient)
	})
	t.Run("a disabled client", func(t *testing.T) {
		fresh, err := w.svc.AddSecret(w.ctx, w.tenant.ID, identity.ClientCredential, c.Client.ID, "", "Description", nil, "Expiration")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.svc.UpdateClient(w.ctx, w.tenant.ID, identity.ClientCredential, c.Client.ID, identity.ClientPatch{Enabled: ptr(false)}); err != nil {
			t.Fatal(err)
		}
		wantErr(t, ok(fresh.SecretString), identity.ErrInvalidClient)
	})
}

func TestLastUseIsWrittenOncePerHour(t *testing.T) {
	w := newWorld(t)
	c := w.create(t, identity.ClientCredential, identity.NewClient{})
	for range 3 {
		if _, err := w.svc.AuthenticateClient(w.ctx, c.Client.ID, c.SecretString); err != nil {
			t.Fatal(err)
		}
	}
	if n := w.store.Reads["MarkUsed"]; n != 1 {
		t.Fatalf("MarkUsed called %d times in one hour, want 1", n)
	}
	w.clock = w.clock.Add(time.Hour)
	if _, err := w.svc.AuthenticateClient(w.ctx, c.Client.ID, c.SecretString); err != nil {
		t.Fatal(err)
	}
	sec, _ := w.svc.GetSecret(w.ctx, w.tenant.ID, identity.ClientCredential, c.Client.ID, c.Secret.ID)
	if n := w.store.Reads["MarkUsed"]; n != 2 || sec.LastUsed == nil || !sec.LastUsed.Equal(w.clock.Truncate(time.Hour)) {
		t.Fatalf("MarkUsed %d times, last used %v", n, sec.LastUsed)
	}
}

func TestDeleteClientDestroysMaterial(t *testing.T) {
	w := newWorld(t)
	c := w.create(t, identity.Hybrid, identity.NewClient{})
	s, err := w.svc.AddSecret(w.ctx, w.tenant.ID, identity.Hybrid, c.Client.ID, "", "Description", nil, "Expiration")
	if err != nil {
		t.Fatal(err)
	}
	if err := w.svc.DeleteClient(w.ctx, w.tenant.ID, identity.Hybrid, c.Client.ID); err != nil {
		t.Fatal(err)
	}
	for _, sec := range []identity.Secret{c.Secret, s.Secret} {
		if w.vault.Has(ref(sec)) {
			t.Fatalf("material of %s outlived its client", sec.ID)
		}
	}
	wantErr(t, w.svc.DeleteClient(w.ctx, w.tenant.ID, identity.Hybrid, c.Client.ID), identity.ErrClientNotFound)
}

// countingVault counts the destructions a rule asks for, one by one and
// in batches.
type countingVault struct {
	*memstore.Vault
	deleted []identity.MaterialRef
	batches int
}

func (v *countingVault) DeleteVerifier(ctx context.Context, ref identity.MaterialRef) error {
	v.deleted = append(v.deleted, ref)
	return v.Vault.DeleteVerifier(ctx, ref)
}

func (v *countingVault) DeleteVerifiers(ctx context.Context, refs []identity.MaterialRef) error {
	v.deleted = append(v.deleted, refs...)
	v.batches++
	return v.Vault.DeleteVerifiers(ctx, refs)
}

// Deleting a client destroys its live secrets' material in one batch
// (one write per pack with Secrets Manager), not one call per secret.
func TestDeleteClientDestroysMaterialInOneBatch(t *testing.T) {
	w := newWorld(t)
	v := &countingVault{Vault: w.vault}
	w.svc.Vault = v
	c := w.create(t, identity.ClientCredential, identity.NewClient{})
	s, err := w.svc.AddSecret(w.ctx, w.tenant.ID, identity.ClientCredential, c.Client.ID, "", "Description", nil, "Expiration")
	if err != nil {
		t.Fatal(err)
	}
	if err := w.svc.DeleteClient(w.ctx, w.tenant.ID, identity.ClientCredential, c.Client.ID); err != nil {
		t.Fatal(err)
	}
	if v.batches != 1 || len(v.deleted) != 2 {
		t.Fatalf("%d batches destroying %v; want one batch of both secrets", v.batches, v.deleted)
	}
	for _, sec := range []identity.Secret{c.Secret, s.Secret} {
		if w.vault.Has(ref(sec)) {
			t.Fatalf("material of %s outlived its client", sec.ID)
		}
	}
}

// A swept record's material was destroyed by the sweeper: deleting its
// client destroys the live secrets' material and asks nothing of the
// vault for the swept ones.
func TestDeleteClientSkipsSweptMaterial(t *testing.T) {
	w := newWorld(t)
	v := &countingVault{Vault: w.vault}
	w.svc.Vault = v
	c := w.create(t, identity.ClientCredential, identity.NewClient{})
	var swept []identity.Secret
	for range 3 {
		s, err := w.svc.AddSecret(w.ctx, w.tenant.ID, identity.ClientCredential, c.Client.ID, "", "Description", nil, "Expiration")
		if err != nil {
			t.Fatal(err)
		}
		if !w.store.MarkSwept(c.Client.ID, s.Secret.ID) {
			t.Fatal("MarkSwept found no record")
		}
		w.vault.DeleteVerifier(w.ctx, ref(s.Secret)) // as the sweeper does
		swept = append(swept, s.Secret)
	}
	if err := w.svc.DeleteClient(w.ctx, w.tenant.ID, identity.ClientCredential, c.Client.ID); err != nil {
		t.Fatal(err)
	}
	if len(v.deleted) != 1 || v.deleted[0] != ref(c.Secret) {
		t.Fatalf("destroyed %v; want only the live secret's material %v (swept: %v)", v.deleted, ref(c.Secret), swept)
	}
	if w.vault.Has(ref(c.Secret)) {
		t.Fatal("the live secret's material outlived its client")
	}
}

func numbered(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprint(prefix, i)
	}
	return out
}

func ptr[T any](v T) *T { return &v }

func second[T any](_ T, err error) error { return err }
