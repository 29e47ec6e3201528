package main

// minimum is the fewest AWS calls a warm request of a route can make with
// the data model the design asks for (one table; counters, registrations
// and first secrets in the same transactions; verifiers in Secrets Manager,
// cached, since material never changes; the JWKS cached by verifiers), and
// why it cannot be fewer. Write units count 2 per item in a transaction.
type minimum struct {
	calls string
	why   string
}

var minimums = map[string]minimum{
	"POST /api/v1-preview/Tenants/{tenantId}/ClientCredentialClients": {"SM CreateSecret 1, DDB TransactWriteItems 1",
		"the verifier must be stored before the records; one transaction writes client, id registration, tenant counter and first secret (+1 item per tag index entry)"},
	"GET /api/v1-preview/Tenants/{tenantId}/ClientCredentialClients": {"DDB GetItem 1 + Query 1 (≤ skip+count list copies)",
		"the kind's counter (Total-Count) is on the tenant item; the page is one Query of the list copies (ORDER#<kind>#<seq>) in creation order with Limit skip+count"},
	"GET /api/v1-preview/Tenants/{tenantId}/ClientCredentialClients/{clientId}": {"DDB GetItem 1 (1 RCU)",
		"the client item; the tenant only needs reading when the client is missing (to tell tenant from client not found)"},
	"PUT /api/v1-preview/Tenants/{tenantId}/ClientCredentialClients/{clientId}": {"DDB GetItem 1 + TransactWriteItems 1",
		"the patch merges into the stored client; client, list copy, token item (Enabled, RoleIds) and tag entries change together, conditional on the version read"},
	"DELETE /api/v1-preview/Tenants/{tenantId}/ClientCredentialClients/{clientId}": {"DDB GetItem 1 + Query 1 + TransactWriteItems 1, SM DeleteSecret per secret",
		"the client item (its list copy and tag entries to remove, its roles for the cluster-role guard) and the client's records (the material to destroy); one transaction removes them and counts the client out. Measured: one GetItem more, the guard's own read of the client"},
	"POST /api/Tenants/{tenantId}/HybridClient":              {"as Client Credential create", "same transaction"},
	"GET /api/Tenants/{tenantId}/HybridClient":               {"as Client Credential list", "same layout"},
	"GET /api/Tenants/{tenantId}/HybridClient/{clientId}":    {"DDB GetItem 1 (1 RCU)", "as Client Credential get"},
	"PUT /api/Tenants/{tenantId}/HybridClient/{clientId}":    {"DDB GetItem 1 + TransactWriteItems 1", "as Client Credential update"},
	"DELETE /api/Tenants/{tenantId}/HybridClient/{clientId}": {"as Client Credential delete", "same"},
	"GET /api/v1-preview/Tenants/{tenantId}/ClientCredentialClients/{clientId}/Secret": {"DDB Query 1",
		"the client's registration (its kind) and its secret records are one partition"},
	"POST /api/v1-preview/Tenants/{tenantId}/ClientCredentialClients/{clientId}/Secret": {"DDB GetItem 1 + TransactWriteItems 1, SM CreateSecret 1",
		"the token item (secrets, their version, the record count, the roles the cluster-role guard decides on); the verifier; then the record and its token-item entry in one transaction, conditional on that version and on fewer than 100 records"},
	"GET /api/v1-preview/Tenants/{tenantId}/ClientCredentialClients/{clientId}/Secret/{secretId}": {"DDB GetItem 1",
		"the secret record, which names its tenant and kind"},
	"PUT /api/v1-preview/Tenants/{tenantId}/ClientCredentialClients/{clientId}/Secret/{secretId}": {"DDB GetItem 2 + UpdateItem 1 (TransactWriteItems when the expiration changes)",
		"the client's roles (the cluster-role guard) and the record (an expired secret cannot be changed), then a write conditional on what was read; a new expiration changes the token item's entry in the same transaction"},
	"DELETE /api/v1-preview/Tenants/{tenantId}/ClientCredentialClients/{clientId}/Secret/{secretId}": {"DDB GetItem 1 + TransactWriteItems 1, SM DeleteSecret 1",
		"the client's roles (the cluster-role guard); the record, its token-item entry and the record count in one transaction; then the material"},
	"GET /api/v1-preview/Tenants/{tenantId}/HybridClients/{clientId}/Secret":               {"DDB Query 1", "as Client Credential"},
	"POST /api/v1-preview/Tenants/{tenantId}/HybridClients/{clientId}/Secret":              {"DDB GetItem 1 + TransactWriteItems 1, SM CreateSecret 1", "as Client Credential"},
	"GET /api/v1-preview/Tenants/{tenantId}/HybridClients/{clientId}/Secret/{secretId}":    {"DDB GetItem 1", "as Client Credential"},
	"PUT /api/v1-preview/Tenants/{tenantId}/HybridClients/{clientId}/Secret/{secretId}":    {"DDB GetItem 1 + UpdateItem 1", "as Client Credential, without the guard: Hybrid clients hold no roles"},
	"DELETE /api/v1-preview/Tenants/{tenantId}/HybridClients/{clientId}/Secret/{secretId}": {"DDB TransactWriteItems 1, SM DeleteSecret 1", "as Client Credential, without the guard"},
	"GET /api/v1-preview/Tenants/{tenantId}/Clients/{clientId}/Secret":                     {"DDB Query 1", "either kind: the registration, in the Query's partition, says which. Measured: one GetItem more, the kind is looked up first"},
	"PUT /api/v1-preview/Tenants/{tenantId}/Clients/{clientId}/Secret/{secretId}":          {"DDB GetItem 2 + UpdateItem 1", "as the OCS secret update. Measured: one GetItem more, the kind is looked up first"},
	"POST /api/tenants/{tenant}/applications/{clientId}/secrets":                           {"DDB GetItem 2 + TransactWriteItems 1, SM CreateSecret 1", "the token item (kind, secrets, roles) and the client (the answer names it), then as the OCS secret add. Measured: one GetItem more, the kind is looked up before the add reads the token item"},
	"GET /api/tenants/{tenant}/applications/{clientId}/secrets":                            {"DDB Query 1", "the registration (its kind) and the secret records are one partition. Measured: one GetItem more, the kind is looked up first"},
	"DELETE /api/tenants/{tenant}/applications/{clientId}/secrets/{id}":                    {"DDB GetItem 2 + TransactWriteItems 1, SM DeleteSecret 1", "the registration (kind) and the client (the answer, the guard's roles); the record marked and its token-item entry removed together; then the material. Measured: two GetItems more, the guard and the soft delete read again"},
	"POST /identity/connect/token": {"DDB GetItem 1 (≤ 1 RCU), no SM",
		"one item holds the client's validity and its active secrets' ids and expiries; the verifiers and the signing key are cached"},
	"POST /identity/connect/token authorization_code": {"DDB GetItem 2 + UpdateItem 1 + PutItem 1, no SM",
		"the client's token item (authentication), the code spent by one conditional UpdateItem that returns it, the tenant's upstream (removing it stops exchanges), the refresh token stored"},
	"POST /identity/connect/token refresh_token": {"DDB GetItem 3 + UpdateItem 1 + PutItem 1, no SM",
		"as a code exchange, plus its family's revocation and its session's end read; one BatchGetItem could read both (measured: GetItem 4, one each)"},
	"GET /identity/connect/authorize": {"DDB GetItem 5 + PutItem 1",
		"the client by id (its token item, then the client: redirect URIs), the tenant's upstream, the session, the consent; the code stored conditionally"},
	"POST /identity/connect/authorize": {"DDB GetItem 5 + PutItem 1", "as `GET /identity/connect/authorize`"},
	"GET /identity/connect/upstream/callback": {"DDB GetItem 4 + DeleteItem 1 + UpdateItem 1 + PutItem 2, SM GetSecretValue 1",
		"the interaction taken (conditional delete), the client and the upstream read again (revocation follows the records), the upstream's client secret, the person kept, the session and the code stored, the consent read"},
	"GET /identity/.well-known/openid-configuration":      {"none", "built from configuration"},
	"GET /_/op-dashboard":                                 {"none", "an embedded page"},
	"GET /_/op-dashboard/assets/{name}":                   {"none", "an embedded file"},
	"GET /profile":                                        {"none", "an embedded page"},
	"GET /no-access-callback":                             {"none", "an embedded page"},
	"GET /_/op-dashboard/api/last-sweep":                  {"DDB GetItem 1", "the sweeper's last summary is one item"},
	"GET /_/op-dashboard/api/profile":                     {"DDB GetItem 3 (or BatchGetItem 1)", "the caller's registration (its kind), its client and its tenant (names)"},
	"GET /identity/.well-known/openid-configuration/jwks": {"DDB GetItem 1", "what is published now, so a rotation elsewhere shows at once (0 with a short cache)"},
}
