package api

import (
	"context"
	"fmt"
	"sort"
	"strings"

	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/authorization/authorizer"
	"k8s.io/apiserver/pkg/endpoints/request"
)

// checkEscalation is kube-apiserver's RBAC escalation prevention: a Role
// or ClusterRole may only grant what its author holds (or may "escalate"),
// and a binding may only reference a role whose permissions its author
// holds (or may "bind"). system:masters is exempt. It applies only when
// an authorizer that resolves rules is configured.
func (a *API) checkEscalation(ctx context.Context, t target, obj, old runtime.Object) error {
	if t.sub != "" || t.kind.GVK.Group != rbacv1.GroupName {
		return nil
	}
	resolver, ok := a.hooks.Authorizer.(authorizer.RuleResolver)
	if !ok {
		return nil
	}
	u, ok := request.UserFrom(ctx)
	if !ok {
		return apierrors.NewForbidden(t.kind.GroupResource(), t.name, fmt.Errorf("no user on the request"))
	}
	for _, g := range u.GetGroups() {
		if g == user.SystemPrivilegedGroup {
			return nil
		}
	}
	g, err := a.grantedRules(ctx, obj, old)
	if err != nil || g.rules == nil {
		return err
	}
	if a.authorized(ctx, u, g) {
		return nil
	}
	missing := a.missingRules(ctx, resolver, u, g.namespace, g.rules)
	if len(missing) == 0 {
		return nil
	}
	name := nameOf(obj)
	return apierrors.NewForbidden(t.kind.GroupResource(), name, fmt.Errorf(
		"user %q (groups=%q) is attempting to grant RBAC permissions not currently held:\n%s", u.GetName(), u.GetGroups(), strings.Join(missing, "\n")))
}

func nameOf(obj runtime.Object) string {
	type named interface{ GetName() string }
	if n, ok := obj.(named); ok {
		return n.GetName()
	}
	return ""
}

// grant is what an RBAC write grants: rules in a namespace, and the
// request (escalate or bind on a role) that would allow it anyway.
type grant struct {
	rules     []rbacv1.PolicyRule // nil: nothing new is granted
	namespace string
	verb      string
	resource  string
	name      string
}

func (a *API) grantedRules(ctx context.Context, obj, old runtime.Object) (grant, error) {
	switch o := obj.(type) {
	case *rbacv1.Role:
		if old != nil && equality.Semantic.DeepEqual(o.Rules, old.(*rbacv1.Role).Rules) {
			return grant{}, nil
		}
		return grant{o.Rules, o.Namespace, "escalate", "roles", o.Name}, nil
	case *rbacv1.ClusterRole:
		if o.AggregationRule != nil || (old != nil && equality.Semantic.DeepEqual(o.Rules, old.(*rbacv1.ClusterRole).Rules)) {
			// Aggregated rules are filled in by the controller, not the author.
			return grant{}, nil
		}
		return grant{o.Rules, "", "escalate", "clusterroles", o.Name}, nil
	case *rbacv1.RoleBinding:
		if old != nil && equality.Semantic.DeepEqual(o.Subjects, old.(*rbacv1.RoleBinding).Subjects) {
			return grant{}, nil
		}
		rules, err := a.roleRules(ctx, o.RoleRef, o.Namespace)
		return grant{rules, o.Namespace, "bind", refResource(o.RoleRef), o.RoleRef.Name}, err
	case *rbacv1.ClusterRoleBinding:
		if old != nil && equality.Semantic.DeepEqual(o.Subjects, old.(*rbacv1.ClusterRoleBinding).Subjects) {
			return grant{}, nil
		}
		rules, err := a.roleRules(ctx, o.RoleRef, "")
		return grant{rules, "", "bind", refResource(o.RoleRef), o.RoleRef.Name}, err
	}
	return grant{}, nil
}

func refResource(ref rbacv1.RoleRef) string {
	if ref.Kind == "Role" {
		return "roles"
	}
	return "clusterroles"
}

// roleRules reads the rules of a binding's role; a missing role grants
// nothing yet, as in kube-apiserver.
func (a *API) roleRules(ctx context.Context, ref rbacv1.RoleRef, ns string) ([]rbacv1.PolicyRule, error) {
	gvr, roleNS := rbacv1.SchemeGroupVersion.WithResource("clusterroles"), ""
	if ref.Kind == "Role" {
		gvr, roleNS = rbacv1.SchemeGroupVersion.WithResource("roles"), ns
	}
	obj, err := a.store.Get(ctx, gvr, roleNS, ref.Name)
	switch {
	case apierrors.IsNotFound(err):
		return []rbacv1.PolicyRule{}, nil
	case err != nil:
		return nil, err
	}
	if r, ok := obj.(*rbacv1.Role); ok {
		return r.Rules, nil
	}
	return obj.(*rbacv1.ClusterRole).Rules, nil
}

