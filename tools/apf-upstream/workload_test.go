package apfupstream

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/kauth/kauth/internal/apf"
	"github.com/kauth/kauth/internal/loader"
)

// differentialWorkloads are the workloads TestDifferential replays: this
// tool's borrowing scenarios and internal/apf's fidelity workloads.
var differentialWorkloads = []string{
	"testdata/idle-lender.yaml",
	"testdata/both-loaded.yaml",
	"testdata/exempt-squeeze.yaml",
	"testdata/borrowing-limits.yaml",
	"testdata/falling-demand.yaml",
	"testdata/exempt-share.yaml",
	"testdata/exempt-lends.yaml",
	"testdata/poisson-mix.yaml",
	"testdata/slow-decay.yaml",
	"../../internal/apf/testdata/fidelity-overload.yaml",
	"../../internal/apf/testdata/fidelity-borrowing.yaml",
	"../../internal/apf/testdata/fidelity-namespaces.yaml",
}

func loadWorkload(t testing.TB, path string) (*apf.Workload, *apf.Config) {
	t.Helper()
	w, err := apf.ReadWorkload(path, os.ReadFile)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := apf.LoadConfig(context.Background(), w.Config, loader.Options{Dir: w.ConfigDir()})
	if err != nil {
		t.Fatal(err)
	}
	return w, cfg
}

// TestArrivals checks the arrival times restated here from the contract
// against the arrivals kauth's simulator counts, per client, so that a
// difference in TestDifferential is never one of inputs.
func TestArrivals(t *testing.T) {
	t.Parallel()
	for _, path := range differentialWorkloads {
		t.Run(filepath.Base(path), func(t *testing.T) {
			t.Parallel()
			w, cfg := loadWorkload(t, path)
			rep, err := apf.Simulate(w, cfg, apf.SimulateOptions{})
			if err != nil {
				t.Fatal(err)
			}
			want, got := map[string]int{}, map[string]int{}
			for i := range w.Clients {
				c := &w.Clients[i]
				arr, err := Arrivals(c, w.Seed, int64(w.Duration.Duration))
				if err != nil {
					t.Fatal(err)
				}
				for k := 1; k < len(arr); k++ {
					if arr[k] < arr[k-1] {
						t.Fatalf("client %s: arrival %d at %d before arrival %d at %d", c.Name, k, arr[k], k-1, arr[k-1])
					}
				}
				got[c.Name] = len(arr)
			}
			for _, c := range rep.Clients {
				want[c.Name] = c.Arrived
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("arrivals per client: kauth (-) vs contract (+):\n%s", diff)
			}
		})
	}
}

// TestWaitStats pins the nearest-rank percentiles of the contract.
func TestWaitStats(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		waits []int64
		want  apf.WaitStats
	}{
		{"none", nil, apf.WaitStats{}},
		{"one", []int64{2e9}, apf.WaitStats{Mean: 2, P50: 2, P99: 2, Max: 2}},
		{"four", []int64{4e9, 1e9, 3e9, 2e9}, apf.WaitStats{Mean: 2.5, P50: 2, P99: 4, Max: 4}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if diff := cmp.Diff(tc.want, WaitStats(tc.waits)); diff != "" {
				t.Errorf("WaitStats (-want +got):\n%s", diff)
			}
		})
	}
}
