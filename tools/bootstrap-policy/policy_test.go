package main

import (
	"cmp"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	gocmp "github.com/google/go-cmp/cmp"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/yaml"
)

// fixtureDir is where k8s.io/kubernetes keeps the golden files its own
// bootstrappolicy tests compare the default-gate output with.
func fixtureDir(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "k8s.io/kubernetes").Output()
	if err != nil {
		t.Fatalf("locate k8s.io/kubernetes module: %v", err)
	}
	return filepath.Join(strings.TrimSpace(string(out)), "plugin/pkg/auth/authorizer/rbac/bootstrappolicy/testdata")
}

// readFixture decodes a kind: List fixture into its items.
func readFixture[T any](t *testing.T, name string) []T {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(fixtureDir(t), name))
	if err != nil {
		t.Fatal(err)
	}
	var list struct {
		Items []T `json:"items"`
	}
	if err := yaml.Unmarshal(data, &list); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return list.Items
}

func key(m metav1.Object) string { return m.GetNamespace() + "/" + m.GetName() }

func sortByKey[T any, P interface {
	*T
	metav1.Object
}](items []T) []T {
	slices.SortFunc(items, func(a, b T) int { return cmp.Compare(key(P(&a)), key(P(&b))) })
	return items
}

// TestMatchesUpstreamFixtures checks that the generated objects are exactly
// the upstream golden files for the default feature gates: the union of
// cluster-roles, controller-roles, cluster-role-bindings,
// controller-role-bindings, namespace-roles and namespace-role-bindings.
func TestMatchesUpstreamFixtures(t *testing.T) {
	var (
		gotCR  []rbacv1.ClusterRole
		gotCRB []rbacv1.ClusterRoleBinding
		gotR   []rbacv1.Role
		gotRB  []rbacv1.RoleBinding
	)
	for _, o := range collect() {
		switch o := o.(type) {
		case *rbacv1.ClusterRole:
			gotCR = append(gotCR, *o)
		case *rbacv1.ClusterRoleBinding:
			gotCRB = append(gotCRB, *o)
		case *rbacv1.Role:
			gotR = append(gotR, *o)
		case *rbacv1.RoleBinding:
			gotRB = append(gotRB, *o)
		default:
			t.Fatalf("unexpected object %T", o)
		}
	}
	wantCR := sortByKey(append(readFixture[rbacv1.ClusterRole](t, "cluster-roles.yaml"), readFixture[rbacv1.ClusterRole](t, "controller-roles.yaml")...))
	wantCRB := sortByKey(append(readFixture[rbacv1.ClusterRoleBinding](t, "cluster-role-bindings.yaml"), readFixture[rbacv1.ClusterRoleBinding](t, "controller-role-bindings.yaml")...))
	wantR := sortByKey(readFixture[rbacv1.Role](t, "namespace-roles.yaml"))
	wantRB := sortByKey(readFixture[rbacv1.RoleBinding](t, "namespace-role-bindings.yaml"))

	t.Logf("fixtures: %d ClusterRoles, %d ClusterRoleBindings, %d Roles, %d RoleBindings", len(wantCR), len(wantCRB), len(wantR), len(wantRB))
	for _, c := range []struct {
		name      string
		got, want any
	}{
		{"ClusterRoles", gotCR, wantCR},
		{"ClusterRoleBindings", gotCRB, wantCRB},
		{"Roles", gotR, wantR},
		{"RoleBindings", gotRB, wantRB},
	} {
		if diff := gocmp.Diff(c.want, c.got); diff != "" {
			t.Errorf("%s differ from upstream fixtures (-want +got):\n%s", c.name, diff)
		}
	}
}

// TestRenderDeterministic renders twice and checks that every document
// carries apiVersion and kind.
func TestRenderDeterministic(t *testing.T) {
	a, err := render()
	if err != nil {
		t.Fatal(err)
	}
	b, err := render()
	if err != nil {
		t.Fatal(err)
	}
	if string(a) != string(b) {
		t.Fatal("two renders differ")
	}
	docs := strings.Split(string(a), "\n---\n")[1:]
	if len(docs) != len(collect()) {
		t.Fatalf("rendered %d documents, want %d", len(docs), len(collect()))
	}
	for i, d := range docs {
		var tm runtime.TypeMeta
		if err := yaml.Unmarshal([]byte(d), &tm); err != nil {
			t.Fatalf("document %d: %v", i, err)
		}
		if tm.APIVersion != "rbac.authorization.k8s.io/v1" || tm.Kind == "" {
			t.Errorf("document %d: apiVersion %q kind %q, want rbac.authorization.k8s.io/v1 and a kind", i, tm.APIVersion, tm.Kind)
		}
	}
}
