package main

import (
	"cmp"
	"fmt"
	"slices"

	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/authorization/authorizer"
	"k8s.io/apiserver/pkg/authorization/authorizerfactory"
	"k8s.io/apiserver/pkg/authorization/union"
	rbaclisters "k8s.io/client-go/listers/rbac/v1"
	"k8s.io/client-go/tools/cache"
	rbacauthorizer "k8s.io/kubernetes/plugin/pkg/auth/authorizer/rbac"

	"github.com/kauth/kauth/internal/rbac"
)

// Objects is one RBAC policy: the four kinds as kube-apiserver would store
// them (valid, defaulted). Both engines are built from the same Objects.
type Objects struct {
	Roles               []*rbacv1.Role
	ClusterRoles        []*rbacv1.ClusterRole
	RoleBindings        []*rbacv1.RoleBinding
	ClusterRoleBindings []*rbacv1.ClusterRoleBinding
}

// FromPolicy copies the objects of a kauth Policy.
func FromPolicy(p *rbac.Policy) *Objects {
	o := &Objects{Roles: p.Roles, ClusterRoles: p.ClusterRoles, RoleBindings: p.RoleBindings, ClusterRoleBindings: p.ClusterRoleBindings}
	return o.DeepCopy()
}

// Bindings is the number of RoleBindings and ClusterRoleBindings.
func (o *Objects) Bindings() int { return len(o.RoleBindings) + len(o.ClusterRoleBindings) }

// DeepCopy returns an independent copy, so that neither engine can see
// what the other did to its input.
func (o *Objects) DeepCopy() *Objects {
	out := &Objects{}
	for _, r := range o.Roles {
		out.Roles = append(out.Roles, r.DeepCopy())
	}
	for _, r := range o.ClusterRoles {
		out.ClusterRoles = append(out.ClusterRoles, r.DeepCopy())
	}
	for _, b := range o.RoleBindings {
		out.RoleBindings = append(out.RoleBindings, b.DeepCopy())
	}
	for _, b := range o.ClusterRoleBindings {
		out.ClusterRoleBindings = append(out.ClusterRoleBindings, b.DeepCopy())
	}
	return out
}

// Upstream is kube-apiserver's authorization for --authorization-mode=RBAC,
// built from the real k8s.io/kubernetes code over static listers: the RBAC
// authorizer, the same authorizer behind the system:masters privileged-group
// authorizer (as kube-apiserver's union), and the RBAC subject locator.
type Upstream struct {
	// RBAC is k8s.io/kubernetes/plugin/pkg/auth/authorizer/rbac alone.
	RBAC *rbacauthorizer.RBACAuthorizer
	// Chain is what kube-apiserver runs: system:masters first, then RBAC.
	Chain authorizer.Authorizer
	// Locator answers who-can (the subject locator behind
	// "kubectl auth who-can" style reviews).
	Locator *rbacauthorizer.SubjectAccessEvaluator
}

