package identity_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"identityservice/shared/identity"
)

func wantInvalid(t *testing.T, err error, contains string) {
	t.Helper()
	var e *identity.Error
	if !errors.As(err, &e) || e.Kind != identity.KindInvalid {
		t.Fatalf("want an invalid-input error, got %v", err)
	}
	if !strings.Contains(e.Message+" "+e.Hint, contains) {
		t.Fatalf("error %q / %q does not mention %q", e.Message, e.Hint, contains)
	}
}

func TestParseGUID(t *testing.T) {
	for _, tc := range []struct {
		name, in, want, bad string
	}{
		{name: "lower", in: "3f2504e0-4f89-41d3-9a0c-0305e82c3301", want: "3f2504e0-4f89-41d3-9a0c-0305e82c3301"},
		{name: "upper is lowered", in: "3F2504E0-4F89-41D3-9A0C-0305E82C3301", want: "3f2504e0-4f89-41d3-9a0c-0305e82c3301"},
		{name: "no hyphens", in: "3f2504e04f8941d39a0c0305e82c3301", bad: "is not a GUID"},
		{name: "braces", in: "{3f2504e0-4f89-41d3-9a0c-0305e82c3301}", bad: "is not a GUID"},
		{name: "empty GUID", in: "00000000-0000-0000-0000-000000000000", bad: "empty GUID"},
		{name: "text", in: "ClientId", bad: "is not a GUID"},
		{name: "empty", in: "", bad: "is not a GUID"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := identity.ParseGUID("ClientId", tc.in)
			if tc.bad != "" {
				wantInvalid(t, err, tc.bad)
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("got %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}

func TestNormalizeRoleIDs(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   []string
		want []string
		bad  string
	}{
		{name: "member", in: []string{identity.RoleAccountMember}, want: []string{identity.RoleAccountMember}},
		{name: "admin and member, duplicates dropped", in: []string{identity.RoleAccountAdministrator, strings.ToUpper(identity.RoleAccountMember), identity.RoleAccountMember},
			want: []string{identity.RoleAccountAdministrator, identity.RoleAccountMember}},
		{name: "missing member", in: []string{identity.RoleAccountAdministrator}, bad: "Account Member"},
		{name: "empty", in: []string{}, bad: "Account Member"},
		{name: "cluster operator", in: []string{identity.RoleAccountMember, identity.RoleClusterOperator}, bad: "cluster role"},
		{name: "cluster support", in: []string{identity.RoleClusterSupport, identity.RoleAccountMember}, bad: "cluster role"},
		{name: "unknown role", in: []string{identity.RoleAccountMember, "3f2504e0-4f89-41d3-9a0c-0305e82c3301"}, bad: "not a known role"},
		{name: "not a GUID", in: []string{"admin"}, bad: "RoleIds[0]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := identity.NormalizeRoleIDs(tc.in)
			if tc.bad != "" {
				wantInvalid(t, err, tc.bad)
				return
			}
			if err != nil || strings.Join(got, ",") != strings.Join(tc.want, ",") {
				t.Fatalf("got %v, %v; want %v", got, err, tc.want)
			}
		})
	}
}

func TestNormalizeTags(t *testing.T) {
	many := make([]string, identity.MaxTags+1)
	for i := range many {
		many[i] = strings.Repeat("t", i+1)
	}
	for _, tc := range []struct {
		name string
		in   []string
		want int
		bad  string
	}{
		{name: "dedupe", in: []string{"a", "b", "a"}, want: 2},
		{name: "none", in: nil, want: 0},
		{name: "blank", in: []string{"a", " "}, bad: "Tags[1] is blank"},
		{name: "too long", in: []string{strings.Repeat("x", identity.MaxTagLength+1)}, bad: "the limit is 128"},
		{name: "control", in: []string{"a\nb"}, bad: "control"},
		{name: "zero-width space", in: []string{"prod\u200b"}, bad: "U+200B"},
		{name: "bidi override", in: []string{"a\u202eb"}, bad: "invisible formatting character U+202E"},
		{name: "too many", in: many[:identity.MaxTags+1], bad: "the limit is 50"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := identity.NormalizeTags(tc.in)
			if tc.bad != "" {
				wantInvalid(t, err, tc.bad)
				return
			}
			if err != nil || len(got) != tc.want {
				t.Fatalf("got %v, %v; want %d tags", got, err, tc.want)
			}
		})
	}
}

func TestValidateName(t *testing.T) {
	for _, tc := range []struct{ name, in, bad string }{
		{name: "ok", in: "billing-service"},
		{name: "unicode at the limit", in: strings.Repeat("é", identity.MaxNameLength)},
		{name: "blank", in: "  ", bad: "required"},
		{name: "too long", in: strings.Repeat("a", identity.MaxNameLength+1), bad: "the limit is 200"},
		{name: "control", in: "a\tb", bad: "control"},
		{name: "bidi override and zero-width space", in: "demo administrator\u202e\u200b", bad: "invisible formatting character U+202E"},
		{name: "zero-width joiner", in: "ad\u200dmin", bad: "U+200D"},
		{name: "byte order mark", in: "\ufeffadmin", bad: "U+FEFF"},
		{name: "left-to-right isolate", in: "admin\u2066", bad: "U+2066"},
		{name: "line separator", in: "a\u2028b", bad: "U+2028"},
		{name: "accents and scripts are fine", in: "Zoë's 請求 service — ünïcode"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := identity.ValidateName(tc.in)
			if tc.bad != "" {
				wantInvalid(t, err, tc.bad)
			} else if err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestParseTimeAndExpiration(t *testing.T) {
	now := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name, in string
		want     time.Time
		bad      string
	}{
		{name: "offset with 7 fraction digits", in: "2027-04-30T11:35:12.3647771-07:00", want: time.Date(2027, 4, 30, 18, 35, 12, 364777100, time.UTC)},
		{name: "zulu", in: "2027-01-01T00:00:00Z", want: time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)},
		{name: "no offset is UTC", in: "2027-01-01T08:00:00", want: time.Date(2027, 1, 1, 8, 0, 0, 0, time.UTC)},
		{name: "date only", in: "2027-01-01", want: time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)},
		{name: "garbage", in: "tomorrow", bad: "not a date-time"},
		{name: "past", in: "2020-01-01T00:00:00Z", bad: "not in the future"},
		{name: "now is not future", in: "2026-11-22T12:00:00Z", bad: "not in the future"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := identity.ParseTime("SecretExpirationDate", tc.in)
			if err == nil {
				err = identity.ValidateExpiration("SecretExpirationDate", &got, now)
			}
			if tc.bad != "" {
				wantInvalid(t, err, tc.bad)
				return
			}
			if err != nil || !got.Equal(tc.want) {
				t.Fatalf("got %v, %v; want %v", got, err, tc.want)
			}
		})
	}
}

func TestValidateRedirectURI(t *testing.T) {
	for _, tc := range []struct{ in, bad string }{
		{in: "https://app.example.com/cb"},
		{in: "http://localhost:5000/cb"},
		{in: "http://127.0.0.1/cb"},
		{in: "http://[::1]:8080/cb"},
		{in: "com.example.app:/oauth2redirect"},
		{in: "https://app.example.com/cb#frag", bad: "fragment"},
		{in: "http://app.example.com/cb", bad: "not loopback"},
		{in: "http://127.127.0.9/cb"},
		{in: "http://127.example.com/cb", bad: "not loopback"},
		{in: "http://127.0.0.1.nip.io/cb", bad: "not loopback"},
		{in: "/relative/cb", bad: "not an absolute URI"},
		{in: "javascript:alert(1)", bad: "not allowed"},
		{in: "https:///nohost", bad: "no host"},
	} {
		t.Run(tc.in, func(t *testing.T) {
			err := identity.ValidateRedirectURI("RedirectUris[0]", tc.in)
			if tc.bad != "" {
				wantInvalid(t, err, tc.bad)
			} else if err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestSecretVerification(t *testing.T) {
	ref := identity.MaterialRef{TenantID: identity.NewID(), ClientID: identity.NewID(), SecretID: identity.NewID()}
	plain, verifier, err := identity.GenerateSecret(ref)
	if err != nil {
		t.Fatal(err)
	}
	if len(plain) != 43 {
		t.Fatalf("secret %d characters, want 43 (256 bits, base64url)", len(plain))
	}
	if strings.Contains(string(verifier), plain) {
		t.Fatal("verifier contains the secret")
	}
	if !identity.VerifySecret(ref, plain, verifier) {
		t.Fatal("the secret does not verify")
	}
	if identity.VerifySecret(ref, plain[:42]+"A", verifier) && plain[42] != 'A' {
		t.Fatal("a different secret verifies")
	}
	other, _, _ := identity.GenerateSecret(ref)
	if other == plain {
		t.Fatal("two secrets are equal")
	}
}

func TestSecretActive(t *testing.T) {
	now := time.Now()
	past, future := now.Add(-time.Second), now.Add(time.Hour)
	for _, tc := range []struct {
		name string
		s    identity.Secret
		want bool
	}{
		{"no expiry", identity.Secret{}, true},
		{"future", identity.Secret{Expiration: &future}, true},
		{"expired", identity.Secret{Expiration: &past}, false},
		{"at the instant", identity.Secret{Expiration: &now}, false},
		{"deleted", identity.Secret{DeletedAt: &past}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.s.Active(now); got != tc.want {
				t.Fatalf("Active = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestClientKind(t *testing.T) {
	var zero identity.ClientKind
	if zero.Valid() {
		t.Fatal("the zero ClientKind is a kind; it must mean none")
	}
	if _, ok := identity.ParseClientKind(""); ok {
		t.Fatal(`"" parses as a kind`)
	}
	for _, k := range identity.ClientKinds {
		got, ok := identity.ParseClientKind(k.String())
		if !ok || got != k || !k.Valid() {
			t.Fatalf("kind %v: parsed %v, %v", k, got, ok)
		}
	}
}

func TestSecretChangeable(t *testing.T) {
	now := time.Now()
	past, future := now.Add(-time.Second), now.Add(time.Hour)
	for _, tc := range []struct {
		name string
		s    identity.Secret
		want bool
	}{
		{"no expiry", identity.Secret{}, true},
		{"future", identity.Secret{Expiration: &future}, true},
		{"expired", identity.Secret{Expiration: &past}, false},
		{"swept", identity.Secret{Expiration: &future, Swept: true}, false},
		{"soft-deleted", identity.Secret{DeletedAt: &past}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.s.Changeable(now); got != tc.want {
				t.Fatalf("Changeable = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestValidateDescription(t *testing.T) {
	for _, tc := range []struct{ name, in, bad string }{
		{name: "ok", in: "rotated in March"},
		{name: "empty", in: ""},
		{name: "control", in: "a\nb", bad: "control"},
		{name: "bidi override", in: "expires 2030\u202e", bad: "invisible formatting character U+202E"},
		{name: "zero-width space", in: "a\u200bb", bad: "U+200B"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := identity.ValidateDescription("Description", tc.in)
			if tc.bad != "" {
				wantInvalid(t, err, tc.bad)
			} else if err != nil {
				t.Fatal(err)
			}
		})
	}
}
