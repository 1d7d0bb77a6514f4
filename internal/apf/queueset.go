package apf

import (
	"fmt"
	"math"
	"time"

	fcrequest "k8s.io/apiserver/pkg/util/flowcontrol/request"
	"k8s.io/apiserver/pkg/util/shufflesharding"
)

// SeatSeconds is virtual time, in the fixed-point unit of
// k8s.io/apiserver's flowcontrol/request package, so rounding matches.
type SeatSeconds = fcrequest.SeatSeconds

// estimatedServiceNanos is the service time the queueset assumes when a
// request is dispatched (queueset.go's estimatedServiceDuration); the
// queue's virtual start is corrected by the real service time when the
// request finishes.
const estimatedServiceNanos = 3 * time.Millisecond

// Epoch advance, as queueset.go: when virtual time reaches highR, every
// R value drops by rDecrement so that uint64 never overflows.
const (
	rDecrement = fcrequest.MaxSeatSeconds / 2
	highR      = rDecrement + rDecrement/2
)

// QueueConfig describes a level's queuing. Queues < 0 means exempt,
// Queues == 0 means reject instead of queuing.
type QueueConfig struct {
	Name             string
	Queues           int
	HandSize         int
	QueueLengthLimit int
}

// Outcome of offering a request to a QueueSet.
type Outcome int

// Outcomes.
const (
	Enqueued Outcome = iota // waiting in a queue (maybe already dispatched)
	Dispatched
	RejectedQueueFull        // the chosen queue was at its length limit
	RejectedConcurrencyLimit // no queuing and no free seat
)

// QRequest is one request in a QueueSet. Times are nanoseconds on the
// driver's clock.
type QRequest struct {
	// Seats are the seats the request executes on (the work estimate's
	// initial seats).
	Seats int
	// FinalSeats and AdditionalLatency (nanoseconds) are the work
	// estimate's final phase: after it executes, the request keeps its
	// largest seat count taken for AdditionalLatency more, until
	// [QueueSet.Release]. Zero for requests without one.
	FinalSeats        int
	AdditionalLatency int64
	Arrival           int64
	Start             int64
	Client            int
	Deadline          int64

	arrivalR  SeatSeconds
	totalWork SeatSeconds
	queue     *fqQueue
	state     uint8
	inItems   bool // referenced from a queue's FIFO
	// InTimeouts is for the driver: set while it holds r in a time-out
	// list, so that r is not recycled.
	InTimeouts bool
}

// maxSeats is what the request occupies, from dispatch until its seats
// are released: the larger of its initial and final seats.
func (r *QRequest) maxSeats() int { return max(r.Seats, r.FinalSeats) }

// Recyclable reports whether nothing refers to r any more: it is done,
// out of every queue FIFO and out of the driver's time-out list.
func (r *QRequest) Recyclable() bool { return r.state == stateDone && !r.inItems && !r.InTimeouts }

const (
	stateWaiting uint8 = iota + 1
	stateExecuting
	stateDone
)

// Waiting reports whether r is still in a queue.
func (r *QRequest) Waiting() bool { return r.state == stateWaiting }

type fqQueue struct {
	items         []*QRequest // FIFO; entries no longer waiting are skipped
	head          int
	waiting       int
	waitingSeats  int
	waitingWork   SeatSeconds
	executing     int
	seatsInUse    int
	nextDispatchR SeatSeconds
	index         int
	nePos         int // position in QueueSet.nonEmpty, -1 when no request waits
}

func (q *fqQueue) peek() *QRequest {
	for q.head < len(q.items) {
		if r := q.items[q.head]; r.state == stateWaiting && r.queue == q {
			return r
		}
		q.items[q.head].inItems = false
		q.items[q.head] = nil
		q.head++
	}
	return nil
}

