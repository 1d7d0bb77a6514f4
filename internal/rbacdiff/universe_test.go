package rbacdiff

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/authorization/authorizer"

	"github.com/kauth/kauth/internal/rbac"
)

// TestCompiledRulesMatchEngine checks the compiled rules against the
// engine's own decisions, rule by rule, on random rules with odd entries
// ("pods/", "*/", "a/b/c", an empty name, URL prefixes) and requests over
// the same values plus values no rule names.
func TestCompiledRulesMatchEngine(t *testing.T) {
	t.Parallel()
	var (
		verbs     = []string{"get", "list", "*", "a,b", "kauth-any-verb", ""}
		groups    = []string{"", "apps", "*", "x.io"}
		resources = []string{"pods", "pods/log", "pods/", "*/log", "*/", "*", "a/b/c", "*x", "deployments/scale"}
		names     = []string{"", "web", "*"}
		urls      = []string{"/healthz", "/api*", "/api/*", "*", "/", "/x**"}
	)
	r := rand.New(rand.NewPCG(5, 6))
	some := func(list []string) []string {
		out := []string{}
		for range r.IntN(3) {
			out = append(out, list[r.IntN(len(list))])
		}
		return out
	}
	var rules []rbacv1.PolicyRule
	for range 200 {
		rule := rbacv1.PolicyRule{Verbs: some(verbs)}
		if r.IntN(4) == 0 {
			rule.NonResourceURLs = some(urls)
		}
		if r.IntN(4) != 0 {
			rule.APIGroups, rule.Resources, rule.ResourceNames = some(groups), some(resources), some(names)
		}
		rules = append(rules, rule)
	}
	policy := &rbac.Policy{}
	for i := range rules {
		policy.ClusterRoles = append(policy.ClusterRoles, &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprint(i)}, Rules: rules[i : i+1]})
	}
	u := newUniverse(policy, &rbac.Policy{})
	ids := u.roles[0]
	var reqs []authorizer.AttributesRecord
	for _, v := range append(verbs, "zz") {
		for _, p := range []string{"/healthz", "/api", "/apis", "/api/v1", "/", "/x", "/xy", "/zz", "x"} {
			reqs = append(reqs, authorizer.AttributesRecord{Verb: v, Path: p})
		}
		for _, g := range append(groups, "zz") {
			for _, res := range [][2]string{{"pods", ""}, {"pods", "log"}, {"pods", "exec"}, {"a", "b/c"}, {"a/b", "c"}, {"*x", ""}, {"zz", ""}, {"zz", "log"}, {"deployments", "scale"}, {"*", ""}} {
				for _, n := range append(names, "zz") {
					reqs = append(reqs, authorizer.AttributesRecord{Verb: v, APIGroup: g, Resource: res[0], Subresource: res[1], Name: n, ResourceRequest: true})
				}
			}
		}
	}
	sole := &user.DefaultInfo{Name: "kauth:rbacdiff"}
	for i := range rules {
		idx := soleRoleIndex(sole, rules[i:i+1])
		c := &u.rules[ids[rbac.ObjectKey{Kind: rbac.KindClusterRole, Name: fmt.Sprint(i)}][0]]
		for _, q := range reqs {
			q.User = sole
			d, _, _ := idx.Authorize(context.Background(), q)
			g := u.request(q)
			if got, want := c.allows(&g), d == authorizer.DecisionAllow; got != want {
				t.Errorf("rule %+v, request %+v: compiled %v, engine %v", rules[i], q, got, want)
			}
		}
	}
}

// soleRoleIndex indexes one cluster role with rules bound to u.
func soleRoleIndex(u user.Info, rules []rbacv1.PolicyRule) *rbac.Index {
	const name = "kauth:rbacdiff"
	return rbac.NewIndex(&rbac.Policy{
		ClusterRoles: []*rbacv1.ClusterRole{{ObjectMeta: metav1.ObjectMeta{Name: name}, Rules: rules}},
		ClusterRoleBindings: []*rbacv1.ClusterRoleBinding{{
			ObjectMeta: metav1.ObjectMeta{Name: name},
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: rbac.KindClusterRole, Name: name},
			Subjects:   []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: u.GetName()}},
		}},
	})
}

// TestMasksMatchRules checks that the rule masks decide every atom of a
// vocabulary as the compiled rules do, on the odd rules of
// TestCompiledRulesMatchEngine split into two lists.
func TestMasksMatchRules(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(7, 8))
	pick := func(list []string) []string {
		out := []string{}
		for range 1 + r.IntN(2) {
			out = append(out, list[r.IntN(len(list))])
		}
		return out
	}
	policy := &rbac.Policy{}
	for i := range 90 {
		rule := rbacv1.PolicyRule{Verbs: pick([]string{"get", "list", "*", "a,b"})}
		if i%5 == 0 {
			rule.NonResourceURLs = pick([]string{"/healthz", "/api*", "/api/*", "*", "/x**"})
		} else {
			rule.APIGroups = pick([]string{"", "apps", "*"})
			rule.Resources = pick([]string{"pods", "pods/log", "pods/", "*/log", "*/", "*", "a/b/c", "deployments/scale"})
			if r.IntN(3) == 0 {
				rule.ResourceNames = pick([]string{"", "web", "*"})
			}
		}
		policy.ClusterRoles = append(policy.ClusterRoles, &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprint(i)}, Rules: []rbacv1.PolicyRule{rule}})
	}
	u := newUniverse(policy, &rbac.Policy{})
	var ids []int32
	for i := range u.rules {
		ids = append(ids, int32(i))
	}
	old, new := ids[:40], ids[40:] // more than 64 rules in all
	var m vmap
	voc := newLvocab(u, &m, ids)
	var mk masks
	mk.reset(u, &voc, &m, old, new)
	sh := voc.shape()
	check := func(a catom) {
		g := voc.global(&a)
		bits := mk.allowing(&a, nil)
		was, is := mk.decide(&a)
		wantWas, wantIs := u.anyAllows(old, &g), u.anyAllows(new, &g)
		if was != wantWas || is != wantIs {
			t.Errorf("atom %+v: masks decide %v/%v, rules %v/%v", g, was, is, wantWas, wantIs)
		}
		for k, id := range mk.ids {
			if got, want := bits[k/64]&(1<<(k%64)) != 0, u.rules[id].allows(&g); got != want {
				t.Errorf("atom %+v, rule %d: mask %v, rule %v", g, id, got, want)
			}
		}
	}
	for v := range sh.v {
		for p := range sh.p {
			check(catom{nonResource: true, v: int32(v), p: int32(p)})
		}
		for g := range sh.g {
			for res := range sh.r {
				for s := range sh.s {
					for n := range sh.n {
						check(catom{v: int32(v), g: int32(g), r: int32(res), s: int32(s), n: int32(n)})
					}
				}
			}
		}
	}
}
