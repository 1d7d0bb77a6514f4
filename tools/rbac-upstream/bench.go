package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"k8s.io/apiserver/pkg/authorization/authorizer"

	"github.com/kauth/kauth/internal/loader"
	"github.com/kauth/kauth/internal/rbac"
	"github.com/kauth/kauth/internal/rbac/rbactest"
)

type benchOptions struct {
	Corpus   string // "rbactest" (internal/rbac/rbactest, shared with bench/rbac) or "tool" (this tool's generator)
	Seed     uint64
	Bindings int
	Queries  int
	Duration time.Duration
	WhoCan   int
}

// corpus scales BenchCorpus to the requested number of bindings, keeping
// its proportions (a tenth ClusterRoleBindings).
func (o benchOptions) corpus() CorpusConfig {
	cfg := BenchCorpus(o.Seed)
	if o.Bindings != cfg.ClusterRoleBindings+cfg.RoleBindings {
		f := float64(o.Bindings) / float64(cfg.ClusterRoleBindings+cfg.RoleBindings)
		scale := func(n int) int { return max(1, int(float64(n)*f)) }
		cfg.Namespaces, cfg.Users, cfg.Groups = scale(cfg.Namespaces), scale(cfg.Users), scale(cfg.Groups)
		cfg.ClusterRoles, cfg.Roles = max(20, scale(cfg.ClusterRoles)), scale(cfg.Roles)
		cfg.ClusterRoleBindings = max(1, o.Bindings/10)
		cfg.RoleBindings = o.Bindings - cfg.ClusterRoleBindings
	}
	return cfg
}

func bench(ctx context.Context, o benchOptions, stdout, stderr io.Writer) int {
	if o.Bindings < 1 || o.Queries < 1 || o.Duration <= 0 || o.WhoCan < 0 {
		fmt.Fprintln(stderr, "rbac-upstream: -bindings and -queries must be positive, -duration positive, -whocan not negative")
		return 2
	}
	var (
		objs *Objects
		qs   []authorizer.AttributesRecord
	)
	switch o.Corpus {
	case "rbactest":
		c := rbactest.Generate(rbactest.Config{Seed: o.Seed, Bindings: o.Bindings, Queries: o.Queries})
		objs = FromPolicy(c.Policy)
		qs = c.Queries
	case "tool":
		cfg := o.corpus()
		objs = GeneratePolicy(cfg)
		qs = GenerateQueries(cfg, o.Queries)
	default:
		fmt.Fprintf(stderr, "rbac-upstream: unknown -corpus %q, expected rbactest or tool\n", o.Corpus)
		return 2
	}
	e, err := NewEngines(objs)
	if err != nil {
		fmt.Fprintf(stderr, "rbac-upstream: %v\n", err)
		return 3
	}
	fmt.Fprintf(stdout, "policy: corpus %s, seed %d, %d ClusterRoleBindings + %d RoleBindings = %d bindings, %d ClusterRoles, %d Roles\n",
		o.Corpus, o.Seed, len(objs.ClusterRoleBindings), len(objs.RoleBindings), objs.Bindings(), len(objs.ClusterRoles), len(objs.Roles))

	ds := e.CompareFirst(ctx, qs, o.WhoCan)
	allowed := 0
	for i := range qs {
		if d, _, _ := e.Kauth.Index.Authorize(ctx, qs[i]); d == authorizer.DecisionAllow {
			allowed++
		}
	}
	fmt.Fprintf(stdout, "questions: %d (%d allowed by RBAC); compared rbac, chain and denial errors on all, who-can on the first %d: %d disagreements\n", len(qs), allowed, min(o.WhoCan, len(qs)), len(ds))
	for i, d := range ds {
		if i == 10 {
			fmt.Fprintf(stdout, "... and %d more\n", len(ds)-10)
			break
		}
		fmt.Fprintln(stdout, d)
	}

	fmt.Fprintf(stdout, "GOMAXPROCS=%d %s/%s %s, one goroutine per engine, %s each\n", runtime.GOMAXPROCS(0), runtime.GOOS, runtime.GOARCH, runtime.Version(), o.Duration)
	up := rate(ctx, e.Upstream.RBAC, qs, o.Duration)
	ka := rate(ctx, e.Kauth.Index, qs, o.Duration)
	fmt.Fprintf(stdout, "authorize  upstream %12.0f decisions/s  %8.2f µs/decision\n", up, 1e6/up)
	fmt.Fprintf(stdout, "authorize  kauth    %12.0f decisions/s  %8.2f µs/decision\n", ka, 1e6/ka)
	fmt.Fprintf(stdout, "authorize  ratio    %12.1fx\n", ka/up)

	if n := min(o.WhoCan, len(qs)); n > 0 {
		uw := perCall(func(i int) { _, _ = e.Upstream.Locator.AllowedSubjects(ctx, qs[i%n]) }, o.Duration)
		kw := perCall(func(i int) { _ = e.Kauth.Index.WhoCan(qs[i%n]) }, o.Duration)
		fmt.Fprintf(stdout, "who-can    upstream %12.1f µs/query\n", uw.Seconds()*1e6)
		fmt.Fprintf(stdout, "who-can    kauth    %12.1f µs/query\n", kw.Seconds()*1e6)
		fmt.Fprintf(stdout, "who-can    ratio    %12.1fx\n", uw.Seconds()/kw.Seconds())
	}

	failed := len(ds) > 0
	if load, err := loadTime(ctx, objs); err != nil {
		// Every generated object is valid for kube-apiserver, so a
		// rejection is a disagreement too.
		msg := err.Error()
		if i := strings.IndexByte(msg, '\n'); i >= 0 {
			msg = msg[:i] + " ..."
		}
		fmt.Fprintf(stdout, "load: kauth rejects the policy kube-apiserver accepts: %s\n", msg)
		failed = true
	} else {
		ms := func(d time.Duration) float64 { return d.Seconds() * 1e3 }
		fmt.Fprintf(stdout, "load       kauth    %12.1f ms for %d objects from YAML (loader.Load %.1f, FromObjects %.1f, Aggregate %.1f, NewIndex %.1f ms)\n",
			ms(load.Total()), len(objs.Roles)+len(objs.ClusterRoles)+objs.Bindings(), ms(load.Load), ms(load.FromObjects), ms(load.Aggregate), ms(load.Index))
	}

	if failed {
		fmt.Fprintf(stderr, "rbac-upstream: kauth and upstream disagree (%d answers differ)\n", len(ds))
		return 1
	}
	return 0
}

