package apf

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	flowcontrolv1 "k8s.io/api/flowcontrol/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

func limitedPL(name string, shares, lendable int32, borrowing *int32, queues, hand, qll int32) *flowcontrolv1.PriorityLevelConfiguration {
	pl := &flowcontrolv1.PriorityLevelConfiguration{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: flowcontrolv1.PriorityLevelConfigurationSpec{
		Type: flowcontrolv1.PriorityLevelEnablementLimited,
		Limited: &flowcontrolv1.LimitedPriorityLevelConfiguration{NominalConcurrencyShares: ptr.To(shares), LendablePercent: ptr.To(lendable),
			BorrowingLimitPercent: borrowing, LimitResponse: flowcontrolv1.LimitResponse{Type: flowcontrolv1.LimitResponseTypeReject}},
	}}
	if queues > 0 {
		pl.Spec.Limited.LimitResponse = flowcontrolv1.LimitResponse{Type: flowcontrolv1.LimitResponseTypeQueue,
			Queuing: &flowcontrolv1.QueuingConfiguration{Queues: queues, HandSize: hand, QueueLengthLimit: qll}}
	}
	return pl
}

type limitsRow struct {
	Name                                            string
	Nominal, Lendable, Borrowing, Min, Max, Initial int
}

func rows(ls []LevelLimits) []limitsRow {
	var out []limitsRow
	for _, l := range ls {
		out = append(out, limitsRow{l.Name, l.NominalConcurrencyLimit, l.LendableConcurrencyLimit, l.BorrowingConcurrencyLimit, l.MinConcurrencyLimit, l.MaxConcurrencyLimit, l.InitialConcurrencyLimit})
	}
	return out
}

func TestLimits(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		cfg  *Config
		scl  int
		want []limitsRow
	}{
		{
			// shares sum 245: ceil(600*5/245)=13, ceil(600*20/245)=49,
			// round(49*50%)=round(24.5)=25 (half away from zero, as math.Round).
			name: "defaults at 600", cfg: DefaultConfig(), scl: 600,
			want: []limitsRow{
				{"catch-all", 13, 0, 600, 13, 613, 30},
				{"exempt", 0, 0, 600, 0, 600, 0},
				{"global-default", 49, 25, 600, 24, 649, 56},
				{"leader-election", 25, 0, 600, 25, 625, 58},
				{"node-high", 98, 25, 600, 73, 698, 170},
				{"system", 74, 24, 600, 50, 674, 117},
				{"workload-high", 98, 49, 600, 49, 698, 114},
				{"workload-low", 245, 221, 600, 24, 845, 56},
			},
		},
		{
			// nominal 50 each; minimums 25 and 50 are the zero-demand
			// targets, scaled by 100/75 to fill the server: 33.3 and 66.7.
			// borrowingLimitPercent 33% of 50 rounds to 17.
			name: "two levels, borrowing limit", scl: 100,
			cfg: &Config{PriorityLevels: []*flowcontrolv1.PriorityLevelConfiguration{
				limitedPL("a", 1, 50, ptr.To[int32](33), 8, 2, 10),
				limitedPL("b", 1, 0, nil, 8, 2, 10),
			}},
			want: []limitsRow{{"a", 50, 25, 17, 25, 67, 33}, {"b", 50, 0, 100, 50, 150, 67}},
		},
		{
			// ceil rounds up: 3 levels of 1 share at 10 give 4 each (sum 12).
			name: "ceil over-allocates", scl: 10,
			cfg: &Config{PriorityLevels: []*flowcontrolv1.PriorityLevelConfiguration{
				limitedPL("a", 1, 0, nil, 0, 0, 0), limitedPL("b", 1, 0, nil, 0, 0, 0), limitedPL("c", 1, 0, nil, 0, 0, 0),
			}},
			want: []limitsRow{{"a", 4, 0, 10, 4, 14, 4}, {"b", 4, 0, 10, 4, 14, 4}, {"c", 4, 0, 10, 4, 14, 4}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if diff := cmp.Diff(tc.want, rows(Limits(tc.cfg, tc.scl))); diff != "" {
				t.Errorf("Limits() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestAllocate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name                 string
		required             int
		lower, upper, target []float64
		want                 []float64
	}{
		{"no bounds matter", 100, []float64{10, 10}, []float64{100, 100}, []float64{20, 30}, []float64{40, 60}},
		{"pinned at lower bounds", 20, []float64{10, 10}, []float64{100, 100}, []float64{20, 30}, []float64{10, 10}},
		{"pinned at upper bounds", 40, []float64{0, 0}, []float64{20, 20}, []float64{1, 1}, []float64{20, 20}},
		// b's upper bound (15) binds; the rest goes to a.
		{"one upper bound binds", 100, []float64{0, 0}, []float64{200, 15}, []float64{50, 50}, []float64{85, 15}},
		// a's lower bound (60) binds; b gets the rest.
		{"one lower bound binds", 100, []float64{60, 0}, []float64{100, 100}, []float64{60, 60}, []float64{60, 40}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := allocate(tc.required, tc.lower, tc.upper, tc.target)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got, cmp.Comparer(func(a, b float64) bool { return a-b < 1e-9 && b-a < 1e-9 })); diff != "" {
				t.Errorf("allocate() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}
