package rbac_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apiserver/pkg/authentication/serviceaccount"
	"k8s.io/apiserver/pkg/authentication/user"

	"github.com/kauth/kauth/internal/rbac"
	"github.com/kauth/kauth/internal/rbac/rbactest"
)

// TestAppendBoundRulesMatchesRules checks AppendBoundRules against Rules
// for every subject of a generated policy, cluster-wide and in every
// namespace (and one without bindings): the same bindings, roles and
// rule positions in the same order, and AppendScopeBoundRules parts that
// add up to it.
func TestAppendBoundRulesMatchesRules(t *testing.T) {
	t.Parallel()
	p := rbactest.Generate(rbactest.Config{Seed: 3, Bindings: 400, Queries: 1}).Policy
	idx := rbac.NewIndex(p)
	type ref struct {
		Binding, Role rbac.ObjectKey
		Index         int
	}
	users := map[string]user.Info{}
	note := func(s rbacv1.Subject, ns string) {
		switch s.Kind {
		case rbacv1.UserKind:
			users["u:"+s.Name] = &user.DefaultInfo{Name: s.Name}
		case rbacv1.GroupKind:
			users["g:"+s.Name] = &user.DefaultInfo{Name: "someone", Groups: []string{s.Name, "other"}}
		case rbacv1.ServiceAccountKind:
			if s.Namespace != "" {
				ns = s.Namespace
			}
			users["s:"+ns+"/"+s.Name] = &user.DefaultInfo{Name: serviceaccount.MakeUsername(ns, s.Name)}
		}
	}
	scopes := map[string]bool{"": true, "no-bindings": true}
	for _, b := range p.ClusterRoleBindings {
		for _, s := range b.Subjects {
			note(s, "")
		}
	}
	for _, b := range p.RoleBindings {
		scopes[b.Namespace] = true
		for _, s := range b.Subjects {
			note(s, b.Namespace)
		}
	}
	checked := 0
	for name, u := range users {
		for ns := range scopes {
			refs, _ := idx.Rules(u, ns)
			want := []ref{}
			for _, r := range refs {
				want = append(want, ref{r.Binding, r.Role, r.Index})
			}
			toRefs := func(bound []rbac.BoundRule) []ref {
				out := []ref{}
				for _, b := range bound {
					out = append(out, ref{*b.Binding, *b.Role, b.Index})
				}
				return out
			}
			if diff := cmp.Diff(want, toRefs(idx.AppendBoundRules(nil, u, ns))); diff != "" {
				t.Errorf("%s in %q: AppendBoundRules differs from Rules (-want +got):\n%s", name, ns, diff)
			}
			parts := idx.AppendScopeBoundRules(nil, u, "")
			if ns != "" {
				parts = idx.AppendScopeBoundRules(parts, u, ns)
			}
			if diff := cmp.Diff(want, toRefs(parts)); diff != "" {
				t.Errorf("%s in %q: AppendScopeBoundRules parts differ from Rules (-want +got):\n%s", name, ns, diff)
			}
			checked += len(want)
		}
	}
	if checked == 0 {
		t.Fatal("no rules checked")
	}
}
