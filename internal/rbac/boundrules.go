package rbac

import "k8s.io/apiserver/pkg/authentication/user"

// BoundRule is one rule of one role reached through one binding, like a
// [RuleRef] but without copying the rule or the keys: Binding and Role
// point into the index, which never changes, and must not be modified.
type BoundRule struct {
	Binding *ObjectKey
	Role    *ObjectKey
	Index   int // position in the role's rules
}

// AppendBoundRules appends to dst, in the order [Index.Rules] lists them,
// the rules that apply to u in namespace ns, skipping bindings to missing
// roles. It is Rules for callers that ask about many subjects and need
// neither the rules' copies nor the errors.
func (idx *Index) AppendBoundRules(dst []BoundRule, u user.Info, ns string) []BoundRule {
	dst = idx.AppendScopeBoundRules(dst, u, "")
	if ns != "" {
		dst = idx.AppendScopeBoundRules(dst, u, ns)
	}
	return dst
}

// AppendScopeBoundRules appends the part of AppendBoundRules that one
// scope's bindings give: the ClusterRoleBindings' when ns is "", else the
// RoleBindings' of ns alone.
func (idx *Index) AppendScopeBoundRules(dst []BoundRule, u user.Info, ns string) []BoundRule {
	set := &idx.cluster
	if ns != "" {
		if set = idx.namespaces[ns]; set == nil {
			return dst
		}
	}
	var buf [64]int32
	name, groups := u.GetName(), u.GetGroups()
	for _, pos := range set.candidates(name, groups, buf[:]) {
		b := set.all[pos]
		if b.role == nil {
			continue
		}
		for i := range b.role.rules {
			dst = append(dst, BoundRule{Binding: &b.key, Role: &b.role.key, Index: i})
		}
	}
	return dst
}
