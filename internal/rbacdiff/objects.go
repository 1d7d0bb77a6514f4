package rbacdiff

import (
	"cmp"
	"slices"

	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/equality"

	"github.com/kauth/kauth/internal/rbac"
)

// Object changes.
const (
	Added    = "added"
	Removed  = "removed"
	Modified = "modified"
)

// ObjectChange is an RBAC object that one side has and the other has not,
// or has differently.
type ObjectChange struct {
	Change    string `json:"change"`
	Kind      string `json:"kind"`
	Name      string `json:"name"`
	Namespace string `json:"namespace"`
}

// content is what decides an object's effect: rules (or, for aggregated
// roles, the aggregation rule), labels (aggregation selects by them),
// roleRef and subjects. Metadata such as resourceVersion or
// last-applied annotations is ignored.
type content struct {
	Labels      map[string]string
	Rules       []rbacv1.PolicyRule
	Aggregation *rbacv1.AggregationRule
	RoleRef     rbacv1.RoleRef
	Subjects    []rbacv1.Subject
}

func contents(p *rbac.Policy) map[rbac.ObjectKey]content {
	m := map[rbac.ObjectKey]content{}
	for _, r := range p.ClusterRoles {
		c := content{Labels: r.Labels, Rules: r.Rules, Aggregation: r.AggregationRule}
		if r.AggregationRule != nil {
			c.Rules = nil // computed by the aggregation controller
		}
		m[rbac.ObjectKey{Kind: rbac.KindClusterRole, Name: r.Name}] = c
	}
	for _, r := range p.Roles {
		m[rbac.ObjectKey{Kind: rbac.KindRole, Namespace: r.Namespace, Name: r.Name}] = content{Labels: r.Labels, Rules: r.Rules}
	}
	for _, b := range p.ClusterRoleBindings {
		m[rbac.ObjectKey{Kind: rbac.KindClusterRoleBinding, Name: b.Name}] = content{Labels: b.Labels, RoleRef: b.RoleRef, Subjects: b.Subjects}
	}
	for _, b := range p.RoleBindings {
		m[rbac.ObjectKey{Kind: rbac.KindRoleBinding, Namespace: b.Namespace, Name: b.Name}] = content{Labels: b.Labels, RoleRef: b.RoleRef, Subjects: b.Subjects}
	}
	return m
}

func diffObjects(old, new *rbac.Policy) []ObjectChange {
	a, b := contents(old), contents(new)
	out := []ObjectChange{}
	for k, ca := range a {
		cb, ok := b[k]
		switch {
		case !ok:
			out = append(out, ObjectChange{Removed, k.Kind, k.Name, k.Namespace})
		case !equality.Semantic.DeepEqual(normalize(ca), normalize(cb)):
			out = append(out, ObjectChange{Modified, k.Kind, k.Name, k.Namespace})
		}
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			out = append(out, ObjectChange{Added, k.Kind, k.Name, k.Namespace})
		}
	}
	slices.SortFunc(out, func(x, y ObjectChange) int {
		return cmp.Or(cmp.Compare(x.Kind, y.Kind), cmp.Compare(x.Namespace, y.Namespace), cmp.Compare(x.Name, y.Name))
	})
	return out
}

// normalize treats empty and missing lists and maps alike.
func normalize(c content) content {
	if len(c.Labels) == 0 {
		c.Labels = nil
	}
	if len(c.Rules) == 0 {
		c.Rules = nil
	}
	if len(c.Subjects) == 0 {
		c.Subjects = nil
	}
	return c
}
