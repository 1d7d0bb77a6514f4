package rbacdiff

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apiserver/pkg/authorization/authorizer"

	"github.com/kauth/kauth/internal/loader"
	"github.com/kauth/kauth/internal/rbac"
	"github.com/kauth/kauth/internal/rbac/rbactest"
	"github.com/kauth/kauth/internal/rbaclint"
)

// The values the generated corpora use, plus fresh ones no rule names.
var (
	gtVerbs     = []string{"get", "list", "watch", "create", "update", "patch", "delete", "deletecollection", "escalate", "bind", "impersonate", "zz-verb"}
	gtGroups    = []string{"", "apps", "batch", "rbac.authorization.k8s.io", "networking.k8s.io", "example.com", "zz.invalid"}
	gtResources = [][2]string{{"pods", ""}, {"pods", "log"}, {"pods", "exec"}, {"deployments", ""}, {"deployments", "scale"}, {"statefulsets", "scale"},
		{"configmaps", ""}, {"secrets", ""}, {"services", ""}, {"jobs", ""}, {"roles", ""}, {"rolebindings", ""}, {"nodes", ""}, {"namespaces", ""},
		{"ingresses", ""}, {"widgets", ""}, {"widgets", "scale"}, {"zz-resource", ""}, {"zz-resource", "zz-sub"}, {"pods", "*"}}
	gtNames = []string{"", "web", "cache", "zz-name"}
	gtPaths = []string{"/healthz", "/healthz/etcd", "/metrics", "/api", "/apis/apps/v1", "/version", "/logs/kubelet.log", "/openapi/v2", "/zz"}
)

// mutate builds NEW from OLD: each binding and role is kept, dropped or
// replaced by the same-named object of another corpus, and a few bindings
// of that corpus are added; aggregation is then recomputed.
func mutate(old, other *rbac.Policy, seed uint64) *rbac.Policy {
	r := rand.New(rand.NewPCG(seed, 7))
	p := &rbac.Policy{Sources: map[rbac.ObjectKey]loader.Source{}}
	pick := func(n int) int { return r.IntN(n) }
	for i, cr := range old.ClusterRoles {
		c := cr.DeepCopy()
		if pick(8) == 0 && i < len(other.ClusterRoles) && other.ClusterRoles[i].Name == cr.Name {
			c = other.ClusterRoles[i].DeepCopy()
		}
		if c.AggregationRule != nil {
			c.Rules = nil
		}
		p.ClusterRoles = append(p.ClusterRoles, c)
	}
	for i, ro := range old.Roles {
		if pick(8) == 0 && i < len(other.Roles) {
			p.Roles = append(p.Roles, other.Roles[i].DeepCopy())
			continue
		}
		p.Roles = append(p.Roles, ro.DeepCopy())
	}
	seen := map[string]bool{}
	for _, b := range old.ClusterRoleBindings {
		if pick(10) != 0 {
			p.ClusterRoleBindings = append(p.ClusterRoleBindings, b.DeepCopy())
			seen[b.Name] = true
		}
	}
	for _, b := range other.ClusterRoleBindings {
		if !seen[b.Name] && pick(6) == 0 {
			p.ClusterRoleBindings = append(p.ClusterRoleBindings, b.DeepCopy())
		}
	}
	seenRB := map[string]bool{}
	for _, b := range old.RoleBindings {
		switch pick(10) {
		case 0:
			continue
		case 1:
			c := b.DeepCopy()
			c.Subjects = append(c.Subjects, rbacv1.Subject{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: fmt.Sprintf("user-%d", pick(20))})
			p.RoleBindings = append(p.RoleBindings, c)
		default:
			p.RoleBindings = append(p.RoleBindings, b.DeepCopy())
		}
		seenRB[b.Namespace+"/"+b.Name] = true
	}
	for _, b := range other.RoleBindings {
		if !seenRB[b.Namespace+"/"+b.Name] && pick(6) == 0 {
			p.RoleBindings = append(p.RoleBindings, b.DeepCopy())
		}
	}
	rbac.Aggregate(p)
	return p
}

type decision struct {
	s    Subject
	req  authorizer.AttributesRecord
	ns   string
	gain bool
}

// requests enumerates every request of the test vocabulary in scope ns.
func requests(ns string) []authorizer.AttributesRecord {
	var out []authorizer.AttributesRecord
	for _, v := range gtVerbs {
		if ns == "" {
			for _, p := range gtPaths {
				out = append(out, authorizer.AttributesRecord{Verb: v, Path: p})
			}
		}
		for _, g := range gtGroups {
			for _, rs := range gtResources {
				if ns != "" && !namespaced(g, rs[0]) && !(g == "" && rs[0] == "namespaces") {
					continue // never asked in a namespace
				}
				for _, n := range gtNames {
					out = append(out, authorizer.AttributesRecord{Verb: v, APIGroup: g, Resource: rs[0], Subresource: rs[1], Name: n, Namespace: ns, ResourceRequest: true})
				}
			}
		}
	}
	return out
}

func allowed(idx *rbac.Index, req authorizer.AttributesRecord) bool {
	d, _, _ := idx.Authorize(context.Background(), req)
	return d == authorizer.DecisionAllow
}

func covered(c Change, d decision) bool {
	if c.Subject != d.s || (c.Change == Granted) != d.gain || (c.Namespace != d.ns && c.Namespace != "") {
		return false
	}
	q := d.req
	if !slices.Contains(c.Verbs, "*") && !slices.Contains(c.Verbs, q.Verb) {
		return false
	}
	if !q.ResourceRequest {
		return c.NonResourceURL != "" && (c.NonResourceURL == q.Path || (strings.HasSuffix(c.NonResourceURL, "*") && strings.HasPrefix(q.Path, strings.TrimSuffix(c.NonResourceURL, "*"))))
	}
	resource := (c.Resource == q.Resource && c.Subresource == q.Subresource) || (c.Resource == "*" && (c.Subresource == "" || c.Subresource == q.Subresource))
	return c.NonResourceURL == "" && (c.APIGroup == "*" || c.APIGroup == q.APIGroup) && resource &&
		(len(c.ResourceNames) == 0 || slices.Contains(c.ResourceNames, q.Name))
}

