//go:build kauth_apf_hook

package apfupstream

import (
	"container/heap"
	"context"
	"fmt"
	"math/rand"
	"sort"
	"sync"
	"time"

	flowcontrolv1 "k8s.io/api/flowcontrol/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/endpoints/request"
	utilflowcontrol "k8s.io/apiserver/pkg/util/flowcontrol"
	fq "k8s.io/apiserver/pkg/util/flowcontrol/fairqueuing"
	"k8s.io/apiserver/pkg/util/flowcontrol/fairqueuing/queueset"
	testeventclock "k8s.io/apiserver/pkg/util/flowcontrol/fairqueuing/testing/eventclock"
	fcmetrics "k8s.io/apiserver/pkg/util/flowcontrol/metrics"
	fcrequest "k8s.io/apiserver/pkg/util/flowcontrol/request"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/kauth/kauth/internal/apf"
)

// borrowingPeriod is apf_controller.go's borrowingAdjustmentPeriod; the
// contract runs the adjustment at 10 s, 20 s, ... of simulated time.
const borrowingPeriod = int64(10 * time.Second)

// Result is what the upstream controller did with a workload, in the
// shape of kauth's report.
type Result struct {
	Clients []apf.ClientReport
	Levels  []LevelResult
	// Adjustments is how many borrowing adjustments ran.
	Adjustments int
	// History is every level's current limit after each adjustment.
	History []Adjustment
}

// Adjustment is the current limits after one borrowing adjustment.
type Adjustment struct {
	Seconds float64
	Limits  map[string]int
}

// LevelResult is one priority level's figures; the limits themselves
// are compared elsewhere (internal/apf's TestControllerLimits).
type LevelResult struct {
	Name                    string
	Dispatched              int
	Rejected                int
	MaxSeatsInUse           int
	MaxQueued               int
	CurrentConcurrencyLimit apf.CLRange
}

// Event classes in the order the contract handles same-instant events.
const (
	evCompletion = iota
	evTimeout
	evArrival
)

type event struct {
	t     int64
	class int
	seq   uint64
	r     *req
	c     *client
}

type eventHeap []event

func (h eventHeap) Len() int { return len(h) }
func (h eventHeap) Less(i, j int) bool {
	a, b := h[i], h[j]
	if a.t != b.t {
		return a.t < b.t
	}
	if a.class != b.class {
		return a.class < b.class
	}
	return a.seq < b.seq
}
func (h eventHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *eventHeap) Push(x any)   { *h = append(*h, x.(event)) }
func (h *eventHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	*h = old[:len(old)-1]
	return e
}

type client struct {
	idx      int
	c        *apf.Client
	info     *request.RequestInfo
	user     user.Info
	arrivals []int64
	next     int
	rep      apf.ClientReport
	waits    []int64
	classed  bool
	level    *level
}

type level struct {
	name          string
	queuing       bool
	waiting       int
	seatsInUse    int
	dispatched    int
	rejected      int
	maxSeatsInUse int
	maxQueued     int
	cl            apf.CLRange
}

// req is one request. Fields after the comment are written by the
// controller's callbacks, under driver.mu.
type req struct {
	c       *client
	arrival int64
	seats   int
	ctx     context.Context
	cancel  context.CancelFunc
	release chan struct{}

	queued, dispatched, cancelling, done bool
	dispatchAt                           int64
	dispatchSeq                          uint64
}

