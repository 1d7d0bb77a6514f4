package flowcontrol

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"sort"
	"sync"
	"time"

	flowcontrolv1 "k8s.io/api/flowcontrol/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apiserver/pkg/endpoints/request"
	utilflowcontrol "k8s.io/apiserver/pkg/util/flowcontrol"
	fcrequest "k8s.io/apiserver/pkg/util/flowcontrol/request"

	"github.com/kauth/kauth/internal/apf"
)

// Options configure the filter.
type Options struct {
	// ServerConcurrencyLimit is --max-requests-inflight plus
	// --max-mutating-requests-inflight, shared among the levels.
	ServerConcurrencyLimit int
	// RequestWaitLimit is how long a request may wait in a queue
	// (kube-apiserver: --request-timeout / 4).
	RequestWaitLimit time.Duration
	// LongRunning tells requests that are not limited (except watches).
	LongRunning request.LongRunningRequestCheck
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// AfterFunc runs f once d has passed on the clock (the end of a
	// mutating request's additional latency); nil means time.AfterFunc.
	AfterFunc func(d time.Duration, f func())
	// Objects, when set, tells the work estimator how many objects the
	// server stores per resource; without it a LIST costs one seat.
	Objects ObjectCounter
}

// Controller holds the configuration in force and the state of every
// priority level. It is safe for concurrent use.
type Controller struct {
	opts    Options
	start   time.Time
	dropped utilflowcontrol.DroppedRequestsTracker

	// estimate is k8s.io/apiserver's work estimator fed with the
	// object counts and the watches below.
	estimate fcrequest.WorkEstimatorFunc
	counts   fcrequest.StorageObjectCountTracker
	watches  utilflowcontrol.WatchTracker

	mu         sync.RWMutex
	classifier *apf.Classifier
	fsUIDs     map[string]types.UID
	levels     map[string]*level
	// order is the levels as borrowing indexes them (by name), and
	// borrowing the controller's periodic adjustment of their limits.
	order     []*level
	borrowing *apf.Borrowing
	maxSeats  map[string]uint64
}

// New returns a controller with Kubernetes' built-in configuration until
// [Controller.SetConfig] gives it the stored one.
func New(opts Options) (*Controller, error) {
	if opts.ServerConcurrencyLimit <= 0 {
		return nil, fmt.Errorf("flowcontrol: server concurrency limit %d: must be positive", opts.ServerConcurrencyLimit)
	}
	if opts.RequestWaitLimit <= 0 {
		opts.RequestWaitLimit = 15 * time.Second
	}
	c := &Controller{opts: opts, dropped: utilflowcontrol.NewDroppedRequestsTracker(), levels: map[string]*level{},
		counts: fcrequest.NewStorageObjectCountTracker(), watches: utilflowcontrol.NewWatchTracker()}
	c.estimate = fcrequest.NewWorkEstimator(c.counts.Get, c.watches.GetInterestedWatchCount, fcrequest.DefaultWorkEstimatorConfig(), c.maxSeatsOf)
	c.start = c.now()
	def := apf.DefaultConfig()
	if err := c.SetConfig(def.FlowSchemas, def.PriorityLevels); err != nil {
		return nil, err
	}
	return c, nil
}

func (c *Controller) now() time.Time {
	if c.opts.Now != nil {
		return c.opts.Now()
	}
	return time.Now()
}

// nanos is the queue model's clock: nanoseconds since the controller
// started.
func (c *Controller) nanos(t time.Time) int64 { return int64(t.Sub(c.start)) }

