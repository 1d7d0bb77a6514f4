// Command rbac-upstream compares kauth's RBAC engine (internal/rbac) with
// the authorizer kube-apiserver v1.37 runs
// (k8s.io/kubernetes/plugin/pkg/auth/authorizer/rbac).
//
// Usage:
//
//	go run . bench [-corpus rbactest|tool] [-seed N] [-bindings N] [-queries N] [-duration D] [-whocan N]
//	go run . policy [-seed N] [-bindings N]   # print this tool's generated policy as YAML
//
// bench generates a policy of -bindings bindings (about a tenth of them
// ClusterRoleBindings) and -queries questions, by default with kauth's own
// corpus generator (internal/rbac/rbactest, the one bench/rbac uses), checks that both engines
// give the same decision, denial errors and who-can answer to every one,
// then measures decisions per second of each engine (each looping over the
// same questions for -duration on one goroutine), who-can latency, and the
// time kauth takes to load the policy from YAML and index it. It exits 1 if
// any answer differs, 2 on bad usage.
//
// The differential test is "go test ./..." in this directory.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
)

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.Stdout, os.Stderr))
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, "usage: rbac-upstream bench|policy [flags]")
		return 2
	}
	fs := flag.NewFlagSet(args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	opts := benchOptions{}
	fs.Uint64Var(&opts.Seed, "seed", 1, "corpus `seed`")
	fs.IntVar(&opts.Bindings, "bindings", 10000, "number of RoleBindings and ClusterRoleBindings")
	switch args[0] {
	case "bench":
		fs.StringVar(&opts.Corpus, "corpus", "rbactest", "policy generator: rbactest (internal/rbac/rbactest, as bench/rbac) or tool (this tool's, with more edge cases)")
		fs.IntVar(&opts.Queries, "queries", 10000, "number of distinct questions")
		fs.DurationVar(&opts.Duration, "duration", 3e9, "measuring time per engine")
		fs.IntVar(&opts.WhoCan, "whocan", 300, "number of who-can questions to time")
		if err := fs.Parse(args[1:]); err != nil {
			return 2
		}
		return bench(ctx, opts, stdout, stderr)
	case "policy":
		if err := fs.Parse(args[1:]); err != nil {
			return 2
		}
		fmt.Fprint(stdout, GeneratePolicy(opts.corpus()).YAML())
		return 0
	default:
		fmt.Fprintf(stderr, "rbac-upstream: unknown command %q, expected bench or policy\n", args[0])
		return 2
	}
}
