package rbac

import (
	"cmp"
	"context"
	"fmt"
	"slices"

	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/authorization/authorizer"
)

// Explanation says why a request is allowed or, when it is not, what came
// closest.
type Explanation struct {
	Allowed bool `json:"allowed"`
	// Reason is the decision's reason as kube-apiserver gives it.
	Reason string `json:"reason"`
	// Privileged is set when the user's group system:masters allows the
	// request ahead of RBAC.
	Privileged bool `json:"privileged,omitempty"`
	// Grants are every binding, role and rule that allow the request, in
	// the order the authorizer visits them; the first is the one Reason
	// names.
	Grants []RuleRef `json:"grants,omitempty"`
	// Misses are the nearest misses of a request RBAC does not allow.
	Misses []Miss `json:"misses,omitempty"`
}

// MissKind classifies a near miss.
type MissKind string

// The near misses Explain looks for.
const (
	// MissOtherNamespace: a rule that allows the request is bound to the
	// user by a RoleBinding in another namespace (or, for a cluster-scoped
	// request, in any namespace: RoleBindings never grant cluster scope).
	MissOtherNamespace MissKind = "OtherNamespace"
	// MissMissingRole: a binding that applies to the user references a role
	// that does not exist.
	MissMissingRole MissKind = "MissingRole"
	// MissResourceNames: a bound rule matches verb, group and resource, but
	// its resourceNames do not include the request's name (a request
	// without a name, such as list or create, never matches them).
	MissResourceNames MissKind = "ResourceNames"
	// MissUnbound: a role that would allow the request is not bound to the
	// user at all.
	MissUnbound MissKind = "Unbound"
)

// maxUnbound bounds the MissUnbound entries: with the bootstrap policy
// many roles allow almost anything (cluster-admin, admin, edit).
const maxUnbound = 5

// Miss is one near miss.
type Miss struct {
	Kind    MissKind           `json:"kind"`
	Message string             `json:"message"`
	Binding *ObjectKey         `json:"binding,omitempty"`
	Role    *ObjectKey         `json:"role,omitempty"`
	Index   int                `json:"index,omitempty"`
	Rule    *rbacv1.PolicyRule `json:"rule,omitempty"`
	// Source is file:line of the binding (of the role for Unbound).
	Source string `json:"source,omitempty"`
}

// Explain answers like kube-apiserver's authorizer chain (system:masters,
// then RBAC) and gives the evidence: every allowing rule, or the nearest
// misses.
func (idx *Index) Explain(a authorizer.Attributes) Explanation {
	u := a.GetUser()
	if u == nil {
		return Explanation{Reason: errNoUser.Error()}
	}
	var e Explanation
	if d, _, _ := SystemMasters().Authorize(context.Background(), a); d == authorizer.DecisionAllow {
		e.Privileged = true
	}
	d, reason, _ := NewAuthorizer(idx).Authorize(context.Background(), a)
	e.Allowed, e.Reason = d == authorizer.DecisionAllow, reason
	req := idx.vocab.request(a)
	idx.visit(u, a.GetNamespace(), func(b *binding, sub int) {
		if b.role == nil {
			return
		}
		for i := range b.role.rules {
			if b.role.rules[i].allows(&req) {
				e.Grants = append(e.Grants, b.ruleRef(sub, i))
			}
		}
	})
	if e.Allowed {
		return e
	}
	e.Misses = append(e.Misses, idx.missingRoles(u, a.GetNamespace())...)
	e.Misses = append(e.Misses, idx.resourceNameMisses(u, a.GetNamespace(), &req)...)
	e.Misses = append(e.Misses, idx.otherNamespaces(u, a.GetNamespace(), &req)...)
	e.Misses = append(e.Misses, idx.unbound(a.GetNamespace(), &req, e.Misses)...)
	return e
}

func (idx *Index) missingRoles(u user.Info, ns string) []Miss {
	var out []Miss
	idx.visit(u, ns, func(b *binding, _ int) {
		if b.role != nil {
			return
		}
		key := b.key
		ref := ObjectKey{Kind: b.roleRef.Kind, Name: b.roleRef.Name}
		if ref.Kind == KindRole {
			ref.Namespace = b.namespace
		}
		out = append(out, Miss{Kind: MissMissingRole, Binding: &key, Role: &ref, Source: b.src,
			Message: fmt.Sprintf("%s applies to the user but references %s, which does not exist", key, ref)})
	})
	return out
}

