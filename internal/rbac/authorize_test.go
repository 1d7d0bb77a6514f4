package rbac_test

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apiserver/pkg/authorization/authorizer"

	"github.com/kauth/kauth/internal/rbac"
	"github.com/kauth/kauth/internal/rbac/rbactest"
)

// pol builds a Policy from typed objects, aggregated and ready to index.
func pol(objs ...any) *rbac.Policy {
	p := &rbac.Policy{}
	for _, o := range objs {
		switch v := o.(type) {
		case *rbacv1.Role:
			p.Roles = append(p.Roles, v)
		case *rbacv1.ClusterRole:
			p.ClusterRoles = append(p.ClusterRoles, v)
		case *rbacv1.RoleBinding:
			p.RoleBindings = append(p.RoleBindings, v)
		case *rbacv1.ClusterRoleBinding:
			p.ClusterRoleBindings = append(p.ClusterRoleBindings, v)
		}
	}
	rbac.Aggregate(p)
	return p
}

type decision struct {
	Decision authorizer.Decision
	Reason   string
}

// TestAuthorize pins the RBAC authorizer's semantics case by case. Every
// expectation follows k8s.io/kubernetes plugin/pkg/auth/authorizer/rbac
// (RuleAllows) and pkg/registry/rbac/validation (VisitRulesFor,
// appliesTo), including the cases that surprise readers of the docs.
func TestAuthorize(t *testing.T) {
	t.Parallel()
	podReader := clusterRole("pod-reader", pr(l("get", "list", "watch"), l(""), l("pods")))
	alice, bob := who("alice"), who("bob", "devs")
	allowAlice := func(bindingDesc string) decision {
		return decision{authorizer.DecisionAllow, "RBAC: allowed by " + bindingDesc}
	}
	noOpinion := decision{Decision: authorizer.DecisionNoOpinion}

	tests := []struct {
		name   string
		policy *rbac.Policy
		attrs  authorizer.AttributesRecord
		want   decision
	}{
		{
			name:   "user subject by name",
			policy: pol(podReader, crb("read", "pod-reader", userSubject("alice"))),
			attrs:  resAttrs(alice, "get", "ns1", "", "pods", "", "p"),
			want:   allowAlice(`ClusterRoleBinding "read" of ClusterRole "pod-reader" to User "alice"`),
		},
		{
			name:   "user subject does not match a group of the same name",
			policy: pol(podReader, crb("read", "pod-reader", userSubject("devs"))),
			attrs:  resAttrs(bob, "get", "ns1", "", "pods", "", "p"),
			want:   noOpinion,
		},
		{
			name:   "group subject by membership",
			policy: pol(podReader, crb("read", "pod-reader", groupSubject("devs"))),
			attrs:  resAttrs(bob, "list", "", "", "pods", "", ""),
			want:   decision{authorizer.DecisionAllow, `RBAC: allowed by ClusterRoleBinding "read" of ClusterRole "pod-reader" to Group "devs"`},
		},
		{
			name:   "reason names the first matching subject of the binding",
			policy: pol(podReader, crb("read", "pod-reader", userSubject("carol"), groupSubject("devs"), userSubject("bob"))),
			attrs:  resAttrs(bob, "get", "x", "", "pods", "", ""),
			want:   decision{authorizer.DecisionAllow, `RBAC: allowed by ClusterRoleBinding "read" of ClusterRole "pod-reader" to Group "devs"`},
		},
		{
			name:   "verbs are case-sensitive",
			policy: pol(podReader, crb("read", "pod-reader", userSubject("alice"))),
			attrs:  resAttrs(alice, "GET", "ns1", "", "pods", "", ""),
			want:   noOpinion,
		},
		{
			name:   "service account by user name through an explicit namespace",
			policy: pol(podReader, crb("read", "pod-reader", saSubject("ci", "builder"))),
			attrs:  resAttrs(who("system:serviceaccount:ci:builder"), "get", "ns1", "", "pods", "", ""),
			want:   decision{authorizer.DecisionAllow, `RBAC: allowed by ClusterRoleBinding "read" of ClusterRole "pod-reader" to ServiceAccount "builder/ci"`},
		},
		{
			name:   "service account needs its user name, not only its groups",
			policy: pol(podReader, crb("read", "pod-reader", saSubject("ci", "builder"))),
			attrs:  resAttrs(who("builder", "system:serviceaccounts:ci"), "get", "ns1", "", "pods", "", ""),
			want:   noOpinion,
		},
		{
			name:   "service account without namespace in a RoleBinding means the binding's namespace",
			policy: pol(podReader, rb("ci", "read", rbac.KindClusterRole, "pod-reader", saSubject("", "builder"))),
			attrs:  resAttrs(who("system:serviceaccount:ci:builder"), "get", "ci", "", "pods", "", ""),
			want:   decision{authorizer.DecisionAllow, `RBAC: allowed by RoleBinding "read/ci" of ClusterRole "pod-reader" to ServiceAccount "builder/ci"`},
		},
		{
			name:   "service account without namespace in a ClusterRoleBinding matches nobody",
			policy: pol(podReader, crb("read", "pod-reader", saSubject("", "builder"))),
			attrs:  resAttrs(who("system:serviceaccount:default:builder"), "get", "default", "", "pods", "", ""),
			want:   noOpinion,
		},
		{
			name:   "a RoleBinding may bind a service account of another namespace",
			policy: pol(podReader, rb("prod", "read", rbac.KindClusterRole, "pod-reader", saSubject("ci", "builder"))),
			attrs:  resAttrs(who("system:serviceaccount:ci:builder"), "get", "prod", "", "pods", "", ""),
			want:   decision{authorizer.DecisionAllow, `RBAC: allowed by RoleBinding "read/prod" of ClusterRole "pod-reader" to ServiceAccount "builder/ci"`},
		},
		{
			name:   "group system:serviceaccounts:NS",
			policy: pol(podReader, crb("read", "pod-reader", groupSubject("system:serviceaccounts:ci"))),
			attrs:  resAttrs(rbac.Impersonate("system:serviceaccount:ci:builder", nil), "get", "x", "", "pods", "", ""),
			want:   decision{authorizer.DecisionAllow, `RBAC: allowed by ClusterRoleBinding "read" of ClusterRole "pod-reader" to Group "system:serviceaccounts:ci"`},
		},
		{
			name:   "group system:serviceaccounts holds every service account",
			policy: pol(podReader, crb("read", "pod-reader", groupSubject("system:serviceaccounts"))),
			attrs:  resAttrs(rbac.Impersonate("system:serviceaccount:other:robot", nil), "list", "x", "", "pods", "", ""),
			want:   decision{authorizer.DecisionAllow, `RBAC: allowed by ClusterRoleBinding "read" of ClusterRole "pod-reader" to Group "system:serviceaccounts"`},
		},
		{
			name:   "a service account user asked with explicit groups has only those",
			policy: pol(podReader, crb("read", "pod-reader", groupSubject("system:serviceaccounts"))),
			attrs:  resAttrs(rbac.Impersonate("system:serviceaccount:other:robot", l("devs")), "list", "x", "", "pods", "", ""),
			want:   noOpinion,
		},
		{
			name:   "group system:authenticated",
			policy: pol(podReader, crb("read", "pod-reader", groupSubject("system:authenticated"))),
			attrs:  resAttrs(rbac.Impersonate("alice", nil), "get", "x", "", "pods", "", ""),
			want:   decision{authorizer.DecisionAllow, `RBAC: allowed by ClusterRoleBinding "read" of ClusterRole "pod-reader" to Group "system:authenticated"`},
		},
		{
			name:   "RoleBinding to a ClusterRole grants only in the binding's namespace",
			policy: pol(podReader, rb("team", "read", rbac.KindClusterRole, "pod-reader", userSubject("alice"))),
			attrs:  resAttrs(alice, "get", "other", "", "pods", "", ""),
			want:   noOpinion,
		},
		{
			name:   "RoleBinding never grants a request without namespace",
			policy: pol(podReader, rb("team", "read", rbac.KindClusterRole, "pod-reader", userSubject("alice"))),
			attrs:  resAttrs(alice, "list", "", "", "pods", "", ""),
			want:   noOpinion,
		},
		{
			name:   "RoleBinding to a Role of its namespace",
			policy: pol(nsRole("team", "r", pr(l("get"), l(""), l("pods"))), rb("team", "read", rbac.KindRole, "r", userSubject("alice"))),
			attrs:  resAttrs(alice, "get", "team", "", "pods", "", ""),
			want:   allowAlice(`RoleBinding "read/team" of Role "r" to User "alice"`),
		},
		{
			name:   "RoleBinding cannot reference a Role of another namespace",
			policy: pol(nsRole("other", "r", pr(l("get"), l(""), l("pods"))), rb("team", "read", rbac.KindRole, "r", userSubject("alice"))),
			attrs:  resAttrs(alice, "get", "team", "", "pods", "", ""),
			want:   decision{authorizer.DecisionNoOpinion, `RBAC: role.rbac.authorization.k8s.io "r" not found`},
		},
		{
			name:   "binding to a missing ClusterRole is an error in the reason",
			policy: pol(crb("ghost", "nope", userSubject("alice"))),
			attrs:  resAttrs(alice, "get", "x", "", "pods", "", ""),
			want:   decision{authorizer.DecisionNoOpinion, `RBAC: clusterrole.rbac.authorization.k8s.io "nope" not found`},
		},
		{
			name: "several missing roles are listed, ClusterRoleBindings first",
			policy: pol(crb("ghost", "nope", userSubject("alice")),
				rb("x", "ghost", rbac.KindRole, "gone", userSubject("alice")),
				rb("x", "ghost2", rbac.KindClusterRole, "nope", userSubject("alice"))),
			attrs: resAttrs(alice, "get", "x", "", "pods", "", ""),
			want:  decision{authorizer.DecisionNoOpinion, `RBAC: [clusterrole.rbac.authorization.k8s.io "nope" not found, role.rbac.authorization.k8s.io "gone" not found]`},
		},
		{
			name:   "missing role of a binding that does not apply is not reported",
			policy: pol(crb("ghost", "nope", userSubject("zoe"))),
			attrs:  resAttrs(alice, "get", "x", "", "pods", "", ""),
			want:   noOpinion,
		},
		{
			name:   "a missing role does not stop another binding from allowing",
			policy: pol(podReader, crb("ghost", "nope", userSubject("alice")), crb("read", "pod-reader", userSubject("alice"))),
			attrs:  resAttrs(alice, "get", "x", "", "pods", "", ""),
			want:   allowAlice(`ClusterRoleBinding "read" of ClusterRole "pod-reader" to User "alice"`),
		},
		{
			name:   "ClusterRoleBindings are visited before RoleBindings",
			policy: pol(podReader, rb("x", "local", rbac.KindClusterRole, "pod-reader", userSubject("alice")), crb("global", "pod-reader", userSubject("alice"))),
			attrs:  resAttrs(alice, "get", "x", "", "pods", "", ""),
			want:   allowAlice(`ClusterRoleBinding "global" of ClusterRole "pod-reader" to User "alice"`),
		},
		{
			name:   "verb star",
			policy: pol(clusterRole("r", pr(l("*"), l(""), l("pods"))), crb("b", "r", userSubject("alice"))),
			attrs:  resAttrs(alice, "deletecollection", "x", "", "pods", "", ""),
			want:   allowAlice(`ClusterRoleBinding "b" of ClusterRole "r" to User "alice"`),
		},
		{
			name:   "apiGroups must match: core rule does not cover apps",
			policy: pol(clusterRole("r", pr(l("get"), l(""), l("deployments"))), crb("b", "r", userSubject("alice"))),
			attrs:  resAttrs(alice, "get", "x", "apps", "deployments", "", ""),
			want:   noOpinion,
		},
		{
			name:   "apiGroups star",
			policy: pol(clusterRole("r", pr(l("get"), l("*"), l("deployments"))), crb("b", "r", userSubject("alice"))),
			attrs:  resAttrs(alice, "get", "x", "apps", "deployments", "", ""),
			want:   allowAlice(`ClusterRoleBinding "b" of ClusterRole "r" to User "alice"`),
		},
		{
			name:   "resources star covers subresources",
			policy: pol(clusterRole("r", pr(l("get"), l(""), l("*"))), crb("b", "r", userSubject("alice"))),
			attrs:  resAttrs(alice, "get", "x", "", "pods", "log", "p"),
			want:   allowAlice(`ClusterRoleBinding "b" of ClusterRole "r" to User "alice"`),
		},
		{
			name:   "a resource does not cover its subresources",
			policy: pol(podReader, crb("b", "pod-reader", userSubject("alice"))),
			attrs:  resAttrs(alice, "get", "x", "", "pods", "log", "p"),
			want:   noOpinion,
		},
		{
			name:   "exact resource/subresource",
			policy: pol(clusterRole("r", pr(l("get"), l(""), l("pods/log"))), crb("b", "r", userSubject("alice"))),
			attrs:  resAttrs(alice, "get", "x", "", "pods", "log", "p"),
			want:   allowAlice(`ClusterRoleBinding "b" of ClusterRole "r" to User "alice"`),
		},
		{
			name:   "a subresource rule does not cover the resource",
			policy: pol(clusterRole("r", pr(l("get"), l(""), l("pods/log"))), crb("b", "r", userSubject("alice"))),
			attrs:  resAttrs(alice, "get", "x", "", "pods", "", "p"),
			want:   noOpinion,
		},
		{
			name:   "star/subresource covers that subresource of every resource",
			policy: pol(clusterRole("r", pr(l("update"), l("apps"), l("*/scale"))), crb("b", "r", userSubject("alice"))),
			attrs:  resAttrs(alice, "update", "x", "apps", "deployments", "scale", "web"),
			want:   allowAlice(`ClusterRoleBinding "b" of ClusterRole "r" to User "alice"`),
		},
		{
			name:   "star/subresource does not cover other subresources",
			policy: pol(clusterRole("r", pr(l("update"), l("apps"), l("*/scale"))), crb("b", "r", userSubject("alice"))),
			attrs:  resAttrs(alice, "update", "x", "apps", "deployments", "status", "web"),
			want:   noOpinion,
		},
		{
			name:   "resource/star is not a wildcard",
			policy: pol(clusterRole("r", pr(l("get"), l(""), l("pods/*"))), crb("b", "r", userSubject("alice"))),
			attrs:  resAttrs(alice, "get", "x", "", "pods", "log", "p"),
			want:   noOpinion,
		},
		{
			name:   "resource/star matches only the literal subresource star",
			policy: pol(clusterRole("r", pr(l("get"), l(""), l("pods/*"))), crb("b", "r", userSubject("alice"))),
			attrs:  resAttrs(alice, "get", "x", "", "pods", "*", "p"),
			want:   allowAlice(`ClusterRoleBinding "b" of ClusterRole "r" to User "alice"`),
		},
		{
			name:   "resourceNames allow the named object",
			policy: pol(clusterRole("r", pr(l("get", "list"), l(""), l("configmaps"), "app-config")), crb("b", "r", userSubject("alice"))),
			attrs:  resAttrs(alice, "get", "x", "", "configmaps", "", "app-config"),
			want:   allowAlice(`ClusterRoleBinding "b" of ClusterRole "r" to User "alice"`),
		},
		{
			name:   "resourceNames refuse other names",
			policy: pol(clusterRole("r", pr(l("get", "list"), l(""), l("configmaps"), "app-config")), crb("b", "r", userSubject("alice"))),
			attrs:  resAttrs(alice, "get", "x", "", "configmaps", "", "other"),
			want:   noOpinion,
		},
		{
			name:   "resourceNames refuse list, which has no name",
			policy: pol(clusterRole("r", pr(l("get", "list"), l(""), l("configmaps"), "app-config")), crb("b", "r", userSubject("alice"))),
			attrs:  resAttrs(alice, "list", "x", "", "configmaps", "", ""),
			want:   noOpinion,
		},
		{
			name:   "resourceNames refuse create without a name",
			policy: pol(clusterRole("r", pr(l("create"), l(""), l("configmaps"), "app-config")), crb("b", "r", userSubject("alice"))),
			attrs:  resAttrs(alice, "create", "x", "", "configmaps", "", ""),
			want:   noOpinion,
		},
		{
			name:   "resourceNames allow create when the request carries the name",
			policy: pol(clusterRole("r", pr(l("create"), l(""), l("configmaps"), "app-config")), crb("b", "r", userSubject("alice"))),
			attrs:  resAttrs(alice, "create", "x", "", "configmaps", "", "app-config"),
			want:   allowAlice(`ClusterRoleBinding "b" of ClusterRole "r" to User "alice"`),
		},
		{
			name:   "resourceNames apply to subresources too",
			policy: pol(clusterRole("r", pr(l("update"), l("apps"), l("deployments/scale"), "web")), crb("b", "r", userSubject("alice"))),
			attrs:  resAttrs(alice, "update", "x", "apps", "deployments", "scale", "api"),
			want:   noOpinion,
		},
		{
			name:   "nonResourceURL exact",
			policy: pol(clusterRole("r", urlRule(l("get"), "/healthz")), crb("b", "r", userSubject("alice"))),
			attrs:  urlAttrs(alice, "get", "/healthz"),
			want:   allowAlice(`ClusterRoleBinding "b" of ClusterRole "r" to User "alice"`),
		},
		{
			name:   "nonResourceURL exact does not cover sub-paths",
			policy: pol(clusterRole("r", urlRule(l("get"), "/healthz")), crb("b", "r", userSubject("alice"))),
			attrs:  urlAttrs(alice, "get", "/healthz/etcd"),
			want:   noOpinion,
		},
		{
			name:   "nonResourceURL trailing star is a prefix",
			policy: pol(clusterRole("r", urlRule(l("get"), "/healthz/*")), crb("b", "r", userSubject("alice"))),
			attrs:  urlAttrs(alice, "get", "/healthz/etcd"),
			want:   allowAlice(`ClusterRoleBinding "b" of ClusterRole "r" to User "alice"`),
		},
		{
			name:   "nonResourceURL prefix with slash does not cover the bare path",
			policy: pol(clusterRole("r", urlRule(l("get"), "/healthz/*")), crb("b", "r", userSubject("alice"))),
			attrs:  urlAttrs(alice, "get", "/healthz"),
			want:   noOpinion,
		},
		{
			name:   "nonResourceURL prefix is a plain string prefix",
			policy: pol(clusterRole("r", urlRule(l("get"), "/api*")), crb("b", "r", userSubject("alice"))),
			attrs:  urlAttrs(alice, "get", "/apis/apps/v1"),
			want:   allowAlice(`ClusterRoleBinding "b" of ClusterRole "r" to User "alice"`),
		},
		{
			name:   "nonResourceURL star",
			policy: pol(clusterRole("r", urlRule(l("get"), "*")), crb("b", "r", userSubject("alice"))),
			attrs:  urlAttrs(alice, "get", "/metrics"),
			want:   allowAlice(`ClusterRoleBinding "b" of ClusterRole "r" to User "alice"`),
		},
		{
			name:   "a resource star rule grants no non-resource URL",
			policy: pol(clusterRole("r", pr(l("*"), l("*"), l("*"))), crb("b", "r", userSubject("alice"))),
			attrs:  urlAttrs(alice, "get", "/metrics"),
			want:   noOpinion,
		},
		{
			name:   "a non-resource rule grants no resource",
			policy: pol(clusterRole("r", urlRule(l("*"), "*")), crb("b", "r", userSubject("alice"))),
			attrs:  resAttrs(alice, "get", "", "", "nodes", "", ""),
			want:   noOpinion,
		},
		{
			name:   "non-resource URLs bound by a RoleBinding never apply",
			policy: pol(clusterRole("r", urlRule(l("get"), "/metrics")), rb("x", "b", rbac.KindClusterRole, "r", userSubject("alice"))),
			attrs:  urlAttrs(alice, "get", "/metrics"),
			want:   noOpinion,
		},
		{
			name:   "cluster-scoped resource asked with a namespace reads that namespace's RoleBindings",
			policy: pol(clusterRole("nodes", pr(l("get"), l(""), l("nodes"))), rb("team", "b", rbac.KindClusterRole, "nodes", userSubject("alice"))),
			attrs:  resAttrs(alice, "get", "team", "", "nodes", "", "n1"),
			want:   allowAlice(`RoleBinding "b/team" of ClusterRole "nodes" to User "alice"`),
		},
		{
			name:   "cluster-scoped resource asked without a namespace needs a ClusterRoleBinding",
			policy: pol(clusterRole("nodes", pr(l("get"), l(""), l("nodes"))), rb("team", "b", rbac.KindClusterRole, "nodes", userSubject("alice"))),
			attrs:  resAttrs(alice, "get", "", "", "nodes", "", "n1"),
			want:   noOpinion,
		},
		{
			name:   "system:masters has no RBAC opinion by itself",
			policy: pol(),
			attrs:  resAttrs(who("root", "system:masters"), "delete", "x", "", "pods", "", "p"),
			want:   noOpinion,
		},
		{
			name: "aggregated ClusterRole",
			policy: pol(
				&rbacv1.ClusterRole{ObjectMeta: objMeta("monitoring"), AggregationRule: &rbacv1.AggregationRule{ClusterRoleSelectors: []metaSelector{sel("agg", "mon")}}},
				withLabels(clusterRole("mon-pods", pr(l("get"), l(""), l("pods"))), "agg", "mon"),
				crb("b", "monitoring", userSubject("alice"))),
			attrs: resAttrs(alice, "get", "x", "", "pods", "", ""),
			want:  allowAlice(`ClusterRoleBinding "b" of ClusterRole "monitoring" to User "alice"`),
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			idx := rbac.NewIndex(tc.policy)
			d, reason, err := idx.Authorize(context.Background(), tc.attrs)
			if err != nil {
				t.Fatalf("Authorize() error: %v", err)
			}
			if diff := cmp.Diff(tc.want, decision{d, reason}); diff != "" {
				t.Errorf("Authorize() mismatch (-want +got):\n%s", diff)
			}
			// The scanning reference must agree, reason included.
			rd, rreason := rbactest.ReferenceAuthorize(tc.policy, tc.attrs)
			if diff := cmp.Diff(tc.want, decision{rd, rreason}); diff != "" {
				t.Errorf("rbactest.ReferenceAuthorize() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}
