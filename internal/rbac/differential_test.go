package rbac_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	rbacv1 "k8s.io/api/rbac/v1"

	"github.com/kauth/kauth/internal/rbac"
	"github.com/kauth/kauth/internal/rbac/rbactest"
)

// TestIndexMatchesReference asks generated policies thousands of questions
// and holds the index to the naive scanning reference: same decision, same
// reason (the first allowing binding, or the missing-role errors), and the
// same who-can subjects.
func TestIndexMatchesReference(t *testing.T) {
	t.Parallel()
	for seed := range uint64(8) {
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			t.Parallel()
			c := rbactest.Generate(rbactest.Config{Seed: seed, Bindings: 300, Queries: 1500})
			idx := rbac.NewIndex(c.Policy)
			allowed := 0
			for i, q := range c.Queries {
				d, reason, _ := idx.Authorize(context.Background(), q)
				rd, rreason := rbactest.ReferenceAuthorize(c.Policy, q)
				if d != rd || reason != rreason {
					t.Fatalf("query %d %+v: index (%v, %q), reference (%v, %q)", i, q, d, reason, rd, rreason)
				}
				if rd == 1 {
					allowed++
				}
				if i%5 == 0 {
					compareWhoCan(t, idx, c.Policy, q)
				}
			}
			if allowed == 0 || allowed == len(c.Queries) {
				t.Errorf("corpus is degenerate: %d of %d allowed", allowed, len(c.Queries))
			}
		})
	}
}

func compareWhoCan(t *testing.T, idx *rbac.Index, p *rbac.Policy, q rbacAttrs) {
	t.Helper()
	var got []rbacv1.Subject
	for _, s := range idx.WhoCan(q).Subjects {
		got = append(got, rbacv1.Subject{Kind: s.Kind, APIGroup: s.APIGroup, Name: s.Name, Namespace: s.Namespace})
	}
	want := rbactest.ReferenceWhoCan(p, q)
	sortSubjects := cmpopts.SortSlices(func(a, b rbacv1.Subject) bool {
		return a.Kind+"/"+a.Namespace+"/"+a.Name+"/"+a.APIGroup < b.Kind+"/"+b.Namespace+"/"+b.Name+"/"+b.APIGroup
	})
	if diff := cmp.Diff(want, got, sortSubjects); diff != "" {
		t.Fatalf("WhoCan(%+v) mismatch (-reference +index):\n%s", q, diff)
	}
}
