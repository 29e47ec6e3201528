package tokenapi_test

import (
	"context"
	"net/http"
	"path/filepath"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"identityservice/infra/iam"
	"identityservice/shared/identity"
	"identityservice/shared/store/layout"
)

// The attack of issue 18 against DynamoDB Local and moto: with the
// sweeper's rights (its role may UpdateItem the CLIENT# partition, which
// the IAM evaluator confirms below), one UpdateItem of RoleIds on an
// Account Member client's token item. Before the token item was sealed the
// client's next token carried Cluster Operator; now it gets no token.
func TestTokenItemWrittenWithoutTheSealKeyGivesNoToken(t *testing.T) {
	h, c, _ := tokenServer(t, pinned)
	form := "grant_type=client_credentials"
	if res := post(h, form, map[string]string{"Authorization": basic(c)}); res.Code != http.StatusOK {
		t.Fatalf("before: %d %s", res.Code, res.Body)
	}
	tpl, err := iam.LoadTemplate(filepath.Join(env.Root, "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	stack := env.IAMStack(env.Config.Table, env.Config.SecretPrefix)
	for name, update := range map[string]struct {
		expr   string
		values map[string]types.AttributeValue
	}{
		"RoleIds given Cluster Operator": {"SET RoleIds = :v", map[string]types.AttributeValue{":v": layout.List([]string{identity.RoleAccountMember, identity.RoleClusterOperator})}},
		"TenantId moved":                 {"SET TenantId = :v", map[string]types.AttributeValue{":v": layout.S(identity.NewID())}},
	} {
		t.Run(name, func(t *testing.T) {
			sweeper, err := tpl.Policy("SweeperFunction", stack)
			if err != nil {
				t.Fatal(err)
			}
			req := iam.Request{Action: "dynamodb:UpdateItem", Resource: stack.TableARN(env.Config.Table),
				Context: map[string][]string{"dynamodb:LeadingKeys": {layout.ClientPK(c.Client.ID)}}}
			if !sweeper.Allows(req) {
				t.Fatalf("the sweeper's role may not %s: the premise of this test is gone", req)
			}
			if _, err := env.Clients.DynamoDB.UpdateItem(context.Background(), &dynamodb.UpdateItemInput{TableName: aws.String(env.Config.Table),
				Key: layout.Key(layout.ClientPK(c.Client.ID), layout.SkRegistration), UpdateExpression: aws.String(update.expr),
				ExpressionAttributeValues: update.values}); err != nil {
				t.Fatal(err)
			}
			res := post(h, form, map[string]string{"Authorization": basic(c)})
			if res.Code != http.StatusUnauthorized {
				t.Fatalf("after the write: %d %s, want 401 invalid_client", res.Code, res.Body)
			}
		})
	}
}
