package main

import (
	"context"
	"testing"

	"github.com/kauth/kauth/internal/rbac/rbactest"
)

// reportDisagreements fails t with the first few disagreements, each with
// a minimized reproducer policy.
func reportDisagreements(t *testing.T, objs *Objects, ds []Disagreement) {
	t.Helper()
	if len(ds) == 0 {
		return
	}
	seen := map[string]bool{}
	shown := 0
	for _, d := range ds {
		if seen[d.Check] || shown >= 3 {
			continue
		}
		seen[d.Check] = true
		shown++
		min := Minimize(context.Background(), objs, d.Query, d.Check)
		t.Errorf("%s\nminimal policy:\n%s", d, min.YAML())
	}
	t.Errorf("%d disagreements in total", len(ds))
}

// TestDifferentialSmall compares every decision and who-can answer on many
// small generated policies, where random questions hit the rules often.
func TestDifferentialSmall(t *testing.T) {
	t.Parallel()
	const seeds, queries = 300, 300
	total := 0
	for seed := range uint64(seeds) {
		cfg := SmallCorpus(seed)
		objs := GeneratePolicy(cfg)
		e, err := NewEngines(objs)
		if err != nil {
			t.Fatal(err)
		}
		qs := targeted(e, GenerateQueries(cfg, queries))
		total += len(qs)
		if ds := e.Compare(context.Background(), qs); len(ds) > 0 {
			t.Logf("seed %d", seed)
			reportDisagreements(t, objs, ds)
			return
		}
	}
	t.Logf("%d policies, %d questions, each compared on rbac, chain, reason, who-can and who-can errors", seeds, total)
}

// TestDifferentialLarge compares on the benchmark's 10,000-binding policy.
func TestDifferentialLarge(t *testing.T) {
	t.Parallel()
	cfg := BenchCorpus(1)
	objs := GeneratePolicy(cfg)
	e, err := NewEngines(objs)
	if err != nil {
		t.Fatal(err)
	}
	qs := GenerateQueries(cfg, 3000)
	ds := e.CompareFirst(context.Background(), qs, 300) // upstream who-can reads all 10,000 bindings per question
	if len(ds) > 0 {
		t.Errorf("%d disagreements on the large policy; first: %s", len(ds), ds[0])
	}
}

// TestDifferentialRbactestCorpus compares on kauth's own corpus generator
// (internal/rbac/rbactest), small policies of many seeds and one of
// 10,000 bindings.
func TestDifferentialRbactestCorpus(t *testing.T) {
	t.Parallel()
	for seed := range uint64(40) {
		c := rbactest.Generate(rbactest.Config{Seed: seed, Bindings: 60, Queries: 500})
		objs := FromPolicy(c.Policy)
		e, err := NewEngines(objs)
		if err != nil {
			t.Fatal(err)
		}
		if ds := e.Compare(context.Background(), targeted(e, c.Queries)); len(ds) > 0 {
			t.Logf("seed %d", seed)
			reportDisagreements(t, objs, ds)
			return
		}
	}
	c := rbactest.Generate(rbactest.Config{Seed: 1, Bindings: 10000, Queries: 3000})
	e, err := NewEngines(FromPolicy(c.Policy))
	if err != nil {
		t.Fatal(err)
	}
	if ds := e.CompareFirst(context.Background(), c.Queries, 200); len(ds) > 0 {
		t.Errorf("%d disagreements on the 10,000-binding policy; first: %s", len(ds), ds[0])
	}
}