// rate returns decisions per second of az over qs, looping for at least d.
func rate(ctx context.Context, az authorizer.Authorizer, qs []authorizer.AttributesRecord, d time.Duration) float64 {
	for i := range qs { // warm up
		_, _, _ = az.Authorize(ctx, qs[i])
	}
	n := 0
	start := time.Now()
	for time.Since(start) < d {
		for i := range qs {
			_, _, _ = az.Authorize(ctx, qs[i])
		}
		n += len(qs)
	}
	return float64(n) / time.Since(start).Seconds()
}

// perCall returns the mean time of f over calls made for at least d.
func perCall(f func(i int), d time.Duration) time.Duration {
	n := 0
	start := time.Now()
	for time.Since(start) < d {
		for range 16 {
			f(n)
			n++
		}
	}
	return time.Since(start) / time.Duration(n)
}

// loadTimes are the phases of reading a policy the way "kauth authz ...
// --from FILE" does.
type loadTimes struct {
	Load, FromObjects, Aggregate, Index time.Duration
}

func (l loadTimes) Total() time.Duration { return l.Load + l.FromObjects + l.Aggregate + l.Index }

// loadTime writes objs as one YAML file and times kauth reading it:
// loader.Load, rbac.FromObjects, rbac.Aggregate and rbac.NewIndex. It
// returns the fastest of three runs.
func loadTime(ctx context.Context, objs *Objects) (loadTimes, error) {
	dir, err := os.MkdirTemp("", "rbac-upstream-")
	if err != nil {
		return loadTimes{}, err
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "policy.yaml")
	if err := os.WriteFile(path, []byte(objs.YAML()), 0o644); err != nil {
		return loadTimes{}, err
	}
	var best loadTimes
	for i := range 3 {
		var t loadTimes
		start := time.Now()
		loaded, err := loader.Load(ctx, []string{path}, loader.Options{})
		if err != nil {
			return loadTimes{}, err
		}
		t.Load = time.Since(start)
		start = time.Now()
		p, _, err := rbac.FromObjects(loaded)
		if err != nil {
			return loadTimes{}, err
		}
		t.FromObjects = time.Since(start)
		start = time.Now()
		rbac.Aggregate(p)
		t.Aggregate = time.Since(start)
		start = time.Now()
		_ = rbac.NewIndex(p)
		t.Index = time.Since(start)
		if i == 0 || t.Total() < best.Total() {
			best = t
		}
	}
	return best, nil
}