func (q *fqQueue) push(r *QRequest) {
	if q.head > 0 && q.head == len(q.items) {
		q.items, q.head = q.items[:0], 0
	} else if q.head > 1024 && q.head*2 > len(q.items) {
		n := copy(q.items, q.items[q.head:])
		clear(q.items[n:])
		q.items, q.head = q.items[:n], 0
	}
	r.inItems = true
	q.items = append(q.items, r)
}

func (q *fqQueue) active() bool { return q.waiting > 0 || q.executing > 0 }

// QueueSet is one priority level's queues, following
// k8s.io/apiserver's fairqueuing/queueset step for step: the driver calls
// it at each event with the current time, and OnDispatch is called for
// every request that leaves a queue to execute.
//
// The simulator drives it in simulated time. A server drives it on the
// wall clock: under one mutex per level, with now = clock.Since(start) in
// nanoseconds, it calls Arrive when a request comes in, Finish when the
// handler returns, Cancel when the request's queue-wait deadline passes,
// and SetConcurrencyLimit every borrowing period; OnDispatch tells it
// which waiting request to release.
type QueueSet struct {
	cfg        QueueConfig
	dealer     *shufflesharding.Dealer
	queues     []*fqQueue
	cl         int
	currentR   SeatSeconds
	lastNanos  int64
	robinIndex int
	enqueues   int

	totWaiting, totExecuting  int
	seatsInUse, seatsWaiting  int
	queuedSeatsInUse, activeQ int
	// demandSkew is the part of seatsWaiting that upstream's waiting count
	// keeps after shrinking requests' final seats at dispatch; it counts
	// in the seat demand, not in the virtual-time ratio.
	demandSkew int
	hand       [64]int
	nonEmpty   []*fqQueue
	hands      map[uint64][]int
	lastQueue  int // index of the queue the last arrival was sharded to
	demand     integrator
	OnDispatch func(r *QRequest, now int64)
}

// NewQueueSet builds the queues of a level with concurrency limit cl at
// time now.
func NewQueueSet(cfg QueueConfig, cl int, now int64) (*QueueSet, error) {
	qs := &QueueSet{cfg: cfg, cl: cl, lastNanos: now, robinIndex: -1}
	qs.demand.last = now
	if cfg.Queues > 0 {
		d, err := shufflesharding.NewDealer(cfg.Queues, cfg.HandSize)
		if err != nil {
			return nil, fmt.Errorf("priority level %q: %w", cfg.Name, err)
		}
		qs.dealer = d
		qs.queues = make([]*fqQueue, cfg.Queues)
		for i := range qs.queues {
			qs.queues[i] = &fqQueue{index: i, nePos: -1}
		}
		qs.robinIndex = 0
	}
	return qs, nil
}

// Exempt reports whether the level is exempt.
func (qs *QueueSet) Exempt() bool { return qs.cfg.Queues < 0 }

// Waiting is the number of queued requests.
func (qs *QueueSet) Waiting() int { return qs.totWaiting }

// Executing is the number of executing requests.
func (qs *QueueSet) Executing() int { return qs.totExecuting }

// SeatsInUse is the number of occupied seats.
func (qs *QueueSet) SeatsInUse() int { return qs.seatsInUse }

// ConcurrencyLimit is the current limit.
func (qs *QueueSet) ConcurrencyLimit() int { return qs.cl }

// sync advances virtual time to now at the rate
// min(seats requested, limit) / active queues.
func (qs *QueueSet) sync(now int64) {
	dt := now - qs.lastNanos
	qs.lastNanos = now
	prev := qs.currentR
	qs.currentR = prev + fcrequest.SeatsTimesDuration(qs.ratio(), time.Duration(dt))
	if prev <= qs.currentR && qs.currentR >= highR {
		qs.advanceEpoch()
	}
}

func (qs *QueueSet) ratio() float64 {
	if qs.activeQ == 0 {
		return 0
	}
	return math.Min(float64(qs.queuedSeatsInUse+qs.seatsWaiting-qs.demandSkew), float64(qs.cl)) / float64(qs.activeQ)
}

