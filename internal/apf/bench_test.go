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
// loop through k8s.io/apiserver's queueset and fake event clock.
func BenchmarkUpstreamQueueSet(b *testing.B) {
	w, cfg := loadTestWorkload(b, "bench-million.yaml")
	b.ResetTimer()
	for b.Loop() {
		if _, err := simulate(w, cfg, SimulateOptions{}, newUpstreamFactory()); err != nil {
			b.Fatal(err)
		}
	}
}
