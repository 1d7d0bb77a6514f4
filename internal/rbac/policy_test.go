package rbac_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	rbacv1 "k8s.io/api/rbac/v1"
	rbacv1beta1 "k8s.io/api/rbac/v1beta1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/kauth/kauth/internal/loader"
	"github.com/kauth/kauth/internal/rbac"
)

func objs(list ...runtime.Object) []loader.Object {
	out := make([]loader.Object, len(list))
	for i, o := range list {
		out[i] = loader.Object{Object: o, Source: loader.Source{File: "policy.yaml", Line: 1 + 10*i}}
	}
	return out
}

func TestFromObjectsErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		obj  runtime.Object
		want string // the whole error
	}{
		{"rule without verbs", clusterRole("c", rbacv1.PolicyRule{APIGroups: l(""), Resources: l("pods")}),
			`policy.yaml:1: ClusterRole "c": rules[0].verbs: Required value: verbs must contain at least one value`},
		{"resource rule without apiGroups", clusterRole("c", rbacv1.PolicyRule{Verbs: l("get"), Resources: l("pods")}),
			`policy.yaml:1: ClusterRole "c": rules[0].apiGroups: Required value: resource rules must supply at least one api group`},
		{"resource rule without resources", clusterRole("c", rbacv1.PolicyRule{Verbs: l("get"), APIGroups: l("")}),
			`policy.yaml:1: ClusterRole "c": rules[0].resources: Required value: resource rules must supply at least one resource`},
		{"namespaced non-resource URL", nsRole("ns", "r", urlRule(l("get"), "/healthz")),
			`policy.yaml:1: Role "ns/r": rules[0].nonResourceURLs: Invalid value: ["/healthz"]: namespaced rules cannot apply to non-resource URLs`},
		{"URLs mixed with resources", clusterRole("c", rbacv1.PolicyRule{Verbs: l("get"), APIGroups: l(""), NonResourceURLs: l("/x")}),
			`policy.yaml:1: ClusterRole "c": rules[0].nonResourceURLs: Invalid value: ["/x"]: rules cannot apply to both regular resources and non-resource URLs`},
		{"name with a slash", clusterRole("a/b", pr(l("get"), l(""), l("pods"))),
			`policy.yaml:1: ClusterRole "a/b": metadata.name: Invalid value: "a/b": may not contain '/'`},
		{"ClusterRoleBinding to a Role", &rbacv1.ClusterRoleBinding{ObjectMeta: objMeta("b"), RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: "r"}},
			`policy.yaml:1: ClusterRoleBinding "b": roleRef.kind: Unsupported value: "Role": supported values: "ClusterRole"`},
		{"binding without roleRef", rb("dev", "b", "", ""),
			`policy.yaml:1: RoleBinding "dev/b": [roleRef.kind: Unsupported value: "": supported values: "Role", "ClusterRole", roleRef.name: Required value]`},
		{"ServiceAccount without namespace in a ClusterRoleBinding", crb("b", "r", saSubject("", "sa")),
			`policy.yaml:1: ClusterRoleBinding "b": subjects[0].namespace: Required value`},
		{"unknown subject kind", crb("b", "r", rbacv1.Subject{Kind: "Robot", Name: "r2d2"}),
			`policy.yaml:1: ClusterRoleBinding "b": subjects[0].kind: Unsupported value: "Robot": supported values: "ServiceAccount", "User", "Group"`},
		{"user with a wrong apiGroup", crb("b", "r", rbacv1.Subject{Kind: "User", APIGroup: "example.com", Name: "u"}),
			`policy.yaml:1: ClusterRoleBinding "b": subjects[0].apiGroup: Unsupported value: "example.com": supported values: "rbac.authorization.k8s.io"`},
		{"aggregationRule without selectors", &rbacv1.ClusterRole{ObjectMeta: objMeta("agg"), AggregationRule: &rbacv1.AggregationRule{}},
			`policy.yaml:1: ClusterRole "agg": aggregationRule.clusterRoleSelectors: Required value: at least one clusterRoleSelector required if aggregationRule is non-nil`},
		{"rbac v1beta1", &rbacv1beta1.ClusterRole{TypeMeta: metav1.TypeMeta{APIVersion: "rbac.authorization.k8s.io/v1beta1", Kind: "ClusterRole"}, ObjectMeta: objMeta("old")},
			`policy.yaml:1: apiVersion: rbac.authorization.k8s.io/v1beta1 is not served by Kubernetes v1.37; expected rbac.authorization.k8s.io/v1`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, _, err := rbac.FromObjects(objs(tc.obj))
			if err == nil {
				t.Fatalf("FromObjects() = nil error, want %q", tc.want)
			}
			if diff := cmp.Diff(tc.want, err.Error()); diff != "" {
				t.Errorf("FromObjects() error mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestFromObjects(t *testing.T) {
	t.Parallel()
	role := &rbacv1.Role{ObjectMeta: objMeta("r"), Rules: []rbacv1.PolicyRule{pr(l("get"), l(""), l("pods", "configmaps"), "a", "b")}}
	binding := &rbacv1.RoleBinding{
		ObjectMeta: objMeta("b"),
		RoleRef:    rbacv1.RoleRef{Kind: "Role", Name: "r"},
		Subjects:   []rbacv1.Subject{{Kind: "User", Name: "alice"}, {Kind: "ServiceAccount", Name: "sa"}},
	}
	cr := clusterRole("c", pr(l("get"), l(""), l("pods")))
	cr.Namespace = "ignored"
	p, skipped, err := rbac.FromObjects(objs(role, binding, cr, &rbacv1.ClusterRoleBinding{}, nil)[:3])
	if err != nil {
		t.Fatalf("FromObjects() error: %v", err)
	}
	if skipped != 0 {
		t.Errorf("skipped = %d, want 0", skipped)
	}
	// Defaults: namespace "default" as kubectl apply without a context
	// namespace; apiGroups of roleRef and of User subjects; cluster-scoped
	// objects lose their namespace. resourceNames may name several
	// resources since v1.37's validation dropped that restriction.
	want := &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "b", Namespace: "default"},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: "r"},
		Subjects:   []rbacv1.Subject{{Kind: "User", APIGroup: rbacv1.GroupName, Name: "alice"}, {Kind: "ServiceAccount", Name: "sa"}},
	}
	if diff := cmp.Diff(want, p.RoleBindings[0]); diff != "" {
		t.Errorf("RoleBinding mismatch (-want +got):\n%s", diff)
	}
	if p.Roles[0].Namespace != "default" || p.ClusterRoles[0].Namespace != "" {
		t.Errorf("namespaces = %q, %q; want default and empty", p.Roles[0].Namespace, p.ClusterRoles[0].Namespace)
	}
	if binding.RoleRef.APIGroup != "" {
		t.Error("FromObjects changed its input")
	}
	if got := p.Source(rbac.ObjectKey{Kind: "RoleBinding", Namespace: "default", Name: "b"}); got.String() != "policy.yaml:11" {
		t.Errorf("Source() = %s, want policy.yaml:11", got)
	}
}