func (qs *QueueSet) advanceEpoch() {
	qs.currentR -= rDecrement
	for _, q := range qs.queues {
		if !q.active() {
			q.nextDispatchR = 0
			continue
		}
		q.nextDispatchR -= rDecrement
		for _, r := range q.items[q.head:] {
			if r.state == stateWaiting && r.queue == q {
				r.arrivalR -= rDecrement
			}
		}
	}
}

// SetConcurrencyLimit applies a new current limit at now and dispatches
// what it allows.
func (qs *QueueSet) SetConcurrencyLimit(now int64, cl int) {
	qs.sync(now)
	qs.cl = cl
	qs.dispatchAsMuchAsPossible(now)
}

// Arrive offers a request with the flow's hash. It returns the outcome;
// for Enqueued the request may have been dispatched at once (OnDispatch
// is called before Arrive returns).
func (qs *QueueSet) Arrive(now int64, r *QRequest, hash uint64) Outcome {
	qs.sync(now)
	r.Arrival = now
	if qs.cfg.Queues <= 0 {
		if !qs.canAccommodate(r.maxSeats()) {
			return RejectedConcurrencyLimit
		}
		r.Start, r.state = now, stateExecuting
		qs.totExecuting++
		qs.seatsInUse += r.maxSeats()
		qs.demand.set(now, float64(qs.seatsInUse+qs.seatsWaiting))
		return Dispatched
	}
	q := qs.shuffleShard(hash)
	qs.lastQueue = q.index
	r.queue, r.arrivalR = q, qs.currentR
	r.totalWork = fcrequest.SeatsTimesDuration(float64(r.Seats), estimatedServiceNanos)
	if r.AdditionalLatency > 0 {
		r.totalWork += fcrequest.SeatsTimesDuration(float64(r.FinalSeats), time.Duration(r.AdditionalLatency))
	}
	if qs.seatsInUse >= qs.cl && q.waiting >= qs.cfg.QueueLengthLimit {
		r.queue = nil
		return RejectedQueueFull
	}
	if !q.active() {
		q.nextDispatchR = qs.currentR
		qs.activeQ++
	}
	q.push(r)
	r.state = stateWaiting
	if q.waiting == 0 {
		q.nePos = len(qs.nonEmpty)
		qs.nonEmpty = append(qs.nonEmpty, q)
	}
	q.waiting++
	q.waitingSeats += r.maxSeats()
	q.waitingWork += r.totalWork
	qs.totWaiting++
	qs.seatsWaiting += r.maxSeats()
	qs.demand.set(now, float64(qs.seatsInUse+qs.seatsWaiting))
	qs.boundNextDispatch(q)
	qs.dispatchAsMuchAsPossible(now)
	return Enqueued
}

// shuffleShard deals the flow's hand and picks the queue with the least
// waiting work, starting at a rotating offset as upstream does.
func (qs *QueueSet) shuffleShard(hash uint64) *fqQueue {
	hand := qs.dealHand(hash)
	n := len(hand)
	offset := qs.enqueues % n
	qs.enqueues++
	best := -1
	minWork := fcrequest.MaxSeatSeconds
	for i := 0; i < n; i++ {
		idx := hand[(offset+i)%n]
		if w := qs.queues[idx].waitingWork; w < minWork {
			minWork, best = w, idx
		}
	}
	return qs.queues[best]
}

// dealHand returns the flow's hand. A flow's hand never changes, so
// hands are kept for up to maxCachedHands flows instead of being dealt
// again for every request.
func (qs *QueueSet) dealHand(hash uint64) []int {
	if h, ok := qs.hands[hash]; ok {
		return h
	}
	if len(qs.hands) >= maxCachedHands {
		return qs.dealer.DealIntoHand(hash, qs.hand[:0])
	}
	if qs.hands == nil {
		qs.hands = map[uint64][]int{}
	}
	h := qs.dealer.DealIntoHand(hash, make([]int, 0, qs.cfg.HandSize))
	qs.hands[hash] = h
	return h
}

