package awscalls_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"identityservice/infra/iam"
	"identityservice/infra/template"
	"identityservice/infra/testenv/awscalls"
)

var (
	stack  = iam.Stack{Name: "st", Physical: map[string]string{"ClientsTable": "tbl"}}
	schema = awscalls.Schema{TableHash: "PK", IndexHash: map[string]string{"ByExpiry": "ExpiryPK"}}
	table  = "arn:aws:dynamodb:us-east-1:123456789012:table/tbl"
)

func keys(k ...string) map[string][]string { return map[string][]string{"dynamodb:LeadingKeys": k} }

func TestDecode(t *testing.T) {
	for _, c := range []struct {
		name, target, body string
		want               []iam.Request
	}{
		{"GetItem", "DynamoDB_20120810.GetItem", `{"TableName":"tbl","Key":{"PK":{"S":"CLIENT#1"},"SK":{"S":"#CLIENT"}}}`,
			[]iam.Request{{Action: "dynamodb:GetItem", Resource: table, Context: keys("CLIENT#1")}}},
		{"PutItem", "DynamoDB_20120810.PutItem", `{"TableName":"tbl","Item":{"PK":{"S":"SIGNINGKEYS"},"SK":{"S":"#JWKS"}}}`,
			[]iam.Request{{Action: "dynamodb:PutItem", Resource: table, Context: keys("SIGNINGKEYS")}}},
		{"Query with a name alias", "DynamoDB_20120810.Query", `{"TableName":"tbl","KeyConditionExpression":"#pk = :pk AND begins_with(SK, :p)","ExpressionAttributeNames":{"#pk":"PK"},"ExpressionAttributeValues":{":pk":{"S":"TENANT#1"},":p":{"S":"CCC#"}}}`,
			[]iam.Request{{Action: "dynamodb:Query", Resource: table, Context: keys("TENANT#1")}}},
		{"Query of an index names the index ARN and its partition key", "DynamoDB_20120810.Query", `{"TableName":"tbl","IndexName":"ByExpiry","KeyConditionExpression":"ExpiresAt <= :t AND ExpiryPK = :q","ExpressionAttributeValues":{":q":{"S":"EXPIRY"},":t":{"N":"1"}}}`,
			[]iam.Request{{Action: "dynamodb:Query", Resource: table + "/index/ByExpiry", Context: keys("EXPIRY")}}},
		{"BatchGetItem: every key's partition", "DynamoDB_20120810.BatchGetItem", `{"RequestItems":{"tbl":{"Keys":[{"PK":{"S":"TENANT#1"},"SK":{"S":"#TENANT"}},{"PK":{"S":"TENANT#1"},"SK":{"S":"CCC#2"}},{"PK":{"S":"CLIENT#2"},"SK":{"S":"#CLIENT"}}]}}}`,
			[]iam.Request{{Action: "dynamodb:BatchGetItem", Resource: table, Context: keys("CLIENT#2", "TENANT#1")}}},
		{"TransactWriteItems: one authorization per item, by its action", "DynamoDB_20120810.TransactWriteItems", `{"TransactItems":[{"Update":{"TableName":"tbl","Key":{"PK":{"S":"TENANT#1"}}}},{"Put":{"TableName":"tbl","Item":{"PK":{"S":"CLIENT#2"}}}},{"Delete":{"TableName":"tbl","Key":{"PK":{"S":"CLIENT#3"}}}},{"ConditionCheck":{"TableName":"tbl","Key":{"PK":{"S":"CLIENT#4"}}}}]}`,
			[]iam.Request{
				{Action: "dynamodb:UpdateItem", Resource: table, Context: keys("TENANT#1")},
				{Action: "dynamodb:PutItem", Resource: table, Context: keys("CLIENT#2")},
				{Action: "dynamodb:DeleteItem", Resource: table, Context: keys("CLIENT#3")},
				{Action: "dynamodb:ConditionCheckItem", Resource: table, Context: keys("CLIENT#4")},
			}},
		{"Scan has no partition key", "DynamoDB_20120810.Scan", `{"TableName":"tbl"}`,
			[]iam.Request{{Action: "dynamodb:Scan", Resource: table}}},
		{"CreateSecret with tags also needs TagResource", "secretsmanager.CreateSecret", `{"Name":"st/clients/t/c/s","Tags":[{"Key":"k","Value":"v"}]}`,
			[]iam.Request{
				{Action: "secretsmanager:CreateSecret", Resource: "arn:aws:secretsmanager:us-east-1:123456789012:secret:st/clients/t/c/s-AbCdEf"},
				{Action: "secretsmanager:TagResource", Resource: "arn:aws:secretsmanager:us-east-1:123456789012:secret:st/clients/t/c/s-AbCdEf"},
			}},
		{"a secret named by ARN keeps its suffix", "secretsmanager.DeleteSecret", `{"SecretId":"arn:aws:secretsmanager:us-east-1:000000000000:secret:st/signing-keys-q1W2e3"}`,
			[]iam.Request{{Action: "secretsmanager:DeleteSecret", Resource: "arn:aws:secretsmanager:us-east-1:123456789012:secret:st/signing-keys-q1W2e3"}}},
		{"ListSecrets is on *", "secretsmanager.ListSecrets", `{}`,
			[]iam.Request{{Action: "secretsmanager:ListSecrets", Resource: "*"}}},
		{"PutEvents: per entry, bus and source", "AWSEvents.PutEvents", `{"Entries":[{"EventBusName":"bus","Source":"src","DetailType":"dt"}]}`,
			[]iam.Request{{Action: "events:PutEvents", Resource: "arn:aws:events:us-east-1:123456789012:event-bus/bus", Context: map[string][]string{"events:source": {"src"}, "events:detail-type": {"dt"}}}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, _, got, ok, err := awscalls.Decode(c.target, []byte(c.body), stack, schema)
			if !ok || err != nil {
				t.Fatalf("ok %v, err %v", ok, err)
			}
			if !reflect.DeepEqual(got, c.want) {
				t.Fatalf("got  %v\nwant %v", got, c.want)
			}
		})
	}
	if _, _, _, ok, _ := awscalls.Decode("AmazonSQS.SendMessage", []byte(`{}`), stack, schema); ok {
		t.Fatal("a call of a service the template grants nothing on was decoded")
	}
	if _, _, _, _, err := awscalls.Decode("DynamoDB_20120810.Query", []byte(`{"TableName":"tbl","KeyConditionExpression":"SK = :s","ExpressionAttributeValues":{":s":{"S":"x"}}}`), stack, schema); err == nil {
		t.Fatal("a Query without the partition key decoded without error")
	}
}

