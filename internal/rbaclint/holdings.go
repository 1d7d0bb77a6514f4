package rbaclint

import (
	"slices"

	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apiserver/pkg/authentication/serviceaccount"
	"k8s.io/apiserver/pkg/authentication/user"

	"github.com/kauth/kauth/internal/rbac"
)

// holding is one rule held by one subject through one binding: what
// [rbac.Index.Rules] reports.
type holding struct {
	binding rbac.ObjectKey
	role    rbac.ObjectKey
	index   int
	subject Subject
}

// scope is "" for a ClusterRoleBinding, else the RoleBinding's namespace.
func (h holding) scope() string { return h.binding.Namespace }

// SubjectUser is the identity that only subject s has: a user without
// groups for User and ServiceAccount subjects, a nameless member of the
// group for Group subjects. Asking the engine about it shows what
// bindings to s alone grant.
func SubjectUser(s Subject) user.Info {
	switch s.Kind {
	case rbacv1.GroupKind:
		return &user.DefaultInfo{Groups: []string{s.Name}}
	case rbacv1.ServiceAccountKind:
		return &user.DefaultInfo{Name: serviceaccount.MakeUsername(s.Namespace, s.Name)}
	}
	return &user.DefaultInfo{Name: s.Name}
}

// holdings asks the engine, for every subject the policy's bindings name,
// which rules it holds cluster-wide and in each namespace where a
// RoleBinding names it.
func holdings(p *rbac.Policy, idx *rbac.Index) []holding {
	scopes := map[Subject][]string{}
	var order []Subject
	note := func(s Subject, ns string) {
		if s.Kind == rbacv1.ServiceAccountKind && s.Namespace == "" {
			return // matches nobody
		}
		list, seen := scopes[s]
		if !seen {
			order = append(order, s)
			list = []string{""}
		}
		if ns != "" && !slices.Contains(list, ns) {
			list = append(list, ns)
		}
		scopes[s] = list
	}
	for _, b := range p.ClusterRoleBindings {
		for _, s := range b.Subjects {
			note(subjectOf(s, ""), "")
		}
	}
	for _, b := range p.RoleBindings {
		for _, s := range b.Subjects {
			note(subjectOf(s, b.Namespace), b.Namespace)
		}
	}
	type key struct {
		b, r rbac.ObjectKey
		i    int
		s    Subject
	}
	seen := map[key]bool{}
	var out []holding
	for _, s := range order {
		u := SubjectUser(s)
		for _, ns := range scopes[s] {
			refs, _ := idx.Rules(u, ns) // the error lists missing roles; missing-role reports those
			for _, r := range refs {
				k := key{r.Binding, r.Role, r.Index, s}
				if seen[k] {
					continue
				}
				seen[k] = true
				out = append(out, holding{binding: r.Binding, role: r.Role, index: r.Index, subject: s})
			}
		}
	}
	return out
}