// driver feeds a workload through the controller's Handle on a fake
// clock. Each request runs Handle on its own goroutine, as in the
// apiserver; the driver advances time only when every such goroutine is
// blocked (waiting in a queue, executing until its simulated completion,
// or finished), which the counting promises of the queueset report.
type driver struct {
	w       *apf.Workload
	clk     *testeventclock.Fake
	t0      time.Time
	active  *activeCounter
	ctl     utilflowcontrol.Interface
	events  eventHeap
	clients []*client
	levels  map[string]*level

	mu      sync.Mutex
	now     int64
	seq     uint64
	newly   []*req
	arrSeq  uint64
	adjusts int
	history []Adjustment
}

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// Run replays w through k8s.io/apiserver's APF controller configured with
// cfg, borrowing included, and reports per client and per level.
func Run(w *apf.Workload, cfg *apf.Config) (*Result, error) {
	clk, _ := testeventclock.NewFake(t0, 0, rand.New(rand.NewSource(1)))
	d := &driver{w: w, clk: clk, t0: t0, active: newActiveCounter(), levels: map[string]*level{}}
	stop := make(chan struct{})
	defer close(stop)
	if err := d.start(cfg, stop); err != nil {
		return nil, err
	}
	for i := range w.Clients {
		c := &w.Clients[i]
		arr, err := Arrivals(c, w.Seed, int64(w.Duration.Duration))
		if err != nil {
			return nil, err
		}
		info, u := Digest(c)
		cl := &client{idx: i, c: c, info: info, user: u, arrivals: arr}
		cl.rep = apf.ClientReport{Name: c.Name, Seats: c.Seats}
		d.clients = append(d.clients, cl)
		d.pushArrival(cl)
	}
	d.run()
	return d.result(), nil
}

// start builds the controller on a fake clientset holding cfg, lets its
// informers sync and digests the configuration as its worker would.
func (d *driver) start(cfg *apf.Config, stop chan struct{}) error {
	var objs []runtime.Object
	for _, pl := range cfg.PriorityLevels {
		objs = append(objs, pl.DeepCopy())
	}
	for _, fs := range cfg.FlowSchemas {
		objs = append(objs, fs.DeepCopy())
	}
	client := fake.NewClientset(objs...)
	factory := informers.NewSharedInformerFactory(client, 0)
	d.ctl = utilflowcontrol.NewTestable(utilflowcontrol.TestableConfig{
		Name: "kauth-differential", Clock: d.clk, AsFieldManager: "kauth-differential",
		FoundToDangling: func(found bool) bool { return !found }, InformerFactory: factory,
		FlowcontrolClient: client.FlowcontrolV1(), ServerConcurrencyLimit: d.w.ServerConcurrencyLimit,
		ReqsGaugeVec: fcmetrics.PriorityLevelConcurrencyGaugeVec, ExecSeatsGaugeVec: fcmetrics.PriorityLevelExecutionSeatsGaugeVec,
		QueueSetFactory: queueset.KauthNewCountingQueueSetFactory(d.clk, d.active),
	})
	factory.Start(stop)
	for typ, ok := range factory.WaitForCacheSync(stop) {
		if !ok {
			return fmt.Errorf("informer for %v did not sync", typ)
		}
	}
	// Writing the FlowSchemas' status may fail on the fake clientset;
	// the configuration is digested before that.
	_ = utilflowcontrol.KauthSync(d.ctl)
	for name, cl := range utilflowcontrol.KauthCurrentCLs(d.ctl) {
		d.levels[name] = &level{name: name, cl: apf.CLRange{Initial: cl, Min: cl, Max: cl, Final: cl}}
	}
	if len(d.levels) != len(cfg.PriorityLevels) {
		return fmt.Errorf("the controller has %d priority levels, the configuration %d", len(d.levels), len(cfg.PriorityLevels))
	}
	return nil
}

func (d *driver) pushArrival(c *client) {
	if c.next < len(c.arrivals) {
		heap.Push(&d.events, event{t: c.arrivals[c.next], class: evArrival, seq: uint64(c.idx), c: c})
	}
}

// run is the event loop: at one instant completions, then queue-wait
// time-outs, then the borrowing adjustment, then arrivals; the
// adjustment runs every 10 s while events remain.
func (d *driver) run() {
	nextBorrow := borrowingPeriod
	for {
		// A time-out whose request was dispatched meanwhile is no event:
		// drop it before it can keep the adjustment running.
		for len(d.events) > 0 && d.events[0].class == evTimeout && !d.waiting(d.events[0].r) {
			heap.Pop(&d.events)
		}
		if len(d.events) == 0 {
			break
		}
		e := d.events[0]
		if nextBorrow < e.t || nextBorrow == e.t && e.class == evArrival {
			d.setNow(nextBorrow)
			d.borrow()
			nextBorrow += borrowingPeriod
			continue
		}
		heap.Pop(&d.events)
		d.setNow(e.t)
		switch e.class {
		case evCompletion:
			d.active.Add(1)
			close(e.r.release)
			d.settle()
		case evTimeout:
			d.mu.Lock()
			e.r.cancelling = true
			d.mu.Unlock()
			// The queueset's promise waits for the context on its own
			// goroutine; cancelling wakes it.
			d.active.Add(1)
			e.r.cancel()
			d.settle()
		case evArrival:
			d.arrive(e.c)
		}
	}
}

