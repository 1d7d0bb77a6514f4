package apf

import (
	"errors"
	"math"
	"sort"
)

// The controller adjusts current limits every borrowingPeriod from seat
// demand smoothed with this coefficient (a half-life of 5 minutes), as
// apf_controller.go's borrowingAdjustmentPeriod and
// seatDemandSmoothingCoefficient.
const (
	borrowingPeriodNanos = int64(10e9)
	seatDemandSmoothing  = 0.977
	allocMinTarget       = 0.001
	allocEpsilon         = 0.0000001
)

// demandStats is one level's seat demand over the last period, from its
// integrator, and the smoothed figure carried between periods.
type demandStats struct {
	duration, avg, stdDev, max float64
}

// allocator holds the controller's view of every level for the borrowing
// adjustment (updateBorrowingLocked).
type allocator struct {
	levels     []LevelLimits
	nominalSum int
	hwm        []int
	smoothed   []float64
	current    []int
}

func newAllocator(levels []LevelLimits) *allocator {
	a := &allocator{levels: levels, hwm: make([]int, len(levels)), smoothed: make([]float64, len(levels)), current: make([]int, len(levels))}
	for _, l := range levels {
		a.nominalSum += l.NominalConcurrencyLimit
	}
	return a
}

// adjust digests one period's demand per level and returns the new
// current concurrency limits, as updateBorrowingLocked computes them.
func (a *allocator) adjust(obs []demandStats) []int {
	type item struct{ lower, upper, target float64 }
	var items []item
	var idx []int
	remaining := a.nominalSum
	var minSum, minCurrentSum int
	minCurrent := make([]int, len(a.levels))
	for i, l := range a.levels {
		a.update(i, obs[i])
		if l.Exempt() {
			minCurrent[i] = max(l.MinConcurrencyLimit, a.hwm[i])
			remaining -= minCurrent[i]
			continue
		}
		// The lower bound is the lesser of the demand's high-water mark
		// and the nominal limit, but never below the configured minimum.
		minCurrent[i] = max(l.MinConcurrencyLimit, min(l.NominalConcurrencyLimit, a.hwm[i]))
		idx = append(idx, i)
		items = append(items, item{float64(minCurrent[i]), float64(l.MaxConcurrencyLimit), math.Max(float64(minCurrent[i]), a.smoothed[i])})
		minSum += l.MinConcurrencyLimit
		minCurrentSum += minCurrent[i]
	}
	out := make([]int, len(a.levels))
	for i, l := range a.levels {
		if l.Exempt() {
			out[i] = minCurrent[i]
		}
	}
	switch {
	case remaining <= minSum:
		for _, i := range idx {
			out[i] = a.levels[i].MinConcurrencyLimit
		}
	case remaining <= minCurrentSum:
		frac := float64(remaining-minSum) / float64(minCurrentSum-minSum)
		for _, i := range idx {
			m := a.levels[i].MinConcurrencyLimit
			out[i] = m + int(math.Round(float64(minCurrent[i]-m)*frac))
		}
	default:
		lo, hi, tg := make([]float64, len(items)), make([]float64, len(items)), make([]float64, len(items))
		for k, it := range items {
			lo[k], hi[k], tg[k] = it.lower, it.upper, it.target
		}
		allocs, err := allocate(a.nominalSum, lo, hi, tg)
		for k, i := range idx {
			if err != nil {
				// upstream keeps the current limits when the problem
				// has no solution; with valid configurations it can't
				// happen.
				out[i] = a.current[i]
				continue
			}
			out[i] = int(math.Round(allocs[k]))
		}
	}
	copy(a.current, out)
	return out
}

// update folds one period's integrator results into the level's
// statistics: high-water mark, and the smoothed envelope
// max(avg+stdDev, A*smoothed + (1-A)*(avg+stdDev)).
func (a *allocator) update(i int, o demandStats) {
	a.hwm[i] = int(math.Round(o.max))
	if o.duration <= 0 {
		return
	}
	dev := o.stdDev
	if math.IsNaN(dev) {
		dev = 0
	}
	env := o.avg + dev
	a.smoothed[i] = math.Max(env, seatDemandSmoothing*a.smoothed[i]+(1-seatDemandSmoothing)*env)
}

