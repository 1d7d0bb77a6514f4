package flowcontrol

import (
	"context"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apiserver/pkg/endpoints/request"
	fcrequest "k8s.io/apiserver/pkg/util/flowcontrol/request"

	"github.com/kauth/kauth/internal/apf"
)

// level is one priority level on the wall clock: the queue model under
// a mutex, and what the dumps show of its requests.
type level struct {
	cfg apf.QueueConfig
	now func() time.Time

	mu       sync.Mutex
	limits   apf.LevelLimits
	uid      types.UID
	qs       *apf.QueueSet
	requests map[*apf.QRequest]*ticket
	seq      uint64

	dispatched, rejected, timedout, cancelled int

	// onEnqueue, when set (tests), is called under mu when a request
	// starts waiting in a queue.
	onEnqueue func()
}

// ticket is one request's passage through a level.
type ticket struct {
	q             *apf.QRequest
	ready         chan struct{} // closed when dispatched
	executing     bool
	seq           uint64 // arrival order, for positions in a queue
	queue         int
	flowSchema    string
	distinguisher string
	arrive, start time.Time
	user          string
	info          *request.RequestInfo
	work          fcrequest.WorkEstimate
}

func newLevel(qc apf.QueueConfig, ll apf.LevelLimits, limit int, uid types.UID, clock func() time.Time, now int64) (*level, error) {
	qs, err := apf.NewQueueSet(qc, limit, now)
	if err != nil {
		return nil, err
	}
	l := &level{cfg: qc, now: clock, limits: ll, uid: uid, qs: qs, requests: map[*apf.QRequest]*ticket{}}
	qs.OnDispatch = l.onDispatch
	return l, nil
}

// reconfigure gives a retained level its new figures; its current limit
// changes at the adjustment that follows.
func (l *level) reconfigure(ll apf.LevelLimits, uid types.UID) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.limits, l.uid = ll, uid
}

// setLimit applies a new current limit and dispatches what it allows.
func (l *level) setLimit(now int64, limit int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.qs.SetConcurrencyLimit(now, limit)
}

func (l *level) takeSeatDemand(now int64) apf.SeatDemand {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.qs.TakeSeatDemand(now)
}

func (l *level) levelUID() types.UID {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.uid
}

// onDispatch runs under l.mu when the model releases a waiting request.
func (l *level) onDispatch(r *apf.QRequest, _ int64) {
	if t := l.requests[r]; t != nil && !t.executing {
		t.executing = true
		t.start = l.now()
		l.dispatched++
		close(t.ready)
	}
}

// arrive offers a request. It returns the ticket, and false when the
// level rejects it at once.
func (l *level) arrive(now time.Time, nanos int64, t *ticket, hash uint64) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	// The queue set reserves the larger of the initial and final seats
	// from dispatch until the additional latency ends, and charges
	// initial seats for the service time plus final seats for the
	// additional latency, as upstream's does.
	t.q = &apf.QRequest{Seats: max(1, int(t.work.InitialSeats)), FinalSeats: int(t.work.FinalSeats), AdditionalLatency: int64(t.work.AdditionalLatency)}
	t.ready = make(chan struct{})
	t.arrive = now
	l.seq++
	t.seq = l.seq
	l.requests[t.q] = t
	switch l.qs.Arrive(nanos, t.q, hash) {
	case apf.Dispatched:
		t.executing, t.start, t.queue = true, now, -1
		l.dispatched++
		close(t.ready)
	case apf.Enqueued:
		t.queue = l.qs.QueueOf(t.q)
		if !t.executing && l.onEnqueue != nil {
			l.onEnqueue()
		}
	default:
		delete(l.requests, t.q)
		l.rejected++
		return false
	}
	return true
}

// wait blocks until the request is dispatched, its wait limit passes or
// the client goes away. It returns false (counted as timed out or
// cancelled) when the request leaves its queue without executing.
func (l *level) wait(ctx context.Context, c *Controller, t *ticket) bool {
	select {
	case <-t.ready:
		return true
	default:
	}
	timer := time.NewTimer(c.opts.RequestWaitLimit)
	defer timer.Stop()
	timedOut := false
	select {
	case <-t.ready:
		return true
	case <-timer.C:
		timedOut = true
	case <-ctx.Done():
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.qs.Cancel(c.nanos(c.now()), t.q) {
		return true // dispatched meanwhile: run it
	}
	delete(l.requests, t.q)
	if timedOut {
		l.timedout++
	} else {
		l.cancelled++
	}
	return false
}

// finish ends the request's execution: its seats are free at once unless
// it has additional latency, then they stay taken until [level.release].
func (l *level) finish(nanos int64, t *ticket) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.requests, t.q)
	l.qs.Finish(nanos, t.q)
}

// release frees the seats a finished request kept for its additional
// latency.
func (l *level) release(nanos int64, t *ticket) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.qs.Release(nanos, t.q)
}

// executing is the number of executing requests as kube-apiserver counts
// them (those lingering on their final seats excluded). Called under l.mu.
func (l *level) executing() int { return l.qs.Executing() }
