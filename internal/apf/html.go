package apf

import (
	"bytes"
	"fmt"
	"html/template"
	"strings"
)

// RenderHTML renders the report as one self-contained page: tables and
// inline SVG charts over time (seats in use against the current limit,
// queue lengths, waits and rejections, per level and per client). It
// needs the report's Series (SimulateOptions.Series).
func RenderHTML(rep *Report) ([]byte, error) {
	if rep.Series == nil {
		return nil, fmt.Errorf("the report has no time series; simulate with SimulateOptions.Series")
	}
	sr := rep.Series
	data := struct {
		R      *Report
		Levels []template.HTML
		Client []template.HTML
	}{R: rep}
	palette := []string{"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"}
	busy := map[string]bool{}
	for _, l := range rep.PriorityLevels {
		busy[l.Name] = l.Dispatched+l.Rejected > 0
	}
	for _, l := range sr.Levels {
		if !busy[l.Name] {
			continue
		}
		var b strings.Builder
		fmt.Fprintf(&b, "<h3>%s</h3><div class=row>", template.HTMLEscapeString(l.Name))
		b.WriteString(chart("seats in use and current limit", sr.BucketSeconds, []line{{"seats in use (max)", ints(l.SeatsInUse), palette[0]}, {"current limit", ints(l.Limit), palette[1]}}))
		b.WriteString(chart("queued requests (max)", sr.BucketSeconds, []line{{"queued", ints(l.Queued), palette[2]}}))
		b.WriteString(chart("mean wait (s) of dispatched", sr.BucketSeconds, []line{{"mean wait", means(l.WaitSum, l.Dispatched), palette[3]}}))
		b.WriteString(chart("rejected per interval", sr.BucketSeconds, []line{{"rejected", ints(l.Rejected), palette[1]}}))
		b.WriteString("</div>")
		data.Levels = append(data.Levels, template.HTML(b.String())) //nolint:gosec // built from escaped names and numbers
	}
	var disp, rej, wait []line
	for i, c := range sr.Clients {
		col := palette[i%len(palette)]
		disp = append(disp, line{c.Name, ints(c.Dispatched), col})
		rej = append(rej, line{c.Name, ints(c.Rejected), col})
		wait = append(wait, line{c.Name, means(c.WaitSum, c.Dispatched), col})
	}
	data.Client = []template.HTML{
		template.HTML(chart("dispatched per interval", sr.BucketSeconds, disp)), //nolint:gosec // escaped
		template.HTML(chart("rejected per interval", sr.BucketSeconds, rej)),    //nolint:gosec // escaped
		template.HTML(chart("mean wait (s)", sr.BucketSeconds, wait)),           //nolint:gosec // escaped
	}
	var out bytes.Buffer
	if err := pageTemplate.Execute(&out, data); err != nil {
		return nil, fmt.Errorf("rendering html: %w", err)
	}
	return out.Bytes(), nil
}

type line struct {
	name   string
	values []float64
	color  string
}

func ints(v []int) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = float64(x)
	}
	return out
}

func means(sum []float64, n []int) []float64 {
	out := make([]float64, len(n))
	for i := range n {
		if n[i] > 0 && i < len(sum) {
			out[i] = sum[i] / float64(n[i])
		}
	}
	return out
}

// chart draws lines as an SVG step chart, x in seconds.
func chart(title string, bucket float64, lines []line) string {
	const w, h, left, bottom, top = 440.0, 200.0, 48.0, 24.0, 22.0
	n, ymax := 1, 0.0
	for _, l := range lines {
		n = max(n, len(l.values))
		for _, v := range l.values {
			ymax = max(ymax, v)
		}
	}
	if ymax == 0 {
		ymax = 1
	}
	x := func(i int) float64 { return left + (w-left-8)*float64(i)/float64(n) }
	y := func(v float64) float64 { return top + (h-top-bottom)*(1-v/ymax) }
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%.0f" height="%.0f" viewBox="0 0 %.0f %.0f" role="img">`, w, h+16*float64(len(lines)), w, h+16*float64(len(lines)))
	fmt.Fprintf(&b, `<text x="%.0f" y="14" class="t">%s</text>`, left, template.HTMLEscapeString(title))
	fmt.Fprintf(&b, `<line x1="%.0f" y1="%.1f" x2="%.0f" y2="%.1f" class="ax" /><line x1="%.0f" y1="%.1f" x2="%.0f" y2="%.1f" class="ax" />`, left, y(0), w-8, y(0), left, top, left, y(0))
	fmt.Fprintf(&b, `<text x="%.0f" y="%.1f" class="l" text-anchor="end">%s</text><text x="%.0f" y="%.1f" class="l" text-anchor="end">0</text>`, left-4, top+4, fmtNum(ymax), left-4, y(0)+4)
	for k := 0; k <= 4; k++ {
		i := n * k / 4
		anchor := "middle"
		if k == 4 {
			anchor = "end"
		}
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" class="ax" /><text x="%.1f" y="%.1f" class="l" text-anchor="%s">%gs</text>`,
			x(i), y(0), x(i), y(0)+3, x(i), h-6, anchor, float64(i)*bucket)
	}
	for k, l := range lines {
		var pts strings.Builder
		for i, v := range l.values {
			fmt.Fprintf(&pts, "%.1f,%.1f %.1f,%.1f ", x(i), y(v), x(i+1), y(v))
		}
		fmt.Fprintf(&b, `<polyline fill="none" stroke="%s" stroke-width="1.5" points="%s" />`, l.color, pts.String())
		ly := h + 12 + 16*float64(k)
		fmt.Fprintf(&b, `<rect x="%.0f" y="%.1f" width="10" height="3" fill="%s" /><text x="%.0f" y="%.1f" class="l">%s</text>`, left, ly-4, l.color, left+14, ly, template.HTMLEscapeString(l.name))
	}
	b.WriteString("</svg>")
	return b.String()
}

