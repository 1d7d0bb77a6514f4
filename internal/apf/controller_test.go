package apf

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/wait"
	utilflowcontrol "k8s.io/apiserver/pkg/util/flowcontrol"
	"k8s.io/apiserver/pkg/util/flowcontrol/fairqueuing/eventclock"
	"k8s.io/apiserver/pkg/util/flowcontrol/fairqueuing/queueset"
	fcmetrics "k8s.io/apiserver/pkg/util/flowcontrol/metrics"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"
	clienttesting "k8s.io/client-go/testing"
	"k8s.io/component-base/metrics/legacyregistry"
	"k8s.io/utils/clock"
)

// TestControllerLimits starts k8s.io/apiserver's own APF controller on a
// fake clientset holding the configuration and compares the limits it
// publishes (its nominal, lower and upper limit gauges and the current
// limit after it digests the configuration) with kauth's [Limits].
func TestControllerLimits(t *testing.T) {
	fcmetrics.Register()
	for _, tc := range []struct {
		name string
		cfg  func(t *testing.T) *Config
		scl  int
	}{
		{"defaults at 600", func(*testing.T) *Config { return DefaultConfig() }, 600},
		{"defaults at 37", func(*testing.T) *Config { return DefaultConfig() }, 37},
		{"defaults at 5000", func(*testing.T) *Config { return DefaultConfig() }, 5000},
		{"custom at 40", func(t *testing.T) *Config { _, c := loadTestWorkload(t, "fidelity-namespaces.yaml"); return c }, 40},
	} {
		// Not parallel: the controller publishes through global metrics.
		t.Run(tc.name, func(t *testing.T) {
			cfg := tc.cfg(t)
			want := map[string][4]int{}
			for _, l := range Limits(cfg, tc.scl) {
				want[l.Name] = [4]int{l.NominalConcurrencyLimit, l.MinConcurrencyLimit, l.MaxConcurrencyLimit, l.InitialConcurrencyLimit}
			}
			got := runController(t, cfg, tc.scl)
			t.Logf("upstream: %v", got)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("[nominal min max initial] per level: kauth (-) vs upstream controller (+):\n%s", diff)
			}
		})
	}
}

func runController(t *testing.T, cfg *Config, scl int) map[string][4]int {
	t.Helper()
	var objs []runtime.Object
	for _, pl := range cfg.PriorityLevels {
		objs = append(objs, pl.DeepCopy())
	}
	for _, fs := range cfg.FlowSchemas {
		objs = append(objs, fs.DeepCopy())
	}
	// The gauges are global: clear what an earlier run published, so that
	// only this controller's values can be read below.
	fcmetrics.Reset()
	client := fake.NewSimpleClientset(objs...)
	// The controller writes FlowSchema status only after it has digested
	// the whole configuration: the first such write is the signal.
	digested := make(chan struct{})
	var once bool
	client.PrependReactor("patch", "flowschemas", func(clienttesting.Action) (bool, runtime.Object, error) {
		if !once {
			once = true
			close(digested)
		}
		return false, nil, nil
	})
	factory := informers.NewSharedInformerFactory(client, 0)
	ctl := utilflowcontrol.NewTestable(utilflowcontrol.TestableConfig{
		Name: "kauth-test", Clock: clock.RealClock{}, AsFieldManager: "kauth-test",
		FoundToDangling: func(found bool) bool { return !found }, InformerFactory: factory,
		FlowcontrolClient: client.FlowcontrolV1(), ServerConcurrencyLimit: scl,
		ReqsGaugeVec: fcmetrics.PriorityLevelConcurrencyGaugeVec, ExecSeatsGaugeVec: fcmetrics.PriorityLevelExecutionSeatsGaugeVec,
		QueueSetFactory: queueset.NewQueueSetFactory(eventclock.Real{}),
	})
	stop := make(chan struct{})
	defer close(stop)
	factory.Start(stop)
	go func() { _ = ctl.Run(stop) }()
	<-digested
	// The status patch and the gauges are written by different steps of
	// the controller; wait (bounded) until every level has all four.
	var got map[string][4]int
	err := wait.PollUntilContextTimeout(context.Background(), time.Millisecond, 30*time.Second, true,
		func(context.Context) (bool, error) {
			var n int
			got, n = gatherLimits(t, cfg)
			return n == 4*len(cfg.PriorityLevels), nil
		})
	if err != nil {
		t.Fatalf("the upstream controller did not publish every level's limits: %v (got %v)", err, got)
	}
	return got
}

// gatherLimits reads the four limit gauges per level and counts how many
// values it found.
func gatherLimits(t *testing.T, cfg *Config) (map[string][4]int, int) {
	t.Helper()
	families, err := legacyregistry.DefaultGatherer.Gather()
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]int{"nominal_limit_seats": 0, "lower_limit_seats": 1, "upper_limit_seats": 2, "current_limit_seats": 3}
	levels := map[string]bool{}
	for _, pl := range cfg.PriorityLevels {
		levels[pl.Name] = true
	}
	out := map[string][4]int{}
	found := 0
	for _, f := range families {
		name := strings.TrimPrefix(f.GetName(), "apiserver_flowcontrol_")
		i, ok := names[name]
		if !ok {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, lp := range m.GetLabel() {
				if lp.GetName() == "priority_level" && levels[lp.GetValue()] {
					v := out[lp.GetValue()]
					v[i] = int(m.GetGauge().GetValue())
					out[lp.GetValue()] = v
					found++
				}
			}
		}
	}
	return out, found
}
