package apitest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"identityservice/shared/identity"
)

// roleIDCases are RoleIds a Client Credential client may or may not be
// given through the tenant API. want is the stored roles of an accepted
// list; nil means the list is a 400.
var roleIDCases = []struct {
	name    string
	roleIDs []string
	want    []string
}{
	{"unknown role GUID", []string{identity.RoleAccountMember, "0f8fad5b-d9cb-469f-a165-70867728950e"}, nil},
	{"Cluster Operator", []string{identity.RoleAccountMember, identity.RoleClusterOperator}, nil},
	{"Cluster Support", []string{identity.RoleAccountMember, identity.RoleClusterSupport}, nil},
	{"Cluster Operator in upper case", []string{identity.RoleAccountMember, strings.ToUpper(identity.RoleClusterOperator)}, nil},
	{"Cluster Operator alone", []string{identity.RoleClusterOperator}, nil},
	{"without Account Member", []string{identity.RoleAccountAdministrator}, nil},
	{"empty", []string{}, nil},
	{"a role name instead of its id", []string{"Account Member"}, nil},
	{"Account Member", []string{identity.RoleAccountMember}, []string{identity.RoleAccountMember}},
	{"Account Administrator and Account Member", []string{identity.RoleAccountAdministrator, identity.RoleAccountMember},
		[]string{identity.RoleAccountAdministrator, identity.RoleAccountMember}},
}

// sameRoles compares role lists as sets.
func sameRoles(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

// checkRoleIDsRefused checks a 400 whose reason is the RoleIds.
func checkRoleIDsRefused(t *testing.T, res response) {
	t.Helper()
	var e ocsError
	if res.Status != http.StatusBadRequest || json.Unmarshal(res.Body, &e) != nil {
		t.Fatalf("got %s, want 400", res)
	}
	if !strings.Contains(e.Reason, "RoleIds") {
		t.Errorf("the 400 is not about RoleIds: %s", res.Body)
	}
}

// The tenant API grants only known tenant roles, always with Account
// Member; a cluster role through it would be privilege escalation. A
// refused create stores nothing.
func TestClientRoleIDsOnCreate(t *testing.T) {
	s := api(t)
	admin := s.callers[accountAdmin]
	for _, tc := range roleIDCases {
		t.Run(tc.name, func(t *testing.T) {
			id := identity.NewID()
			res := s.as(t, admin, http.MethodPost, fmt.Sprintf(cccPath, s.tenant),
				map[string]any{"ClientId": id, "Name": "roles: " + tc.name, "RoleIds": tc.roleIDs})
			get := s.as(t, admin, http.MethodGet, fmt.Sprintf(cccPath+"/%s", s.tenant, id), nil)
			if tc.want == nil {
				checkRoleIDsRefused(t, res)
				if get.Status != http.StatusNotFound {
					t.Errorf("a refused create left a client behind: %s", get)
				}
				return
			}
			var c createdClient
			if res.Status != http.StatusCreated || json.Unmarshal(res.Body, &c) != nil || !sameRoles(c.RoleIds, tc.want) {
				t.Fatalf("got %s, want 201 with RoleIds %v", res, tc.want)
			}
			if err := json.Unmarshal(get.Body, &c); err != nil || get.Status != http.StatusOK || !sameRoles(c.RoleIds, tc.want) {
				t.Errorf("stored client %s, want RoleIds %v", get, tc.want)
			}
		})
	}
}

// The same rules hold on update; a refused update changes nothing.
func TestClientRoleIDsOnUpdate(t *testing.T) {
	s := api(t)
	admin := s.callers[accountAdmin]
	for _, tc := range roleIDCases {
		t.Run(tc.name, func(t *testing.T) {
			c := s.createClient(t, map[string]any{"Name": "roles update: " + tc.name})
			path := fmt.Sprintf(cccPath+"/%s", s.tenant, c.ClientId)
			res := s.as(t, admin, http.MethodPut, path, map[string]any{"RoleIds": tc.roleIDs})
			want := tc.want
			if want == nil {
				checkRoleIDsRefused(t, res)
				want = []string{identity.RoleAccountMember} // unchanged
			} else if res.Status != http.StatusOK {
				t.Fatalf("got %s, want 200", res)
			}
			var stored createdClient
			get := s.as(t, admin, http.MethodGet, path, nil)
			if get.Status != http.StatusOK || json.Unmarshal(get.Body, &stored) != nil || !sameRoles(stored.RoleIds, want) {
				t.Errorf("stored client %s, want RoleIds %v", get, want)
			}
		})
	}
}
