package localserver

import (
	"context"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// runOnce starts a server with cfg, waits until it is ready and stops it.
func runOnce(t *testing.T, cfg Config) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s, err := New(ctx, cfg)
	if err != nil {
		t.Fatalf("New() error = %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	<-s.Ready()
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run() error = %v", err)
	}
}

func TestSeedCreatesThenReplaces(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cm := func(v string) string {
		return "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: seeded\n  namespace: team\ndata:\n  v: \"" + v + "\"\n---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: team\n"
	}
	runOnce(t, withDefaults(func(c *Config) { c.DataDir = dir; c.Seed = []string{writeFile(t, "v1.yaml", cm("1"))} }))
	s := startServer(t, func(c *Config) {
		c.DataDir = dir
		c.KubeconfigOut = ""
		c.Seed = []string{writeFile(t, "v2.yaml", cm("2"))}
	})
	obj, err := s.Store().Get(context.Background(), gvrConfigMaps, "team", "seeded")
	if err != nil {
		t.Fatal(err)
	}
	if got := obj.(*corev1.ConfigMap).Data["v"]; got != "2" {
		t.Errorf("seeded ConfigMap after a restart with a new seed: v=%q, want 2", got)
	}
	// The namespace listed after its contents was created first, and got
	// its default ServiceAccount.
	if _, err := s.Store().Get(context.Background(), gvrServiceAccounts, "team", "default"); err != nil {
		t.Errorf("default ServiceAccount in a seeded namespace: %v", err)
	}
}

func TestSeedCreatesMissingNamespaces(t *testing.T) {
	t.Parallel()
	role := "apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata:\n  name: reader\n  namespace: dev\nrules:\n- apiGroups: [\"\"]\n  resources: [pods]\n  verbs: [get]\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  namespace: default\n"
	s := startServer(t, func(c *Config) { c.KubeconfigOut = ""; c.Seed = []string{writeFile(t, "role.yaml", role)} })
	if _, err := s.Store().Get(context.Background(), gvrNamespaces, "", "dev"); err != nil {
		t.Errorf("namespace of a seeded Role: %v", err)
	}
	if _, err := s.Store().Get(context.Background(), gvrRoles, "dev", "reader"); err != nil {
		t.Errorf("seeded Role: %v", err)
	}
}

func TestSeedErrorsNameFileAndLine(t *testing.T) {
	t.Parallel()
	bad := "apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata:\n  name: ok\n  namespace: default\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata:\n  name: broken\n  namespace: default\nroleRef:\n  apiGroup: rbac.authorization.k8s.io\n  kind: Foo\n  name: ok\n"
	path := writeFile(t, "bad.yaml", bad)
	s, err := New(context.Background(), withDefaults(func(c *Config) { c.Seed = []string{path} }))
	if err == nil {
		s.close()
	}
	if err == nil || !strings.HasPrefix(err.Error(), path+":7: RoleBinding \"broken\": ") {
		t.Fatalf("New() error = %v, want %s:7: RoleBinding \"broken\": ...", err, path)
	}
}

func TestDefaultPolicyIsSeeded(t *testing.T) {
	t.Parallel()
	s := startServer(t, nil)
	ctx := context.Background()
	for _, key := range []struct{ ns, name string }{{"", "cluster-admin"}, {"", "system:public-info-viewer"}, {"", "admin"}} {
		obj, err := s.Store().Get(ctx, gvrClusterRoles, key.ns, key.name)
		if err != nil {
			t.Fatalf("clusterrole %s: %v", key.name, err)
		}
		if len(obj.(*rbacv1.ClusterRole).Rules) == 0 {
			t.Errorf("clusterrole %s has no rules (admin's are aggregated)", key.name)
		}
	}
	for _, name := range []string{"exempt", "global-default", "catch-all"} {
		if _, err := s.Store().Get(ctx, gvrFlowSchemas, "", name); err != nil {
			t.Errorf("flowschema %s: %v", name, err)
		}
	}
	for _, ns := range systemNamespaces {
		if _, err := s.Store().Get(ctx, gvrServiceAccounts, ns, "default"); err != nil {
			t.Errorf("default ServiceAccount in %s: %v", ns, err)
		}
		if _, err := s.Store().Get(ctx, gvrConfigMaps, ns, rootCAConfigMap); err != nil {
			t.Errorf("%s in %s: %v", rootCAConfigMap, ns, err)
		}
	}
}

// Every served cluster-scoped kind is seeded at its cluster-scoped path,
// admission policies and webhook configurations included, and a kind the
// server does not serve is named as such.
func TestSeedClusterScopedKinds(t *testing.T) {
	t.Parallel()
	policy := "apiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingAdmissionPolicy\nmetadata:\n  name: p\nspec:\n  matchConstraints:\n    resourceRules:\n    - apiGroups: [\"\"]\n      apiVersions: [v1]\n      operations: [CREATE]\n      resources: [configmaps]\n  validations:\n  - expression: \"true\"\n"
	s := startServer(t, func(c *Config) { c.KubeconfigOut = ""; c.Seed = []string{writeFile(t, "policy.yaml", policy)} })
	gvr := schema.GroupVersionResource{Group: "admissionregistration.k8s.io", Version: "v1", Resource: "validatingadmissionpolicies"}
	if _, err := s.Store().Get(context.Background(), gvr, "", "p"); err != nil {
		t.Errorf("seeded ValidatingAdmissionPolicy: %v", err)
	}

	path := writeFile(t, "widget.yaml", "apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w\n")
	s2, err := New(context.Background(), withDefaults(func(c *Config) { c.Seed = []string{path} }))
	if err == nil {
		s2.close()
	}
	want := path + ":1: Widget \"w\": kind Widget of example.com/v1 is not served by kauth serve"
	if err == nil || err.Error() != want {
		t.Fatalf("New() error = %v, want %s", err, want)
	}
}
