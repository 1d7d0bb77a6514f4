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
	var buf [64]int32
	name, groups := u.GetName(), u.GetGroups()
	sets := [2]*bindingSet{&idx.cluster, nil}
	if ns != "" {
		sets[1] = idx.namespaces[ns]
	}
	for _, set := range sets {
		if set == nil {
			continue
		}
		for _, pos := range set.candidates(name, groups, buf[:]) {
			b := set.all[pos]
			if b.role == nil {
				continue
			}
			for i := range b.role.rules {
				dst = append(dst, BoundRule{Binding: &b.key, Role: &b.role.key, Index: i})
			}
		}
	}
	return dst
}
