package template_test

import "testing"

// RETENTION_DAYS reaches every function (Globals), so the API's functions
// name the sweeper's real retention when a client's secret records are at
// their limit; no function sets its own value.
func TestRetentionDaysReachesEveryFunction(t *testing.T) {
	root := templateRoot(t)
	vars := child(child(child(child(root, "Globals"), "Function"), "Environment"), "Variables")
	if v := child(vars, "RETENTION_DAYS"); v == nil || v.Tag != "!Ref" || v.Value != "RetentionDays" {
		t.Fatal("Globals RETENTION_DAYS: want !Ref RetentionDays")
	}
	res := child(root, "Resources")
	functions := 0
	for i := 0; i+1 < len(res.Content); i += 2 {
		r := res.Content[i+1]
		if typ := child(r, "Type"); typ == nil || typ.Value != "AWS::Serverless::Function" {
			continue
		}
		functions++
		if v := child(child(child(child(r, "Properties"), "Environment"), "Variables"), "RETENTION_DAYS"); v != nil {
			t.Errorf("%s sets its own RETENTION_DAYS: the Globals value must reach it", res.Content[i].Value)
		}
	}
	if functions < 5 {
		t.Fatalf("%d functions found in template.yaml", functions)
	}
}
