package main

import (
	"context"
	"sync"
	"testing"

	"k8s.io/apiserver/pkg/authorization/authorizer"

	"github.com/kauth/kauth/internal/rbac/rbactest"
)

// benchCorpus is the 10,000-binding rbactest policy, built once.
var benchCorpus = sync.OnceValues(func() (*Engines, []authorizer.AttributesRecord) {
	c := rbactest.Generate(rbactest.Config{Seed: 1, Bindings: 10000, Queries: 10000})
	e, err := NewEngines(FromPolicy(c.Policy))
	if err != nil {
		panic(err)
	}
	return e, c.Queries
})

func benchAuthorize(b *testing.B, az func(*Engines) authorizer.Authorizer) {
	e, qs := benchCorpus()
	a := az(e)
	ctx := context.Background()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		_, _, _ = a.Authorize(ctx, qs[i%len(qs)])
	}
}

func BenchmarkAuthorizeKauth(b *testing.B) {
	benchAuthorize(b, func(e *Engines) authorizer.Authorizer { return e.Kauth.Index })
}

func BenchmarkAuthorizeUpstream(b *testing.B) {
	benchAuthorize(b, func(e *Engines) authorizer.Authorizer { return e.Upstream.RBAC })
}

func BenchmarkWhoCanKauth(b *testing.B) {
	e, qs := benchCorpus()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		_ = e.Kauth.Index.WhoCan(qs[i%len(qs)])
	}
}

func BenchmarkWhoCanUpstream(b *testing.B) {
	e, qs := benchCorpus()
	ctx := context.Background()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		_, _ = e.Upstream.Locator.AllowedSubjects(ctx, qs[i%len(qs)])
	}
}