// NewUpstream builds the upstream authorizer from objs. ClusterRoles with an
// aggregationRule get their rules first, as the clusterrole-aggregation
// controller would give them (see aggregateLikeController).
func NewUpstream(objs *Objects) (*Upstream, error) {
	objs = objs.DeepCopy()
	aggregateLikeController(objs.ClusterRoles)

	indexers := cache.Indexers{cache.NamespaceIndex: cache.MetaNamespaceIndexFunc}
	roles := cache.NewIndexer(cache.MetaNamespaceKeyFunc, indexers)
	roleBindings := cache.NewIndexer(cache.MetaNamespaceKeyFunc, indexers)
	clusterRoles := cache.NewIndexer(cache.MetaNamespaceKeyFunc, indexers)
	clusterRoleBindings := cache.NewIndexer(cache.MetaNamespaceKeyFunc, indexers)
	for _, r := range objs.Roles {
		if err := roles.Add(r); err != nil {
			return nil, fmt.Errorf("index role %s/%s: %w", r.Namespace, r.Name, err)
		}
	}
	for _, r := range objs.ClusterRoles {
		if err := clusterRoles.Add(r); err != nil {
			return nil, fmt.Errorf("index clusterrole %s: %w", r.Name, err)
		}
	}
	for _, b := range objs.RoleBindings {
		if err := roleBindings.Add(b); err != nil {
			return nil, fmt.Errorf("index rolebinding %s/%s: %w", b.Namespace, b.Name, err)
		}
	}
	for _, b := range objs.ClusterRoleBindings {
		if err := clusterRoleBindings.Add(b); err != nil {
			return nil, fmt.Errorf("index clusterrolebinding %s: %w", b.Name, err)
		}
	}

	rg := &rbacauthorizer.RoleGetter{Lister: rbaclisters.NewRoleLister(roles)}
	rbl := &rbacauthorizer.RoleBindingLister{Lister: rbaclisters.NewRoleBindingLister(roleBindings)}
	crg := &rbacauthorizer.ClusterRoleGetter{Lister: rbaclisters.NewClusterRoleLister(clusterRoles)}
	crbl := &rbacauthorizer.ClusterRoleBindingLister{Lister: rbaclisters.NewClusterRoleBindingLister(clusterRoleBindings)}

	rbac := rbacauthorizer.New(rg, rbl, crg, crbl)
	chain, err := union.New(
		union.NamedAuthorizer{AuthorizerName: "kubernetes.io/system-privileged-group", Authorizer: authorizerfactory.NewPrivilegedGroups(user.SystemPrivilegedGroup)},
		union.NamedAuthorizer{AuthorizerName: "rbac", Authorizer: rbac},
	)
	if err != nil {
		return nil, fmt.Errorf("build kube-apiserver authorizer chain: %w", err)
	}
	return &Upstream{
		RBAC:    rbac,
		Chain:   chain,
		Locator: rbacauthorizer.NewSubjectAccessEvaluator(rg, rbl, crg, crbl, ""),
	}, nil
}

// aggregateLikeController gives every ClusterRole with an aggregationRule
// the rules k8s.io/kubernetes/pkg/controller/clusterroleaggregation would
// converge to. That controller cannot run here without a server (it writes
// with server-side apply), so its sync step is restated: for each selector
// in order, the matching ClusterRoles sorted by name, skipping the role
// itself, appending each rule not already present (semantic equality), the
// result replacing the role's rules (an empty result is applied as no rules
// field at all, which leaves the role's own rules in place). The step is repeated until nothing
// changes, as the controller's re-queueing does, so aggregated roles that
// select other aggregated roles converge. Policies with aggregation cycles
// have no single answer upstream either (it depends on sync order), so the
// generator never makes them.
func aggregateLikeController(clusterRoles []*rbacv1.ClusterRole) {
	byName := slices.Clone(clusterRoles)
	slices.SortFunc(byName, func(a, b *rbacv1.ClusterRole) int { return cmp.Compare(a.Name, b.Name) })
	for range len(clusterRoles) + 1 {
		changed := false
		for _, cr := range byName {
			if cr.AggregationRule == nil {
				continue
			}
			rules := []rbacv1.PolicyRule{}
			for _, sel := range cr.AggregationRule.ClusterRoleSelectors {
				s, err := metav1.LabelSelectorAsSelector(&sel)
				if err != nil {
					continue // invalid selectors are rejected by validation; the generator makes none
				}
				for _, other := range byName {
					if other.Name == cr.Name || !s.Matches(labels.Set(other.Labels)) {
						continue
					}
					for _, r := range other.Rules {
						if !slices.ContainsFunc(rules, func(x rbacv1.PolicyRule) bool { return equality.Semantic.DeepEqual(x, r) }) {
							rules = append(rules, r)
						}
					}
				}
			}
			// An empty result applies no rules field, so server-side apply
			// leaves the rules the role was created with.
			if len(rules) > 0 && !equality.Semantic.DeepEqual(rules, cr.Rules) {
				cr.Rules = rules
				changed = true
			}
		}
		if !changed {
			return
		}
	}
}