// waiting tells whether r is in a queue.
func (d *driver) waiting(r *req) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return r.queued && !r.dispatched && !r.done
}

func (d *driver) setNow(t int64) {
	d.mu.Lock()
	d.now = t
	d.mu.Unlock()
	d.clk.SetTime(d.t0.Add(time.Duration(t)))
}

func (d *driver) borrow() {
	cls := utilflowcontrol.KauthUpdateBorrowing(d.ctl)
	d.settle()
	d.adjusts++
	d.history = append(d.history, Adjustment{Seconds: float64(d.now) / 1e9, Limits: cls})
	for name, cl := range cls {
		lv := d.levels[name]
		lv.cl.Min, lv.cl.Max, lv.cl.Final = min(lv.cl.Min, cl), max(lv.cl.Max, cl), cl
	}
}

func (d *driver) arrive(c *client) {
	t := c.arrivals[c.next]
	c.next++
	ctx, cancel := context.WithCancel(context.Background())
	r := &req{c: c, arrival: t, seats: c.c.Seats, ctx: ctx, cancel: cancel, release: make(chan struct{})}
	c.rep.Arrived++
	d.active.Add(1)
	go d.handle(r)
	d.settle()
	d.arrSeq++
	if d.waiting(r) {
		heap.Push(&d.events, event{t: t + int64(d.w.QueueWaitLimit.Duration), class: evTimeout, seq: d.arrSeq, r: r})
	}
	d.pushArrival(c)
}

// handle is one request's goroutine: the apiserver's filter calling
// Handle.
func (d *driver) handle(r *req) {
	defer d.active.Add(-1)
	c := r.c
	noteFn := func(fs *flowcontrolv1.FlowSchema, pl *flowcontrolv1.PriorityLevelConfiguration, fd string) {
		d.mu.Lock()
		defer d.mu.Unlock()
		if !c.classed {
			c.classed = true
			c.rep.FlowSchema, c.rep.PriorityLevel, c.rep.FlowDistinguisher = fs.Name, pl.Name, fd
			c.level = d.levels[pl.Name]
			c.level.queuing = pl.Spec.Limited != nil && pl.Spec.Limited.LimitResponse.Type == flowcontrolv1.LimitResponseTypeQueue
		}
	}
	workEstimator := func() fcrequest.WorkEstimate { return fcrequest.WorkEstimate{InitialSeats: uint64(r.seats)} }
	queueNoteFn := fq.QueueNoteFn(func(inQueue bool) {
		d.mu.Lock()
		defer d.mu.Unlock()
		if inQueue {
			r.queued = true
			c.level.waiting++
			return
		}
		c.level.waiting--
		if !r.cancelling {
			d.dispatchedLocked(r)
		}
	})
	execFn := func() {
		d.mu.Lock()
		if !r.dispatched {
			// Exempt levels and levels that reject instead of queuing
			// dispatch without a queue, and so without queueNoteFn.
			d.dispatchedLocked(r)
		}
		d.mu.Unlock()
		d.active.Add(-1)
		<-r.release
	}
	d.ctl.Handle(r.ctx, utilflowcontrol.RequestDigest{RequestInfo: c.info, User: c.user}, noteFn, workEstimator, queueNoteFn, execFn)

	d.mu.Lock()
	r.done = true
	lv := c.level
	switch {
	case r.dispatched:
		lv.seatsInUse -= r.seats
	case r.cancelling:
		c.rep.RejectReasons.TimeOut++
		lv.rejected++
	case lv.queuing:
		c.rep.RejectReasons.QueueFull++
		lv.rejected++
	default:
		c.rep.RejectReasons.ConcurrencyLimit++
		lv.rejected++
	}
	// The queueset made a promise for every request it queued or
	// dispatched; the promise watches the context on a goroutine of its
	// own until the context is done, as in the apiserver when the request
	// returns.
	release := !r.cancelling && (r.dispatched || lv.queuing)
	d.mu.Unlock()
	if release {
		d.active.Add(1)
		r.cancel()
	}
}

