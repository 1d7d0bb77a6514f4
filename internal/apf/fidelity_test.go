package apf

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/kauth/kauth/internal/loader"
)

func loadTestWorkload(t testing.TB, name string) (*Workload, *Config) {
	t.Helper()
	w, err := ReadWorkload(filepath.Join("testdata", name), os.ReadFile)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := LoadConfig(context.Background(), w.Config, loader.Options{Dir: w.ConfigDir()})
	if err != nil {
		t.Fatal(err)
	}
	return w, cfg
}

// TestFidelity runs the same constant-arrival workloads through kauth's
// queue model and through k8s.io/apiserver's own queueset (driven with its
// fake event clock and its seat-demand integrator), under one event loop,
// and requires the same per-client dispatched and rejected counts and
// waits within 1%. The borrowing adjustment on both sides is kauth's
// allocator here; tools/apf-upstream/verify.sh compares whole runs with
// the upstream controller's own adjustment.
func TestFidelity(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"fidelity-overload.yaml", "fidelity-borrowing.yaml", "fidelity-namespaces.yaml"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			w, cfg := loadTestWorkload(t, name)
			got, err := Simulate(w, cfg, SimulateOptions{})
			if err != nil {
				t.Fatal(err)
			}
			want, err := simulate(w, cfg, SimulateOptions{}, newUpstreamFactory())
			if err != nil {
				t.Fatal(err)
			}
			compareReports(t, want, got)
		})
	}
}

func compareReports(t testing.TB, want, got *Report) {
	t.Helper()
	near := cmp.Comparer(func(a, b WaitStats) bool {
		return closeTo(a.Mean, b.Mean) && closeTo(a.P50, b.P50) && closeTo(a.P99, b.P99) && closeTo(a.Max, b.Max)
	})
	if diff := cmp.Diff(want.Clients, got.Clients, near); diff != "" {
		t.Errorf("clients: upstream queueset (-) vs kauth (+):\n%s", diff)
	}
	if diff := cmp.Diff(want.PriorityLevels, got.PriorityLevels); diff != "" {
		t.Errorf("levels: upstream queueset (-) vs kauth (+):\n%s", diff)
	}
	var rejected int
	for _, c := range got.Clients {
		rejected += c.Rejected
	}
	t.Logf("%d clients, %d rejected in total", len(got.Clients), rejected)
}

// closeTo: within 1% or 1ms.
func closeTo(a, b float64) bool {
	d := math.Abs(a - b)
	return d <= 0.001 || d <= 0.01*math.Max(math.Abs(a), math.Abs(b))
}
