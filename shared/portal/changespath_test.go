package portal

import "testing"

// The pages may call a changes path only as its template has it, each id
// one non-empty segment.
func TestIsChangesPath(t *testing.T) {
	const ten, cl = "8a3e7b0c-1d2f-4a5b-9c6d-7e8f9a0b1c2d", "1b2c3d4e-5f60-4718-89a0-b1c2d3e4f506"
	for p, want := range map[string]bool{
		"/_/op-dashboard/api/tenants/" + ten + "/client-credential-clients/" + cl + "/changes": true,
		"/_/op-dashboard/api/tenants/" + ten + "/hybrid-clients/" + cl + "/changes":            true,
		"/_/op-dashboard/api/tenants/" + ten + "/hybrid-clients/" + cl + "/x/changes":          false,
		"/_/op-dashboard/api/tenants/" + ten + "/clients/" + cl + "/changes":                   false,
		"/_/op-dashboard/api/tenants//hybrid-clients/" + cl + "/changes":                       false,
		"/_/op-dashboard/api/tenants/" + ten + "/hybrid-clients//changes":                      false,
		"/_/op-dashboard/api/tenants/" + ten + "/hybrid-clients/" + cl + "/changes/":           false,
		"/_/op-dashboard/api/tenants/" + ten + "/hybrid-clients/" + cl:                         false,
	} {
		if got := isChangesPath(p); got != want {
			t.Errorf("isChangesPath(%q) = %v, want %v", p, got, want)
		}
	}
}