// The middleware records what a real SDK client sends, tagged by the
// context or the client's fixed tag, and the request still reaches the
// server whole; Handler tags a request by its route in the template.
func TestMiddlewareAndHandler(t *testing.T) {
	var got []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got = append(got, string(b))
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		_, _ = w.Write([]byte(`{}`))
	}))
	defer srv.Close()
	rec := awscalls.NewRecorder(schema)
	fixed := awscalls.Tag{Function: "Fixed", Stack: stack}
	cfg := aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("a", "b", ""), BaseEndpoint: aws.String(srv.URL),
		APIOptions: nil}
	cfg.APIOptions = append(cfg.APIOptions, rec.Middleware(&fixed))
	db := dynamodb.NewFromConfig(cfg)
	get := &dynamodb.GetItemInput{TableName: aws.String("tbl"), Key: map[string]types.AttributeValue{"PK": &types.AttributeValueMemberS{Value: "TENANT#9"}, "SK": &types.AttributeValueMemberS{Value: "#TENANT"}}}
	if _, err := db.GetItem(context.Background(), get); err != nil {
		t.Fatal(err)
	}
	tpl := []template.Route{{Function: "RoutedFunction", Method: "GET", Path: "/api/{id}"}}
	h := awscalls.Handler(tpl, stack, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := db.GetItem(r.Context(), get); err != nil {
			t.Error(err)
		}
	}))
	for _, path := range []string{"/api/7", "/api/7/"} {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", path, nil))
	}
	calls := rec.Calls()
	if len(calls) != 3 || calls[0].Function != "Fixed" || calls[1].Function != "RoutedFunction" || calls[2].Function != "RoutedFunction" {
		t.Fatalf("calls %+v: want one of Fixed, then two of RoutedFunction", calls)
	}
	want := iam.Request{Action: "dynamodb:GetItem", Resource: table, Context: keys("TENANT#9")}
	if calls[0].Operation != "GetItem" || !reflect.DeepEqual(calls[0].Requests, []iam.Request{want}) {
		t.Fatalf("recorded %+v, want %v", calls[0], want)
	}
	if len(got) != 3 || !strings.Contains(got[0], `"TENANT#9"`) {
		t.Fatalf("the server received %q: the body must reach it after recording", got)
	}
}

// Check names the function, operation and resource of a denied call and
// counts the actions that allowed the others.
func TestCheck(t *testing.T) {
	tp, err := iam.ParseTemplate([]byte(`
Resources:
  ClientsTable:
    Type: AWS::DynamoDB::Table
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Policies:
        - Statement:
            - Effect: Allow
              Action: [dynamodb:GetItem, dynamodb:Scan]
              Resource: !GetAtt ClientsTable.Arn
`))
	if err != nil {
		t.Fatal(err)
	}
	calls := []awscalls.Call{
		{Function: "Fn", Stack: stack, Service: "dynamodb", Operation: "GetItem", Requests: []iam.Request{{Action: "dynamodb:GetItem", Resource: table}}},
		{Function: "Fn", Stack: stack, Service: "dynamodb", Operation: "BatchGetItem", Requests: []iam.Request{{Action: "dynamodb:BatchGetItem", Resource: table}}},
		{Stack: stack, Service: "dynamodb", Operation: "DeleteTable", Requests: []iam.Request{{Action: "dynamodb:DeleteTable", Resource: table}}}, // untagged: a test's own
	}
	res := awscalls.Check(tp, calls)
	if len(res.Denials) != 1 || res.Denials[0].Call.Operation != "BatchGetItem" {
		t.Fatalf("denials %v, want the one BatchGetItem", res.Denials)
	}
	var b strings.Builder
	res.Report(&b)
	if !strings.Contains(b.String(), "Fn: dynamodb BatchGetItem needs dynamodb:BatchGetItem on "+table) {
		t.Fatalf("report %q does not name function, operation and resource", b.String())
	}
	if !res.Used["Fn"]["dynamodb:GetItem"] || res.Used["Fn"]["dynamodb:Scan"] {
		t.Fatalf("used %v, want GetItem only", res.Used)
	}
	dir := t.TempDir()
	if err := res.WriteUsed(dir, "pkg/a"); err != nil {
		t.Fatal(err)
	}
	unused, files, err := awscalls.Unused(tp, dir)
	if err != nil || files != 1 {
		t.Fatal(err, files)
	}
	if _, ok := unused["Fn"]["dynamodb:Scan"]; !ok || len(unused["Fn"]) != 1 {
		t.Fatalf("unused %v, want dynamodb:Scan only", unused)
	}
}