const maxCachedHands = 4096

func (qs *QueueSet) canAccommodate(seats int) bool {
	switch {
	case qs.cfg.Queues < 0:
		return true
	case seats > qs.cl:
		return qs.totExecuting == 0
	}
	return qs.seatsInUse+seats <= qs.cl
}

func (qs *QueueSet) dispatchAsMuchAsPossible(now int64) {
	for qs.totWaiting != 0 && qs.seatsInUse < qs.cl && qs.dispatchOne(now) {
	}
}

// dispatchOne picks, round robin from after the last dispatch, the queue
// whose head request has the smallest virtual finish time, and starts it
// if its seats fit.
func (qs *QueueSet) dispatchOne(now int64) bool {
	// Upstream scans every queue from robinIndex+1 round robin and keeps
	// the first strict minimum; scanning only the queues with waiting
	// requests and breaking ties by that same round-robin position picks
	// the same queue.
	nq := len(qs.queues)
	minFinish := fcrequest.MaxSeatSeconds
	minIdx, minPos := -1, nq
	for _, q := range qs.nonEmpty {
		f := q.nextDispatchR + q.peek().totalWork
		pos := q.index - qs.robinIndex - 1
		if pos < 0 {
			pos += nq
		}
		if f < minFinish || f == minFinish && pos < minPos {
			minFinish, minIdx, minPos = f, q.index, pos
		}
	}
	if minIdx < 0 {
		return false
	}
	q := qs.queues[minIdx]
	r := q.peek()
	if !qs.canAccommodate(r.maxSeats()) {
		return false
	}
	qs.robinIndex = minIdx
	qs.unqueue(q, r)
	// Final seats beyond the limit shrink to it, the additional latency
	// growing to keep the final work. Upstream takes the seats out of the
	// set's waiting count after the shrink (and out of the queue's before
	// it), so its seat demand keeps the difference: so does this one.
	if r.FinalSeats > qs.cl {
		pre := r.maxSeats()
		final := fcrequest.SeatsTimesDuration(float64(r.FinalSeats), time.Duration(r.AdditionalLatency))
		r.FinalSeats, r.AdditionalLatency = qs.cl, int64(final.DurationPerSeat(float64(qs.cl)))
		qs.seatsWaiting += pre - r.maxSeats()
		qs.demandSkew += pre - r.maxSeats()
	}
	seats := r.maxSeats()
	r.Start, r.state = now, stateExecuting
	qs.totExecuting++
	qs.seatsInUse += seats
	qs.queuedSeatsInUse += seats
	q.executing++
	q.seatsInUse += seats
	qs.demand.set(now, float64(qs.seatsInUse+qs.seatsWaiting))
	q.nextDispatchR += r.totalWork
	qs.boundNextDispatch(q)
	if qs.OnDispatch != nil {
		qs.OnDispatch(r, now)
	}
	return true
}

func (qs *QueueSet) unqueue(q *fqQueue, r *QRequest) {
	q.waiting--
	if q.waiting == 0 {
		last := qs.nonEmpty[len(qs.nonEmpty)-1]
		qs.nonEmpty[q.nePos], last.nePos = last, q.nePos
		qs.nonEmpty = qs.nonEmpty[:len(qs.nonEmpty)-1]
		q.nePos = -1
	}
	q.waitingSeats -= r.maxSeats()
	q.waitingWork -= r.totalWork
	qs.totWaiting--
	qs.seatsWaiting -= r.maxSeats()
	if q.head < len(q.items) && q.items[q.head] == r {
		r.inItems = false
		q.items[q.head] = nil
		q.head++
	}
}