// allocate solves the controller's allocation problem: find the fair
// proportion p such that sum(clamp(p*target, lower, upper)) == required,
// as conc_alloc.go's computeConcurrencyAllocation does.
func allocate(required int, lower, upper, target []float64) ([]float64, error) {
	req := float64(required)
	n := len(target)
	var lowSum, highSum, targetSum float64
	relLo, relHi, tg := make([]float64, n), make([]float64, n), make([]float64, n)
	lbMin, lbMax, ubMin, ubMax := math.MaxFloat32, -math.MaxFloat64, math.MaxFloat32, -math.MaxFloat64
	lbMin, ubMin = float64(float32(lbMin)), float64(float32(ubMin))
	for i := range target {
		t := target[i]
		if lower[i] < 0 || t < lower[i] || upper[i] < lower[i] {
			return nil, errors.New("inconsistent allocation bounds")
		}
		t = math.Max(t, allocMinTarget)
		tg[i] = t
		lowSum += lower[i]
		highSum += upper[i]
		targetSum += t
		relLo[i], relHi[i] = lower[i]/t, upper[i]/t
		lbMin, lbMax = math.Min(lbMin, relLo[i]), math.Max(lbMax, relLo[i])
		ubMin, ubMax = math.Min(ubMin, relHi[i]), math.Max(ubMax, relHi[i])
	}
	if lbMax > 1 || lowSum-req > allocEpsilon || req-highSum > allocEpsilon {
		return nil, errors.New("allocation problem has no solution")
	}
	ans := make([]float64, n)
	switch {
	case required == 0:
		return ans, nil
	case lowSum-req > -allocEpsilon:
		copy(ans, lower)
		return ans, nil
	case req-highSum > -allocEpsilon:
		copy(ans, upper)
		return ans, nil
	}
	fair := req / targetSum
	if lbMax <= fair && fair <= ubMin {
		for i := range ans {
			ans[i] = tg[i] * fair
		}
		return ans, nil
	}
	fair, err := sweepFairProp(req, lowSum, lbMin, relLo, relHi, tg)
	if err != nil {
		return nil, err
	}
	for i := range ans {
		ans[i] = math.Max(lower[i], math.Min(upper[i], fair*tg[i]))
	}
	return ans, nil
}

// sweepFairProp walks the relative bounds in ascending order, growing the
// proportion until the clamped allocations reach the required sum.
func sweepFairProp(req, lowSum, start float64, relLo, relHi, tg []float64) (float64, error) {
	type bound struct {
		v     float64
		item  int
		lower bool
	}
	bounds := make([]bound, 0, 2*len(tg))
	for i := range tg {
		bounds = append(bounds, bound{relLo[i], i, true}, bound{relHi[i], i, false})
	}
	// Upstream sorts the interleaved (lower, upper) index list with
	// sort.Sort; sort.Stable on the same initial order gives the same
	// sequence of distinct values, which is all the sweep depends on.
	sort.SliceStable(bounds, func(i, j int) bool { return bounds[i].v < bounds[j].v })
	sum, fair := lowSum, start
	var sensSum, dSensSum float64
	var sensN, dSensN, next int
	for sum < req {
		var nb float64
		for {
			sensSum += dSensSum
			sensN += dSensN
			if next >= len(bounds) {
				return 0, errors.New("ran out of bounds in the allocation sweep")
			}
			b := bounds[next]
			nb = b.v
			if b.lower {
				dSensN, dSensSum = 1, tg[b.item]
			} else {
				dSensN, dSensSum = -1, -tg[b.item]
			}
			next++
			if nb > fair {
				break
			}
		}
		if sensN == 0 {
			fair = nb
			continue
		}
		np := fair + (req-sum)/sensSum
		if np <= nb {
			return np, nil
		}
		sum += (nb - fair) * sensSum
		fair = nb
	}
	return fair, nil
}
