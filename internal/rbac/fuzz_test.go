package rbac_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/kauth/kauth/internal/loader"
	"github.com/kauth/kauth/internal/rbac"
	"github.com/kauth/kauth/internal/rbac/rbactest"
)

// FuzzPolicy feeds arbitrary manifests through the policy loader
// (decoding, validation, aggregation, indexing) and asks the result a few
// questions: nothing may panic, and whatever the loader accepts must be
// decided exactly as the scanning reference decides it.
func FuzzPolicy(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/*.yaml")
	for _, s := range seeds {
		b, err := os.ReadFile(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	queries := []rbacAttrs{
		resAttrs(rbac.Impersonate("alice", nil), "list", "dev", "", "pods", "", ""),
		resAttrs(rbac.Impersonate("system:serviceaccount:ci:builder", nil), "update", "dev", "apps", "deployments", "scale", "web"),
		resAttrs(rbac.Impersonate("bob", []string{"devs"}), "get", "", "", "configmaps", "", "app-config"),
		resAttrs(rbac.Impersonate("system:serviceaccount:monitoring:prometheus", nil), "get", "", "", "pods", "log", "p"),
		urlAttrs(rbac.Impersonate("carol", nil), "get", "/healthz/ready"),
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		objs, err := loader.Decode("fuzz.yaml", data)
		if err != nil {
			return
		}
		p, _, err := rbac.FromObjects(objs)
		if err != nil {
			return
		}
		rbac.Aggregate(p)
		idx := rbac.NewIndex(p)
		for _, q := range queries {
			d, reason, _ := idx.Authorize(context.Background(), q)
			rd, rreason := rbactest.ReferenceAuthorize(p, q)
			if d != rd || reason != rreason {
				t.Fatalf("%+v: index (%v, %q), reference (%v, %q)", q, d, reason, rd, rreason)
			}
			_ = idx.WhoCan(q)
			_ = idx.Explain(q)
		}
	})
}