// authorized asks whether u may escalate (roles) or bind (bindings) the
// named role, which lets it grant what it does not hold.
func (a *API) authorized(ctx context.Context, u user.Info, g grant) bool {
	attrs := authorizer.AttributesRecord{User: u, Verb: g.verb, Namespace: g.namespace, APIGroup: rbacv1.GroupName, APIVersion: "*",
		Resource: g.resource, Name: g.name, ResourceRequest: true}
	d, _, _ := a.hooks.Authorizer.Authorize(ctx, attrs)
	return d == authorizer.DecisionAllow
}

// missingRules returns, in kube-apiserver's compact form and sorted, the
// parts of rules the user's own rules do not cover.
func (a *API) missingRules(ctx context.Context, resolver authorizer.RuleResolver, u user.Info, ns string, rules []rbacv1.PolicyRule) []string {
	res, nonRes, _, _ := resolver.RulesFor(ctx, u, ns)
	var owner []rbacv1.PolicyRule
	for _, r := range res {
		owner = append(owner, rbacv1.PolicyRule{Verbs: r.GetVerbs(), APIGroups: r.GetAPIGroups(), Resources: r.GetResources(), ResourceNames: r.GetResourceNames()})
	}
	for _, r := range nonRes {
		owner = append(owner, rbacv1.PolicyRule{Verbs: r.GetVerbs(), NonResourceURLs: r.GetNonResourceURLs()})
	}
	seen := map[string]bool{}
	var missing []string
	for _, rule := range rules {
		for _, atom := range breakdown(rule) {
			if !coveredByAny(owner, atom) {
				s := compactString(atom)
				if !seen[s] {
					seen[s] = true
					missing = append(missing, s)
				}
			}
		}
	}
	sort.Strings(missing)
	return missing
}

// breakdown splits a rule into rules of one verb, group, resource and
// resource name (or non-resource URL), as kube-apiserver's BreakdownRule.
func breakdown(r rbacv1.PolicyRule) []rbacv1.PolicyRule {
	var out []rbacv1.PolicyRule
	for _, verb := range r.Verbs {
		for _, url := range r.NonResourceURLs {
			out = append(out, rbacv1.PolicyRule{Verbs: []string{verb}, NonResourceURLs: []string{url}})
		}
		for _, g := range r.APIGroups {
			for _, res := range r.Resources {
				if len(r.ResourceNames) == 0 {
					out = append(out, rbacv1.PolicyRule{Verbs: []string{verb}, APIGroups: []string{g}, Resources: []string{res}})
				}
				for _, n := range r.ResourceNames {
					out = append(out, rbacv1.PolicyRule{Verbs: []string{verb}, APIGroups: []string{g}, Resources: []string{res}, ResourceNames: []string{n}})
				}
			}
		}
	}
	return out
}

func coveredByAny(owner []rbacv1.PolicyRule, atom rbacv1.PolicyRule) bool {
	for _, o := range owner {
		if covers(o, atom) {
			return true
		}
	}
	return false
}

// covers is kube-apiserver's ruleCovers for one atomic rule.
func covers(owner, atom rbacv1.PolicyRule) bool {
	if !hasOrStar(owner.Verbs, atom.Verbs[0]) {
		return false
	}
	if len(atom.NonResourceURLs) > 0 {
		url := atom.NonResourceURLs[0]
		for _, o := range owner.NonResourceURLs {
			if o == "*" || o == url || (strings.HasSuffix(o, "*") && strings.HasPrefix(url, strings.TrimSuffix(o, "*"))) {
				return true
			}
		}
		return false
	}
	if !hasOrStar(owner.APIGroups, atom.APIGroups[0]) || !resourceCovered(owner.Resources, atom.Resources[0]) {
		return false
	}
	if len(owner.ResourceNames) == 0 {
		return true
	}
	return len(atom.ResourceNames) == 1 && hasOrStar(owner.ResourceNames, atom.ResourceNames[0])
}

func hasOrStar(list []string, v string) bool {
	for _, x := range list {
		if x == "*" || x == v {
			return true
		}
	}
	return false
}

// resourceCovered matches "*", the resource itself, "*/sub" for any
// resource's subresource and "res/*" for any subresource of res.
func resourceCovered(owner []string, res string) bool {
	base, sub, hasSub := strings.Cut(res, "/")
	for _, o := range owner {
		switch {
		case o == "*" || o == res:
			return true
		case hasSub && o == "*/"+sub:
			return true
		case hasSub && o == base+"/*":
			return true
		}
	}
	return false
}

// compactString is kube-apiserver's rbacv1helpers.CompactString.
func compactString(r rbacv1.PolicyRule) string {
	var parts []string
	add := func(name string, v []string) {
		if len(v) > 0 {
			parts = append(parts, fmt.Sprintf("%s:%q", name, v))
		}
	}
	add("APIGroups", r.APIGroups)
	add("Resources", r.Resources)
	add("NonResourceURLs", r.NonResourceURLs)
	add("ResourceNames", r.ResourceNames)
	add("Verbs", r.Verbs)
	return "{" + strings.Join(parts, ", ") + "}"
}
