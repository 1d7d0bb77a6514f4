package rbac_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kauth/kauth/internal/rbac"
)

func aggregated(name string, selectors ...metav1.LabelSelector) *rbacv1.ClusterRole {
	return &rbacv1.ClusterRole{ObjectMeta: objMeta(name), AggregationRule: &rbacv1.AggregationRule{ClusterRoleSelectors: selectors}}
}

// TestAggregate follows pkg/controller/clusterroleaggregation: selectors in
// order, matching roles sorted by name, the role itself skipped, each rule
// once, the aggregate replacing the role's own rules.
func TestAggregate(t *testing.T) {
	t.Parallel()
	get := pr(l("get"), l(""), l("pods"))
	list := pr(l("list"), l(""), l("pods"))
	watch := pr(l("watch"), l(""), l("pods"))
	tests := []struct {
		name    string
		roles   []*rbacv1.ClusterRole
		want    map[string][]rbacv1.PolicyRule
		changed []string
	}{
		{
			name: "sorted by name within a selector, deduplicated",
			roles: []*rbacv1.ClusterRole{
				aggregated("agg", sel("a", "1")),
				withLabels(clusterRole("zeta", list, get), "a", "1"),
				withLabels(clusterRole("alpha", get, watch), "a", "1"),
				withLabels(clusterRole("other", pr(l("*"), l("*"), l("*"))), "a", "2"),
			},
			want:    map[string][]rbacv1.PolicyRule{"agg": {get, watch, list}},
			changed: []string{"agg"},
		},
		{
			name: "selector order before name order",
			roles: []*rbacv1.ClusterRole{
				aggregated("agg", sel("k", "second"), sel("k", "first")),
				withLabels(clusterRole("a", get), "k", "first"),
				withLabels(clusterRole("b", list), "k", "second"),
			},
			want:    map[string][]rbacv1.PolicyRule{"agg": {list, get}},
			changed: []string{"agg"},
		},
		{
			name: "the role's own rules are replaced, and it never selects itself",
			roles: []*rbacv1.ClusterRole{
				withLabels(&rbacv1.ClusterRole{ObjectMeta: objMeta("agg"), Rules: []rbacv1.PolicyRule{watch}, AggregationRule: &rbacv1.AggregationRule{ClusterRoleSelectors: []metav1.LabelSelector{sel("a", "1")}}}, "a", "1"),
				withLabels(clusterRole("src", get), "a", "1"),
			},
			want:    map[string][]rbacv1.PolicyRule{"agg": {get}},
			changed: []string{"agg"},
		},
		{
			name: "nothing selected leaves the rules alone",
			roles: []*rbacv1.ClusterRole{
				{ObjectMeta: objMeta("agg"), Rules: []rbacv1.PolicyRule{watch}, AggregationRule: &rbacv1.AggregationRule{ClusterRoleSelectors: []metav1.LabelSelector{sel("a", "1")}}},
			},
			want: map[string][]rbacv1.PolicyRule{"agg": {watch}},
		},
		{
			name: "nested aggregation converges (admin selects edit, edit selects its sources)",
			roles: []*rbacv1.ClusterRole{
				aggregated("admin", sel("to-admin", "true")),
				withLabels(aggregated("edit", sel("to-edit", "true")), "to-admin", "true"),
				withLabels(clusterRole("edit-src", list), "to-edit", "true"),
				withLabels(clusterRole("admin-src", get), "to-admin", "true"),
			},
			want:    map[string][]rbacv1.PolicyRule{"admin": {get, list}, "edit": {list}},
			changed: []string{"admin", "edit"},
		},
		{
			name: "match expressions",
			roles: []*rbacv1.ClusterRole{
				aggregated("agg", metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "tier", Operator: metav1.LabelSelectorOpIn, Values: l("a", "b")}}}),
				withLabels(clusterRole("x", get), "tier", "b"),
				withLabels(clusterRole("y", list), "tier", "c"),
			},
			want:    map[string][]rbacv1.PolicyRule{"agg": {get}},
			changed: []string{"agg"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := &rbac.Policy{ClusterRoles: tc.roles}
			changed := rbac.Aggregate(p)
			if diff := cmp.Diff(tc.changed, changed); diff != "" {
				t.Errorf("Aggregate() changed mismatch (-want +got):\n%s", diff)
			}
			for _, cr := range p.ClusterRoles {
				want, ok := tc.want[cr.Name]
				if !ok {
					continue
				}
				if diff := cmp.Diff(want, cr.Rules); diff != "" {
					t.Errorf("rules of %s mismatch (-want +got):\n%s", cr.Name, diff)
				}
			}
		})
	}
}