// SetConfig digests a configuration as the APF controller does
// (defaults, mandatory objects added, dangling schemas ignored, limits
// from the server's total), then adjusts the current limits at once as
// the controller does after every change. A level whose queuing
// parameters are unchanged keeps its queues, requests and seat demand
// history; a changed one starts afresh while requests already in the old
// one finish there. A new level starts at nominal - lendable/2 before
// the adjustment.
func (c *Controller) SetConfig(fss []*flowcontrolv1.FlowSchema, pls []*flowcontrolv1.PriorityLevelConfiguration) error {
	cfg := apf.NewConfig(fss, pls, nil)
	limits := apf.Limits(cfg, c.opts.ServerConcurrencyLimit)
	uids := map[string]types.UID{}
	for _, pl := range cfg.PriorityLevels {
		uids[pl.Name] = pl.UID
	}
	fsUIDs := map[string]types.UID{}
	for _, fs := range cfg.FlowSchemas {
		fsUIDs[fs.Name] = fs.UID
	}
	now := c.nanos(c.now())
	c.mu.Lock()
	defer c.mu.Unlock()
	levels := map[string]*level{}
	order := make([]*level, 0, len(limits))
	maxSeats := map[string]uint64{}
	for _, l := range limits {
		if l.Queuing() {
			// Only queuing levels have a max-seats figure upstream;
			// the estimator's own ceiling applies to the others.
			maxSeats[l.Name] = uint64(l.MaxSeats)
		}
		qc := queueConfig(l)
		if old := c.levels[l.Name]; old != nil && old.cfg == qc {
			old.reconfigure(l, uids[l.Name])
			levels[l.Name] = old
			order = append(order, old)
			continue
		}
		lv, err := newLevel(qc, l, l.NominalConcurrencyLimit-l.LendableConcurrencyLimit/2, uids[l.Name], c.now, now)
		if err != nil {
			return err
		}
		levels[l.Name] = lv
		order = append(order, lv)
	}
	c.classifier, c.fsUIDs, c.levels, c.order, c.maxSeats = apf.NewClassifier(cfg), fsUIDs, levels, order, maxSeats
	c.borrowing = apf.NewBorrowing(limits, c.borrowing)
	c.adjustLocked(now)
	return nil
}

// AdjustLimits runs the controller's periodic adjustment: each level's
// seat demand since the last one decides how many seats idle levels lend
// and busy levels borrow. [ConfigWatch.Run] calls it every
// [apf.BorrowingPeriod]; tests call it with an injected clock.
func (c *Controller) AdjustLimits() {
	now := c.nanos(c.now())
	c.mu.Lock()
	defer c.mu.Unlock()
	c.adjustLocked(now)
}

func (c *Controller) adjustLocked(now int64) {
	demand := make([]apf.SeatDemand, len(c.order))
	for i, l := range c.order {
		demand[i] = l.takeSeatDemand(now)
	}
	for i, cl := range c.borrowing.Adjust(demand) {
		c.order[i].setLimit(now, cl)
	}
}

// maxSeatsOf is the estimator's ceiling for one request of a level
// (upstream's MaxSeatsTracker).
func (c *Controller) maxSeatsOf(level string) uint64 {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.maxSeats[level]
}

// queueConfig is the queue model's view of a level.
func queueConfig(l apf.LevelLimits) apf.QueueConfig {
	qc := apf.QueueConfig{Name: l.Name, Queues: int(l.Queues), HandSize: int(l.HandSize), QueueLengthLimit: int(l.QueueLengthLimit)}
	switch {
	case l.Exempt():
		qc.Queues = -1
	case !l.Queuing():
		qc.Queues, qc.HandSize, qc.QueueLengthLimit = 0, 0, 0
	}
	return qc
}

// classified is where one request goes.
type classified struct {
	flowSchema, distinguisher string
	fsUID                     types.UID
	level                     *level
}

// classify matches a request; a request no schema matches goes to
// catch-all, as in kube-apiserver.
func (c *Controller) classify(r apf.Request) (classified, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	cl, _ := c.classifier.Classify(r, false)
	lv := c.levels[cl.PriorityLevel]
	if lv == nil {
		return classified{}, false
	}
	return classified{flowSchema: cl.FlowSchema, distinguisher: cl.FlowDistinguisher, fsUID: c.fsUIDs[cl.FlowSchema], level: lv}, true
}

// sortedLevels returns the levels by name.
func (c *Controller) sortedLevels() []*level {
	c.mu.RLock()
	defer c.mu.RUnlock()
	out := make([]*level, 0, len(c.levels))
	for _, l := range c.levels {
		out = append(out, l)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].cfg.Name < out[j].cfg.Name })
	return out
}

// hashFlowID is kube-apiserver's flow hash: SHA-256 of the schema name,
// a zero byte and the distinguisher, first 8 bytes little endian.
func hashFlowID(fs, distinguisher string) uint64 {
	h := sha256.New()
	h.Write([]byte(fs))
	h.Write([]byte{0})
	h.Write([]byte(distinguisher))
	return binary.LittleEndian.Uint64(h.Sum(nil)[:8])
}
