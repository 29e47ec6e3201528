package identity_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"identityservice/shared/identity"
)

// tampered is the token item as a function without the seal key could
// leave it: the store's answer with some of what a token says changed.
type tampered struct {
	identity.Credentials
	change func(*identity.Client)
}

func (t tampered) ClientForAuthentication(ctx context.Context, clientID string) (identity.Client, []identity.Secret, error) {
	c, secrets, err := t.Credentials.ClientForAuthentication(ctx, clientID)
	if err == nil {
		t.change(&c)
	}
	return c, secrets, err
}

// What a token says of its client (tenant, kind, roles, enabled state,
// lifetime) cannot be changed by writing the token item without the seal
// key: the client then gets no token at all. Before the seal, each of
// these authenticated and the token carried the changed value.
func TestTokenItemSealHoldsWhatATokenSays(t *testing.T) {
	w := newWorld(t)
	member := w.create(t, identity.ClientCredential, identity.NewClient{})
	disabled := w.create(t, identity.ClientCredential, identity.NewClient{Enabled: ptr(false)})
	other, err := w.svc.CreateTenant(w.ctx, "", "other", 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.svc.AuthenticateClient(w.ctx, member.Client.ID, member.SecretString); err != nil {
		t.Fatalf("untouched, sealed by the client function: %v", err)
	}
	for _, tc := range []struct {
		name   string
		client identity.CreatedClient
		change func(*identity.Client)
	}{
		{"RoleIds given Cluster Operator", member, func(c *identity.Client) {
			c.RoleIDs = append(c.RoleIDs, identity.RoleClusterOperator)
		}},
		{"RoleIds given Account Administrator", member, func(c *identity.Client) {
			c.RoleIDs = []string{identity.RoleAccountAdministrator, identity.RoleAccountMember}
		}},
		{"TenantId moved to another tenant", member, func(c *identity.Client) { c.TenantID = other.ID }},
		{"Kind changed", member, func(c *identity.Client) { c.Kind = identity.Hybrid }},
		{"Enabled set on a disabled client", disabled, func(c *identity.Client) { c.Enabled = true }},
		{"AccessTokenLifetime changed", member, func(c *identity.Client) { c.AccessTokenLifetime = identity.MinAccessTokenLifetime }},
		{"the seal removed", member, func(c *identity.Client) { c.TokenSeal = nil }},
		{"another client's seal copied", member, func(c *identity.Client) {
			o, _, _ := w.store.ClientForAuthentication(w.ctx, disabled.Client.ID)
			c.TokenSeal = o.TokenSeal
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			svc := &identity.Service{Stores: w.svc.Stores, Vault: w.vault, SealKeys: w.svc.SealKeys, Now: w.svc.Now, Log: w.svc.Log,
				Pause: w.svc.Pause}
			svc.Credentials = tampered{Credentials: w.store, change: tc.change}
			c, err := svc.AuthenticateClient(w.ctx, tc.client.Client.ID, tc.client.SecretString)
			if err == nil {
				t.Fatalf("authenticated, as tenant %s with roles %v", c.TenantID, c.RoleIDs)
			}
			wantErr(t, err, identity.ErrInvalidClient)
		})
	}
	t.Run("a change by the client function is sealed again", func(t *testing.T) {
		if _, err := w.svc.UpdateClient(w.ctx, w.tenant.ID, identity.ClientCredential, disabled.Client.ID, identity.ClientPatch{Enabled: ptr(true),
			RoleIDs: &[]string{identity.RoleAccountAdministrator, identity.RoleAccountMember}}); err != nil {
			t.Fatal(err)
		}
		c, err := w.svc.AuthenticateClient(w.ctx, disabled.Client.ID, disabled.SecretString)
		if err != nil || !slices.Contains(c.RoleIDs, identity.RoleAccountAdministrator) {
			t.Fatalf("after the update: %v, roles %v", err, c.RoleIDs)
		}
	})
	t.Run("without a seal key nothing is created", func(t *testing.T) {
		svc := &identity.Service{Stores: w.svc.Stores, Vault: w.vault, Now: w.svc.Now, Log: w.svc.Log}
		if _, err := svc.CreateClient(w.ctx, w.tenant.ID, identity.NewClient{Kind: identity.ClientCredential, Name: "unsealed"}); err == nil {
			t.Fatal("a client was created without a seal")
		}
	})
}

// A verifier is bound to its record (tenant, client and secret ids): one
// planted under another record's name, even the verifier of a secret the
// planter knows, authenticates nothing there. Before the binding the
// verifier was SHA-256 of the secret alone, and a copy authenticated.
func TestPlantedVerifierAuthenticatesNothing(t *testing.T) {
	w := newWorld(t)
	attacker := w.create(t, identity.ClientCredential, identity.NewClient{})
	victim := w.create(t, identity.ClientCredential, identity.NewClient{})
	mine, err := w.vault.Verifier(w.ctx, ref(attacker.Secret))
	if err != nil {
		t.Fatal(err)
	}
	if err := w.vault.PutVerifier(w.ctx, ref(victim.Secret), mine); err != nil {
		t.Fatal(err)
	}
	if c, err := w.svc.AuthenticateClient(w.ctx, victim.Client.ID, attacker.SecretString); err == nil {
		t.Fatalf("the attacker's secret authenticated as %s", c.ID)
	}
	// The verifier as an unbound derivation would make it.
	other := identity.MaterialRef{TenantID: attacker.Secret.TenantID, ClientID: attacker.Secret.ClientID, SecretID: victim.Secret.ID}
	for name, r := range map[string]identity.MaterialRef{
		"another client":    ref(victim.Secret),
		"another secret id": other,
		"another tenant":    {TenantID: identity.NewID(), ClientID: attacker.Secret.ClientID, SecretID: attacker.Secret.ID},
	} {
		if identity.VerifySecret(r, attacker.SecretString, mine) {
			t.Errorf("the verifier of one record verifies under %s", name)
		}
	}
	if !identity.VerifySecret(ref(attacker.Secret), attacker.SecretString, mine) {
		t.Fatal("the verifier does not verify its own record")
	}
}

// Every failed authentication is held until the failure floor after it
// began, whatever failed (an unknown id costs one read, a wrong secret of
// a cold client a Secrets Manager read too), so its time tells nothing;
// a success is never held. The durations asked of Pause are what the
// code decided, not a measured time: make bench measures the times.
func TestFailedAuthenticationsAreHeldToTheFloor(t *testing.T) {
	w := newWorld(t)
	floor := 80 * time.Millisecond
	w.svc.AuthFailureFloor = floor
	exp := w.clock.Add(time.Hour)
	c := w.create(t, identity.ClientCredential, identity.NewClient{SecretExpiration: &exp})
	disabled := w.create(t, identity.ClientCredential, identity.NewClient{Enabled: ptr(false)})
	expired := w.create(t, identity.ClientCredential, identity.NewClient{SecretExpiration: &exp})
	auth := func(id, secret string) error { _, err := w.svc.AuthenticateClient(w.ctx, id, secret); return err }

	w.pauses = nil
	if err := auth(c.Client.ID, c.SecretString); err != nil {
		t.Fatal(err)
	}
	if len(w.pauses) != 0 {
		t.Fatalf("a success was held %v", w.pauses)
	}
	for _, tc := range []struct {
		name string
		run  func() error
	}{
		{"an unknown id", func() error { return auth(identity.NewID(), c.SecretString) }},
		{"a malformed id", func() error { return auth("nope", c.SecretString) }},
		{"an empty secret", func() error { return auth(c.Client.ID, "") }},
		{"a wrong secret", func() error { return auth(c.Client.ID, "wrong") }},
		{"a disabled client", func() error { return auth(disabled.Client.ID, disabled.SecretString) }},
		{"an expired secret", func() error {
			w.clock = exp
			defer func() { w.clock = exp.Add(-time.Hour) }()
			return auth(expired.Client.ID, expired.SecretString)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w.pauses = nil
			wantErr(t, tc.run(), identity.ErrInvalidClient)
			if len(w.pauses) != 1 {
				t.Fatalf("held %d times, want once", len(w.pauses))
			}
			// The wait is the floor less the little the in-memory store took.
			if d := w.pauses[0]; d <= floor-50*time.Millisecond || d > floor {
				t.Fatalf("held %v, want up to the floor %v", d, floor)
			}
		})
	}
	if got := (&identity.Service{}).FailureFloor(); got != identity.DefaultFailureFloor {
		t.Fatalf("default floor %v, want %v", got, identity.DefaultFailureFloor)
	}
}
