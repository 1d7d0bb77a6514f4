package apf

import (
	"encoding/xml"
	"regexp"
	"strings"
	"testing"
)

// TestRenderHTML: the page is self-contained (no script, no external
// resource), names every client, and every chart is well-formed SVG.
func TestRenderHTML(t *testing.T) {
	t.Parallel()
	w, cfg := loadTestWorkload(t, "fidelity-overload.yaml")
	rep, err := Simulate(w, cfg, SimulateOptions{Series: true, CompareMaxInflight: true})
	if err != nil {
		t.Fatal(err)
	}
	page, err := RenderHTML(rep)
	if err != nil {
		t.Fatal(err)
	}
	s := string(page)
	for _, bad := range []string{"<script", "src=", "href=", "@import"} {
		if strings.Contains(s, bad) {
			t.Errorf("page contains %q: it must be self-contained", bad)
		}
	}
	for _, c := range w.Clients {
		if !strings.Contains(s, "<td>"+c.Name+"</td>") {
			t.Errorf("page does not list client %s", c.Name)
		}
	}
	svgs := regexp.MustCompile(`(?s)<svg.*?</svg>`).FindAllString(s, -1)
	if len(svgs) < 7 {
		t.Fatalf("page has %d charts, want at least 7 (3 per client set, 4 per busy level)", len(svgs))
	}
	for i, svg := range svgs {
		d := xml.NewDecoder(strings.NewReader(svg))
		for {
			if _, err := d.Token(); err != nil {
				if err.Error() != "EOF" {
					t.Errorf("chart %d is not well-formed XML: %v", i, err)
				}
				break
			}
		}
	}
	if _, err := RenderHTML(&Report{}); err == nil {
		t.Error("RenderHTML() without series succeeded, want an error")
	}
}
