package ocsapi_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"identityservice/shared/identity"
	"identityservice/shared/ocsapi"
)

func v1Path(family, tenantID string) string {
	return fmt.Sprintf("/api/v1/Tenants/%s/%s", tenantID, family)
}

// The v1 lists page and filter like v1-preview's, by tag (not tags), on
// Hybrid clients too; an unreadable item makes a 207 whose child error's
// ModelId is the client's id, a string.
func TestV1Lists(t *testing.T) {
	a := newFullAPI(t)
	tenantID := a.tenant(0)
	for _, family := range []string{"ClientCredentialClients", "HybridClients"} {
		t.Run(family, func(t *testing.T) {
			var ids []string
			for i := range 3 {
				body := map[string]any{"Name": fmt.Sprintf("c%d", i), "Tags": []string{fmt.Sprintf("t%d", i%2)}}
				if family == "HybridClients" {
					body["RedirectUris"] = []string{"https://app.example.com/cb"}
				}
				var c struct{ Client struct{ Id string } }
				a.do(http.MethodPost, v1Path(family, tenantID), body).JSON(t, http.StatusCreated, &c)
				ids = append(ids, c.Client.Id)
			}
			var page []struct{ Id string }
			res := a.do(http.MethodGet, v1Path(family, tenantID)+"?tag=t0&skip=1&count=1", nil)
			res.JSON(t, http.StatusOK, &page)
			if len(page) != 1 || page[0].Id != ids[2] || res.Header.Get("Total-Count") != "2" {
				t.Fatalf("tag=t0 skip=1 count=1: %s (Total-Count %s), want %s of 2", res.Body, res.Header.Get("Total-Count"), ids[2])
			}
			a.do(http.MethodGet, v1Path(family, tenantID)+"?count=0", nil).ocsError(t, http.StatusBadRequest, "count")
			a.do(http.MethodGet, v1Path(family, tenantID)+"?id="+ids[0], nil).ocsError(t, http.StatusBadRequest, "id parameter")
		})
	}

	t.Run("207", func(t *testing.T) {
		tenantID := a.tenant(0)
		var good struct{ Client struct{ Id string } }
		a.do(http.MethodPost, v1Path("ClientCredentialClients", tenantID), map[string]any{"Name": "good"}).JSON(t, http.StatusCreated, &good)
		badID := identity.NewID()
		_, err := env.Clients.DynamoDB.PutItem(context.Background(), &dynamodb.PutItemInput{
			TableName: &env.Config.Table,
			Item: map[string]ddbtypes.AttributeValue{
				"PK": &ddbtypes.AttributeValueMemberS{Value: "TENANT#" + tenantID}, "SK": &ddbtypes.AttributeValueMemberS{Value: "ORDER#CCC#9999999999999999999"},
				"ClientId": &ddbtypes.AttributeValueMemberS{Value: badID}, "Name": &ddbtypes.AttributeValueMemberN{Value: "7"},
			},
		})
		if err != nil {
			t.Fatal(err)
		}
		res := a.do(http.MethodGet, v1Path("ClientCredentialClients", tenantID), nil)
		var ms ocsapi.MultiStatusResponse[ocsapi.ClientCredentialClientV1]
		res.JSON(t, http.StatusMultiStatus, &ms)
		if len(ms.Data) != 1 || ms.Data[0].Id != good.Client.Id || ms.Data[0].AccessTokenLifetime != 3600 {
			t.Fatalf("Data %+v", ms.Data)
		}
		if len(ms.ChildErrors) != 1 || ms.ChildErrors[0].ModelId != badID || ms.ChildErrors[0].StatusCode != 500 {
			t.Fatalf("ChildErrors %+v", ms.ChildErrors)
		}
	})
}

// A v1 Hybrid client keeps its Tags and AccessTokenLifetime when the
// /api/Tenants/{tenantId}/HybridClient routes (whose contract names
// neither) change it, and shows that route's changes.
func TestV1HybridAcrossRoutes(t *testing.T) {
	a := newFullAPI(t)
	tenantID := a.tenant(0)
	var c struct {
		Client ocsapi.HybridClientV1
		Secret string
	}
	a.do(http.MethodPost, v1Path("HybridClients", tenantID), map[string]any{
		"Name": "portal", "RedirectUris": []string{"https://app.example.com/cb"}, "Tags": []string{"web"}, "AccessTokenLifetime": 900,
		"AllowOfflineAccess": true, "UnknownToV1": "ignored",
	}).JSON(t, http.StatusCreated, &c)
	if c.Client.AccessTokenLifetime != 900 || len(c.Client.Tags) != 1 || !c.Client.AllowOfflineAccess || c.Secret == "" {
		t.Fatalf("created %+v", c.Client)
	}
	a.do(http.MethodPut, hybridPath(tenantID, c.Client.Id), map[string]any{"Name": "renamed"}).JSON(t, http.StatusOK, &struct{}{})
	var got ocsapi.HybridClientV1
	a.do(http.MethodGet, v1Path("HybridClients", tenantID)+"/"+c.Client.Id, nil).JSON(t, http.StatusOK, &got)
	if got.Name != "renamed" || got.AccessTokenLifetime != 900 || len(got.Tags) != 1 || got.Tags[0] != "web" {
		t.Fatalf("after a HybridClient PUT: %+v", got)
	}
	// The v1-preview Hybrid route still refuses what its contract lacks.
	a.do(http.MethodPut, hybridPath(tenantID, c.Client.Id), map[string]any{"AccessTokenLifetime": 60}).ocsError(t, http.StatusBadRequest, "AccessTokenLifetime")
}
