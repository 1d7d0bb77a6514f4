package apf

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	flowcontrolv1 "k8s.io/api/flowcontrol/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func schema(name string, prec int32, pl string, dm flowcontrolv1.FlowDistinguisherMethodType, group string, rr ...flowcontrolv1.ResourcePolicyRule) *flowcontrolv1.FlowSchema {
	fs := &flowcontrolv1.FlowSchema{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: flowcontrolv1.FlowSchemaSpec{
		MatchingPrecedence: prec, PriorityLevelConfiguration: flowcontrolv1.PriorityLevelConfigurationReference{Name: pl},
		Rules: []flowcontrolv1.PolicyRulesWithSubjects{{
			Subjects:      []flowcontrolv1.Subject{{Kind: flowcontrolv1.SubjectKindGroup, Group: &flowcontrolv1.GroupSubject{Name: group}}},
			ResourceRules: rr,
		}},
	}}
	if dm != "" {
		fs.Spec.DistinguisherMethod = &flowcontrolv1.FlowDistinguisherMethod{Type: dm}
	}
	return fs
}

var anyResource = flowcontrolv1.ResourcePolicyRule{Verbs: []string{"*"}, APIGroups: []string{"*"}, Resources: []string{"*"}, Namespaces: []string{"*"}, ClusterScope: true}

func TestClassify(t *testing.T) {
	t.Parallel()
	podsOnly := flowcontrolv1.ResourcePolicyRule{Verbs: []string{"list"}, APIGroups: []string{""}, Resources: []string{"pods"}, Namespaces: []string{"ci"}}
	cfg := NewConfig([]*flowcontrolv1.FlowSchema{
		schema("b-tie", 500, "lvl", flowcontrolv1.FlowDistinguisherMethodByNamespaceType, "devs", anyResource),
		schema("a-tie", 500, "lvl", flowcontrolv1.FlowDistinguisherMethodByUserType, "devs", anyResource),
		schema("pods", 400, "lvl", "", "devs", podsOnly),
		schema("dangling", 10, "missing", "", "devs", anyResource),
	}, []*flowcontrolv1.PriorityLevelConfiguration{limitedPL("lvl", 10, 0, nil, 16, 4, 10)}, nil)
	tests := []struct {
		name string
		req  Request
		want Classification
		ok   bool
	}{
		{
			name: "precedence first, then name breaks the tie",
			req:  Request{User: "u", Groups: []string{"devs"}, Verb: "get", Resource: "pods", Namespace: "ns1"},
			want: Classification{FlowSchema: "a-tie", MatchingPrecedence: 500, PriorityLevel: "lvl", FlowDistinguisher: "u", DistinguisherType: "ByUser", Queuing: true,
				Skipped: []Skipped{
					{FlowSchema: "exempt", MatchingPrecedence: 1, Reason: `no subject matches user "u" or groups [devs]`},
					{FlowSchema: "pods", MatchingPrecedence: 400, Reason: "subjects match but no resource rule matches get pods in namespace ns1"},
				}},
			ok: true,
		},
		{
			name: "the lower precedence value wins",
			req:  Request{User: "u", Groups: []string{"devs"}, Verb: "list", Resource: "pods", Namespace: "ci"},
			want: Classification{FlowSchema: "pods", MatchingPrecedence: 400, PriorityLevel: "lvl", Queuing: true},
			ok:   true,
		},
		{
			name: "mandatory catch-all for authenticated users",
			req:  Request{User: "v", Groups: []string{"system:authenticated"}, Verb: "get", NonResourceURL: "/healthz"},
			want: Classification{FlowSchema: "catch-all", MatchingPrecedence: 10000, PriorityLevel: "catch-all", DistinguisherType: "ByUser"},
			ok:   true,
		},
		{
			name: "exempt for system:masters",
			req:  Request{User: "root", Groups: []string{"system:masters"}, Verb: "delete", Resource: "nodes"},
			want: Classification{FlowSchema: "exempt", MatchingPrecedence: 1, PriorityLevel: "exempt", Exempt: true},
			ok:   true,
		},
		{
			name: "nothing matches a user without groups",
			req:  Request{User: "w", Verb: "get", Resource: "pods", Namespace: "x"},
			want: Classification{FlowSchema: "catch-all", MatchingPrecedence: 10000, PriorityLevel: "catch-all", DistinguisherType: "ByUser", FallbackToCatchAll: true},
			ok:   false,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			explain := tc.want.Skipped != nil
			got, ok := NewClassifier(cfg).Classify(tc.req, explain)
			if ok != tc.ok {
				t.Errorf("Classify() ok = %v, want %v", ok, tc.ok)
			}
			if diff := cmp.Diff(tc.want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("Classify() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestMatchRules(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		rules []string
		path  string
		want  bool
	}{
		{"exact", []string{"/healthz"}, "/healthz", true},
		{"prefix wildcard", []string{"/healthz/*"}, "/healthz/etcd", true},
		{"prefix wildcard does not match the bare path's sibling", []string{"/healthz/*"}, "/healthzz", false},
		{"everything", []string{"*"}, "/anything", true},
		{"a path is also a prefix", []string{"/api"}, "/api/v1", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := matchesNonResourceRules(Request{Verb: "get", NonResourceURL: tc.path}, []flowcontrolv1.NonResourcePolicyRule{{Verbs: []string{"get"}, NonResourceURLs: tc.rules}})
			if got != tc.want {
				t.Errorf("match(%v, %s) = %v, want %v", tc.rules, tc.path, got, tc.want)
			}
		})
	}
	// The wildcard counts only as a list's single member, as upstream.
	if contains("x", []string{"*", "y"}, "*") {
		t.Error(`contains("x", ["*","y"]) = true, want false`)
	}
}

func TestImpersonatedGroups(t *testing.T) {
	t.Parallel()
	got := ImpersonatedGroups("system:serviceaccount:ci:runner", nil)
	want := []string{"system:serviceaccounts", "system:serviceaccounts:ci", "system:authenticated"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ImpersonatedGroups() mismatch (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"system:unauthenticated"}, ImpersonatedGroups("system:anonymous", nil)); diff != "" {
		t.Errorf("anonymous mismatch:\n%s", diff)
	}
}