// concrete expands a change into requests it names, with fresh values for
// its wildcards.
func concrete(c Change) []authorizer.AttributesRecord {
	verbs := c.Verbs
	if slices.Contains(verbs, "*") {
		verbs = gtVerbs
	}
	var out []authorizer.AttributesRecord
	for _, v := range verbs {
		if c.NonResourceURL != "" {
			p := c.NonResourceURL
			if p == "*" {
				p = "/zz-unlisted"
			} else if prefix, ok := strings.CutSuffix(p, "*"); ok {
				p = prefix + "zz-unlisted"
			}
			out = append(out, authorizer.AttributesRecord{Verb: v, Path: p})
			continue
		}
		g, r := c.APIGroup, c.Resource
		if g == "*" {
			g = "zz.invalid"
		}
		if r == "*" {
			r = "zz-resource"
		}
		names := c.ResourceNames
		if len(names) == 0 {
			names = []string{"zz-name"}
		}
		for _, n := range names {
			out = append(out, authorizer.AttributesRecord{Verb: v, APIGroup: g, Resource: r, Subresource: c.Subresource, Name: n, Namespace: c.Namespace, ResourceRequest: true})
		}
	}
	return out
}

// TestGroundTruth checks the diff against the engine's decisions on
// generated pairs: every (subject, request, namespace) whose decision
// flips is covered by a reported change of the same direction, and every
// reported change flips at least one decision.
func TestGroundTruth(t *testing.T) {
	t.Parallel()
	// A few objects changed, half or all of them changed, and two
	// unrelated policies.
	type pairOf func(old, other *rbac.Policy, seed uint64) *rbac.Policy
	kinds := []struct {
		name string
		new  pairOf
	}{
		{"mutated", mutate},
		{"half", func(old, other *rbac.Policy, seed uint64) *rbac.Policy { return mutatePercent(old, other, 50, seed) }},
		{"all", func(old, other *rbac.Policy, seed uint64) *rbac.Policy { return mutatePercent(old, other, 100, seed) }},
		{"unrelated", func(_, other *rbac.Policy, _ uint64) *rbac.Policy { return other }},
	}
	for _, kind := range kinds {
		for seed := uint64(1); seed <= 3; seed++ {
			t.Run(fmt.Sprint(kind.name, "/", seed), func(t *testing.T) {
				t.Parallel()
				groundTruth(t, seed, kind.new)
			})
		}
	}
}

func groundTruth(t *testing.T, seed uint64, newOf func(old, other *rbac.Policy, seed uint64) *rbac.Policy) {
	cfg := rbactest.Config{Seed: seed, Bindings: 60, Users: 8, Groups: 3, Namespaces: 2, ClusterRoles: 6, Queries: 1}
	a := rbactest.Generate(cfg)
	cfg.Seed += 1000
	b := rbactest.Generate(cfg)
	oldIdx, newIdx := rbac.NewIndex(a.Policy), rbac.NewIndex(newOf(a.Policy, b.Policy, seed))
	res := Diff(oldIdx, newIdx)
	if len(res.Changes) == 0 {
		t.Fatal("no changes reported for a mutated policy")
	}
	var flips []decision
	scopes := []string{"", "ns-0", "ns-1", "ns-9"}
	reqs := make([][]authorizer.AttributesRecord, len(scopes))
	for i, ns := range scopes {
		reqs[i] = requests(ns)
	}
	for _, sc := range subjectsOf(oldIdx.Policy(), newIdx.Policy()) {
		u := rbaclint.SubjectUser(sc.s.lint())
		for i, ns := range scopes {
			for _, req := range reqs[i] {
				req.User = u
				was, is := allowed(oldIdx, req), allowed(newIdx, req)
				if was != is {
					flips = append(flips, decision{s: sc.s, req: req, ns: ns, gain: is})
				}
			}
		}
	}
	for _, f := range flips {
		if !slices.ContainsFunc(res.Changes, func(c Change) bool { return covered(c, f) }) {
			t.Errorf("flip not reported: %v %s %s/%s/%s name %q path %q in %q (granted %v)", f.s, f.req.Verb, f.req.APIGroup, f.req.Resource, f.req.Subresource, f.req.Name, f.req.Path, f.ns, f.gain)
		}
	}
	for _, c := range res.Changes {
		u := rbaclint.SubjectUser(c.Subject.lint())
		if !slices.ContainsFunc(concrete(c), func(req authorizer.AttributesRecord) bool {
			req.User = u
			return allowed(newIdx, req) == (c.Change == Granted) && allowed(oldIdx, req) != (c.Change == Granted)
		}) {
			t.Errorf("reported change flips no decision: %+v", c)
		}
	}
	t.Logf("%d flips, %d changes, %d escalations, %d objects", len(flips), len(res.Changes), res.Escalations(), len(res.Objects))
}

// mutatePercent builds NEW from OLD with about percent of the roles and
// bindings replaced by the same-named objects of other, removed, or given
// one more subject; aggregation is then recomputed.
func mutatePercent(old, other *rbac.Policy, percent int, seed uint64) *rbac.Policy {
	return rbactest.Mutate(rand.New(rand.NewPCG(seed, uint64(percent))), old, other, percent, 20, true)
}
