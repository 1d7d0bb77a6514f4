package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/authorization/authorizer"

	"github.com/kauth/kauth/internal/rbac/bootstrappolicy"
)

// bootstrapObjects is kauth's shipped default policy plus bindings of
// users to the aggregated admin/edit/view roles, as a cluster has them.
func bootstrapObjects(t *testing.T) *Objects {
	t.Helper()
	list, err := bootstrappolicy.Objects()
	if err != nil {
		t.Fatal(err)
	}
	o := &Objects{}
	for _, x := range list {
		switch x := x.(type) {
		case *rbacv1.Role:
			o.Roles = append(o.Roles, x)
		case *rbacv1.ClusterRole:
			o.ClusterRoles = append(o.ClusterRoles, x)
		case *rbacv1.RoleBinding:
			o.RoleBindings = append(o.RoleBindings, x)
		case *rbacv1.ClusterRoleBinding:
			o.ClusterRoleBindings = append(o.ClusterRoleBindings, x)
		}
	}
	for i, role := range []string{"admin", "edit", "view"} {
		o.RoleBindings = append(o.RoleBindings, &rbacv1.RoleBinding{
			ObjectMeta: metav1.ObjectMeta{Namespace: "team-a", Name: role + "s"},
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role},
			Subjects: []rbacv1.Subject{
				{Kind: "User", APIGroup: rbacv1.GroupName, Name: []string{"alice", "bob", "carol"}[i]},
				{Kind: "ServiceAccount", Name: role + "-sa"},
			},
		})
	}
	o.ClusterRoleBindings = append(o.ClusterRoleBindings, &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "viewers"},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "view"},
		Subjects:   []rbacv1.Subject{{Kind: "Group", APIGroup: rbacv1.GroupName, Name: "auditors"}},
	})
	return o
}

// bootstrapQueries asks about every resource, verb and URL the policy
// names, for the system users the policy binds and for the users above.
func bootstrapQueries(o *Objects, n int) []authorizer.AttributesRecord {
	type gr struct{ group, resource string }
	var (
		resources []gr
		vs        = []string{"get", "list", "watch", "create", "update", "patch", "delete", "deletecollection", "impersonate", "approve", "use", "bind", "escalate", "proxy"}
		urls      = []string{"/", "/healthz", "/livez/ping", "/readyz", "/metrics", "/version", "/api", "/apis/apps", "/openapi/v3", "/.well-known/openid-configuration", "/openid/v1/jwks", "/logs"}
		names     = []string{"", "", "kube-scheduler", "kube-controller-manager", "extension-apiserver-authentication", "cluster-info", "x"}
	)
	addRules := func(rules []rbacv1.PolicyRule) {
		for _, r := range rules {
			for _, g := range r.APIGroups {
				for _, res := range r.Resources {
					if !strings.Contains(res, "*") {
						resources = append(resources, gr{g, res})
					}
				}
			}
			for _, u := range r.NonResourceURLs {
				urls = append(urls, strings.TrimSuffix(u, "*"))
			}
			vs = append(vs, r.Verbs...)
		}
	}
	for _, r := range o.ClusterRoles {
		addRules(r.Rules)
	}
	for _, r := range o.Roles {
		addRules(r.Rules)
	}
	slices.SortFunc(resources, func(a, b gr) int { return strings.Compare(a.group+"/"+a.resource, b.group+"/"+b.resource) })
	resources = slices.Compact(resources)
	slices.Sort(vs)
	vs = slices.Compact(vs)
	slices.Sort(urls)
	urls = slices.Compact(urls)

	var users []user.Info
	auth := func(name string, groups ...string) {
		users = append(users, &user.DefaultInfo{Name: name, Groups: append(groups, user.AllAuthenticated)})
	}
	auth("alice")
	auth("bob")
	auth("carol")
	auth("dave", "auditors")
	auth("system:serviceaccount:team-a:edit-sa", "system:serviceaccounts", "system:serviceaccounts:team-a")
	auth("system:serviceaccount:team-b:edit-sa", "system:serviceaccounts", "system:serviceaccounts:team-b")
	auth(user.KubeScheduler)
	auth(user.KubeControllerManager)
	auth(user.KubeProxy)
	auth("system:node:n1", user.NodesGroup)
	auth("prometheus", user.MonitoringGroup)
	auth("root", user.SystemPrivilegedGroup)
	users = append(users, &user.DefaultInfo{Name: user.Anonymous, Groups: []string{user.AllUnauthenticated}})
	for _, b := range o.ClusterRoleBindings {
		for _, s := range b.Subjects {
			if s.Kind == "ServiceAccount" {
				ns := s.Namespace
				auth(fmt.Sprintf("system:serviceaccount:%s:%s", ns, s.Name), "system:serviceaccounts", "system:serviceaccounts:"+ns)
			}
		}
	}

	r := rand.New(rand.NewPCG(37, 2))
	nss := []string{"", "team-a", "team-b", "kube-system", "kube-public"}
	out := make([]authorizer.AttributesRecord, 0, n)
	for range n {
		a := authorizer.AttributesRecord{User: users[r.IntN(len(users))], Verb: vs[r.IntN(len(vs))]}
		if r.IntN(8) == 0 {
			a.Path = urls[r.IntN(len(urls))]
			if r.IntN(3) == 0 {
				a.Path += "/x"
			}
		} else {
			res := resources[r.IntN(len(resources))]
			a.ResourceRequest, a.APIGroup = true, res.group
			a.Resource, a.Subresource, _ = strings.Cut(res.resource, "/")
			a.Name = names[r.IntN(len(names))]
			a.Namespace = nss[r.IntN(len(nss))]
		}
		out = append(out, a)
	}
	return out
}

