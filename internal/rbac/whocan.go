package rbac

import (
	"cmp"
	"slices"

	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/authorization/authorizer"
)

// WhoCanResult lists the subjects allowed to make a request.
type WhoCanResult struct {
	Subjects []SubjectGrant `json:"subjects"`
	// Errors name the bindings that were considered but reference a missing
	// role, as upstream's subject locator reports them.
	Errors []string `json:"errors,omitempty"`
}

// SubjectGrant is one subject and the bindings that grant it the request.
type SubjectGrant struct {
	Kind      string `json:"kind"`
	APIGroup  string `json:"apiGroup,omitempty"`
	Name      string `json:"name"`
	Namespace string `json:"namespace,omitempty"`
	// Privileged is set for system:masters, which kube-apiserver allows
	// ahead of RBAC; it has no bindings.
	Privileged bool  `json:"privileged,omitempty"`
	Via        []Via `json:"via"`
}

// Via is a binding and the role it grants.
type Via struct {
	Binding ObjectKey `json:"binding"`
	Role    ObjectKey `json:"role"`
}

// WhoCan answers as kube-apiserver's subject locator
// (SubjectAccessEvaluator.AllowedSubjects) does: the group system:masters,
// then the subjects of every ClusterRoleBinding, and of every RoleBinding
// in the request's namespace, whose role has a rule allowing the request.
// Subjects are listed as written in the bindings (a ServiceAccount without
// namespace in a RoleBinding keeps its empty namespace), once each, with
// every binding that grants them; system:masters first, then sorted by
// kind, namespace and name.
func (idx *Index) WhoCan(a authorizer.Attributes) WhoCanResult {
	req := idx.vocab.request(a)
	memo := map[*role]bool{}
	res := WhoCanResult{Subjects: []SubjectGrant{{
		Kind: rbacv1.GroupKind, APIGroup: rbacv1.GroupName, Name: user.SystemPrivilegedGroup, Privileged: true, Via: []Via{},
	}}}
	seen := map[rbacv1.Subject]int{{Kind: rbacv1.GroupKind, APIGroup: rbacv1.GroupName, Name: user.SystemPrivilegedGroup}: 0}
	sets := []*bindingSet{&idx.cluster}
	if ns := a.GetNamespace(); ns != "" && idx.namespaces[ns] != nil {
		sets = append(sets, idx.namespaces[ns])
	}
	for _, set := range sets {
		for _, pos := range set.allowing(&req, memo) {
			b := set.all[pos]
			via := Via{Binding: b.key, Role: b.role.key}
			for _, s := range b.subjects {
				i, ok := seen[s]
				if !ok {
					i = len(res.Subjects)
					seen[s] = i
					res.Subjects = append(res.Subjects, SubjectGrant{Kind: s.Kind, APIGroup: s.APIGroup, Name: s.Name, Namespace: s.Namespace})
				}
				if !slices.Contains(res.Subjects[i].Via, via) {
					res.Subjects[i].Via = append(res.Subjects[i].Via, via)
				}
			}
		}
		for _, pos := range set.dangling {
			res.Errors = append(res.Errors, set.all[pos].missing.Error())
		}
	}
	slices.SortStableFunc(res.Subjects[1:], func(x, y SubjectGrant) int {
		return cmp.Or(cmp.Compare(x.Kind, y.Kind), cmp.Compare(x.Namespace, y.Namespace), cmp.Compare(x.Name, y.Name), cmp.Compare(x.APIGroup, y.APIGroup))
	})
	return res
}

// allowing returns the positions of the bindings whose role allows req,
// ascending. Each distinct role is evaluated once (memo is shared between
// the cluster-wide and the namespace set, as RoleBindings often reference
// ClusterRoles).
func (s *bindingSet) allowing(req *request, memo map[*role]bool) []int32 {
	var out []int32
	for r, positions := range s.byRole {
		ok, known := memo[r]
		if !known {
			ok = r.allows(req)
			memo[r] = ok
		}
		if ok {
			out = append(out, positions...)
		}
	}
	slices.Sort(out)
	return out
}

func (r *role) allows(req *request) bool {
	for i := range r.rules {
		if r.rules[i].allows(req) {
			return true
		}
	}
	return false
}
