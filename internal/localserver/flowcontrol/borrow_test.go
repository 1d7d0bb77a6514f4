package flowcontrol

import (
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	flowcontrolv1 "k8s.io/api/flowcontrol/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/utils/ptr"
)

// fakeClock is the controller's injected clock.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{now: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)} }

func (f *fakeClock) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

func (f *fakeClock) Step(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.now = f.now.Add(d)
}

// borrowConfig: dave's flow goes to "lender" (half its seats lendable),
// erin's to "busy" (lends nothing, may borrow its nominal again). Both
// queue, each flow in one queue so that waiting is visible.
func borrowConfig() ([]*flowcontrolv1.FlowSchema, []*flowcontrolv1.PriorityLevelConfiguration) {
	pl := func(name string, lendable, borrowing *int32) *flowcontrolv1.PriorityLevelConfiguration {
		return &flowcontrolv1.PriorityLevelConfiguration{
			ObjectMeta: metav1.ObjectMeta{Name: name},
			Spec: flowcontrolv1.PriorityLevelConfigurationSpec{Type: flowcontrolv1.PriorityLevelEnablementLimited,
				Limited: &flowcontrolv1.LimitedPriorityLevelConfiguration{
					NominalConcurrencyShares: ptr.To[int32](10), LendablePercent: lendable, BorrowingLimitPercent: borrowing,
					LimitResponse: flowcontrolv1.LimitResponse{Type: flowcontrolv1.LimitResponseTypeQueue,
						Queuing: &flowcontrolv1.QueuingConfiguration{Queues: 1, HandSize: 1, QueueLengthLimit: 50}}}},
		}
	}
	fss, _ := testConfig()
	a, b := fss[0].DeepCopy(), fss[1].DeepCopy()
	a.Name, a.Spec.Rules[0].Subjects[0].User.Name, a.Spec.PriorityLevelConfiguration.Name = "flow-d", "dave", "lender"
	b.Name, b.Spec.Rules[0].Subjects[0].User.Name, b.Spec.PriorityLevelConfiguration.Name = "flow-e", "erin", "busy"
	return []*flowcontrolv1.FlowSchema{a, b},
		[]*flowcontrolv1.PriorityLevelConfiguration{pl("lender", ptr.To[int32](50), nil), pl("busy", nil, ptr.To[int32](100))}
}

var (
	dave = &user.DefaultInfo{Name: "dave", Groups: []string{user.AllAuthenticated}}
	erin = &user.DefaultInfo{Name: "erin", Groups: []string{user.AllAuthenticated}}
)

// limits returns every level's current limit.
func limits(c *Controller) map[string]int {
	out := map[string]int{}
	for _, l := range c.sortedLevels() {
		out[l.cfg.Name] = limitOf(c, l.cfg.Name)
	}
	return out
}

