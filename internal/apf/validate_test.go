package apf

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	flowcontrolv1 "k8s.io/api/flowcontrol/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kauth/kauth/internal/loader"
)

// TestLoadConfigInvalid: every object the API would reject is reported
// with file, line, object and the API's reason text.
func TestLoadConfigInvalid(t *testing.T) {
	t.Parallel()
	_, err := LoadConfig(context.Background(), []string{filepath.Join("testdata", "invalid-objects.yaml")}, loader.Options{})
	if err == nil {
		t.Fatal("LoadConfig() succeeded, want errors")
	}
	got := strings.Split(err.Error(), "\n")
	p := filepath.Join("testdata", "invalid-objects.yaml")
	want := []string{
		p + `:1: PriorityLevelConfiguration "wide-hand": spec.limited.limitResponse.queuing.handSize: Invalid value: 10: should not be greater than queues (8)`,
		p + `:14: FlowSchema "Bad_Name": metadata.name: Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')`,
		p + `:14: FlowSchema "Bad_Name": spec.matchingPrecedence: Invalid value: 20000: must not be greater than 10000`,
		p + `:14: FlowSchema "Bad_Name": spec.distinguisherMethod.type: Unsupported value: "ByGroup": supported values: "ByNamespace", "ByUser"`,
		p + `:14: FlowSchema "Bad_Name": spec.rules[0].subjects: Required value: subjects must contain at least one value`,
		p + `:14: FlowSchema "Bad_Name": spec.rules[0].resourceRules[0].verbs: Invalid value: ["get","*"]: if '*' is present, must not specify other verbs`,
		p + `:14: FlowSchema "Bad_Name": spec.rules[0].resourceRules[0].namespaces: Required value: resource rules that are not cluster scoped must supply at least one namespace`,
		p + `:31: PriorityLevelConfiguration "exempt": spec.type: Invalid value: "Limited": must be 'Exempt' if and only if ` + "`name`" + ` is 'exempt'`,
		p + `:31: PriorityLevelConfiguration "exempt": spec: Invalid value: spec of 'exempt' except the 'spec.exempt' field must equal the fixed value`,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("LoadConfig() errors mismatch (-want +got):\n%s", diff)
	}
}

func TestLintChecks(t *testing.T) {
	t.Parallel()
	everything := flowcontrolv1.ResourcePolicyRule{Verbs: []string{"*"}, APIGroups: []string{"*"}, Resources: []string{"*"}, Namespaces: []string{"*"}}
	objs := []loader.Object{
		{Object: limitedPL("l", 10, 0, nil, 4, 4, 10), Source: loader.Source{File: "c.yaml", Line: 1}},
		{Object: schema("a", 500, "l", "", "devs", everything), Source: loader.Source{File: "c.yaml", Line: 20}},
		{Object: schema("b", 500, "l", "", "devs", flowcontrolv1.ResourcePolicyRule{Verbs: []string{"get"}, APIGroups: []string{""}, Resources: []string{"pods"}, Namespaces: []string{"ns"}}), Source: loader.Source{File: "c.yaml", Line: 40}},
		{Object: &flowcontrolv1.FlowSchema{ObjectMeta: metav1.ObjectMeta{Name: "c"}, Spec: flowcontrolv1.FlowSchemaSpec{MatchingPrecedence: 600,
			PriorityLevelConfiguration: flowcontrolv1.PriorityLevelConfigurationReference{Name: "l"},
			Rules:                      []flowcontrolv1.PolicyRulesWithSubjects{{Subjects: []flowcontrolv1.Subject{{Kind: "User", User: &flowcontrolv1.UserSubject{Name: "x"}}}, ResourceRules: []flowcontrolv1.ResourcePolicyRule{everything}}}}},
			Source: loader.Source{File: "c.yaml", Line: 60}},
	}
	res, err := Lint(objs, false, 600)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range res.Findings {
		if f.Check != CheckMandatoryMissing {
			got = append(got, f.Check+" "+f.Object+" "+f.Source)
		}
	}
	want := []string{
		// b is narrower than a and both at 500: a (first by name) covers it.
		"precedence-tie FlowSchema/b c.yaml:40",
		"shadowed FlowSchema/b c.yaml:40",
		"no-isolation PriorityLevelConfiguration/l c.yaml:1",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Lint() findings mismatch (-want +got):\n%s", diff)
	}
}