// boundNextDispatch keeps a queue's virtual start from lagging behind the
// arrival of its oldest waiting request (upstream's anti-windup).
func (qs *QueueSet) boundNextDispatch(q *fqQueue) {
	if q.waiting == 0 {
		return
	}
	if r := q.peek(); q.nextDispatchR < r.arrivalR {
		q.nextDispatchR = r.arrivalR
	}
}

// Finish ends an executing request at now and corrects its queue's
// virtual start by the difference between the estimated and the real
// service time on its initial seats. A request without additional latency
// frees its seats; one with additional latency keeps them until
// [QueueSet.Release], which the driver calls AdditionalLatency later, as
// upstream's queueset lingers. Either way Finish dispatches what it can.
func (qs *QueueSet) Finish(now int64, r *QRequest) {
	qs.sync(now)
	qs.totExecuting--
	r.state = stateDone
	if q := r.queue; q != nil {
		q.executing--
		q.nextDispatchR -= fcrequest.SeatsTimesDuration(float64(r.Seats), estimatedServiceNanos-time.Duration(now-r.Start))
		qs.boundNextDispatch(q)
		if !q.active() {
			qs.activeQ--
		}
	}
	if r.AdditionalLatency > 0 {
		// The seats stay taken, but a request wider than the limit may
		// go now that nothing executes.
		qs.dispatchAsMuchAsPossible(now)
		return
	}
	qs.releaseSeats(now, r)
}

// Release frees the seats of a finished request with additional latency
// and dispatches what they allow.
func (qs *QueueSet) Release(now int64, r *QRequest) {
	qs.sync(now)
	qs.releaseSeats(now, r)
}

func (qs *QueueSet) releaseSeats(now int64, r *QRequest) {
	seats := r.maxSeats()
	if q := r.queue; q != nil {
		q.seatsInUse -= seats
		qs.queuedSeatsInUse -= seats
	}
	qs.seatsInUse -= seats
	qs.demand.set(now, float64(qs.seatsInUse+qs.seatsWaiting))
	qs.dispatchAsMuchAsPossible(now)
}

// Cancel removes a waiting request (its queue-wait limit passed). It
// returns false if the request is no longer waiting.
func (qs *QueueSet) Cancel(now int64, r *QRequest) bool {
	if r.state != stateWaiting {
		return false
	}
	qs.sync(now)
	q := r.queue
	qs.unqueue(q, r)
	r.state = stateDone
	if !q.active() {
		qs.activeQ--
	}
	qs.boundNextDispatch(q)
	qs.demand.set(now, float64(qs.seatsInUse+qs.seatsWaiting))
	return true
}

func (qs *QueueSet) resetDemand(now int64) demandStats { return qs.demand.reset(now) }

// integrator accumulates the time-weighted moments of seat demand, as
// fairqueuing's Integrator does.
type integrator struct {
	last             int64
	x                float64
	elapsed, ix, ixx float64
	min, max         float64
}

func (g *integrator) advance(now int64) {
	dt := time.Duration(now - g.last).Seconds()
	g.last = now
	g.elapsed += dt
	g.ix += g.x * dt
	g.ixx += g.x * g.x * dt
}

func (g *integrator) set(now int64, x float64) {
	g.advance(now)
	g.x = x
	g.min = math.Min(g.min, x)
	g.max = math.Max(g.max, x)
}

// reset returns the period's statistics and starts a new period.
func (g *integrator) reset(now int64) demandStats {
	g.advance(now)
	s := demandStats{duration: g.elapsed, max: g.max, avg: math.NaN(), stdDev: math.NaN()}
	if g.elapsed > 0 {
		s.avg = g.ix / g.elapsed
		if v := g.ixx/g.elapsed - s.avg*s.avg; v >= 0 {
			s.stdDev = math.Sqrt(v)
		}
	}
	g.elapsed, g.ix, g.ixx = 0, 0, 0
	g.min, g.max = g.x, g.x
	return s
}
