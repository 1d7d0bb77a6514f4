package flowcontrol

import (
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
)

func dumpString(c *Controller, path string) string {
	w := httptest.NewRecorder()
	c.DebugHandler().ServeHTTP(w, httptest.NewRequest("GET", path, nil))
	return w.Body.String()
}

func itoa(i int) string { return strconv.Itoa(i) }

func contains(s, sub string) bool { return strings.Contains(s, sub) }

func countLines(s, prefix string) int {
	n := 0
	for _, l := range strings.Split(s, "\n") {
		if strings.HasPrefix(l, prefix) {
			n++
		}
	}
	return n
}

var padding = regexp.MustCompile(`,[ \t]+`)

// squash removes the tab writer's padding: ",<spaces>" becomes ", ".
func squash(s string) string { return padding.ReplaceAllString(s, ", ") }