func (idx *Index) resourceNameMisses(u user.Info, ns string, req *request) []Miss {
	if !req.resource {
		return nil
	}
	var out []Miss
	idx.visit(u, ns, func(b *binding, sub int) {
		if b.role == nil {
			return
		}
		for i := range b.role.rules {
			c := &b.role.rules[i]
			if len(c.names) == 0 || !c.verbMatches(req) || !c.groupMatches(req) || !c.resourceMatches(req) || c.nameMatches(req.name) {
				continue
			}
			ref := b.ruleRef(sub, i)
			msg := fmt.Sprintf("%s grants rule %d of %s, which only allows the names %q", ref.Binding, ref.Index, ref.Role, ref.Rule.ResourceNames)
			if req.name == "" {
				msg += "; a request without a name (list, watch, create, deletecollection) never matches resourceNames"
			}
			out = append(out, newMiss(MissResourceNames, msg, ref))
		}
	})
	return out
}

// otherNamespaces finds RoleBindings of the user outside the request's
// namespace whose rules would allow the request there.
func (idx *Index) otherNamespaces(u user.Info, ns string, req *request) []Miss {
	names := make([]string, 0, len(idx.namespaces))
	for n := range idx.namespaces {
		if n != ns {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	var out []Miss
	for _, n := range names {
		set := idx.namespaces[n]
		for _, pos := range set.candidates(u.GetName(), u.GetGroups(), nil) {
			b := set.all[pos]
			if b.role == nil {
				continue
			}
			for i := range b.role.rules {
				if !b.role.rules[i].allows(req) {
					continue
				}
				ref := b.ruleRef(b.appliesTo(u.GetName(), u.GetGroups()), i)
				msg := fmt.Sprintf("%s grants rule %d of %s, but only in namespace %q", b.key, i, b.role.key, n)
				if ns == "" {
					msg += "; a RoleBinding never grants cluster-scoped or all-namespace access"
				}
				out = append(out, newMiss(MissOtherNamespace, msg, ref))
				break
			}
		}
	}
	return out
}

// unbound lists a few roles that would allow the request but that no
// binding gives the user: ClusterRoles, and Roles of the namespace, except
// those the earlier misses already name.
func (idx *Index) unbound(ns string, req *request, seen []Miss) []Miss {
	var roles []*role
	for _, r := range idx.clusterRoles {
		roles = append(roles, r)
	}
	for _, r := range idx.roles {
		if ns != "" && r.key.Namespace == ns {
			roles = append(roles, r)
		}
	}
	slices.SortFunc(roles, func(x, y *role) int {
		return cmp.Or(cmp.Compare(x.key.Kind, y.key.Kind), cmp.Compare(x.key.Namespace, y.key.Namespace), cmp.Compare(x.key.Name, y.key.Name))
	})
	var out []Miss
	for _, r := range roles {
		if len(out) == maxUnbound {
			break
		}
		if slices.ContainsFunc(seen, func(m Miss) bool { return m.Role != nil && *m.Role == r.key }) {
			continue // already explained as bound elsewhere or restricted
		}
		for i := range r.rules {
			if r.rules[i].allows(req) {
				key := r.key
				out = append(out, Miss{Kind: MissUnbound, Role: &key, Index: i, Rule: r.rules[i].src, Source: r.src,
					Message: fmt.Sprintf("rule %d of %s allows the request, but it is not bound to the user here", i, key)})
				break
			}
		}
	}
	return out
}

func newMiss(kind MissKind, msg string, ref RuleRef) Miss {
	b, r, rule := ref.Binding, ref.Role, ref.Rule
	return Miss{Kind: kind, Message: msg, Binding: &b, Role: &r, Index: ref.Index, Rule: &rule, Source: ref.BindingSource}
}

// scopes returns the binding sets a request in ns reads.
func (idx *Index) scopes(ns string) []*bindingSet {
	out := []*bindingSet{&idx.cluster}
	if s := idx.namespaces[ns]; ns != "" && s != nil {
		out = append(out, s)
	}
	return out
}
