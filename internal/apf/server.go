package apf

import (
	"math"
	"time"
)

// QueueState is one queue of a [QueueSet] as a server's debug endpoints
// show it (kube-apiserver's dump_queues).
type QueueState struct {
	Waiting       int         `json:"waiting"`
	Executing     int         `json:"executing"`
	SeatsInUse    int         `json:"seatsInUse"`
	WaitingSeats  int         `json:"waitingSeats"`
	NextDispatchR SeatSeconds `json:"nextDispatchR"`
	WaitingWork   SeatSeconds `json:"waitingWork"`
}

// QueueStates returns the state of every queue, by index; exempt and
// rejecting levels have none.
func (qs *QueueSet) QueueStates() []QueueState {
	out := make([]QueueState, len(qs.queues))
	for i, q := range qs.queues {
		out[i] = QueueState{
			Waiting: q.waiting, Executing: q.executing, SeatsInUse: q.seatsInUse,
			WaitingSeats: q.waitingSeats, NextDispatchR: q.nextDispatchR, WaitingWork: q.waitingWork,
		}
	}
	return out
}

// QueueOf returns the index of the queue r was put in, or -1 when it
// executes without queuing (exempt and rejecting levels).
func (qs *QueueSet) QueueOf(r *QRequest) int {
	if r.queue == nil {
		return -1
	}
	return r.queue.index
}

// BorrowingPeriod is how often kube-apiserver's APF controller adjusts
// the current concurrency limits of the priority levels from their seat
// demand (apf_controller.go's borrowingAdjustmentPeriod).
const BorrowingPeriod = time.Duration(borrowingPeriodNanos)

// SeatDemand is one level's seat demand (seats occupied plus seats
// waiting) over one borrowing period, as the controller's integrator
// reports it: time-weighted average, standard deviation (NaN when
// undefined) and maximum.
type SeatDemand struct {
	Seconds float64 `json:"seconds"`
	Average float64 `json:"average"`
	StdDev  float64 `json:"stdDev"`
	Max     float64 `json:"max"`
}

// TakeSeatDemand returns the seat demand since the previous call (or
// since the queue set was made) and starts a new period, as the
// controller resets each level's integrator when it adjusts the limits.
func (qs *QueueSet) TakeSeatDemand(now int64) SeatDemand {
	d := qs.resetDemand(now)
	return SeatDemand{Seconds: d.duration, Average: d.avg, StdDev: d.stdDev, Max: d.max}
}

// Borrowing is the APF controller's adjustment of current concurrency
// limits (updateBorrowingLocked) for a server that drives its
// [QueueSet]s on the wall clock: every [BorrowingPeriod], and right after
// a configuration change, it takes each level's [SeatDemand] and returns
// the new current limits, lending the unused seats of idle levels (down
// to nominal - lendable) to busy ones (up to nominal + borrowing). It is
// the same allocation `kauth apf simulate` runs. It is not safe for
// concurrent use.
type Borrowing struct {
	a    *allocator
	last []SeatDemand
}

// NewBorrowing starts the adjustment for levels, in the order [Limits]
// returns them. prev, when not nil, is the adjustment of the previous
// configuration: a level of the same name keeps its smoothed seat demand
// and current limit, as the controller keeps a retained level's state; a
// new level starts from nominal - lendable/2 (upstream's initialCL) with
// no demand history.
func NewBorrowing(levels []LevelLimits, prev *Borrowing) *Borrowing {
	a := newAllocator(levels)
	old := map[string]int{}
	if prev != nil {
		for i, l := range prev.a.levels {
			old[l.Name] = i
		}
	}
	for i, l := range levels {
		if j, ok := old[l.Name]; ok {
			a.smoothed[i], a.current[i], a.hwm[i] = prev.a.smoothed[j], prev.a.current[j], prev.a.hwm[j]
			continue
		}
		a.current[i] = l.NominalConcurrencyLimit - l.LendableConcurrencyLimit/2
	}
	return &Borrowing{a: a, last: make([]SeatDemand, len(levels))}
}

// Adjust digests one period's demand per level (indexed as the levels
// given to [NewBorrowing]) and returns each level's new current limit.
func (b *Borrowing) Adjust(demand []SeatDemand) []int {
	obs := make([]demandStats, len(b.a.levels))
	for i := range obs {
		if i < len(demand) {
			d := demand[i]
			obs[i] = demandStats{duration: d.Seconds, avg: d.Average, stdDev: d.StdDev, max: d.Max}
			if d.Seconds > 0 {
				b.last[i] = d
			}
		}
	}
	return b.a.adjust(obs)
}

// LevelBorrowing is one level's state after the last adjustment, as the
// APF controller's gauges show it (apiserver_flowcontrol_current_limit_seats,
// target_seats, demand_seats_*).
type LevelBorrowing struct {
	LevelLimits
	CurrentConcurrencyLimit int `json:"currentConcurrencyLimit"`
	// DemandHighWatermark, DemandAverage and DemandStdDev describe the
	// seat demand of the last period that had any duration;
	// DemandSmoothed is the figure the allocation aims at, and Target
	// max(the lower bound of the allocation, DemandSmoothed) (exempt
	// levels are not allocated and have none).
	DemandHighWatermark int     `json:"demandHighWatermark"`
	DemandAverage       float64 `json:"demandAverage"`
	DemandStdDev        float64 `json:"demandStdDev"`
	DemandSmoothed      float64 `json:"demandSmoothed"`
	Target              float64 `json:"target,omitempty"`
}

// Levels returns every level's state, in the order of the levels given
// to [NewBorrowing].
func (b *Borrowing) Levels() []LevelBorrowing {
	out := make([]LevelBorrowing, len(b.a.levels))
	for i, l := range b.a.levels {
		lb := LevelBorrowing{LevelLimits: l, CurrentConcurrencyLimit: b.a.current[i], DemandHighWatermark: b.a.hwm[i],
			DemandAverage: b.last[i].Average, DemandStdDev: b.last[i].StdDev, DemandSmoothed: b.a.smoothed[i]}
		if !l.Exempt() {
			lower := max(l.MinConcurrencyLimit, min(l.NominalConcurrencyLimit, b.a.hwm[i]))
			lb.Target = math.Max(float64(lower), b.a.smoothed[i])
		}
		out[i] = lb
	}
	return out
}
