package faultmatrix

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"identityservice/shared/identity"
	"identityservice/shared/signin"
	"identityservice/shared/store/layout"
	"identityservice/shared/tokenapi"
)

// revocationOp revokes a refresh token (RFC 7009) through the token
// function: one read of the token, one conditional write of its family's
// revocation. Its invariants: a 200 means the family is revoked; after a
// 5xx the client's retry gets a 200 and the family is revoked; no other
// family is touched; and no token of a revoked family refreshes (the
// family's other live token is refused at the token endpoint).
func revocationOp() operation {
	type family struct{ revoked, sibling, other string } // raw tokens
	var toks family
	var revokedID, otherID string
	return operation{
		name: "refresh token revocation", family: oauthFamily, ok: http.StatusOK,
		setup: func(r *mrun) {
			r.client = r.w.createClient(identity.Hybrid, nil, "")
			r.know(r.client)
			st := r.w.clean.SignIn()
			revokedID, otherID = signin.HashKey(identity.NewID()), signin.HashKey(identity.NewID())
			toks = family{identity.NewID(), identity.NewID(), identity.NewID()}
			for raw, fam := range map[string]string{toks.revoked: revokedID, toks.sibling: revokedID, toks.other: otherID} {
				t := signin.RefreshToken{Hash: signin.HashKey(raw), FamilyID: fam, ClientID: r.client.Client.ID, TenantID: r.w.tenant,
					Subject: "matrix-person", SessionID: "matrix-session", Scopes: []string{"openid", "offline_access"}, Expires: time.Now().Add(time.Hour)}
				if err := st.CreateRefresh(context.Background(), t); err != nil {
					r.w.t.Fatal(err)
				}
			}
		},
		do: func(r *mrun) response {
			return r.w.formRequest(r.w.h, r.ctx, tokenapi.RevocationPath, url.Values{"token": {toks.revoked}, "token_type_hint": {"refresh_token"}}, r.client)
		},
		answer: func(r *mrun, res response, snap snapshot) violations {
			var v violations
			revoked := r.w.familyRevoked(revokedID)
			if res.Status == http.StatusOK && !revoked {
				v.addf("revocation answered 200 but family %s is not revoked", revokedID)
			}
			if !revoked {
				// The client retries the failed revocation, as RFC 7009 2.2.1 asks.
				if got := r.w.formRequest(r.w.cleanH, context.Background(), tokenapi.RevocationPath, url.Values{"token": {toks.revoked}}, r.client); got.Status != http.StatusOK {
					v.addf("retry of the revocation: %s", got)
				}
				if !r.w.familyRevoked(revokedID) {
					v.addf("family %s not revoked after the retry answered 200", revokedID)
				}
			}
			if r.w.familyRevoked(otherID) {
				v.addf("revoking a token of family %s revoked family %s too", revokedID, otherID)
			}
			// No revoked family issues anything: its other token is refused.
			got := r.w.formRequest(r.w.cleanH, context.Background(), tokenapi.TokenPath, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {toks.sibling}}, r.client)
			if got.Status != http.StatusBadRequest || !strings.Contains(string(got.Body), "invalid_grant") {
				v.addf("a token of the revoked family refreshed: %s", got)
			}
			return v
		},
	}
}

// familyRevoked reports whether a refresh token family's revocation is
// stored (read directly, strongly consistent).
func (w *world) familyRevoked(familyID string) bool {
	out, err := env.Clients.DynamoDB.GetItem(context.Background(), &dynamodb.GetItemInput{TableName: &w.table,
		Key: layout.Key("FAMILY#"+familyID, "#FAMILY"), ConsistentRead: aws.Bool(true)})
	if err != nil {
		w.t.Fatal(err)
	}
	return out.Item != nil
}

// formRequest posts form to h at path with c's credentials (HTTP Basic).
func (w *world) formRequest(h http.Handler, ctx context.Context, path string, form url.Values, c identity.CreatedClient) response {
	req := httptest.NewRequestWithContext(ctx, http.MethodPost, path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(c.Client.ID), url.QueryEscape(c.SecretString))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return response{Status: rec.Code, Header: rec.Header(), Body: rec.Body.Bytes()}
}
