package apf

import (
	"container/heap"
	"math/rand"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// latencyEvent is one step of the lingering-seats differential driver.
type latencyEvent struct {
	at   int64
	kind int // 0 release, 1 finish, 2 arrival: releases first at one instant
	req  int
}

type latencyEvents []latencyEvent

func (h latencyEvents) Len() int { return len(h) }
func (h latencyEvents) Less(i, j int) bool {
	if h[i].at != h[j].at {
		return h[i].at < h[j].at
	}
	if h[i].kind != h[j].kind {
		return h[i].kind < h[j].kind
	}
	return h[i].req < h[j].req
}
func (h latencyEvents) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *latencyEvents) Push(x any)   { *h = append(*h, x.(latencyEvent)) }
func (h *latencyEvents) Pop() any {
	old := *h
	e := old[len(old)-1]
	*h = old[:len(old)-1]
	return e
}

type latencyReq struct {
	arrive, service int64
	hash            uint64
	q               QRequest
}

// latencyOutcome is what the driver records per request: when it was
// dispatched (-1: never) and how it arrived.
type latencyOutcome struct {
	Dispatched int64
	Outcome    Outcome
}

// runLatency replays reqs against one queue model. release frees a
// request's lingering seats when its additional latency (as the model
// left it) has passed; for a model with timers of its own (upstream's
// queueset on its fake clock), timer tells when the next one is due and
// release is called then with a nil request.
func runLatency(t *testing.T, reqs []latencyReq, arrive func(int64, *QRequest, uint64) Outcome, finish func(int64, *QRequest), release func(int64, *QRequest), timer func() (int64, bool), setDispatch func(func(*QRequest, int64))) []latencyOutcome {
	t.Helper()
	out := make([]latencyOutcome, len(reqs))
	index := map[*QRequest]int{}
	ev := &latencyEvents{}
	for i := range reqs {
		out[i].Dispatched = -1
		index[&reqs[i].q] = i
		heap.Push(ev, latencyEvent{at: reqs[i].arrive, kind: 2, req: i})
	}
	setDispatch(func(r *QRequest, now int64) {
		i := index[r]
		out[i].Dispatched = now
		heap.Push(ev, latencyEvent{at: now + reqs[i].service, kind: 1, req: i})
	})
	ticks := map[int64]bool{}
	for ev.Len() > 0 {
		e := heap.Pop(ev).(latencyEvent)
		switch r := (*latencyReq)(nil); {
		case e.req < 0:
			release(e.at, nil)
		case e.kind == 2:
			r = &reqs[e.req]
			out[e.req].Outcome = arrive(e.at, &r.q, r.hash)
			if out[e.req].Outcome == Dispatched {
				out[e.req].Dispatched = e.at
				heap.Push(ev, latencyEvent{at: e.at + r.service, kind: 1, req: e.req})
			}
		case e.kind == 1:
			r = &reqs[e.req]
			finish(e.at, &r.q)
			if r.q.AdditionalLatency > 0 && timer == nil {
				heap.Push(ev, latencyEvent{at: e.at + r.q.AdditionalLatency, kind: 0, req: e.req})
			}
		default:
			release(e.at, &reqs[e.req].q)
		}
		if timer != nil {
			if at, ok := timer(); ok && !ticks[at] {
				ticks[at] = true
				heap.Push(ev, latencyEvent{at: at, kind: 0, req: -1})
			}
		}
	}
	return out
}

// TestQueueSetLingeringSeatsMatchUpstream drives kauth's queue set and
// k8s.io/apiserver's queueset with the same requests that have final
// seats and additional latency (mutating requests with watchers): the
// seats stay taken for the latency, the virtual finish time charges the
// final seats for it, and every request is dispatched at the same
// instant on both sides.
func TestQueueSetLingeringSeatsMatchUpstream(t *testing.T) {
	t.Parallel()
	for seed := int64(1); seed <= 20; seed++ {
		rng := rand.New(rand.NewSource(seed))
		cfg := QueueConfig{Name: "level", Queues: 8, HandSize: 3, QueueLengthLimit: 20}
		cl := 2 + rng.Intn(10)
		make := func() []latencyReq {
			rng := rand.New(rand.NewSource(seed))
			reqs := make([]latencyReq, 300)
			var at int64
			for i := range reqs {
				at += 1 + rng.Int63n(2_000_000)
				r := latencyReq{arrive: at, service: 1 + rng.Int63n(8_000_000), hash: uint64(rng.Intn(6)) * 0x9e3779b97f4a7c15}
				r.q.Seats = 1 + rng.Intn(3)
				if rng.Intn(3) == 0 {
					r.q.FinalSeats = 1 + rng.Intn(cl+2)
					r.q.AdditionalLatency = 1 + rng.Int63n(10_000_000)
				}
				reqs[i] = r
			}
			return reqs
		}

		ours, err := NewQueueSet(cfg, cl, 0)
		if err != nil {
			t.Fatal(err)
		}
		got := runLatency(t, make(), ours.Arrive, ours.Finish, ours.Release, nil, func(f func(*QRequest, int64)) { ours.OnDispatch = f })

		var up *upstreamModel
		var onDispatch func(*QRequest, int64)
		m, err := newUpstreamFactory()(cfg, cl, func(r *QRequest, now int64) { onDispatch(r, now) })
		if err != nil {
			t.Fatal(err)
		}
		up = m.(*upstreamModel)
		timer := func() (int64, bool) {
			at, ok := up.clock.GetNextTime()
			return int64(at.Sub(up.t0)), ok
		}
		want := runLatency(t, make(), up.Arrive, up.Finish, func(now int64, _ *QRequest) { up.setTime(now) }, timer, func(f func(*QRequest, int64)) { onDispatch = f })

		for i := range want {
			if want[i] != got[i] {
				rs := make()
				t.Logf("seed %d cl %d first divergence at %d: want %+v got %+v", seed, cl, i, want[i], got[i])
				for j := max(0, i-8); j <= i; j++ {
					t.Logf("  req %d: %+v want %+v got %+v", j, rs[j], want[j], got[j])
				}
				break
			}
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("seed %d, limit %d: upstream (-) vs kauth (+):\n%s", seed, cl, diff)
		}
		if ours.SeatsInUse() != 0 || ours.Executing() != 0 || ours.Waiting() != 0 {
			t.Errorf("seed %d: after the run kauth holds %d seats, %d executing, %d waiting; want none", seed, ours.SeatsInUse(), ours.Executing(), ours.Waiting())
		}
	}
}
