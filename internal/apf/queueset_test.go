package apf

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apiserver/pkg/util/shufflesharding"
)

// TestShuffleShard checks that a request goes to the queue of its hand
// (as shufflesharding.Dealer deals it) with the least waiting work,
// starting at a rotating offset (enqueues mod handSize), as upstream.
func TestShuffleShard(t *testing.T) {
	t.Parallel()
	const hash = uint64(0x9e3779b97f4a7c15)
	d, err := shufflesharding.NewDealer(16, 4)
	if err != nil {
		t.Fatal(err)
	}
	hand := d.DealIntoHand(hash, nil)
	qs, err := NewQueueSet(QueueConfig{Name: "l", Queues: 16, HandSize: 4, QueueLengthLimit: 100}, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	var got []int
	for range 6 {
		qs.Arrive(0, &QRequest{Seats: 1}, hash)
		got = append(got, qs.lastQueue)
	}
	// Limit 0: nothing dispatches. The first four fill the four empty
	// queues in rotated order; then all hold equal work and the rotation
	// alone picks: offsets 4 mod 4 = 0 and 5 mod 4 = 1.
	want := []int{hand[0], hand[1], hand[2], hand[3], hand[0], hand[1]}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("queues chosen mismatch (-want +got):\n%s", diff)
	}
}

// TestDispatchOrder checks fair queuing: with one seat, a flow that
// queued three requests does not hold back a flow that queued one, and
// requests leave in order of virtual finish time.
func TestDispatchOrder(t *testing.T) {
	t.Parallel()
	const queues = 4
	d, _ := shufflesharding.NewDealer(queues, 1)
	hashA, hashB := uint64(1), uint64(0)
	for d.DealIntoHand(hashB, nil)[0] == d.DealIntoHand(hashA, nil)[0] {
		hashB++
	}
	qs, err := NewQueueSet(QueueConfig{Name: "l", Queues: queues, HandSize: 1, QueueLengthLimit: 10}, 1, 0)
	if err != nil {
		t.Fatal(err)
	}
	var order []int
	qs.OnDispatch = func(r *QRequest, _ int64) { order = append(order, r.Client) }
	var reqs []*QRequest
	arrive := func(client int, hash uint64) {
		r := &QRequest{Seats: 1, Client: client}
		reqs = append(reqs, r)
		qs.Arrive(0, r, hash)
	}
	arrive(1, hashA) // dispatched at once
	arrive(2, hashA)
	arrive(3, hashA)
	arrive(4, hashB)
	for now := int64(1e8); len(order) < 4; now += 1e8 {
		for _, r := range reqs {
			if r.state == stateExecuting {
				qs.Finish(now, r)
				break
			}
		}
	}
	if diff := cmp.Diff([]int{1, 4, 2, 3}, order); diff != "" {
		t.Errorf("dispatch order mismatch (-want +got):\n%s", diff)
	}
}

func TestQueueSetRejections(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		cfg   QueueConfig
		cl    int
		seats []int
		want  []Outcome
	}{
		{"queue full once the limit is used", QueueConfig{Name: "q", Queues: 1, HandSize: 1, QueueLengthLimit: 2}, 1,
			[]int{1, 1, 1, 1}, []Outcome{Enqueued, Enqueued, Enqueued, RejectedQueueFull}},
		{"reject without queues", QueueConfig{Name: "r"}, 2, []int{1, 1, 1}, []Outcome{Dispatched, Dispatched, RejectedConcurrencyLimit}},
		{"a wide request runs alone when nothing executes", QueueConfig{Name: "r"}, 2, []int{5, 1}, []Outcome{Dispatched, RejectedConcurrencyLimit}},
		{"exempt never rejects", QueueConfig{Name: "e", Queues: -1}, 0, []int{1, 9}, []Outcome{Dispatched, Dispatched}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			qs, err := NewQueueSet(tc.cfg, tc.cl, 0)
			if err != nil {
				t.Fatal(err)
			}
			var got []Outcome
			for _, s := range tc.seats {
				got = append(got, qs.Arrive(0, &QRequest{Seats: s}, 7))
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("outcomes mismatch (-want +got):\n%s", diff)
			}
		})
	}
}
