package rbacbench

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/kauth/kauth/internal/loader"
	"github.com/kauth/kauth/internal/rbac"
	"github.com/kauth/kauth/internal/rbac/rbactest"
)

var sizes = []int{1000, 10000}

func corpus(b *testing.B, n int) rbactest.Corpus {
	b.Helper()
	return rbactest.Generate(rbactest.Config{Seed: 42, Bindings: n, Queries: 4096})
}

// BenchmarkAuthorize measures decisions per second of the index.
func BenchmarkAuthorize(b *testing.B) {
	for _, n := range sizes {
		b.Run(fmt.Sprintf("bindings=%d", n), func(b *testing.B) {
			c := corpus(b, n)
			idx := rbac.NewIndex(c.Policy)
			ctx := context.Background()
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				_, _, _ = idx.Authorize(ctx, &c.Queries[i%len(c.Queries)])
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "decisions/s")
		})
	}
}

// BenchmarkReference measures the naive scanning reference, which visits
// every binding per decision as upstream does (with linear role lookups,
// so it is slower than upstream's lister-backed resolver).
func BenchmarkReference(b *testing.B) {
	for _, n := range sizes {
		b.Run(fmt.Sprintf("bindings=%d", n), func(b *testing.B) {
			c := corpus(b, n)
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				_, _ = rbactest.ReferenceAuthorize(c.Policy, &c.Queries[i%len(c.Queries)])
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "decisions/s")
		})
	}
}

// BenchmarkWhoCan measures one who-can query.
func BenchmarkWhoCan(b *testing.B) {
	for _, n := range sizes {
		b.Run(fmt.Sprintf("bindings=%d", n), func(b *testing.B) {
			c := corpus(b, n)
			idx := rbac.NewIndex(c.Policy)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				_ = idx.WhoCan(&c.Queries[i%len(c.Queries)])
			}
		})
	}
}

// BenchmarkLoadYAML measures reading 10,000 bindings (and their roles)
// from a YAML file through the loader, validation, aggregation and
// indexing: what every kauth authz command pays before its first answer.
func BenchmarkLoadYAML(b *testing.B) {
	c := corpus(b, 10000)
	var buf bytes.Buffer
	if err := rbactest.WriteYAML(&buf, c.Policy); err != nil {
		b.Fatal(err)
	}
	path := filepath.Join(b.TempDir(), "policy.yaml")
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(buf.Len()))
	b.ResetTimer()
	for b.Loop() {
		objs, err := loader.Load(context.Background(), []string{path}, loader.Options{})
		if err != nil {
			b.Fatal(err)
		}
		p, _, err := rbac.FromObjects(objs)
		if err != nil {
			b.Fatal(err)
		}
		rbac.Aggregate(p)
		_ = rbac.NewIndex(p)
	}
}

// BenchmarkNewIndex measures compiling a policy of 10,000 bindings.
func BenchmarkNewIndex(b *testing.B) {
	c := corpus(b, 10000)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		_ = rbac.NewIndex(c.Policy)
	}
}
