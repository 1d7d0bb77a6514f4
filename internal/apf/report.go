package apf

import (
	"math"
	"slices"
)

// Report is the simulation report (see docs/apf.md for the contract).
type Report struct {
	ServerConcurrencyLimit int            `json:"serverConcurrencyLimit"`
	Duration               string         `json:"duration"`
	QueueWaitLimit         string         `json:"queueWaitLimit"`
	Seed                   uint64         `json:"seed"`
	Borrowing              bool           `json:"borrowing"`
	SimulatedSeconds       float64        `json:"simulatedSeconds"`
	PriorityLevels         []LevelReport  `json:"priorityLevels"`
	Clients                []ClientReport `json:"clients"`
	Compare                *CompareReport `json:"compare,omitempty"`
	Series                 *Series        `json:"-"`
}

// LevelReport is one priority level's figures.
type LevelReport struct {
	Name                      string  `json:"name"`
	Type                      string  `json:"type"`
	LimitResponse             string  `json:"limitResponse,omitempty"`
	NominalConcurrencyLimit   int     `json:"nominalConcurrencyLimit"`
	LendableConcurrencyLimit  int     `json:"lendableConcurrencyLimit"`
	BorrowingConcurrencyLimit int     `json:"borrowingConcurrencyLimit"`
	CurrentConcurrencyLimit   CLRange `json:"currentConcurrencyLimit"`
	Queues                    int32   `json:"queues"`
	HandSize                  int32   `json:"handSize"`
	QueueLengthLimit          int32   `json:"queueLengthLimit"`
	MaxSeats                  int     `json:"maxSeats,omitempty"`
	Dispatched                int     `json:"dispatched"`
	Rejected                  int     `json:"rejected"`
	MaxSeatsInUse             int     `json:"maxSeatsInUse"`
	MaxQueued                 int     `json:"maxQueued"`
}

// CLRange is how a level's current concurrency limit moved.
type CLRange struct {
	Initial int `json:"initial"`
	Min     int `json:"min"`
	Max     int `json:"max"`
	Final   int `json:"final"`
}

func (r *CLRange) note(cl int) {
	r.Min, r.Max, r.Final = min(r.Min, cl), max(r.Max, cl), cl
}

// ClientReport is one client's figures.
type ClientReport struct {
	Name                  string        `json:"name"`
	FlowSchema            string        `json:"flowSchema"`
	PriorityLevel         string        `json:"priorityLevel"`
	FlowDistinguisher     string        `json:"flowDistinguisher"`
	Seats                 int           `json:"seats"`
	Arrived               int           `json:"arrived"`
	Dispatched            int           `json:"dispatched"`
	Rejected              int           `json:"rejected"`
	RejectReasons         RejectReasons `json:"rejectReasons"`
	WaitSeconds           WaitStats     `json:"waitSeconds"`
	DispatchedAtWaitLimit int           `json:"dispatchedAtWaitLimit"`
}

// RejectReasons counts rejections in kube-apiserver's words.
type RejectReasons struct {
	QueueFull        int `json:"queue-full"`
	TimeOut          int `json:"time-out"`
	ConcurrencyLimit int `json:"concurrency-limit"`
}

// Total is the sum of the reasons.
func (r RejectReasons) Total() int { return r.QueueFull + r.TimeOut + r.ConcurrencyLimit }

// WaitStats summarises waits of dispatched requests, in seconds.
type WaitStats struct {
	Mean float64 `json:"mean"`
	P50  float64 `json:"p50"`
	P99  float64 `json:"p99"`
	Max  float64 `json:"max"`
}

// waitStats sorts waits (nanoseconds) and summarises them; percentiles
// by nearest rank, the value at rank ceil(p/100 * n).
func waitStats(waits []int64) WaitStats {
	n := len(waits)
	if n == 0 {
		return WaitStats{}
	}
	slices.Sort(waits)
	var sum float64
	for _, w := range waits {
		sum += float64(w)
	}
	rank := func(p float64) float64 {
		k := int(math.Ceil(p / 100 * float64(n)))
		k = min(max(k, 1), n)
		return float64(waits[k-1]) / 1e9
	}
	return WaitStats{Mean: sum / float64(n) / 1e9, P50: rank(50), P99: rank(99), Max: float64(waits[n-1]) / 1e9}
}

// CompareReport is the same workload through the max-in-flight limiter.
type CompareReport struct {
	MaxInflight *MaxInflightReport `json:"maxInflight,omitempty"`
}

// MaxInflightReport is the result of the max-in-flight limiter.
type MaxInflightReport struct {
	MaxRequestsInflight         int                 `json:"maxRequestsInflight"`
	MaxMutatingRequestsInflight int                 `json:"maxMutatingRequestsInflight"`
	Clients                     []MaxInflightClient `json:"clients"`
}

// MaxInflightClient is one client under the max-in-flight limiter.
type MaxInflightClient struct {
	Name string `json:"name"`
	// Pool is readOnly, mutating, or exempt (long-running requests and
	// system:masters).
	Pool       string `json:"pool"`
	Arrived    int    `json:"arrived"`
	Dispatched int    `json:"dispatched"`
	Rejected   int    `json:"rejected"`
}

// Series are figures over time, for charts.
type Series struct {
	BucketSeconds float64        `json:"bucketSeconds"`
	Levels        []LevelSeries  `json:"levels"`
	Clients       []ClientSeries `json:"clients"`
}

// LevelSeries holds one level's per-bucket figures.
type LevelSeries struct {
	Name       string    `json:"name"`
	SeatsInUse []int     `json:"seatsInUse"`
	Queued     []int     `json:"queued"`
	Limit      []int     `json:"limit"`
	Rejected   []int     `json:"rejected"`
	Dispatched []int     `json:"dispatched"`
	WaitSum    []float64 `json:"-"`
}

// ClientSeries holds one client's per-bucket figures.
type ClientSeries struct {
	Name       string    `json:"name"`
	Dispatched []int     `json:"dispatched"`
	Rejected   []int     `json:"rejected"`
	WaitSum    []float64 `json:"-"`
}