// TestDifferentialBootstrapPolicy compares the engines on the default
// policy every 1.37 cluster has (aggregated admin/edit/view included).
func TestDifferentialBootstrapPolicy(t *testing.T) {
	t.Parallel()
	objs := bootstrapObjects(t)
	e, err := NewEngines(objs)
	if err != nil {
		t.Fatal(err)
	}
	qs := targeted(e, bootstrapQueries(objs, 20000))
	ds := e.CompareFirst(context.Background(), qs, 3000)
	allowed := 0
	for _, q := range qs {
		if d, _, _ := e.Upstream.RBAC.Authorize(context.Background(), q); d == authorizer.DecisionAllow {
			allowed++
		}
	}
	t.Logf("%d questions, %d allowed by upstream RBAC", len(qs), allowed)
	reportDisagreements(t, objs, ds)
}

// targeted replaces every other question by one built from a rule that
// upstream says applies to the asking user in that namespace (wildcards
// replaced by a concrete value now and then), so allowed answers and their
// near misses (other verb, other name, subresource) are common.
func targeted(e *Engines, qs []authorizer.AttributesRecord) []authorizer.AttributesRecord {
	ctx := context.Background()
	r := rand.New(rand.NewPCG(41, 3))
	concrete := func(list []string, alt string) string {
		if len(list) == 0 {
			return alt
		}
		v := list[r.IntN(len(list))]
		if v == "*" && r.IntN(2) == 0 {
			return alt
		}
		return v
	}
	out := slices.Clone(qs)
	for i := 0; i < len(out); i += 2 {
		q := out[i]
		res, nonres, _, _ := e.Upstream.RBAC.RulesFor(ctx, q.User, q.Namespace)
		if q.ResourceRequest && len(res) > 0 {
			rule := res[r.IntN(len(res))]
			q.Verb = concrete(rule.GetVerbs(), "get")
			q.APIGroup = concrete(rule.GetAPIGroups(), "example.com")
			full := concrete(rule.GetResources(), "things")
			full = strings.Replace(full, "*", "things", 1)
			q.Resource, q.Subresource, _ = strings.Cut(full, "/")
			if n := rule.GetResourceNames(); len(n) > 0 && r.IntN(4) > 0 {
				q.Name = n[r.IntN(len(n))]
			}
			if r.IntN(5) == 0 {
				q.Verb = "delete" // a near miss
			}
		} else if !q.ResourceRequest && len(nonres) > 0 {
			rule := nonres[r.IntN(len(nonres))]
			q.Verb = concrete(rule.GetVerbs(), "get")
			q.Path = strings.Replace(concrete(rule.GetNonResourceURLs(), "/x"), "*", "sub/path", 1)
		}
		out[i] = q
	}
	return out
}
