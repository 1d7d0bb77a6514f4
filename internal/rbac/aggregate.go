package rbac

import (
	"slices"
	"strings"

	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// Aggregate gives every ClusterRole with an aggregationRule the rules the
// clusterrole-aggregation controller of kube-controller-manager would give
// it: for each selector in order, the ClusterRoles whose labels match,
// sorted by name, skipping the role itself, contribute their rules in
// order, each rule once (semantic equality). Like the controller, the
// aggregate replaces the role's own rules, except that an empty aggregate
// leaves them alone (the controller's server-side apply then owns no
// rules). Roles that aggregate other aggregated roles (admin selects edit,
// which selects its own sources) are recomputed until nothing changes, as
// the controller's repeated syncs converge. Aggregate changes p in place
// and returns the names of the roles it changed, sorted.
func Aggregate(p *Policy) []string {
	var aggregated []*rbacv1.ClusterRole
	for _, cr := range p.ClusterRoles {
		if cr.AggregationRule != nil {
			aggregated = append(aggregated, cr)
		}
	}
	if len(aggregated) == 0 {
		return nil
	}
	slices.SortFunc(aggregated, func(a, b *rbacv1.ClusterRole) int { return strings.Compare(a.Name, b.Name) })
	byName := slices.Clone(p.ClusterRoles)
	slices.SortStableFunc(byName, func(a, b *rbacv1.ClusterRole) int { return strings.Compare(a.Name, b.Name) })

	changed := map[string]bool{}
	// Each round can only propagate rules one aggregation level further, so
	// len(aggregated)+1 rounds reach the fixed point of any acyclic graph;
	// cycles settle too because updates are applied in name order.
	for round := 0; round <= len(aggregated); round++ {
		progress := false
		for _, cr := range aggregated {
			rules := aggregateRules(cr, byName)
			if len(rules) == 0 || equality.Semantic.DeepEqual(rules, cr.Rules) {
				continue
			}
			cr.Rules = rules
			changed[cr.Name] = true
			progress = true
		}
		if !progress {
			break
		}
	}
	var names []string
	for n := range changed {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

func aggregateRules(cr *rbacv1.ClusterRole, byName []*rbacv1.ClusterRole) []rbacv1.PolicyRule {
	rules := []rbacv1.PolicyRule{}
	for i := range cr.AggregationRule.ClusterRoleSelectors {
		sel, err := metav1.LabelSelectorAsSelector(&cr.AggregationRule.ClusterRoleSelectors[i])
		if err != nil {
			continue // validation refuses such selectors; the controller would retry forever
		}
		for _, other := range byName {
			if other.Name == cr.Name || !sel.Matches(labels.Set(other.Labels)) {
				continue
			}
			for _, r := range other.Rules {
				if !slices.ContainsFunc(rules, func(have rbacv1.PolicyRule) bool { return equality.Semantic.DeepEqual(have, r) }) {
					rules = append(rules, *r.DeepCopy())
				}
			}
		}
	}
	return rules
}
