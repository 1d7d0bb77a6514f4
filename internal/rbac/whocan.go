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
	memo := make([]int8, idx.nRoles) // 0 unknown, 1 allows, 2 does not
	res := WhoCanResult{Subjects: []SubjectGrant{{
		Kind: rbacv1.GroupKind, APIGroup: rbacv1.GroupName, Name: user.SystemPrivilegedGroup, Privileged: true, Via: []Via{},
	}}}
	// slot[id] is 1 + the subject's position in found, 0 when not found.
	slot := make([]int32, len(idx.subjects))
	var found []subjectVia
	for _, set := range idx.scopes(a.GetNamespace()) {
		for _, pos := range set.allowing(&req, memo) {
			b := set.all[pos]
			via := Via{Binding: b.key, Role: b.role.key}
			for _, id := range b.subjectIDs {
				if slot[id] == 0 {
					found = append(found, subjectVia{id: id})
					slot[id] = int32(len(found))
				}
				f := &found[slot[id]-1]
				if !slices.Contains(f.via, via) {
					f.via = append(f.via, via)
				}
			}
		}
		for _, pos := range set.dangling {
			res.Errors = append(res.Errors, set.all[pos].missing.Error())
		}
	}
	slices.SortFunc(found, func(x, y subjectVia) int { return cmp.Compare(idx.rank[x.id], idx.rank[y.id]) })
	privileged := rbacv1.Subject{Kind: rbacv1.GroupKind, APIGroup: rbacv1.GroupName, Name: user.SystemPrivilegedGroup}
	for _, f := range found {
		s := idx.subjects[f.id]
		if s == privileged {
			res.Subjects[0].Via = f.via // system:masters is also bound
			continue
		}
		res.Subjects = append(res.Subjects, SubjectGrant{Kind: s.Kind, APIGroup: s.APIGroup, Name: s.Name, Namespace: s.Namespace, Via: f.via})
	}
	return res
}

type subjectVia struct {
	id  int32
	via []Via
}

// allowing returns the positions of the bindings whose role allows req,
// ascending. Each distinct role is evaluated once; memo is shared between
// the cluster-wide and the namespace set, as RoleBindings often reference
// ClusterRoles.
func (s *bindingSet) allowing(req *request, memo []int8) []int32 {
	var out []int32
	for _, r := range s.roles {
		if memo[r.id] == 0 {
			memo[r.id] = 2
			if r.allows(req) {
				memo[r.id] = 1
			}
		}
		if memo[r.id] == 1 {
			out = append(out, s.byRole[r]...)
		}
	}
	slices.Sort(out)
	return out
}

func (r *role) allows(req *request) bool {
	if !r.mayMatch(req) {
		return false
	}
	for i := range r.rules {
		if r.rules[i].allows(req) {
			return true
		}
	}
	return false
}
