package rbacdiffbench

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"

	"github.com/kauth/kauth/internal/loader"
	"github.com/kauth/kauth/internal/rbac"
	"github.com/kauth/kauth/internal/rbac/rbactest"
	"github.com/kauth/kauth/internal/rbacdiff"
)

const bindings = 10000

func generate(seed uint64) *rbac.Policy {
	return rbactest.Generate(rbactest.Config{Seed: seed, Bindings: bindings, Queries: 1}).Policy
}

// mutate returns a copy of old where about percent of the roles and
// bindings are replaced by the same-named objects of other, removed, or
// given one more subject.
func mutate(old, other *rbac.Policy, percent int) *rbac.Policy {
	r := rand.New(rand.NewPCG(uint64(percent), 1))
	hit := func() bool { return r.IntN(100) < percent }
	p := &rbac.Policy{Sources: map[rbac.ObjectKey]loader.Source{}}
	for i, cr := range old.ClusterRoles {
		c := cr.DeepCopy()
		if hit() && i < len(other.ClusterRoles) && other.ClusterRoles[i].Name == cr.Name {
			c = other.ClusterRoles[i].DeepCopy()
		}
		if c.AggregationRule != nil {
			c.Rules = nil
		}
		p.ClusterRoles = append(p.ClusterRoles, c)
	}
	for i, ro := range old.Roles {
		if hit() && i < len(other.Roles) {
			p.Roles = append(p.Roles, other.Roles[i].DeepCopy())
			continue
		}
		p.Roles = append(p.Roles, ro.DeepCopy())
	}
	for _, b := range old.ClusterRoleBindings {
		if !hit() {
			p.ClusterRoleBindings = append(p.ClusterRoleBindings, b.DeepCopy())
		}
	}
	for _, b := range old.RoleBindings {
		c := b.DeepCopy()
		if hit() {
			if r.IntN(2) == 0 {
				continue
			}
			c.Subjects = append(c.Subjects, rbacv1.Subject{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: fmt.Sprintf("user-%d", r.IntN(2000))})
		}
		p.RoleBindings = append(p.RoleBindings, c)
	}
	rbac.Aggregate(p)
	return p
}

// BenchmarkDiff measures Diff on indexed policies of 10,000 bindings.
func BenchmarkDiff(b *testing.B) {
	old := generate(42)
	other := generate(43)
	for _, tc := range []struct {
		name string
		new  *rbac.Policy
	}{
		{"change=1%", mutate(old, other, 1)},
		{"change=10%", mutate(old, other, 10)},
		{"unrelated", other},
	} {
		b.Run(tc.name, func(b *testing.B) {
			oldIdx, newIdx := rbac.NewIndex(old), rbac.NewIndex(tc.new)
			var res *rbacdiff.Result
			b.ReportAllocs()
			for b.Loop() {
				res = rbacdiff.Diff(oldIdx, newIdx)
			}
			b.ReportMetric(float64(len(res.Changes)), "changes")
			b.ReportMetric(float64(res.Escalations()), "escalations")
			b.ReportMetric(float64(len(res.Objects)), "objects")
		})
	}
}

// BenchmarkRunFromYAML measures the command's whole path: read both
// sides from YAML files, validate, aggregate, index and diff.
func BenchmarkRunFromYAML(b *testing.B) {
	dir := b.TempDir()
	old := generate(42)
	write := func(name string, p *rbac.Policy) string {
		path := filepath.Join(dir, name)
		f, err := os.Create(path)
		if err != nil {
			b.Fatal(err)
		}
		defer f.Close()
		if err := rbactest.WriteYAML(f, p); err != nil {
			b.Fatal(err)
		}
		return path
	}
	oldPath, newPath := write("old.yaml", old), write("new.yaml", mutate(old, generate(43), 1))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := rbacdiff.Run(context.Background(), rbacdiff.Options{Old: oldPath, New: newPath}); err != nil {
			b.Fatal(err)
		}
	}
}
