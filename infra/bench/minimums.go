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
	"GET /api/v1-preview/Tenants/{tenantId}/ClientCredentialClients": {"DDB Query 1 (≤ skip+count items + the counter; 1 RCU for count=10)",
		"the tenant's counter item sorts before its clients, so one Query with Limit returns both"},
	"GET /api/v1-preview/Tenants/{tenantId}/ClientCredentialClients/{clientId}": {"DDB GetItem 1 (1 RCU)",
		"the client item; the tenant only needs reading when the client is missing (to tell tenant from client not found)"},
	"PUT /api/v1-preview/Tenants/{tenantId}/ClientCredentialClients/{clientId}": {"DDB GetItem 1 + UpdateItem 1 (TransactWriteItems when tags change)",
		"the patch merges into the stored client (and tag index items follow the old tags); the write is conditional on the version read"},
	"DELETE /api/v1-preview/Tenants/{tenantId}/ClientCredentialClients/{clientId}": {"DDB Query 1 + TransactWriteItems 1, SM DeleteSecret per secret",
		"the client's secret records name the material to destroy; one transaction removes client, registration, counter, records"},
	"POST /api/Tenants/{tenantId}/HybridClient":              {"as Client Credential create", "same transaction"},
	"GET /api/Tenants/{tenantId}/HybridClient":               {"as Client Credential list", "same layout"},
	"GET /api/Tenants/{tenantId}/HybridClient/{clientId}":    {"DDB GetItem 1 (1 RCU)", "as Client Credential get"},
	"PUT /api/Tenants/{tenantId}/HybridClient/{clientId}":    {"DDB GetItem 1 + UpdateItem 1", "as Client Credential update"},
	"DELETE /api/Tenants/{tenantId}/HybridClient/{clientId}": {"as Client Credential delete", "same"},
	"GET /api/v1-preview/Tenants/{tenantId}/ClientCredentialClients/{clientId}/Secret": {"DDB Query 1",
		"the client's registration (its kind) and its secret records are one partition"},
	"POST /api/v1-preview/Tenants/{tenantId}/ClientCredentialClients/{clientId}/Secret": {"SM CreateSecret 1, DDB TransactWriteItems 1",
		"verifier first; the record and the client's active-secret count (≤ 10) in one transaction"},
	"GET /api/v1-preview/Tenants/{tenantId}/ClientCredentialClients/{clientId}/Secret/{secretId}": {"DDB BatchGetItem or Query 1",
		"the secret record and the registration (kind check) in one request"},
	"PUT /api/v1-preview/Tenants/{tenantId}/ClientCredentialClients/{clientId}/Secret/{secretId}": {"DDB UpdateItem 1 (+1 read for the answer's kind check)",
		"conditional on not expired and not deleted; ALL_NEW returns the answer"},
	"DELETE /api/v1-preview/Tenants/{tenantId}/ClientCredentialClients/{clientId}/Secret/{secretId}": {"DDB TransactWriteItems 1, SM DeleteSecret 1",
		"the record and the active count together, then the material"},
	"GET /api/v1-preview/Tenants/{tenantId}/HybridClients/{clientId}/Secret":               {"DDB Query 1", "as Client Credential"},
	"POST /api/v1-preview/Tenants/{tenantId}/HybridClients/{clientId}/Secret":              {"SM CreateSecret 1, DDB TransactWriteItems 1", "as Client Credential"},
	"GET /api/v1-preview/Tenants/{tenantId}/HybridClients/{clientId}/Secret/{secretId}":    {"DDB BatchGetItem or Query 1", "as Client Credential"},
	"PUT /api/v1-preview/Tenants/{tenantId}/HybridClients/{clientId}/Secret/{secretId}":    {"DDB UpdateItem 1 (+1 read)", "as Client Credential"},
	"DELETE /api/v1-preview/Tenants/{tenantId}/HybridClients/{clientId}/Secret/{secretId}": {"DDB TransactWriteItems 1, SM DeleteSecret 1", "as Client Credential"},
	"GET /api/v1-preview/Tenants/{tenantId}/Clients/{clientId}/Secret":                     {"DDB Query 1", "either kind: the registration says which"},
	"PUT /api/v1-preview/Tenants/{tenantId}/Clients/{clientId}/Secret/{secretId}":          {"DDB UpdateItem 1 (+1 read)", "as the OCS secret update"},
	"POST /api/tenants/{tenant}/applications/{clientId}/secrets":                           {"SM CreateSecret 1, DDB TransactWriteItems 1", "as the OCS secret add"},
	"GET /api/tenants/{tenant}/applications/{clientId}/secrets":                            {"DDB Query 1", "the client and its secrets"},
	"DELETE /api/tenants/{tenant}/applications/{clientId}/secrets/{id}":                    {"DDB TransactWriteItems 1 (soft delete)", "the record marked and the active count, together"},
	"POST /identity/connect/token": {"DDB GetItem 1 (≤ 1 RCU), no SM",
		"one item holds the client's validity and its active secrets' ids and expiries; the verifiers and the signing key are cached"},
	"GET /identity/.well-known/openid-configuration":      {"none", "built from configuration"},
	"GET /_/op-dashboard":                                 {"none", "an embedded page"},
	"GET /_/op-dashboard/assets/{name}":                   {"none", "an embedded file"},
	"GET /profile":                                        {"none", "an embedded page"},
	"GET /no-access-callback":                             {"none", "an embedded page"},
	"GET /_/op-dashboard/api/last-sweep":                  {"DDB GetItem 1", "the sweeper's last summary is one item"},
	"GET /_/op-dashboard/api/profile":                     {"DDB BatchGetItem 1", "the caller's client and its tenant (names), in one request"},
	"GET /identity/.well-known/openid-configuration/jwks": {"DDB GetItem 1", "what is published now, so a rotation elsewhere shows at once (0 with a short cache)"},
}
