package identity

// Role ids. Tenant roles can be granted through the tenant API; cluster roles
// only through the admin CLI.
const (
	RoleAccountAdministrator = "2dc742ab-39ea-4fc0-a39e-2bcb71c26a5f"
	RoleAccountMember        = "7ad2b9ef-5386-4ead-ac9f-ad99c5c5b977"
	RoleClusterOperator      = "c181a80b-f68f-4337-b944-5d0570881504"
	RoleClusterSupport       = "54353f71-56c7-41e4-887f-5c2fe95f476a"
)

// Role is a named role.
type Role struct {
	ID      string
	Name    string
	Cluster bool // acts in any tenant; never granted through the tenant API
}

// Roles lists every role the service knows.
var Roles = []Role{
	{ID: RoleAccountAdministrator, Name: "Account Administrator"},
	{ID: RoleAccountMember, Name: "Account Member"},
	{ID: RoleClusterOperator, Name: "Cluster Operator", Cluster: true},
	{ID: RoleClusterSupport, Name: "Cluster Support", Cluster: true},
}

// RoleByID returns the role with this id.
func RoleByID(id string) (Role, bool) {
	for _, r := range Roles {
		if r.ID == id {
			return r, true
		}
	}
	return Role{}, false
}

// RoleByName returns the role with this name or id.
func RoleByName(name string) (Role, bool) {
	for _, r := range Roles {
		if r.Name == name || r.ID == name {
			return r, true
		}
	}
	return Role{}, false
}
