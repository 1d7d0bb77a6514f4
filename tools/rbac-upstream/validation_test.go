package main

import (
	"fmt"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// mutation changes one thing of a valid object; it reports false when it
// does not apply to that kind.
type mutation struct {
	name string
	f    func(obj runtime.Object) bool
}

func rulesOf(obj runtime.Object) *[]rbacv1.PolicyRule {
	switch o := obj.(type) {
	case *rbacv1.Role:
		return &o.Rules
	case *rbacv1.ClusterRole:
		return &o.Rules
	}
	return nil
}

func bindingOf(obj runtime.Object) (*rbacv1.RoleRef, *[]rbacv1.Subject, bool) {
	switch o := obj.(type) {
	case *rbacv1.RoleBinding:
		return &o.RoleRef, &o.Subjects, true
	case *rbacv1.ClusterRoleBinding:
		return &o.RoleRef, &o.Subjects, false
	}
	return nil, nil, false
}

func withRule(f func(r *rbacv1.PolicyRule)) func(runtime.Object) bool {
	return func(obj runtime.Object) bool {
		rs := rulesOf(obj)
		if rs == nil {
			return false
		}
		r := rbacv1.PolicyRule{Verbs: []string{"get"}, APIGroups: []string{""}, Resources: []string{"pods"}}
		f(&r)
		*rs = append(*rs, r)
		return true
	}
}

func withSubject(s rbacv1.Subject) func(runtime.Object) bool {
	return func(obj runtime.Object) bool {
		_, subs, _ := bindingOf(obj)
		if subs == nil {
			return false
		}
		*subs = append(*subs, s)
		return true
	}
}

func withRoleRef(f func(ref *rbacv1.RoleRef)) func(runtime.Object) bool {
	return func(obj runtime.Object) bool {
		ref, _, _ := bindingOf(obj)
		if ref == nil {
			return false
		}
		f(ref)
		return true
	}
}

func withMeta(f func(m metav1.Object)) func(runtime.Object) bool {
	return func(obj runtime.Object) bool { f(obj.(metav1.Object)); return true }
}

func withAggregation(a *rbacv1.AggregationRule) func(runtime.Object) bool {
	return func(obj runtime.Object) bool {
		cr, ok := obj.(*rbacv1.ClusterRole)
		if ok {
			cr.AggregationRule = a
		}
		return ok
	}
}

var mutations = []mutation{
	{"unchanged", func(runtime.Object) bool { return true }},
	{"rule without verbs", withRule(func(r *rbacv1.PolicyRule) { r.Verbs = nil })},
	{"rule without apiGroups", withRule(func(r *rbacv1.PolicyRule) { r.APIGroups = nil })},
	{"rule without resources", withRule(func(r *rbacv1.PolicyRule) { r.Resources = nil })},
	{"rule with resourceNames and two resources", withRule(func(r *rbacv1.PolicyRule) {
		r.Resources, r.ResourceNames = []string{"pods", "services"}, []string{"a"}
	})},
	{"rule with resourceNames and a wildcard resource", withRule(func(r *rbacv1.PolicyRule) { r.Resources, r.ResourceNames = []string{"*"}, []string{"a"} })},
	{"rule with only nonResourceURLs", withRule(func(r *rbacv1.PolicyRule) {
		r.APIGroups, r.Resources, r.NonResourceURLs = nil, nil, []string{"/healthz"}
	})},
	{"rule with resources and nonResourceURLs", withRule(func(r *rbacv1.PolicyRule) { r.NonResourceURLs = []string{"/healthz"} })},
	{"rule with resourceNames and nonResourceURLs", withRule(func(r *rbacv1.PolicyRule) {
		r.APIGroups, r.Resources, r.NonResourceURLs, r.ResourceNames = nil, nil, []string{"/x"}, []string{"a"}
	})},
	{"rule with empty strings", withRule(func(r *rbacv1.PolicyRule) { r.Verbs, r.Resources = []string{""}, []string{""} })},
	{"name with slash", withMeta(func(m metav1.Object) { m.SetName("a/b") })},
	{"name with percent", withMeta(func(m metav1.Object) { m.SetName("a%b") })},
	{"name dot-dot", withMeta(func(m metav1.Object) { m.SetName("..") })},
	{"name with colon and capitals", withMeta(func(m metav1.Object) { m.SetName("System:Weird Name") })},
	{"empty name", withMeta(func(m metav1.Object) { m.SetName("") })},
	{"invalid label key", withMeta(func(m metav1.Object) { m.SetLabels(map[string]string{"a b": "c"}) })},
	{"invalid label value", withMeta(func(m metav1.Object) { m.SetLabels(map[string]string{"a": "b c"}) })},
	{"invalid annotation key", withMeta(func(m metav1.Object) { m.SetAnnotations(map[string]string{"/x": "y"}) })},
	{"aggregation without selectors", withAggregation(&rbacv1.AggregationRule{})},
	{"aggregation with empty selector", withAggregation(&rbacv1.AggregationRule{ClusterRoleSelectors: []metav1.LabelSelector{{}}})},
	{"aggregation with In and no values", withAggregation(&rbacv1.AggregationRule{ClusterRoleSelectors: []metav1.LabelSelector{
		{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "a", Operator: metav1.LabelSelectorOpIn}}},
	}})},
	{"aggregation with invalid label value", withAggregation(&rbacv1.AggregationRule{ClusterRoleSelectors: []metav1.LabelSelector{
		{MatchLabels: map[string]string{"a": "b c"}},
	}})},
	{"aggregation with invalid operator", withAggregation(&rbacv1.AggregationRule{ClusterRoleSelectors: []metav1.LabelSelector{
		{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "a", Operator: "Like", Values: []string{"x"}}}},
	}})},
	{"roleRef apiGroup empty (defaulted)", withRoleRef(func(r *rbacv1.RoleRef) { r.APIGroup = "" })},
	{"roleRef apiGroup other", withRoleRef(func(r *rbacv1.RoleRef) { r.APIGroup = "example.com" })},
	{"roleRef kind Role", withRoleRef(func(r *rbacv1.RoleRef) { r.Kind = "Role" })},
	{"roleRef kind lower case", withRoleRef(func(r *rbacv1.RoleRef) { r.Kind = "clusterrole" })},
	{"roleRef without name", withRoleRef(func(r *rbacv1.RoleRef) { r.Name = "" })},
	{"roleRef name with slash", withRoleRef(func(r *rbacv1.RoleRef) { r.Name = "a/b" })},
	{"subject of unknown kind", withSubject(rbacv1.Subject{Kind: "Robot", Name: "r2"})},
	{"user without apiGroup (defaulted)", withSubject(rbacv1.Subject{Kind: "User", Name: "jane"})},
	{"user with other apiGroup", withSubject(rbacv1.Subject{Kind: "User", APIGroup: "example.com", Name: "jane"})},
	{"user with namespace", withSubject(rbacv1.Subject{Kind: "User", APIGroup: rbacv1.GroupName, Name: "jane", Namespace: "x"})},
	{"user with odd name", withSubject(rbacv1.Subject{Kind: "User", APIGroup: rbacv1.GroupName, Name: "Jane Doe/€"})},
	{"group without name", withSubject(rbacv1.Subject{Kind: "Group", APIGroup: rbacv1.GroupName})},
	{"service account without namespace", withSubject(rbacv1.Subject{Kind: "ServiceAccount", Name: "sa"})},
	{"service account with rbac apiGroup", withSubject(rbacv1.Subject{Kind: "ServiceAccount", APIGroup: rbacv1.GroupName, Name: "sa", Namespace: "n"})},
	{"service account with invalid name", withSubject(rbacv1.Subject{Kind: "ServiceAccount", Name: "Bad_Name", Namespace: "n"})},
	{"service account with invalid namespace", withSubject(rbacv1.Subject{Kind: "ServiceAccount", Name: "sa", Namespace: "Bad_NS"})},
	{"no subjects", func(obj runtime.Object) bool {
		_, subs, _ := bindingOf(obj)
		if subs != nil {
			*subs = nil
		}
		return subs != nil
	}},
}