// TestIdleLevelLendsThenTakesItsSeatsBack drives the periodic adjustment
// with an injected clock. With a total of 20 seats, lender and busy each
// have a nominal limit of 8 and catch-all 4; lender may lend 4. While
// lender is idle and erin keeps busy full with a queue behind, the
// adjustment lends lender's 4 lendable seats to busy (busy runs 12
// requests); when dave's requests queue in lender, the next adjustment
// gives lender its 8 seats back and busy returns to 8.
func TestIdleLevelLendsThenTakesItsSeatsBack(t *testing.T) {
	t.Parallel()
	clk := newFakeClock()
	c, err := New(Options{ServerConcurrencyLimit: 20, RequestWaitLimit: time.Hour, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.SetConfig(borrowConfig()); err != nil {
		t.Fatal(err)
	}
	// With no demand yet, the 20 seats go in proportion to what each
	// level may not lend (lender 4, busy 8, catch-all 4), as upstream's
	// first allocation does.
	want := map[string]int{"busy": 10, "catch-all": 5, "exempt": 0, "lender": 5}
	if diff := cmp.Diff(want, limits(c)); diff != "" {
		t.Fatalf("limits with no demand (-want +got):\n%s", diff)
	}

	g := newGate()
	g.release["dave"], g.release["erin"] = make(chan struct{}), make(chan struct{})
	h := c.WithPriorityAndFairness(g)
	enqueued := make(chan string, 64)
	for _, name := range []string{"busy", "lender"} {
		l := c.levels[name]
		l.mu.Lock()
		l.onEnqueue = func() { enqueued <- name }
		l.mu.Unlock()
	}
	var wg sync.WaitGroup
	send := func(u user.Info, n int) {
		for range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if w := do(h, u); w.Code != http.StatusOK {
					t.Errorf("%s: status %d, want 200", u.GetName(), w.Code)
				}
			}()
		}
	}
	// erin: 10 run, 10 wait.
	send(erin, 20)
	for range 10 {
		<-g.entered
	}
	for range 10 {
		<-enqueued
	}
	clk.Step(10 * time.Second)
	c.AdjustLimits()
	want = map[string]int{"busy": 12, "catch-all": 4, "exempt": 0, "lender": 4}
	if diff := cmp.Diff(want, limits(c)); diff != "" {
		t.Errorf("limits after a period of demand on busy only (-want +got):\n%s", diff)
	}
	// Lender is down to what it may not lend, busy up by the 4 it may
	// lend: 2 more of erin's waiting requests run.
	for range 2 {
		if u := <-g.entered; u != "erin" {
			t.Fatalf("entered %s, want erin", u)
		}
	}
	dump := squash(dumpString(c, PathDumpPriorityLevels))
	if !contains(dump, "busy, 1, false, false, 8, 12, 12, 0, 0, 0\n") {
		t.Errorf("dump_priority_levels does not show busy running 12 with 8 waiting:\n%s", dump)
	}
	metrics := dumpString(c, PathMetrics)
	for _, want := range []string{
		"# TYPE apiserver_flowcontrol_current_limit_seats gauge\n",
		`apiserver_flowcontrol_current_limit_seats{priority_level="busy"} 12` + "\n",
		`apiserver_flowcontrol_current_limit_seats{priority_level="lender"} 4` + "\n",
		`apiserver_flowcontrol_nominal_limit_seats{priority_level="busy"} 8` + "\n",
		`apiserver_flowcontrol_lower_limit_seats{priority_level="lender"} 4` + "\n",
		`apiserver_flowcontrol_upper_limit_seats{priority_level="busy"} 16` + "\n",
		`apiserver_flowcontrol_demand_seats_high_watermark{priority_level="busy"} 20` + "\n",
		`apiserver_flowcontrol_demand_seats_smoothed{priority_level="busy"} 20` + "\n",
		`apiserver_flowcontrol_target_seats{priority_level="busy"} 20` + "\n",
	} {
		if !contains(metrics, want) {
			t.Errorf("metrics lack %q:\n%s", want, metrics)
		}
	}

	// dave: lender's 4 seats run, 10 wait.
	send(dave, 14)
	for range 4 {
		if u := <-g.entered; u != "dave" {
			t.Fatalf("entered %s, want dave", u)
		}
	}
	for range 10 {
		<-enqueued
	}
	clk.Step(10 * time.Second)
	c.AdjustLimits()
	want = map[string]int{"busy": 8, "catch-all": 4, "exempt": 0, "lender": 8}
	if diff := cmp.Diff(want, limits(c)); diff != "" {
		t.Errorf("limits once lender is in demand too (-want +got):\n%s", diff)
	}
	for range 4 {
		if u := <-g.entered; u != "dave" {
			t.Fatalf("entered %s, want dave", u)
		}
	}
	dump = squash(dumpString(c, PathDumpPriorityLevels))
	if !contains(dump, "lender, 1, false, false, 6, 8, 8, 0, 0, 0\n") {
		t.Errorf("dump_priority_levels does not show lender running 8 with 6 waiting:\n%s", dump)
	}
	g.releaseAll()
	for range 20 + 14 - 12 - 8 {
		<-g.entered
	}
	wg.Wait()
}

// TestConfigChangeAdjustsAtOnce: a level whose queuing is unchanged is
// retained through a configuration change, and the adjustment runs at
// once, sharing the seats with the new level.
func TestConfigChangeAdjustsAtOnce(t *testing.T) {
	t.Parallel()
	clk := newFakeClock()
	c, err := New(Options{ServerConcurrencyLimit: 20, RequestWaitLimit: time.Hour, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	fss, pls := borrowConfig()
	if err := c.SetConfig(fss, pls); err != nil {
		t.Fatal(err)
	}
	before := c.levels["busy"]
	pls = append(pls, pls[1].DeepCopy())
	pls[2].Name = "other"
	if err := c.SetConfig(fss, pls); err != nil {
		t.Fatal(err)
	}
	if c.levels["busy"] != before {
		t.Error("busy was rebuilt though its queuing did not change")
	}
	// 35 shares now: nominal 6 for busy, lender and other, 3 for
	// catch-all; the 21 seats go in proportion to 6, 3 (lender's
	// unlendable part), 6 and 3, rounded.
	want := map[string]int{"busy": 7, "catch-all": 4, "exempt": 0, "lender": 4, "other": 7}
	if diff := cmp.Diff(want, limits(c)); diff != "" {
		t.Errorf("limits after adding a level (-want +got):\n%s", diff)
	}
}
