package apf

import "math"

// The max-in-flight limiter (k8s.io/apiserver's WithMaxInFlightLimit):
// two pools, one for read-only verbs and one for the rest, no queuing; a
// request that finds its pool full is rejected at once. Long-running
// requests (watch, proxy and the attach/exec/log/portforward/proxy
// subresources) and members of system:masters bypass it.

var nonMutatingVerbs = map[string]bool{"get": true, "list": true, "watch": true}

var longRunningSubresources = map[string]bool{"attach": true, "exec": true, "proxy": true, "log": true, "portforward": true}

func maxInflightExempt(c *Client) bool {
	if c.Verb == "watch" || c.Verb == "proxy" || longRunningSubresources[c.Subresource] {
		return true
	}
	for _, g := range c.Groups {
		if g == "system:masters" {
			return true
		}
	}
	return false
}

// DefaultMaxInflightSplit divides a server concurrency limit between
// --max-requests-inflight and --max-mutating-requests-inflight in the
// ratio of their defaults (400:200).
func DefaultMaxInflightSplit(scl int) (readOnly, mutating int) {
	readOnly = int(math.Round(float64(scl) * 2 / 3))
	return readOnly, scl - readOnly
}

func simulateMaxInflight(w *Workload, readOnly, mutating int) *MaxInflightReport {
	if readOnly == 0 && mutating == 0 {
		readOnly, mutating = DefaultMaxInflightSplit(w.ServerConcurrencyLimit)
	}
	rep := &MaxInflightReport{MaxRequestsInflight: readOnly, MaxMutatingRequestsInflight: mutating}
	s := &sim{w: w}
	limit := [2]int{readOnly, mutating}
	var inUse [2]int
	pool := make([]int, len(w.Clients))
	for i := range w.Clients {
		c := &w.Clients[i]
		sc := &simClient{c: c, idx: i, svc: int64(c.ServiceTime.Duration), arr: newArrivals(c, w.Seed, w.Duration.Duration)}
		sc.rep = ClientReport{Name: c.Name, Seats: 1}
		switch {
		case maxInflightExempt(c):
			pool[i] = -1
		case !nonMutatingVerbs[c.Verb]:
			pool[i] = 1
		}
		s.clients = append(s.clients, sc)
		if !sc.arr.done {
			s.pushArrival(sc)
		}
	}
	for len(s.arrHeap) > 0 || len(s.comps) > 0 {
		if len(s.comps) > 0 && (len(s.arrHeap) == 0 || s.comps[0].t <= s.arrHeap[0].arr.next) {
			c := s.popCompletion()
			if p := pool[c.r.Client]; p >= 0 {
				inUse[p]--
			}
			continue
		}
		sc := s.arrHeap[0]
		now := sc.arr.next
		sc.rep.Arrived++
		p := pool[sc.idx]
		// A limit of 0 disables that pool's limit, as the flags do.
		if p >= 0 && limit[p] > 0 && inUse[p] >= limit[p] {
			sc.rep.RejectReasons.ConcurrencyLimit++
		} else {
			if p >= 0 {
				inUse[p]++
			}
			sc.rep.Dispatched++
			s.pushCompletion(completion{t: now + sc.svc, r: &QRequest{Client: sc.idx}})
		}
		sc.arr.advance()
		if sc.arr.done {
			s.popArrival()
		} else {
			s.fixArrival()
		}
	}
	pools := map[int]string{-1: "exempt", 0: "readOnly", 1: "mutating"}
	for i, sc := range s.clients {
		rep.Clients = append(rep.Clients, MaxInflightClient{Name: sc.c.Name, Pool: pools[pool[i]], Arrived: sc.rep.Arrived,
			Dispatched: sc.rep.Dispatched, Rejected: sc.rep.RejectReasons.Total()})
	}
	return rep
}
