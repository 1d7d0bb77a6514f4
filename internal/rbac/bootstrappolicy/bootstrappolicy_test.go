package bootstrappolicy

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// find returns the object of the given kind, namespace and name.
func find(t *testing.T, objs []runtime.Object, kind, namespace, name string) runtime.Object {
	t.Helper()
	for _, o := range objs {
		m := o.(metav1.Object)
		if o.GetObjectKind().GroupVersionKind().Kind == kind && m.GetNamespace() == namespace && m.GetName() == name {
			return o
		}
	}
	t.Fatalf("no %s %s/%s in the bootstrap policy", kind, namespace, name)
	return nil
}

func TestObjectsCounts(t *testing.T) {
	t.Parallel()
	objs, err := Objects()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	for _, o := range objs {
		gvk := o.GetObjectKind().GroupVersionKind()
		if gvk.GroupVersion() != rbacv1.SchemeGroupVersion {
			t.Errorf("%T has apiVersion %q, want rbac.authorization.k8s.io/v1", o, gvk.GroupVersion())
		}
		switch o.(type) {
		case *rbacv1.ClusterRole, *rbacv1.ClusterRoleBinding, *rbacv1.Role, *rbacv1.RoleBinding:
		default:
			t.Errorf("unexpected type %T", o)
		}
		if l := o.(metav1.Object).GetLabels()["kubernetes.io/bootstrapping"]; l != "rbac-defaults" {
			t.Errorf("%s %s: label kubernetes.io/bootstrapping=%q, want rbac-defaults", gvk.Kind, o.(metav1.Object).GetName(), l)
		}
		got[gvk.Kind]++
	}
	want := map[string]int{"ClusterRole": 73, "ClusterRoleBinding": 54, "Role": 7, "RoleBinding": 7}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("object counts (-want +got):\n%s", diff)
	}
}

func TestKnownObjects(t *testing.T) {
	t.Parallel()
	objs, err := Objects()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		kind, namespace, name string
		check                 func(t *testing.T, o runtime.Object)
	}{
		{"ClusterRole", "", "cluster-admin", func(t *testing.T, o runtime.Object) {
			want := []rbacv1.PolicyRule{
				{Verbs: []string{"*"}, APIGroups: []string{"*"}, Resources: []string{"*"}},
				{Verbs: []string{"*"}, NonResourceURLs: []string{"*"}},
			}
			if diff := cmp.Diff(want, o.(*rbacv1.ClusterRole).Rules); diff != "" {
				t.Errorf("rules (-want +got):\n%s", diff)
			}
		}},
		{"ClusterRole", "", "system:basic-user", func(t *testing.T, o runtime.Object) {
			want := []rbacv1.PolicyRule{
				{Verbs: []string{"create"}, APIGroups: []string{"authorization.k8s.io"}, Resources: []string{"selfsubjectaccessreviews", "selfsubjectrulesreviews"}},
				{Verbs: []string{"create"}, APIGroups: []string{"authentication.k8s.io"}, Resources: []string{"selfsubjectreviews"}},
			}
			if diff := cmp.Diff(want, o.(*rbacv1.ClusterRole).Rules); diff != "" {
				t.Errorf("rules (-want +got):\n%s", diff)
			}
		}},
		{"ClusterRole", "", "admin", func(t *testing.T, o runtime.Object) {
			cr := o.(*rbacv1.ClusterRole)
			want := &rbacv1.AggregationRule{ClusterRoleSelectors: []metav1.LabelSelector{
				{MatchLabels: map[string]string{"rbac.authorization.k8s.io/aggregate-to-admin": "true"}},
			}}
			if diff := cmp.Diff(want, cr.AggregationRule); diff != "" {
				t.Errorf("aggregationRule (-want +got):\n%s", diff)
			}
			if len(cr.Rules) != 0 {
				t.Errorf("admin has %d rules, want none before aggregation", len(cr.Rules))
			}
		}},
		{"ClusterRole", "", "system:aggregate-to-edit", func(t *testing.T, o runtime.Object) {
			cr := o.(*rbacv1.ClusterRole)
			if got := cr.Labels["rbac.authorization.k8s.io/aggregate-to-edit"]; got != "true" {
				t.Errorf("label aggregate-to-edit=%q, want true", got)
			}
			if len(cr.Rules) == 0 {
				t.Error("system:aggregate-to-edit has no rules")
			}
		}},
		{"ClusterRoleBinding", "", "cluster-admin", func(t *testing.T, o runtime.Object) {
			b := o.(*rbacv1.ClusterRoleBinding)
			want := rbacv1.ClusterRoleBinding{
				RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "cluster-admin"},
				Subjects: []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: "Group", Name: "system:masters"}},
			}
			if diff := cmp.Diff(want.RoleRef, b.RoleRef); diff != "" {
				t.Errorf("roleRef (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(want.Subjects, b.Subjects); diff != "" {
				t.Errorf("subjects (-want +got):\n%s", diff)
			}
		}},
		{"RoleBinding", "kube-public", "system:controller:bootstrap-signer", func(t *testing.T, o runtime.Object) {
			want := []rbacv1.Subject{{Kind: "ServiceAccount", Name: "bootstrap-signer", Namespace: "kube-system"}}
			if diff := cmp.Diff(want, o.(*rbacv1.RoleBinding).Subjects); diff != "" {
				t.Errorf("subjects (-want +got):\n%s", diff)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.kind+"/"+tt.name, func(t *testing.T) {
			t.Parallel()
			tt.check(t, find(t, objs, tt.kind, tt.namespace, tt.name))
		})
	}
}

func TestObjectsReturnsCopies(t *testing.T) {
	t.Parallel()
	first, err := Objects()
	if err != nil {
		t.Fatal(err)
	}
	find(t, first, "ClusterRole", "", "cluster-admin").(*rbacv1.ClusterRole).Rules = nil
	second, err := Objects()
	if err != nil {
		t.Fatal(err)
	}
	if got := find(t, second, "ClusterRole", "", "cluster-admin").(*rbacv1.ClusterRole).Rules; len(got) != 2 {
		t.Errorf("a caller's change leaked into the next call: cluster-admin has %d rules, want 2", len(got))
	}
}

func TestDecodeErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, data, wantPrefix string
	}{
		{"bad field type", "# header\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {name: x}\nrules: 5\n", "policy.yaml:3: decode RBAC object"},
		{"unknown kind", "apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {name: a}\n---\napiVersion: v1\nkind: Pod\n", "policy.yaml:5: decode RBAC object"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := decode([]byte(tt.data))
			if err == nil || !strings.HasPrefix(err.Error(), tt.wantPrefix) {
				t.Errorf("decode error = %v, want prefix %q", err, tt.wantPrefix)
			}
		})
	}
}
