package apf

import (
	"math"

	flowcontrolv1 "k8s.io/api/flowcontrol/v1"
)

// LevelLimits are the figures the APF controller derives for one priority
// level from the server's total concurrency limit.
type LevelLimits struct {
	Name          string `json:"name"`
	Type          string `json:"type"`
	LimitResponse string `json:"limitResponse,omitempty"`
	// NominalConcurrencyShares is the configured share.
	NominalConcurrencyShares int32 `json:"nominalConcurrencyShares"`
	// NominalConcurrencyLimit is ceil(SCL * shares / sum of shares).
	NominalConcurrencyLimit int `json:"nominalConcurrencyLimit"`
	// LendableConcurrencyLimit is round(nominal * lendablePercent / 100).
	LendableConcurrencyLimit int `json:"lendableConcurrencyLimit"`
	// BorrowingConcurrencyLimit is round(nominal * borrowingLimitPercent /
	// 100), or the server's limit when borrowingLimitPercent is unset.
	BorrowingConcurrencyLimit int `json:"borrowingConcurrencyLimit"`
	// MinConcurrencyLimit and MaxConcurrencyLimit bound the current limit.
	MinConcurrencyLimit int `json:"minConcurrencyLimit"`
	MaxConcurrencyLimit int `json:"maxConcurrencyLimit"`
	// InitialConcurrencyLimit is the current limit right after the
	// controller digests the configuration (its allocation run once with
	// zero demand).
	InitialConcurrencyLimit int   `json:"initialConcurrencyLimit"`
	Queues                  int32 `json:"queues"`
	HandSize                int32 `json:"handSize"`
	QueueLengthLimit        int32 `json:"queueLengthLimit"`
	// MaxSeats is the most seats the work estimator gives one request:
	// max(1, min(ceil(0.15 * nominal), nominal / handSize)).
	MaxSeats int `json:"maxSeats,omitempty"`
}

// Exempt reports whether the level is exempt from limitation.
func (l LevelLimits) Exempt() bool {
	return l.Type == string(flowcontrolv1.PriorityLevelEnablementExempt)
}

// Queuing reports whether the level queues (more than rejecting).
func (l LevelLimits) Queuing() bool { return l.Queues > 0 }

// Limits computes every level's limits for serverConcurrencyLimit (the
// sum of --max-requests-inflight and --max-mutating-requests-inflight),
// exactly as the APF controller's finishQueueSetReconfigsLocked does,
// then runs the borrowing allocation once with zero seat demand as the
// controller does right after digesting the configuration. Levels are
// sorted by name.
func Limits(cfg *Config, serverConcurrencyLimit int) []LevelLimits {
	var shareSum float64
	for _, pl := range cfg.PriorityLevels {
		shareSum += float64(shares(pl))
	}
	out := make([]LevelLimits, 0, len(cfg.PriorityLevels))
	for _, pl := range cfg.PriorityLevels {
		out = append(out, levelLimits(pl, serverConcurrencyLimit, shareSum))
	}
	a := newAllocator(out)
	for i, cl := range a.adjust(make([]demandStats, len(out))) {
		out[i].InitialConcurrencyLimit = cl
	}
	return out
}

func levelLimits(pl *flowcontrolv1.PriorityLevelConfiguration, scl int, shareSum float64) LevelLimits {
	l := LevelLimits{Name: pl.Name, Type: string(pl.Spec.Type), NominalConcurrencyShares: shares(pl)}
	var nominal int
	if shareSum > 0 {
		// math.Ceil: the nominal limits may sum to a little more than
		// the server's limit, as upstream accepts.
		nominal = int(math.Ceil(float64(scl) * float64(l.NominalConcurrencyShares) / shareSum))
	}
	l.NominalConcurrencyLimit = nominal
	var lendable, borrowing *int32
	if lim := pl.Spec.Limited; lim != nil {
		lendable, borrowing = lim.LendablePercent, lim.BorrowingLimitPercent
		l.LimitResponse = string(lim.LimitResponse.Type)
		if q := lim.LimitResponse.Queuing; q != nil {
			l.Queues, l.HandSize, l.QueueLengthLimit = q.Queues, q.HandSize, q.QueueLengthLimit
			l.MaxSeats = int(math.Max(1, math.Min(math.Ceil(float64(nominal)*0.15), float64(int32(nominal)/q.HandSize))))
		}
	} else if ex := pl.Spec.Exempt; ex != nil {
		lendable = ex.LendablePercent
	}
	if lendable != nil {
		l.LendableConcurrencyLimit = int(math.Round(float64(nominal) * float64(*lendable) / 100))
	}
	if pl.Spec.Limited != nil && borrowing != nil {
		l.BorrowingConcurrencyLimit = int(math.Round(float64(nominal) * float64(*borrowing) / 100))
	} else {
		l.BorrowingConcurrencyLimit = scl
	}
	l.MinConcurrencyLimit = nominal - l.LendableConcurrencyLimit
	l.MaxConcurrencyLimit = nominal + l.BorrowingConcurrencyLimit
	return l
}

func shares(pl *flowcontrolv1.PriorityLevelConfiguration) int32 {
	if lim := pl.Spec.Limited; lim != nil {
		if lim.NominalConcurrencyShares != nil {
			return *lim.NominalConcurrencyShares
		}
		return 30
	}
	if ex := pl.Spec.Exempt; ex != nil && ex.NominalConcurrencyShares != nil {
		return *ex.NominalConcurrencyShares
	}
	return 0
}
