package apf

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	flowcontrolv1 "k8s.io/api/flowcontrol/v1"
	"k8s.io/utils/ptr"
)

func currents(b *Borrowing) []int {
	var out []int
	for _, l := range b.Levels() {
		out = append(out, l.CurrentConcurrencyLimit)
	}
	return out
}

func TestBorrowing(t *testing.T) {
	t.Parallel()
	// a: nominal 50, may lend 25 and borrow 17; b: nominal 50, lends
	// nothing, may borrow 100.
	two := Limits(&Config{PriorityLevels: []*flowcontrolv1.PriorityLevelConfiguration{
		limitedPL("a", 1, 50, ptr.To[int32](33), 8, 2, 10),
		limitedPL("b", 1, 0, nil, 8, 2, 10),
	}}, 100)
	busyB := []SeatDemand{{Seconds: 10}, {Seconds: 10, Average: 90, Max: 90}}
	instant := []SeatDemand{{}, {}}
	tests := []struct {
		name    string
		levels  []LevelLimits
		prev    func() *Borrowing
		periods [][]SeatDemand
		want    []int
	}{
		{
			name: "a new level starts at nominal - lendable/2", levels: two,
			want: []int{38, 50},
		},
		{
			// The zero-demand allocation is the initial limit kauth apf
			// limits prints.
			name: "zero demand gives the initial limits", levels: Limits(DefaultConfig(), 600),
			periods: [][]SeatDemand{make([]SeatDemand, 8)},
			want:    []int{30, 0, 56, 58, 170, 117, 114, 56},
		},
		{
			// b's smoothed demand 90 (bounded below by its nominal 50)
			// against a's 25 that it may not lend: a keeps 25, b gets
			// the other 75.
			name: "an idle level lends to a busy one", levels: two,
			periods: [][]SeatDemand{busyB},
			want:    []int{25, 75},
		},
		{
			name: "a fresh adjustment has no history", levels: two,
			periods: [][]SeatDemand{instant},
			want:    []int{33, 67},
		},
		{
			// After a configuration change b keeps its smoothed demand,
			// so an adjustment right away still favours it.
			name: "a retained level keeps its history", levels: two,
			prev: func() *Borrowing {
				b := NewBorrowing(two, nil)
				b.Adjust(busyB)
				return b
			},
			periods: [][]SeatDemand{instant},
			want:    []int{25, 75},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var prev *Borrowing
			if tc.prev != nil {
				prev = tc.prev()
			}
			b := NewBorrowing(tc.levels, prev)
			if prev != nil {
				if diff := cmp.Diff(currents(prev), currents(b)); diff != "" {
					t.Errorf("current limits not carried over (-prev +new):\n%s", diff)
				}
			}
			for _, d := range tc.periods {
				if got := b.Adjust(d); !cmp.Equal(got, currents(b)) {
					t.Errorf("Adjust() = %v but Levels() says %v", got, currents(b))
				}
			}
			if diff := cmp.Diff(tc.want, currents(b)); diff != "" {
				t.Errorf("current limits (-want +got):\n%s", diff)
			}
		})
	}
}

func TestTakeSeatDemand(t *testing.T) {
	t.Parallel()
	qs, err := NewQueueSet(QueueConfig{Name: "q", Queues: 1, HandSize: 1, QueueLengthLimit: 10}, 2, 0)
	if err != nil {
		t.Fatal(err)
	}
	// 2 seats for 5 s, then 4 (2 executing, 2 waiting) for 5 s.
	r1, r2, r3, r4 := &QRequest{Seats: 1}, &QRequest{Seats: 1}, &QRequest{Seats: 1}, &QRequest{Seats: 1}
	qs.Arrive(0, r1, 1)
	qs.Arrive(0, r2, 1)
	qs.Arrive(5e9, r3, 1)
	qs.Arrive(5e9, r4, 1)
	got := qs.TakeSeatDemand(10e9)
	want := SeatDemand{Seconds: 10, Average: 3, StdDev: 1, Max: 4}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("TakeSeatDemand() (-want +got):\n%s", diff)
	}
	// A new period starts: constant 4 for 1 s.
	if got := qs.TakeSeatDemand(11e9); got != (SeatDemand{Seconds: 1, Average: 4, StdDev: 0, Max: 4}) {
		t.Errorf("second period = %+v", got)
	}
}
