//go:build kauth_apf_hook

package apfupstream

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/kauth/kauth/internal/apf"
)

var randomWorkloads = flag.Int("random", 12, "how many generated workloads TestDifferentialRandom replays")

// identities are requests that the default configuration sends to
// different priority levels.
var identities = []string{
	`user: root, groups: [system:masters, system:authenticated], verb: get, nonResourceURL: /metrics`,                                                                 // exempt
	`user: "system:node:n1", groups: [system:nodes, system:authenticated], verb: update, resource: leases, apiGroup: coordination.k8s.io, namespace: kube-node-lease`, // node-high
	`user: "system:node:n2", groups: [system:nodes, system:authenticated], verb: get, resource: pods, namespace: default`,                                             // system
	`user: "system:kube-scheduler", groups: [system:authenticated], verb: update, resource: leases, apiGroup: coordination.k8s.io, namespace: kube-system`,            // leader-election
	`user: "system:kube-controller-manager", groups: [system:authenticated], verb: update, resource: deployments, apiGroup: apps, namespace: default`,                 // workload-high
	`user: "system:serviceaccount:ci:runner", groups: [system:serviceaccounts, system:authenticated], verb: list, resource: pods, namespace: ci`,                      // workload-low
	`user: "system:serviceaccount:batch:job", groups: [system:serviceaccounts, system:authenticated], verb: list, resource: secrets, namespace: batch`,                // workload-low
	`user: alice, groups: [system:authenticated], verb: get, resource: configmaps, namespace: default`,                                                                // global-default
	`user: bob, groups: [system:authenticated], verb: get, nonResourceURL: /version`,                                                                                  // global-default
	`user: "system:anonymous", groups: [system:unauthenticated], verb: get, nonResourceURL: /healthz`,                                                                 // catch-all
}

// randomWorkload is a workload on the default configuration with a few
// clients on random levels, rates, service times, widths and start
// offsets, constant or Poisson.
func randomWorkload(seed uint64) string {
	r := rand.New(rand.NewPCG(seed, 0x6b61757468))
	var b strings.Builder
	duration := 20 + r.IntN(40)
	fmt.Fprintf(&b, "kind: APFWorkload\nserverConcurrencyLimit: %d\nduration: %ds\nseed: %d\nqueueWaitLimit: %dms\nclients:\n",
		scl(r, 150), duration, seed, 500+r.IntN(9500))
	for i := range 2 + r.IntN(5) {
		arrival := "constant"
		if r.IntN(3) == 0 {
			arrival = "poisson"
		}
		fmt.Fprintf(&b, "- {name: c%d, %s, rate: %d, arrival: %s, serviceTime: %dms, seats: %d, start: %ds}\n",
			i, identities[r.IntN(len(identities))], 5+r.IntN(300), arrival, 10+r.IntN(400), seats(r), r.IntN(duration*2/3))
	}
	return b.String()
}

// TestDifferentialRandom replays generated workloads on the default
// configuration through the upstream controller and kauth
// (-random N for more).
func TestDifferentialRandom(t *testing.T) {
	cfg := apf.DefaultConfig()
	for seed := range uint64(*randomWorkloads) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			src := randomWorkload(seed)
			w, err := apf.ParseWorkload(fmt.Sprintf("random-%d.yaml", seed), []byte(src))
			if err != nil {
				t.Fatalf("%v\n%s", err, src)
			}
			compareRuns(t, w, cfg, src)
		})
	}
}

// compareRuns replays w through the upstream controller and kauth and
// reports differences, with what for context.
func compareRuns(t *testing.T, w *apf.Workload, cfg *apf.Config, what string) {
	t.Helper()
	up, err := Run(w, cfg)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := apf.Simulate(w, cfg, apf.SimulateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	near := cmp.Comparer(func(a, b apf.WaitStats) bool {
		return closeTo(a.Mean, b.Mean) && closeTo(a.P50, b.P50) && closeTo(a.P99, b.P99) && closeTo(a.Max, b.Max)
	})
	if diff := cmp.Diff(up.Clients, rep.Clients, near); diff != "" {
		t.Errorf("%s\nclients: upstream controller (-) vs kauth (+):\n%s", what, diff)
	}
	if diff := cmp.Diff(up.Levels, kauthLevels(rep)); diff != "" {
		t.Errorf("%s\nlevels: upstream controller (-) vs kauth (+):\n%s", what, diff)
	}
}

// scl is a server concurrency limit: usually 10 to 10+n, sometimes tiny
// (levels with a nominal limit of 1 and a minimum of 0).
func scl(r *rand.Rand, n int) int {
	if r.IntN(5) == 0 {
		return 1 + r.IntN(9)
	}
	return 10 + r.IntN(n)
}

// seats is a request width: mostly 1, sometimes wider than a small
// level's limit.
func seats(r *rand.Rand) int {
	if r.IntN(8) == 0 {
		return 6 + r.IntN(10)
	}
	return 1 + r.IntN(3)*r.IntN(3)
}