// TestDifferentialValidation checks that kauth accepts exactly the RBAC
// objects kube-apiserver accepts on create: each mutation of a valid object
// of each kind is validated by both.
func TestDifferentialValidation(t *testing.T) {
	t.Parallel()
	bases := []runtime.Object{
		&rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "r"}, Rules: []rbacv1.PolicyRule{{Verbs: []string{"get"}, APIGroups: []string{""}, Resources: []string{"pods"}}}},
		&rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "cr"}, Rules: []rbacv1.PolicyRule{{Verbs: []string{"get"}, APIGroups: []string{""}, Resources: []string{"pods"}}}},
		&rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "rb"}, RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "cr"},
			Subjects: []rbacv1.Subject{{Kind: "User", APIGroup: rbacv1.GroupName, Name: "u"}}},
		&rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "crb"}, RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "cr"},
			Subjects: []rbacv1.Subject{{Kind: "Group", APIGroup: rbacv1.GroupName, Name: "g"}}},
	}
	for _, base := range bases {
		for _, m := range mutations {
			obj := base.DeepCopyObject()
			if !m.f(obj) {
				continue
			}
			kind := fmt.Sprintf("%T", base)[len("*v1."):]
			t.Run(kind+"/"+m.name, func(t *testing.T) {
				upErrs := UpstreamValidate(obj)
				kErr := KauthValidate(obj)
				if (len(upErrs) == 0) != (kErr == nil) {
					t.Errorf("kube-apiserver: %v\nkauth: %v", upErrs.ToAggregate(), kErr)
				}
			})
		}
	}
}

// TestGeneratedPolicyIsValid guards the generator: every object it makes
// must be one kube-apiserver accepts, or the differential tests would
// compare behaviour on policies no cluster can hold.
func TestGeneratedPolicyIsValid(t *testing.T) {
	t.Parallel()
	for seed := range uint64(20) {
		o := GeneratePolicy(SmallCorpus(seed))
		var all []runtime.Object
		for _, x := range o.Roles {
			all = append(all, x)
		}
		for _, x := range o.ClusterRoles {
			all = append(all, x)
		}
		for _, x := range o.RoleBindings {
			all = append(all, x)
		}
		for _, x := range o.ClusterRoleBindings {
			all = append(all, x)
		}
		for _, x := range all {
			if errs := UpstreamValidate(x); len(errs) > 0 {
				t.Fatalf("seed %d: %s %q invalid: %v", seed, fmt.Sprintf("%T", x), x.(metav1.Object).GetName(), errs.ToAggregate())
			}
		}
	}
}
