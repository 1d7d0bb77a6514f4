package rbacdiff

import (
	"slices"

	rbacv1 "k8s.io/api/rbac/v1"

	"github.com/kauth/kauth/internal/rbac"
)

// dirtyScopes finds, before asking the engine anything, the (subject,
// scope) pairs whose rules may differ: those named by a binding that was
// added, removed or changed, or whose role's rules (after aggregation)
// changed. Every other pair holds the same rules on both sides.
func dirtyScopes(old, new *rbac.Policy) map[Subject]map[string]bool {
	oldRules, newRules := roleRules(old), roleRules(new)
	roleChanged := func(k rbac.ObjectKey) bool {
		a, inOld := oldRules[k]
		b, inNew := newRules[k]
		return inOld != inNew || !slices.EqualFunc(a, b, sameRule)
	}
	oldB, newB := bindings(old), bindings(new)
	out := map[Subject]map[string]bool{}
	mark := func(k rbac.ObjectKey, b binding) {
		for _, s := range b.subjects {
			sub := Subject{Kind: s.Kind, Name: s.Name, Namespace: s.Namespace}
			if sub.Kind == rbacv1.ServiceAccountKind && sub.Namespace == "" {
				sub.Namespace = k.Namespace
			}
			if out[sub] == nil {
				out[sub] = map[string]bool{}
			}
			out[sub][k.Namespace] = true
		}
	}
	for _, pair := range [2][2]map[rbac.ObjectKey]binding{{oldB, newB}, {newB, oldB}} {
		for k, b := range pair[0] {
			other, ok := pair[1][k]
			if !ok || b.role != other.role || !slices.Equal(b.subjects, other.subjects) || roleChanged(b.role) {
				mark(k, b)
			}
		}
	}
	return out
}

type binding struct {
	role     rbac.ObjectKey
	subjects []rbacv1.Subject
}

func bindings(p *rbac.Policy) map[rbac.ObjectKey]binding {
	m := make(map[rbac.ObjectKey]binding, len(p.ClusterRoleBindings)+len(p.RoleBindings))
	for _, b := range p.ClusterRoleBindings {
		m[rbac.ObjectKey{Kind: rbac.KindClusterRoleBinding, Name: b.Name}] = binding{rbac.ObjectKey{Kind: b.RoleRef.Kind, Name: b.RoleRef.Name}, b.Subjects}
	}
	for _, b := range p.RoleBindings {
		ref := rbac.ObjectKey{Kind: b.RoleRef.Kind, Name: b.RoleRef.Name}
		if ref.Kind == rbac.KindRole {
			ref.Namespace = b.Namespace
		}
		m[rbac.ObjectKey{Kind: rbac.KindRoleBinding, Namespace: b.Namespace, Name: b.Name}] = binding{ref, b.Subjects}
	}
	return m
}

func roleRules(p *rbac.Policy) map[rbac.ObjectKey][]rbacv1.PolicyRule {
	m := make(map[rbac.ObjectKey][]rbacv1.PolicyRule, len(p.ClusterRoles)+len(p.Roles))
	for _, r := range p.ClusterRoles {
		m[rbac.ObjectKey{Kind: rbac.KindClusterRole, Name: r.Name}] = r.Rules
	}
	for _, r := range p.Roles {
		m[rbac.ObjectKey{Kind: rbac.KindRole, Namespace: r.Namespace, Name: r.Name}] = r.Rules
	}
	return m
}

func sameRule(a, b rbacv1.PolicyRule) bool {
	return slices.Equal(a.Verbs, b.Verbs) && slices.Equal(a.APIGroups, b.APIGroups) && slices.Equal(a.Resources, b.Resources) &&
		slices.Equal(a.ResourceNames, b.ResourceNames) && slices.Equal(a.NonResourceURLs, b.NonResourceURLs)
}
