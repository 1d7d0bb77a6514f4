//go:build kauth_apf_hook

package apfupstream

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/kauth/kauth/internal/apf"
)

// TestDifferential replays each workload through k8s.io/apiserver's APF
// controller (its Handle, its queuesets and its periodic borrowing
// adjustment, on a fake clock) and through kauth's simulator, and
// requires the same per-client dispatched and rejected counts (by
// reason), the same per-level figures and current-limit ranges, and
// waits within 1% (or 1 ms).
func TestDifferential(t *testing.T) {
	for _, path := range differentialWorkloads {
		t.Run(strings.TrimSuffix(path[strings.LastIndex(path, "/")+1:], ".yaml"), func(t *testing.T) {
			w, cfg := loadWorkload(t, path)
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
				t.Errorf("clients: upstream controller (-) vs kauth (+):\n%s", diff)
			}
			if diff := cmp.Diff(up.Levels, kauthLevels(rep)); diff != "" {
				t.Errorf("levels: upstream controller (-) vs kauth (+):\n%s", diff)
			}
			t.Log(summary(up, rep))
		})
	}
}

func kauthLevels(rep *apf.Report) []LevelResult {
	var out []LevelResult
	for _, l := range rep.PriorityLevels {
		out = append(out, LevelResult{Name: l.Name, Dispatched: l.Dispatched, Rejected: l.Rejected,
			MaxSeatsInUse: l.MaxSeatsInUse, MaxQueued: l.MaxQueued, CurrentConcurrencyLimit: l.CurrentConcurrencyLimit})
	}
	return out
}

// summary is a side-by-side table of both runs.
func summary(up *Result, rep *apf.Report) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d borrowing adjustments\n", up.Adjustments)
	fmt.Fprintf(&b, "%-14s %-16s %8s %19s %19s %21s\n", "CLIENT", "LEVEL", "ARRIVED", "DISPATCHED up/kauth", "REJECTED up/kauth", "MEAN WAIT up/kauth")
	for i, u := range up.Clients {
		k := rep.Clients[i]
		fmt.Fprintf(&b, "%-14s %-16s %8d %9d/%-9d %9d/%-9d %10.4f/%-10.4f\n", u.Name, u.PriorityLevel, u.Arrived,
			u.Dispatched, k.Dispatched, u.Rejected, k.Rejected, u.WaitSeconds.Mean, k.WaitSeconds.Mean)
	}
	fmt.Fprintf(&b, "%-16s %21s\n", "LEVEL", "CURRENT CL init/min/max/final up | kauth")
	for i, u := range up.Levels {
		k := rep.PriorityLevels[i].CurrentConcurrencyLimit
		c := u.CurrentConcurrencyLimit
		fmt.Fprintf(&b, "%-16s %d/%d/%d/%d | %d/%d/%d/%d\n", u.Name, c.Initial, c.Min, c.Max, c.Final, k.Initial, k.Min, k.Max, k.Final)
	}
	return b.String()
}

// closeTo: within 1% or 1 ms.
func closeTo(a, b float64) bool {
	d := math.Abs(a - b)
	return d <= 0.001 || d <= 0.01*math.Max(math.Abs(a), math.Abs(b))
}
