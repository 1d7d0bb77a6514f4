package apf

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

const workloadHead = "kind: APFWorkload\nserverConcurrencyLimit: 10\nduration: 10s\nclients:\n"

func TestParseWorkloadErrors(t *testing.T) {
	t.Parallel()
	client := "- name: a\n  user: u\n  groups: [g]\n  verb: get\n  resource: pods\n  namespace: n\n  serviceTime: 10ms\n"
	tests := []struct {
		name, doc, want string
	}{
		{"unknown field", workloadHead + client + "  rate: 1\n  colour: red\n", "w.yaml:13: clients[0] (a): colour: unknown field"},
		{"unknown top-level field", "kind: APFWorkload\nserverConcurrencyLimt: 10\n", "w.yaml:2: serverConcurrencyLimt: unknown field"},
		{"bad rate type", workloadHead + client + "  rate: fast\n", "w.yaml:12: clients[0] (a): rate: cannot unmarshal !!str `fast` into float64"},
		{"duplicate name", workloadHead + client + "  rate: 1\n" + client + "  rate: 2\n", "w.yaml:13: clients[1] (a): name: duplicate client name (also clients[0])"},
		{"zero rate", workloadHead + client + "  rate: 0\n", "w.yaml:5: clients[0] (a): rate: must be positive (arrivals per second), got 0"},
		{"negative rate", workloadHead + client + "  rate: -3\n", "w.yaml:5: clients[0] (a): rate: must be positive"},
		{"bad arrival", workloadHead + client + "  rate: 1\n  arrival: bursty\n", `clients[0] (a): arrival: must be constant or poisson, got "bursty"`},
		{"bad duration", workloadHead + client + "  rate: 1\n  start: soon\n", `w.yaml:13: clients[0] (a): start: "soon" is not a duration (examples: 1.5s, 250ms)`},
		{"bad top-level duration", "kind: APFWorkload\nduration: long\n", `w.yaml:2: duration: "long" is not a duration`},
		{"wrong kind", "kind: Workload\n", "w.yaml:1: kind: must be APFWorkload"},
		{"no clients", "kind: APFWorkload\nserverConcurrencyLimit: 1\nduration: 1s\n", "clients: expected at least one client"},
		{"trace and rate", workloadHead + client + "  rate: 1\n  trace: t.txt\n", "trace: cannot be combined with rate or arrival"},
		{"resource and url", workloadHead + client + "  rate: 1\n  nonResourceURL: /x\n", "nonResourceURL: cannot be combined"},
		{"empty", "", "w.yaml:1: empty workload file"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := ParseWorkload("w.yaml", []byte(tc.doc))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("ParseWorkload() error = %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

func arrivalTimes(c *Client, seed uint64, d time.Duration) []int64 {
	var out []int64
	for a := newArrivals(c, seed, d); !a.done; a.advance() {
		out = append(out, a.next)
	}
	return out
}

func TestArrivals(t *testing.T) {
	t.Parallel()
	// k-th at start + round(k*1e9/rate): 1/3 s gaps round to the nanosecond.
	got := arrivalTimes(&Client{Name: "c", Rate: 3, Start: Duration{100 * time.Millisecond}}, 0, time.Second+100*time.Millisecond)
	want := []int64{1e8, 1e8 + 333333333, 1e8 + 666666667}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("constant arrivals mismatch (-want +got):\n%s", diff)
	}
	p1 := arrivalTimes(&Client{Name: "p", Rate: 100, Arrival: "poisson"}, 7, 10*time.Second)
	p2 := arrivalTimes(&Client{Name: "p", Rate: 100, Arrival: "poisson"}, 7, 10*time.Second)
	p3 := arrivalTimes(&Client{Name: "q", Rate: 100, Arrival: "poisson"}, 7, 10*time.Second)
	if !cmp.Equal(p1, p2) || cmp.Equal(p1, p3) || len(p1) < 900 || len(p1) > 1100 {
		t.Errorf("poisson arrivals: same seed and name must repeat, another name must differ; got %d arrivals", len(p1))
	}
}

func TestTrace(t *testing.T) {
	t.Parallel()
	w, err := ReadWorkload(filepath.Join("testdata", "valid-trace.yaml"), os.ReadFile)
	if err != nil {
		t.Fatal(err)
	}
	want := []time.Duration{0, 100 * time.Millisecond, 100 * time.Millisecond, 2 * time.Second}
	if diff := cmp.Diff(want, w.Clients[0].Offsets); diff != "" {
		t.Errorf("trace offsets mismatch (-want +got):\n%s", diff)
	}
	if _, err := ParseTrace("t.txt", []byte("1s\n500ms\n"), time.Minute); err == nil || !strings.Contains(err.Error(), "t.txt:2: offset 500ms is before the previous one") {
		t.Errorf("ParseTrace() error = %v", err)
	}
}

func TestWaitStats(t *testing.T) {
	t.Parallel()
	var waits []int64
	for i := 100; i >= 1; i-- {
		waits = append(waits, int64(i)*1e7)
	}
	got := waitStats(waits)
	// nearest rank: p50 is the 50th value, p99 the 99th.
	want := WaitStats{Mean: 0.505, P50: 0.5, P99: 0.99, Max: 1}
	if diff := cmp.Diff(want, got, cmp.Comparer(func(a, b float64) bool { return a-b < 1e-12 && b-a < 1e-12 })); diff != "" {
		t.Errorf("waitStats() mismatch (-want +got):\n%s", diff)
	}
}

// FuzzParseWorkload feeds workload files (seeded from testdata) to the
// reader: it must return a workload or an error, never panic, and a
// workload it accepts must simulate.
func FuzzParseWorkload(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.yaml"))
	for _, p := range files {
		if b, err := os.ReadFile(p); err == nil && strings.Contains(string(b), "APFWorkload") {
			f.Add(b)
		}
	}
	f.Add([]byte(workloadHead))
	cfg := DefaultConfig()
	f.Fuzz(func(t *testing.T, data []byte) {
		w, err := ParseWorkload("f.yaml", data)
		if err != nil {
			return
		}
		// Keep each run small: bound the simulated work.
		var total float64
		for _, c := range w.Clients {
			total += c.Rate * w.Duration.Seconds()
			if c.Trace != "" || c.ServiceTime.Duration > time.Hour {
				return
			}
		}
		if total > 20000 || w.Duration.Duration > time.Hour {
			return
		}
		rep, err := Simulate(w, cfg, SimulateOptions{})
		if err != nil {
			return
		}
		for _, c := range rep.Clients {
			if c.Arrived != c.Dispatched+c.Rejected {
				t.Fatalf("client %s: arrived %d != dispatched %d + rejected %d", c.Name, c.Arrived, c.Dispatched, c.Rejected)
			}
		}
	})
}

// FuzzParseTrace: trace files never panic the reader.
func FuzzParseTrace(f *testing.F) {
	if b, err := os.ReadFile(filepath.Join("testdata", "arrivals.txt")); err == nil {
		f.Add(b)
	}
	f.Add([]byte("1s\n#x\n\n2.5s"))
	f.Fuzz(func(t *testing.T, data []byte) {
		offs, err := ParseTrace("t.txt", data, time.Minute)
		if err != nil {
			return
		}
		for i := 1; i < len(offs); i++ {
			if offs[i] < offs[i-1] {
				t.Fatalf("offsets not ascending: %v", offs)
			}
		}
	})
}
