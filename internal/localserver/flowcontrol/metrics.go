package flowcontrol

import (
	"fmt"
	"io"
	"math"
	"strconv"

	"github.com/kauth/kauth/internal/apf"
)

// PathMetrics is where kube-apiserver publishes its metrics; the
// controller serves there the gauges of its concurrency limits.
const PathMetrics = "/metrics"

// gauge is one of the APF controller's per-level gauges
// (k8s.io/apiserver's flowcontrol/metrics), in Prometheus' text format.
type gauge struct {
	name, help, stability string
	value                 func(apf.LevelBorrowing) (float64, bool)
}

var limitGauges = []gauge{
	{"nominal_limit_seats", "Nominal number of execution seats configured for each priority level", "BETA",
		func(l apf.LevelBorrowing) (float64, bool) { return float64(l.NominalConcurrencyLimit), true }},
	{"lower_limit_seats", "Configured lower bound on number of execution seats available to each priority level", "ALPHA",
		func(l apf.LevelBorrowing) (float64, bool) { return float64(l.MinConcurrencyLimit), true }},
	{"upper_limit_seats", "Configured upper bound on number of execution seats available to each priority level", "ALPHA",
		func(l apf.LevelBorrowing) (float64, bool) { return float64(l.MaxConcurrencyLimit), true }},
	{"current_limit_seats", "current derived number of execution seats available to each priority level", "ALPHA",
		func(l apf.LevelBorrowing) (float64, bool) { return float64(l.CurrentConcurrencyLimit), true }},
	{"target_seats", "Seat allocation targets", "ALPHA",
		func(l apf.LevelBorrowing) (float64, bool) { return l.Target, !l.Exempt() }},
	{"demand_seats_high_watermark", "High watermark, over last adjustment period, of demand_seats", "ALPHA",
		func(l apf.LevelBorrowing) (float64, bool) { return float64(l.DemandHighWatermark), true }},
	{"demand_seats_average", "Time-weighted average, over last adjustment period, of demand_seats", "ALPHA",
		func(l apf.LevelBorrowing) (float64, bool) { return l.DemandAverage, true }},
	{"demand_seats_stdev", "Time-weighted standard deviation, over last adjustment period, of demand_seats", "ALPHA",
		func(l apf.LevelBorrowing) (float64, bool) { return l.DemandStdDev, true }},
	{"demand_seats_smoothed", "Smoothed seat demands", "ALPHA",
		func(l apf.LevelBorrowing) (float64, bool) { return l.DemandSmoothed, true }},
}

// writeMetrics prints the limit gauges of every level, levels by name, as
// kube-apiserver's /metrics shows them (apiserver_flowcontrol_*).
func (c *Controller) writeMetrics(w io.Writer) {
	c.mu.RLock()
	levels := c.borrowing.Levels()
	c.mu.RUnlock()
	for _, g := range limitGauges {
		name := "apiserver_flowcontrol_" + g.name
		fmt.Fprintf(w, "# HELP %s [%s] %s\n# TYPE %s gauge\n", name, g.stability, g.help, name)
		for _, l := range levels {
			if v, ok := g.value(l); ok {
				fmt.Fprintf(w, "%s{priority_level=%q} %s\n", name, l.Name, formatFloat(v))
			}
		}
	}
}

// formatFloat writes a sample value as Prometheus does.
func formatFloat(v float64) string {
	switch {
	case math.IsNaN(v):
		return "NaN"
	case math.IsInf(v, 1):
		return "+Inf"
	case math.IsInf(v, -1):
		return "-Inf"
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}
