package main

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kauth/kauth/internal/loader"
	"github.com/kauth/kauth/internal/rbac"
)

// TestDifferentialLoad writes generated policies (all valid for
// kube-apiserver) as YAML and reads them back the way "kauth authz
// --from FILE" does: every object must be accepted and come back unchanged.
func TestDifferentialLoad(t *testing.T) {
	t.Parallel()
	for seed := range uint64(10) {
		objs := GeneratePolicy(SmallCorpus(seed))
		path := filepath.Join(t.TempDir(), "policy.yaml")
		if err := os.WriteFile(path, []byte(objs.YAML()), 0o644); err != nil {
			t.Fatal(err)
		}
		loaded, err := loader.Load(context.Background(), []string{path}, loader.Options{})
		if err != nil {
			t.Fatalf("seed %d: loader: %v", seed, err)
		}
		p, skipped, err := rbac.FromObjects(loaded)
		if err != nil {
			t.Fatalf("seed %d: kauth rejects a policy kube-apiserver accepts: %v", seed, err)
		}
		if skipped != 0 {
			t.Errorf("seed %d: %d objects skipped, want 0", seed, skipped)
		}
		got := &Objects{Roles: p.Roles, ClusterRoles: p.ClusterRoles, RoleBindings: p.RoleBindings, ClusterRoleBindings: p.ClusterRoleBindings}
		if diff := cmp.Diff(objs, got, cmpopts.IgnoreTypes(metav1.TypeMeta{}), cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("seed %d: objects changed on the way through YAML (-generated +loaded):\n%s", seed, diff)
		}
	}
}