func (d *driver) dispatchedLocked(r *req) {
	r.dispatched = true
	r.dispatchAt = d.now
	r.dispatchSeq = d.seq
	d.seq++
	d.newly = append(d.newly, r)
	r.c.level.seatsInUse += r.seats
	r.c.level.dispatched++
}

// settle waits until every request goroutine is blocked, then books the
// requests dispatched meanwhile (in dispatch order) and samples the
// levels.
func (d *driver) settle() {
	d.active.Wait()
	d.mu.Lock()
	newly := d.newly
	d.newly = nil
	d.mu.Unlock()
	sort.Slice(newly, func(i, j int) bool { return newly[i].dispatchSeq < newly[j].dispatchSeq })
	for _, r := range newly {
		w := r.dispatchAt - r.arrival
		r.c.rep.Dispatched++
		r.c.waits = append(r.c.waits, w)
		if w == int64(d.w.QueueWaitLimit.Duration) {
			r.c.rep.DispatchedAtWaitLimit++
		}
		heap.Push(&d.events, event{t: r.dispatchAt + int64(r.c.c.ServiceTime.Duration), class: evCompletion, seq: r.dispatchSeq, r: r})
	}
	for _, lv := range d.levels {
		lv.maxSeatsInUse = max(lv.maxSeatsInUse, lv.seatsInUse)
		lv.maxQueued = max(lv.maxQueued, lv.waiting)
	}
}

func (d *driver) result() *Result {
	res := &Result{Adjustments: d.adjusts, History: d.history}
	for _, c := range d.clients {
		c.rep.Rejected = c.rep.RejectReasons.Total()
		c.rep.WaitSeconds = WaitStats(c.waits)
		res.Clients = append(res.Clients, c.rep)
	}
	for _, lv := range d.levels {
		res.Levels = append(res.Levels, LevelResult{Name: lv.name, Dispatched: lv.dispatched, Rejected: lv.rejected,
			MaxSeatsInUse: lv.maxSeatsInUse, MaxQueued: lv.maxQueued, CurrentConcurrencyLimit: lv.cl})
	}
	sort.Slice(res.Levels, func(i, j int) bool { return res.Levels[i].Name < res.Levels[j].Name })
	return res
}

// activeCounter counts request goroutines that are running (not blocked
// on the queueset's decision, on their simulated completion, or done):
// counter.GoRoutineCounter for the counting promises.
type activeCounter struct {
	mu    sync.Mutex
	cond  *sync.Cond
	n     int
	stuck bool
}

func newActiveCounter() *activeCounter {
	c := &activeCounter{}
	c.cond = sync.NewCond(&c.mu)
	return c
}

func (c *activeCounter) Add(delta int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n += delta
	if c.n < 0 {
		panic("apfupstream: more goroutines blocked than were running")
	}
	if c.n == 0 {
		c.cond.Broadcast()
	}
}

// Wait returns when no goroutine is running; a driver bug that leaves a
// count behind panics after a minute instead of hanging the test.
func (c *activeCounter) Wait() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n == 0 {
		return
	}
	timer := time.AfterFunc(time.Minute, func() {
		c.mu.Lock()
		c.stuck = true
		c.cond.Broadcast()
		c.mu.Unlock()
	})
	defer timer.Stop()
	for c.n > 0 {
		if c.stuck {
			panic(fmt.Sprintf("apfupstream: %d request goroutines still running after a minute", c.n))
		}
		c.cond.Wait()
	}
}
