package rbac

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"sync"

	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apiserver/pkg/authentication/serviceaccount"
)

// Index is a Policy compiled for questions: roles resolved, rules
// compiled, and bindings indexed by the subjects they name, so a decision
// reads only the bindings that can apply to the user asking. It is
// read-only once built and safe for concurrent use.
type Index struct {
	policy       *Policy
	vocab        *vocab
	clusterRoles map[string]*role
	roles        map[string]*role // "namespace/name"
	cluster      bindingSet       // ClusterRoleBindings
	namespaces   map[string]*bindingSet
	nRoles       int32
	// subjects are the distinct subjects of all bindings; rank orders them
	// by kind, namespace, name and apiGroup, so who-can sorts integers.
	subjects   []rbacv1.Subject
	subjectIDs map[rbacv1.Subject]int32
	rank       []int32
}

// role is a Role or ClusterRole with compiled rules.
type role struct {
	key   ObjectKey
	src   string // file:line, or "" when unknown
	id    int32  // dense, for per-query memos
	rules []rule
	// any is the union of the rules' resource tests: a request none of
	// them could match skips the role's rules altogether.
	any rule
}

// mayMatch is a cheap necessary condition for any rule of r to allow req.
func (r *role) mayMatch(req *request) bool {
	if !req.resource {
		return r.any.allURLs || len(r.any.urls) > 0
	}
	return r.any.resourceMatches(req)
}

// binding is a RoleBinding or ClusterRoleBinding with its role resolved.
type binding struct {
	key       ObjectKey
	src       string // file:line, or "" when unknown
	namespace string // "" for ClusterRoleBindings
	roleRef   rbacv1.RoleRef
	subjects  []rbacv1.Subject
	// subjectIDs are the index's ids of subjects, in the same order.
	subjectIDs []int32
	role       *role // nil when the referenced role does not exist
	missing    error // the lister's NotFound error for a missing role
	pos        int32 // position in its bindingSet, which is policy order
	// allowed holds, per subject, the reason string of an allowed decision,
	// built on first use (most bindings never allow anything asked) and
	// then shared, so deciding allocates nothing.
	once    sync.Once
	allowed []string
}

// reason is upstream's allow reason for the binding's subject i.
func (b *binding) reason(i int) string {
	b.once.Do(func() {
		b.allowed = make([]string, len(b.subjects))
		for j := range b.subjects {
			b.allowed[j] = "RBAC: allowed by " + b.describe(j)
		}
	})
	return b.allowed[i]
}

// bindingSet holds the bindings of one scope (cluster-wide, or one
// namespace) in policy order, with indexes from user name and group name
// to positions. ServiceAccount subjects are indexed under their user name.
type bindingSet struct {
	all    []*binding
	users  map[string][]int32
	groups map[string][]int32
	// byRole lists positions by the referenced role, and roles the roles
	// in order of first use, for who-can.
	byRole map[*role][]int32
	roles  []*role
	// dangling lists bindings to missing roles, for who-can's errors.
	dangling []int32
}

// NewIndex compiles p. p should already be aggregated ([Aggregate]); it
// must not change afterwards.
func NewIndex(p *Policy) *Index {
	idx := &Index{
		policy:       p,
		vocab:        newVocab(),
		clusterRoles: make(map[string]*role, len(p.ClusterRoles)),
		roles:        make(map[string]*role, len(p.Roles)),
		namespaces:   map[string]*bindingSet{},
		subjectIDs:   map[rbacv1.Subject]int32{},
	}
	for _, cr := range p.ClusterRoles {
		idx.clusterRoles[cr.Name] = idx.compileRole(ObjectKey{KindClusterRole, "", cr.Name}, cr.Rules)
	}
	for _, r := range p.Roles {
		idx.roles[r.Namespace+"/"+r.Name] = idx.compileRole(ObjectKey{KindRole, r.Namespace, r.Name}, r.Rules)
	}
	for _, b := range p.ClusterRoleBindings {
		idx.cluster.add(idx.newBinding(ObjectKey{KindClusterRoleBinding, "", b.Name}, "", b.RoleRef, b.Subjects))
	}
	for _, b := range p.RoleBindings {
		set := idx.namespaces[b.Namespace]
		if set == nil {
			set = &bindingSet{}
			idx.namespaces[b.Namespace] = set
		}
		set.add(idx.newBinding(ObjectKey{KindRoleBinding, b.Namespace, b.Name}, b.Namespace, b.RoleRef, b.Subjects))
	}
	idx.rankSubjects()
	return idx
}

func (idx *Index) rankSubjects() {
	order := make([]int32, len(idx.subjects))
	for i := range order {
		order[i] = int32(i)
	}
	slices.SortFunc(order, func(a, b int32) int {
		x, y := &idx.subjects[a], &idx.subjects[b]
		return cmp.Or(cmp.Compare(x.Kind, y.Kind), cmp.Compare(x.Namespace, y.Namespace), cmp.Compare(x.Name, y.Name), cmp.Compare(x.APIGroup, y.APIGroup))
	})
	idx.rank = make([]int32, len(order))
	for r, id := range order {
		idx.rank[id] = int32(r)
	}
}

// source renders where the object named key was defined.
func (idx *Index) source(key ObjectKey) string {
	if src, ok := idx.policy.Sources[key]; ok {
		return src.String()
	}
	return ""
}

// Policy returns the policy the index was built from.
func (idx *Index) Policy() *Policy { return idx.policy }