func fmtNum(v float64) string {
	if v == float64(int64(v)) {
		return fmt.Sprintf("%d", int64(v))
	}
	return fmt.Sprintf("%.3g", v)
}

var pageTemplate = template.Must(template.New("page").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>kauth apf simulate</title>
<style>
body{font:14px system-ui,sans-serif;margin:24px;color:#222}
table{border-collapse:collapse;margin:8px 0 24px}td,th{padding:3px 10px;border-bottom:1px solid #ddd;text-align:right}
td:first-child,th:first-child{text-align:left}.row{display:flex;flex-wrap:wrap;gap:12px}
svg{background:#fafafa;border:1px solid #eee}.t{font:600 12px sans-serif}.l{font:11px sans-serif;fill:#555}.ax{stroke:#999}
</style></head><body>
<h1>APF simulation</h1>
<p>Server concurrency limit {{.R.ServerConcurrencyLimit}}, duration {{.R.Duration}}, queue-wait limit {{.R.QueueWaitLimit}}, simulated {{printf "%.3f" .R.SimulatedSeconds}} s.</p>
<h2>Clients</h2>
<table><tr><th>client</th><th>flow schema</th><th>priority level</th><th>arrived</th><th>dispatched</th><th>rejected</th><th>queue-full</th><th>time-out</th><th>concurrency-limit</th><th>wait p50 (s)</th><th>wait p99 (s)</th><th>wait max (s)</th></tr>
{{range .R.Clients}}<tr><td>{{.Name}}</td><td>{{.FlowSchema}}</td><td>{{.PriorityLevel}}</td><td>{{.Arrived}}</td><td>{{.Dispatched}}</td><td>{{.Rejected}}</td><td>{{.RejectReasons.QueueFull}}</td><td>{{.RejectReasons.TimeOut}}</td><td>{{.RejectReasons.ConcurrencyLimit}}</td><td>{{printf "%.4f" .WaitSeconds.P50}}</td><td>{{printf "%.4f" .WaitSeconds.P99}}</td><td>{{printf "%.4f" .WaitSeconds.Max}}</td></tr>
{{end}}</table>
{{with .R.Compare}}{{with .MaxInflight}}<h2>Same workload through max-in-flight ({{.MaxRequestsInflight}} read-only, {{.MaxMutatingRequestsInflight}} mutating)</h2>
<table><tr><th>client</th><th>arrived</th><th>dispatched</th><th>rejected</th></tr>
{{range .Clients}}<tr><td>{{.Name}}</td><td>{{.Arrived}}</td><td>{{.Dispatched}}</td><td>{{.Rejected}}</td></tr>
{{end}}</table>{{end}}{{end}}
<div class=row>{{range .Client}}{{.}}{{end}}</div>
<h2>Priority levels</h2>
<table><tr><th>level</th><th>nominal</th><th>lendable</th><th>limit min</th><th>limit max</th><th>dispatched</th><th>rejected</th><th>max seats in use</th><th>max queued</th></tr>
{{range .R.PriorityLevels}}<tr><td>{{.Name}}</td><td>{{.NominalConcurrencyLimit}}</td><td>{{.LendableConcurrencyLimit}}</td><td>{{.CurrentConcurrencyLimit.Min}}</td><td>{{.CurrentConcurrencyLimit.Max}}</td><td>{{.Dispatched}}</td><td>{{.Rejected}}</td><td>{{.MaxSeatsInUse}}</td><td>{{.MaxQueued}}</td></tr>
{{end}}</table>
{{range .Levels}}{{.}}{{end}}
</body></html>
`))
