package apf

import "testing"

// BenchmarkSimulate runs the one-million-arrival workload through kauth's
// model.
func BenchmarkSimulate(b *testing.B) {
	w, cfg := loadTestWorkload(b, "bench-million.yaml")
	b.ResetTimer()
	for b.Loop() {
		if _, err := Simulate(w, cfg, SimulateOptions{}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(1e6, "arrivals/op")
}

// BenchmarkUpstreamQueueSet runs the same workload under the same event
// loop through k8s.io/apiserver's queueset and fake event clock, and
// fails if its report differs from kauth's.
func BenchmarkUpstreamQueueSet(b *testing.B) {
	w, cfg := loadTestWorkload(b, "bench-million.yaml")
	want, err := Simulate(w, cfg, SimulateOptions{})
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	var got *Report
	for b.Loop() {
		if got, err = simulate(w, cfg, SimulateOptions{}, newUpstreamFactory()); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	compareReports(b, got, want)
}