func (idx *Index) compileRole(key ObjectKey, rules []rbacv1.PolicyRule) *role {
	r := &role{key: key, src: idx.source(key), id: idx.nRoles, rules: make([]rule, len(rules))}
	idx.nRoles++
	for i := range rules {
		c := compileRule(idx.vocab, &rules[i])
		r.rules[i] = c
		r.any.allResources = r.any.allResources || c.allResources
		r.any.resources = r.any.resources.union(c.resources)
		r.any.subresources = r.any.subresources.union(c.subresources)
		r.any.allURLs = r.any.allURLs || c.allURLs
		r.any.urls = append(r.any.urls, c.urls...)
	}
	return r
}

func (idx *Index) newBinding(key ObjectKey, ns string, ref rbacv1.RoleRef, subjects []rbacv1.Subject) *binding {
	b := &binding{key: key, src: idx.source(key), namespace: ns, roleRef: ref, subjects: subjects}
	b.role, b.missing = idx.resolve(ref, ns)
	b.subjectIDs = make([]int32, len(subjects))
	for i, sub := range subjects {
		id, ok := idx.subjectIDs[sub]
		if !ok {
			id = int32(len(idx.subjects))
			idx.subjects = append(idx.subjects, sub)
			idx.subjectIDs[sub] = id
		}
		b.subjectIDs[i] = id
	}
	return b
}

// resolve is upstream's GetRoleReferenceRules against listers: the error
// texts are the listers' NotFound errors, which end up in denial reasons.
func (idx *Index) resolve(ref rbacv1.RoleRef, ns string) (*role, error) {
	switch ref.Kind {
	case KindRole:
		if r := idx.roles[ns+"/"+ref.Name]; r != nil && ns != "" {
			return r, nil
		}
		return nil, apierrors.NewNotFound(rbacv1.Resource("role"), ref.Name)
	case KindClusterRole:
		if r := idx.clusterRoles[ref.Name]; r != nil {
			return r, nil
		}
		return nil, apierrors.NewNotFound(rbacv1.Resource("clusterrole"), ref.Name)
	default:
		return nil, fmt.Errorf("unsupported role reference kind: %q", ref.Kind)
	}
}

func (s *bindingSet) add(b *binding) {
	if s.users == nil {
		s.users, s.groups, s.byRole = map[string][]int32{}, map[string][]int32{}, map[*role][]int32{}
	}
	b.pos = int32(len(s.all))
	s.all = append(s.all, b)
	if b.role != nil {
		if _, seen := s.byRole[b.role]; !seen {
			s.roles = append(s.roles, b.role)
		}
		s.byRole[b.role] = append(s.byRole[b.role], b.pos)
	} else {
		s.dangling = append(s.dangling, b.pos)
	}
	for _, sub := range b.subjects {
		switch sub.Kind {
		case rbacv1.UserKind:
			s.users[sub.Name] = appendOnce(s.users[sub.Name], b.pos)
		case rbacv1.GroupKind:
			s.groups[sub.Name] = appendOnce(s.groups[sub.Name], b.pos)
		case rbacv1.ServiceAccountKind:
			if name, ok := serviceAccountUser(sub, b.namespace); ok {
				s.users[name] = appendOnce(s.users[name], b.pos)
			}
		}
	}
}

func appendOnce(list []int32, pos int32) []int32 {
	if n := len(list); n > 0 && list[n-1] == pos {
		return list
	}
	return append(list, pos)
}

// serviceAccountUser is the user name a ServiceAccount subject matches. A
// subject without namespace means the binding's namespace; in a
// ClusterRoleBinding it matches nobody.
func serviceAccountUser(sub rbacv1.Subject, bindingNS string) (string, bool) {
	ns := sub.Namespace
	if ns == "" {
		ns = bindingNS
	}
	if ns == "" {
		return "", false
	}
	return serviceaccount.MakeUsername(ns, sub.Name), true
}

// candidates returns the positions of the bindings in s that name the
// user or one of its groups, ascending and without duplicates. buf is
// reused to avoid allocation on the hot path.
func (s *bindingSet) candidates(name string, groups []string, buf []int32) []int32 {
	out := append(buf[:0], s.users[name]...)
	for _, g := range groups {
		out = append(out, s.groups[g]...)
	}
	if len(groups) == 0 || len(out) < 2 {
		return out
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// appliesTo is upstream's appliesTo: the index of the first subject of b
// that matches the user, or -1.
func (b *binding) appliesTo(name string, groups []string) int {
	for i, sub := range b.subjects {
		switch sub.Kind {
		case rbacv1.UserKind:
			if sub.Name == name {
				return i
			}
		case rbacv1.GroupKind:
			if contains(groups, sub.Name) {
				return i
			}
		case rbacv1.ServiceAccountKind:
			ns := sub.Namespace
			if ns == "" {
				ns = b.namespace
			}
			if ns != "" && serviceaccount.MatchesUsername(ns, sub.Name, name) {
				return i
			}
		}
	}
	return -1
}

// describe renders the binding and subject the way upstream's reason
// strings do: ClusterRoleBinding "x" of ClusterRole "y" to User "alice".
func (b *binding) describe(subject int) string {
	s := b.subjects[subject]
	who := s.Name
	if s.Kind == rbacv1.ServiceAccountKind {
		ns := s.Namespace
		if ns == "" {
			ns = b.namespace
		}
		who = s.Name + "/" + ns
	}
	kind, name := "ClusterRoleBinding ", b.key.Name
	if b.namespace != "" {
		kind, name = "RoleBinding ", b.key.Name+"/"+b.namespace
	}
	return kind + strconv.Quote(name) + " of " + b.roleRef.Kind + " " + strconv.Quote(b.roleRef.Name) + " to " + s.Kind + " " + strconv.Quote(who)
}
