package rbac_test

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	authorizationv1 "k8s.io/api/authorization/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/authorization/authorizer"

	"github.com/kauth/kauth/internal/rbac"
	"github.com/kauth/kauth/internal/rbac/rbactest"
)

// fixture is a small policy exercising every kind of binding.
func fixture() *rbac.Index {
	return rbac.NewIndex(pol(
		clusterRole("pod-reader", pr(l("get", "list"), l(""), l("pods"))),
		nsRole("dev", "cm-editor", pr(l("get", "update"), l(""), l("configmaps"), "app-config")),
		clusterRole("metrics", urlRule(l("get"), "/metrics")),
		crb("readers", "pod-reader", groupSubject("readers"), userSubject("alice")),
		crb("metrics", "metrics", saSubject("mon", "prom")),
		rb("dev", "pods", rbac.KindClusterRole, "pod-reader", userSubject("bob"), saSubject("", "ci")),
		rb("dev", "cm", rbac.KindRole, "cm-editor", userSubject("bob")),
		rb("dev", "ghost", rbac.KindRole, "nope", groupSubject("readers")),
		rb("prod", "pods", rbac.KindClusterRole, "pod-reader", userSubject("carol")),
	))
}

func TestWhoCan(t *testing.T) {
	t.Parallel()
	idx := fixture()
	masters := rbac.SubjectGrant{Kind: "Group", APIGroup: rbacv1.GroupName, Name: user.SystemPrivilegedGroup, Privileged: true, Via: []rbac.Via{}}
	crbVia := []rbac.Via{{Binding: rbac.ObjectKey{Kind: "ClusterRoleBinding", Name: "readers"}, Role: rbac.ObjectKey{Kind: "ClusterRole", Name: "pod-reader"}}}
	devVia := []rbac.Via{{Binding: rbac.ObjectKey{Kind: "RoleBinding", Namespace: "dev", Name: "pods"}, Role: rbac.ObjectKey{Kind: "ClusterRole", Name: "pod-reader"}}}
	tests := []struct {
		name  string
		attrs authorizer.AttributesRecord
		want  rbac.WhoCanResult
	}{
		{
			name:  "cluster-wide bindings and the namespace's, not other namespaces'",
			attrs: resAttrs(nil, "list", "dev", "", "pods", "", ""),
			want: rbac.WhoCanResult{
				Subjects: []rbac.SubjectGrant{
					masters,
					{Kind: "Group", APIGroup: rbacv1.GroupName, Name: "readers", Via: crbVia},
					{Kind: "ServiceAccount", Name: "ci", Via: devVia},
					{Kind: "User", APIGroup: rbacv1.GroupName, Name: "alice", Via: crbVia},
					{Kind: "User", APIGroup: rbacv1.GroupName, Name: "bob", Via: devVia},
				},
				Errors: []string{`role.rbac.authorization.k8s.io "nope" not found`},
			},
		},
		{
			name:  "without namespace only ClusterRoleBindings count",
			attrs: resAttrs(nil, "list", "", "", "pods", "", ""),
			want: rbac.WhoCanResult{Subjects: []rbac.SubjectGrant{
				masters,
				{Kind: "Group", APIGroup: rbacv1.GroupName, Name: "readers", Via: crbVia},
				{Kind: "User", APIGroup: rbacv1.GroupName, Name: "alice", Via: crbVia},
			}},
		},
		{
			name:  "non-resource URL",
			attrs: urlAttrs(nil, "get", "/metrics"),
			want: rbac.WhoCanResult{Subjects: []rbac.SubjectGrant{
				masters,
				{Kind: "ServiceAccount", Name: "prom", Namespace: "mon", Via: []rbac.Via{{Binding: rbac.ObjectKey{Kind: "ClusterRoleBinding", Name: "metrics"}, Role: rbac.ObjectKey{Kind: "ClusterRole", Name: "metrics"}}}},
			}},
		},
		{
			name:  "nobody but masters",
			attrs: resAttrs(nil, "delete", "dev", "", "pods", "", "p"),
			want:  rbac.WhoCanResult{Subjects: []rbac.SubjectGrant{masters}, Errors: []string{`role.rbac.authorization.k8s.io "nope" not found`}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if diff := cmp.Diff(tc.want, idx.WhoCan(tc.attrs)); diff != "" {
				t.Errorf("WhoCan() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestExplain(t *testing.T) {
	t.Parallel()
	idx := fixture()
	kinds := func(e rbac.Explanation) []string {
		var out []string
		for _, g := range e.Grants {
			out = append(out, "grant "+g.Binding.String())
		}
		for _, m := range e.Misses {
			out = append(out, string(m.Kind)+" "+m.Message)
		}
		return out
	}
	tests := []struct {
		name    string
		attrs   authorizer.AttributesRecord
		allowed bool
		want    []string
	}{
		{"every allowing binding, in visiting order", resAttrs(who("bob", "readers"), "get", "dev", "", "pods", "", "p"), true,
			[]string{`grant ClusterRoleBinding "readers"`, `grant RoleBinding "dev/pods"`}},
		{"bound in another namespace", resAttrs(who("carol"), "list", "dev", "", "pods", "", ""), false,
			[]string{`OtherNamespace RoleBinding "prod/pods" grants rule 0 of ClusterRole "pod-reader", but only in namespace "prod"`}},
		{"a RoleBinding never grants cluster scope", resAttrs(who("carol"), "list", "", "", "pods", "", ""), false,
			[]string{`OtherNamespace RoleBinding "prod/pods" grants rule 0 of ClusterRole "pod-reader", but only in namespace "prod"; a RoleBinding never grants cluster-scoped or all-namespace access`}},
		{"missing role and resourceNames", resAttrs(who("bob", "readers"), "update", "dev", "", "configmaps", "", "other"), false,
			[]string{
				`MissingRole RoleBinding "dev/ghost" applies to the user but references Role "dev/nope", which does not exist`,
				`ResourceNames RoleBinding "dev/cm" grants rule 0 of Role "dev/cm-editor", which only allows the names ["app-config"]`,
			}},
		{"unbound roles", urlAttrs(who("alice"), "get", "/metrics"), false,
			[]string{`Unbound rule 0 of ClusterRole "metrics" allows the request, but it is not bound to the user here`}},
		{"privileged", resAttrs(who("root", "system:masters"), "delete", "", "", "nodes", "", ""), true, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := idx.Explain(tc.attrs)
			if e.Allowed != tc.allowed {
				t.Errorf("Explain().Allowed = %v, want %v", e.Allowed, tc.allowed)
			}
			if diff := cmp.Diff(tc.want, kinds(e)); diff != "" {
				t.Errorf("Explain() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestChainAndReview(t *testing.T) {
	t.Parallel()
	chain := rbac.NewAuthorizer(fixture())
	tests := []struct {
		name string
		spec authorizationv1.SubjectAccessReviewSpec
		want authorizationv1.SubjectAccessReviewStatus
	}{
		{"masters ahead of RBAC, with an empty reason", authorizationv1.SubjectAccessReviewSpec{User: "root", Groups: l("system:masters"),
			ResourceAttributes: &authorizationv1.ResourceAttributes{Verb: "delete", Resource: "nodes"}},
			authorizationv1.SubjectAccessReviewStatus{Allowed: true}},
		{"RBAC allows", authorizationv1.SubjectAccessReviewSpec{User: "bob", ResourceAttributes: &authorizationv1.ResourceAttributes{Verb: "get", Resource: "pods", Namespace: "dev"}},
			authorizationv1.SubjectAccessReviewStatus{Allowed: true, Reason: `RBAC: allowed by RoleBinding "pods/dev" of ClusterRole "pod-reader" to User "bob"`}},
		{"groups only", authorizationv1.SubjectAccessReviewSpec{Groups: l("readers"), ResourceAttributes: &authorizationv1.ResourceAttributes{Verb: "get", Resource: "pods", Namespace: "dev"}},
			authorizationv1.SubjectAccessReviewStatus{Allowed: true, Reason: `RBAC: allowed by ClusterRoleBinding "readers" of ClusterRole "pod-reader" to Group "readers"`}},
		{"no opinion is not a deny", authorizationv1.SubjectAccessReviewSpec{User: "zed", NonResourceAttributes: &authorizationv1.NonResourceAttributes{Verb: "get", Path: "/metrics"}},
			authorizationv1.SubjectAccessReviewStatus{}},
		{"no-opinion reasons carry the union's authorizer name", authorizationv1.SubjectAccessReviewSpec{Groups: l("readers"), ResourceAttributes: &authorizationv1.ResourceAttributes{Verb: "delete", Resource: "pods", Namespace: "dev"}},
			authorizationv1.SubjectAccessReviewStatus{Reason: `rbac: RBAC: role.rbac.authorization.k8s.io "nope" not found`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := rbac.Review(context.Background(), chain, &authorizationv1.SubjectAccessReview{Spec: tc.spec})
			if err != nil {
				t.Fatalf("Review() error: %v", err)
			}
			if diff := cmp.Diff(tc.want, got.Status); diff != "" {
				t.Errorf("Review() mismatch (-want +got):\n%s", diff)
			}
		})
	}
	for _, bad := range []authorizationv1.SubjectAccessReviewSpec{
		{User: "a"},
		{ResourceAttributes: &authorizationv1.ResourceAttributes{Verb: "get"}},
		{User: "a", ResourceAttributes: &authorizationv1.ResourceAttributes{}, NonResourceAttributes: &authorizationv1.NonResourceAttributes{}},
	} {
		if _, err := rbac.Review(context.Background(), chain, &authorizationv1.SubjectAccessReview{Spec: bad}); err == nil {
			t.Errorf("Review(%+v) succeeded, want an error", bad)
		}
	}
}

func TestImpersonate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		groups []string
		want   []string
	}{
		{"alice", nil, l("system:authenticated")},
		{"alice", l("devs"), l("devs", "system:authenticated")},
		{"alice", l("system:unauthenticated"), l("system:unauthenticated")},
		{"system:serviceaccount:ci:builder", nil, l("system:serviceaccounts", "system:serviceaccounts:ci", "system:authenticated")},
		{"system:serviceaccount:ci:builder", l("x"), l("x", "system:authenticated")},
		{"system:anonymous", nil, l("system:unauthenticated")},
	}
	for _, tc := range tests {
		if diff := cmp.Diff(tc.want, rbac.Impersonate(tc.name, tc.groups).GetGroups()); diff != "" {
			t.Errorf("Impersonate(%q, %q) groups mismatch (-want +got):\n%s", tc.name, tc.groups, diff)
		}
	}
}

func TestResolve(t *testing.T) {
	t.Parallel()
	type out struct {
		Group, Resource, Subresource, Name, Namespace, Path string
		Warnings                                            []string
	}
	tests := []struct {
		q    rbac.Question
		want out
	}{
		{rbac.Question{Verb: "get", Target: "deploy", Namespace: "dev"}, out{Group: "apps", Resource: "deployments", Namespace: "dev"}},
		{rbac.Question{Verb: "get", Target: "Deployments.Apps", Namespace: "dev"}, out{Group: "apps", Resource: "deployments", Namespace: "dev"}},
		{rbac.Question{Verb: "get", Target: "pod", Namespace: "dev", Subresource: "log"}, out{Resource: "pods", Subresource: "log", Namespace: "dev"}},
		{rbac.Question{Verb: "get", Target: "events", Namespace: "dev"}, out{Resource: "events", Namespace: "dev"}},
		{rbac.Question{Verb: "get", Target: "pods/log", Namespace: "dev"}, out{Resource: "pods", Name: "log", Namespace: "dev",
			Warnings: l(`"pods/log" asks about the pods named "log", as kubectl does; use --subresource log to ask about the subresource`)}},
		{rbac.Question{Verb: "get", Target: "no", Namespace: "dev"}, out{Resource: "nodes", Namespace: "dev", Warnings: l("resource 'nodes' is not namespace scoped")}},
		{rbac.Question{Verb: "get", Target: "sc", Namespace: "dev"}, out{Group: "storage.k8s.io", Resource: "storageclasses", Namespace: "dev",
			Warnings: l("resource 'storageclasses' is not namespace scoped in group 'storage.k8s.io'")}},
		{rbac.Question{Verb: "get", Target: "widgets.example.com"}, out{Resource: "widgets.example.com",
			Warnings: l("the server doesn't have a resource type 'widgets' in group 'example.com'")}},
		{rbac.Question{Verb: "impersonate", Target: "users", Name: "alice"}, out{Resource: "users", Name: "alice"}},
		{rbac.Question{Verb: "get", Target: "*"}, out{Resource: "*"}},
		{rbac.Question{Verb: "get", Target: "/healthz"}, out{Path: "/healthz"}},
	}
	for _, tc := range tests {
		r, err := rbac.Resolve(tc.q)
		if err != nil {
			t.Errorf("Resolve(%+v) error: %v", tc.q, err)
			continue
		}
		a := r.Attributes
		got := out{a.APIGroup, a.Resource, a.Subresource, a.Name, a.Namespace, a.Path, r.Warnings}
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("Resolve(%+v) mismatch (-want +got):\n%s", tc.q, diff)
		}
	}
	for _, bad := range []rbac.Question{{Target: "pods"}, {Verb: "get"}, {Verb: "get", Target: "/x", Name: "n"}, {Verb: "get", Target: "pods/a", Name: "b"}} {
		if _, err := rbac.Resolve(bad); err == nil {
			t.Errorf("Resolve(%+v) succeeded, want an error", bad)
		}
	}
}

func TestAccessList(t *testing.T) {
	t.Parallel()
	idx := rbac.NewIndex(pol(
		clusterRole("r", pr(l("get", "list"), l("", "apps"), l("pods")), pr(l("watch"), l(""), l("pods")), pr(l("get"), l(""), l("secrets"), "a", "b"), urlRule(l("get"), "/healthz", "/version")),
		crb("b", "r", userSubject("alice")),
	))
	rows, err := idx.AccessList(who("alice"), "dev")
	if err != nil {
		t.Fatal(err)
	}
	// kubectl's order: by the rules' protobuf text, verbs first.
	want := []rbac.AccessRow{
		{Resources: l("pods"), Verbs: l("get", "list", "watch")},
		{Resources: l("pods.apps"), Verbs: l("get", "list")},
		{NonResourceURLs: l("/healthz"), Verbs: l("get")},
		{NonResourceURLs: l("/version"), Verbs: l("get")},
		{Resources: l("secrets"), ResourceNames: l("a"), Verbs: l("get")},
		{Resources: l("secrets"), ResourceNames: l("b"), Verbs: l("get")},
	}
	if diff := cmp.Diff(want, rows, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("AccessList() mismatch (-want +got):\n%s", diff)
	}
}

// TestReviewSelectors follows pkg/registry/authorization/util: selectors
// never change an RBAC decision, but what cannot be parsed is reported in
// evaluationError, and malformed selectors are refused as the API refuses
// them.
func TestReviewSelectors(t *testing.T) {
	t.Parallel()
	chain := rbac.NewAuthorizer(fixture())
	ra := func(ls *authorizationv1.LabelSelectorAttributes, fs *authorizationv1.FieldSelectorAttributes) *authorizationv1.SubjectAccessReview {
		return &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{User: "alice",
			ResourceAttributes: &authorizationv1.ResourceAttributes{Verb: "list", Resource: "pods", LabelSelector: ls, FieldSelector: fs}}}
	}
	tests := []struct {
		name     string
		sar      *authorizationv1.SubjectAccessReview
		wantErr  string // refused
		wantEval string
	}{
		{"parsable raw selectors", ra(&authorizationv1.LabelSelectorAttributes{RawSelector: "app=web"}, &authorizationv1.FieldSelectorAttributes{RawSelector: "spec.nodeName=n1"}), "", ""},
		{"unparsable raw label selector", ra(&authorizationv1.LabelSelectorAttributes{RawSelector: "a in (b"}, nil), "", "spec.resourceAttributes.labelSelector ignored due to parse error"},
		{"field Exists is not supported", ra(nil, &authorizationv1.FieldSelectorAttributes{Requirements: []metav1.FieldSelectorRequirement{{Key: "a", Operator: metav1.FieldSelectorOpExists}}}), "",
			"spec.resourceAttributes.fieldSelector ignored due to parse error"},
		{"partially kept", ra(nil, &authorizationv1.FieldSelectorAttributes{Requirements: []metav1.FieldSelectorRequirement{
			{Key: "a", Operator: metav1.FieldSelectorOpIn, Values: l("x")}, {Key: "b", Operator: "Near", Values: l("y")}}}), "",
			"spec.resourceAttributes.fieldSelector partially ignored due to parse error"},
		{"raw and requirements", ra(&authorizationv1.LabelSelectorAttributes{RawSelector: "a=b", Requirements: []metav1.LabelSelectorRequirement{{Key: "a", Operator: metav1.LabelSelectorOpExists}}}, nil),
			`spec.resourceAttributes.labelSelector.rawSelector: Invalid value: "a=b": may not specified at the same time as requirements`, ""},
		{"empty selector", ra(&authorizationv1.LabelSelectorAttributes{}, nil),
			"spec.resourceAttributes.labelSelector.requirements: Required value: when spec.resourceAttributes.labelSelector is specified, requirements or rawSelector is required", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := rbac.Review(context.Background(), chain, tc.sar)
			if tc.wantErr != "" {
				if err == nil || err.Error() != tc.wantErr {
					t.Fatalf("Review() error = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			want := authorizationv1.SubjectAccessReviewStatus{Allowed: true, Reason: `RBAC: allowed by ClusterRoleBinding "readers" of ClusterRole "pod-reader" to User "alice"`, EvaluationError: tc.wantEval}
			if diff := cmp.Diff(want, got.Status); diff != "" {
				t.Errorf("Review() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// TestConcurrentDecisions runs decisions, who-can and explain from several
// goroutines on one index (go test -race checks the lazy parts).
func TestConcurrentDecisions(t *testing.T) {
	t.Parallel()
	c := rbactest.Generate(rbactest.Config{Seed: 7, Bindings: 200, Queries: 400})
	idx := rbac.NewIndex(c.Policy)
	done := make(chan struct{})
	for w := range 4 {
		go func() {
			defer func() { done <- struct{}{} }()
			for i := w; i < len(c.Queries); i += 4 {
				q := &c.Queries[i]
				_, _, _ = idx.Authorize(context.Background(), q)
				_ = idx.WhoCan(q)
				_ = idx.Explain(q)
			}
		}()
	}
	for range 4 {
		<-done
	}
}

func TestBuildMatrix(t *testing.T) {
	t.Parallel()
	chain := rbac.NewAuthorizer(fixture())
	m, err := rbac.BuildMatrix(context.Background(), chain, rbac.MatrixRequest{
		User: who("bob"), Namespace: "dev", Verbs: l("get", "create", "delete"),
		Resources: []rbac.APIResource{
			{Resource: "pods", Namespaced: true, Verbs: l("get", "create", "delete")},
			{Resource: "nodes", Namespaced: false, Verbs: l("get")},
			{Group: "authorization.k8s.io", Resource: "localsubjectaccessreviews", Namespaced: true, Verbs: l("create")},
			{Resource: "configmaps", Namespaced: true, Verbs: l("get", "create", "delete")},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []rbac.MatrixRow{
		{Resource: "configmaps", Access: map[string]string{"get": "no", "create": "no", "delete": "no"}},
		{Resource: "localsubjectaccessreviews.authorization.k8s.io", Access: map[string]string{"get": "n/a", "create": "no", "delete": "n/a"}},
		{Resource: "pods", Access: map[string]string{"get": "yes", "create": "no", "delete": "no"}},
	}
	if diff := cmp.Diff(want, m.Rows); diff != "" {
		t.Errorf("BuildMatrix() rows mismatch (-want +got):\n%s", diff)
	}
}