func TestFromObjectsSkipsAndDuplicates(t *testing.T) {
	t.Parallel()
	cm := &metav1.PartialObjectMetadata{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"}}
	_, skipped, err := rbac.FromObjects(objs(cm, clusterRole("c", pr(l("get"), l(""), l("pods")))))
	if err != nil || skipped != 1 {
		t.Errorf("FromObjects() = %d skipped, %v; want 1, nil", skipped, err)
	}
	_, _, err = rbac.FromObjects(objs(clusterRole("c"), clusterRole("c"), clusterRole("ok"), clusterRole("bad/")))
	want := "policy.yaml:11: duplicate ClusterRole \"c\", first defined at policy.yaml:1\n" +
		"policy.yaml:31: ClusterRole \"bad/\": metadata.name: Invalid value: \"bad/\": may not contain '/'"
	if err == nil || err.Error() != want {
		t.Errorf("FromObjects() error = %v, want every problem:\n%s", err, want)
	}
}

func TestLayer(t *testing.T) {
	t.Parallel()
	base := objs(clusterRole("view"), clusterRole("edit"))
	top := objs(clusterRole("edit", pr(l("*"), l("*"), l("*"))))
	got := rbac.Layer(base, top)
	var names []string
	for _, o := range got {
		names = append(names, o.Object.(*rbacv1.ClusterRole).Name+"@"+o.Source.String())
	}
	if diff := cmp.Diff([]string{"view@policy.yaml:1", "edit@policy.yaml:1"}, names); diff != "" {
		t.Errorf("Layer() mismatch (-want +got):\n%s", diff)
	}
	if _, _, err := rbac.FromObjects(got); err != nil {
		t.Errorf("FromObjects(Layer()) error: %v", err)
	}
}

func TestLoadTestdata(t *testing.T) {
	t.Parallel()
	loaded, err := rbac.Load(t.Context(), rbac.Sources{From: []string{"testdata/valid-policy.yaml", "testdata/valid-aggregated.yaml"}})
	if err != nil {
		t.Fatalf("Load() error: %v", err)
	}
	if loaded.Objects != 8 || loaded.Skipped != 1 || strings.Join(loaded.Aggregated, ",") != "monitoring" {
		t.Errorf("Load() = %d objects, %d skipped, aggregated %v; want 8, 1, [monitoring]", loaded.Objects, loaded.Skipped, loaded.Aggregated)
	}
	_, err = rbac.Load(t.Context(), rbac.Sources{From: []string{"testdata/invalid-missing-roleRef.yaml"}})
	want := `testdata/invalid-missing-roleRef.yaml:1: RoleBinding "dev/nothing": [roleRef.kind: Unsupported value: "": supported values: "Role", "ClusterRole", roleRef.name: Required value]`
	if err == nil || err.Error() != want {
		t.Errorf("Load() error = %v, want %s", err, want)
	}
	if _, err := rbac.Load(t.Context(), rbac.Sources{}); err == nil {
		t.Error("Load() with no sources succeeded")
	}
}

func TestLoadBootstrap(t *testing.T) {
	t.Parallel()
	loaded, err := rbac.Load(t.Context(), rbac.Sources{Bootstrap: true})
	if err != nil {
		t.Fatalf("Load() error: %v", err)
	}
	if diff := cmp.Diff([]string{"admin", "edit", "view"}, loaded.Aggregated); diff != "" {
		t.Errorf("aggregated mismatch (-want +got):\n%s", diff)
	}
	tests := []struct {
		name  string
		attrs rbacAttrs
		want  bool
	}{
		{"anyone reads /healthz", urlAttrs(rbac.Impersonate("system:anonymous", nil), "get", "/healthz"), true},
		{"authenticated users review themselves", resAttrs(rbac.Impersonate("alice", nil), "create", "", "authorization.k8s.io", "selfsubjectaccessreviews", "", ""), true},
		{"authenticated users read no pods", resAttrs(rbac.Impersonate("alice", nil), "get", "dev", "", "pods", "", ""), false},
		{"masters through cluster-admin's binding", resAttrs(who("root", "system:masters"), "delete", "", "", "nodes", "", ""), true},
		{"the scheduler binds pods", resAttrs(who("system:kube-scheduler"), "create", "dev", "", "pods", "binding", "p"), true},
	}
	for _, tc := range tests {
		d, _, _ := loaded.Index.Authorize(t.Context(), tc.attrs)
		if got := d == 1; got != tc.want {
			t.Errorf("%s: allowed = %v, want %v", tc.name, got, tc.want)
		}
	}
}
