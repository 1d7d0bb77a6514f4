package rbactest

import (
	"fmt"
	"math/rand/v2"
	"slices"

	rbacv1 "k8s.io/api/rbac/v1"

	"github.com/kauth/kauth/internal/loader"
	"github.com/kauth/kauth/internal/rbac"
)

// Mutate returns a copy of old in which about percent of the roles and
// bindings changed: a ClusterRole or Role replaced by other's object at
// the same position, a ClusterRoleBinding removed, a RoleBinding removed
// or given one more user (user-0 up to user-(users-1)). With mixBindings,
// other's ClusterRoleBindings come in at the same rate. Aggregation is
// recomputed. r decides every change, so the same source gives the same
// policy.
func Mutate(r *rand.Rand, old, other *rbac.Policy, percent, users int, mixBindings bool) *rbac.Policy {
	hit := func() bool { return r.IntN(100) < percent }
	p := &rbac.Policy{Sources: map[rbac.ObjectKey]loader.Source{}}
	for i, cr := range old.ClusterRoles {
		c := cr.DeepCopy()
		if hit() && i < len(other.ClusterRoles) && other.ClusterRoles[i].Name == cr.Name {
			c = other.ClusterRoles[i].DeepCopy()
		}
		if c.AggregationRule != nil {
			c.Rules = nil
		}
		p.ClusterRoles = append(p.ClusterRoles, c)
	}
	for i, ro := range old.Roles {
		if hit() && i < len(other.Roles) {
			p.Roles = append(p.Roles, other.Roles[i].DeepCopy())
			continue
		}
		p.Roles = append(p.Roles, ro.DeepCopy())
	}
	for _, b := range old.ClusterRoleBindings {
		if !hit() {
			p.ClusterRoleBindings = append(p.ClusterRoleBindings, b.DeepCopy())
		}
	}
	if mixBindings {
		for _, b := range other.ClusterRoleBindings {
			if hit() && !slices.ContainsFunc(p.ClusterRoleBindings, func(x *rbacv1.ClusterRoleBinding) bool { return x.Name == b.Name }) {
				p.ClusterRoleBindings = append(p.ClusterRoleBindings, b.DeepCopy())
			}
		}
	}
	for _, b := range old.RoleBindings {
		c := b.DeepCopy()
		if hit() {
			if r.IntN(2) == 0 {
				continue
			}
			c.Subjects = append(c.Subjects, rbacv1.Subject{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: fmt.Sprintf("user-%d", r.IntN(users))})
		}
		p.RoleBindings = append(p.RoleBindings, c)
	}
	rbac.Aggregate(p)
	return p
}
