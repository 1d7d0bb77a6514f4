package output

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite golden files")

func TestColorEnabled(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		tty  bool
		env  map[string]string
		want bool
	}{
		{"terminal", true, nil, true},
		{"pipe", false, nil, false},
		{"NO_COLOR set", true, map[string]string{"NO_COLOR": "1"}, false},
		{"NO_COLOR any value, even false", true, map[string]string{"NO_COLOR": "false"}, false},
		{"NO_COLOR empty is unset", true, map[string]string{"NO_COLOR": ""}, true},
		{"dumb terminal", true, map[string]string{"TERM": "dumb"}, false},
		{"CLICOLOR_FORCE on a pipe", false, map[string]string{"CLICOLOR_FORCE": "1"}, true},
		{"CLICOLOR_FORCE=0", false, map[string]string{"CLICOLOR_FORCE": "0"}, false},
		{"NO_COLOR beats CLICOLOR_FORCE", false, map[string]string{"CLICOLOR_FORCE": "1", "NO_COLOR": "1"}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			lookup := func(k string) (string, bool) { v, ok := tc.env[k]; return v, ok }
			if got := ColorEnabled(tc.tty, lookup); got != tc.want {
				t.Errorf("ColorEnabled(%v, %v) = %v, want %v", tc.tty, tc.env, got, tc.want)
			}
		})
	}
}

func sampleTable() *TableView {
	t := &TableView{Headers: []string{"USER", "GROUPS", "EXPIRES"}}
	t.AddRowLevel(Good, "alice", "dev,qa", "2027-03-01T00:00:00Z")
	t.AddRowLevel(Bad, "bob", "", "2026-01-01T00:00:00Z")
	t.Rows = append(t.Rows, Row{Cells: []string{"carol-with-a-long-name", "ops", "soon"}, Levels: []Level{Plain, Dim, Warn}})
	t.Footer = []string{"3 certificates"}
	return t
}

func TestRenderTableGolden(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		color bool
		tty   bool
		width int
	}{
		{"plain-pipe", false, false, 0},
		{"plain-tty", false, true, 80},
		{"color-tty", true, true, 80},
		{"color-narrow", true, true, 20},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s, _, out, _ := Test()
			s.Color, s.OutTTY, s.Width = tc.color, tc.tty, tc.width
			if err := RenderTable(s, sampleTable()); err != nil {
				t.Fatal(err)
			}
			golden(t, "TestRenderTable-"+tc.name, out.Bytes())
			if !tc.color && bytes.Contains(out.Bytes(), []byte("\x1b[")) {
				t.Errorf("ANSI escape in colourless output:\n%q", out)
			}
		})
	}
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading golden file (run with -update to create it): %v", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s mismatch (-want +got):\n%s", name, diff)
	}
}

type sample struct {
	Name   string   `json:"name"`
	Groups []string `json:"groups"`
}

func TestPrintFormatsCarrySameContent(t *testing.T) {
	t.Parallel()
	v := sample{Name: "alice", Groups: []string{"dev"}}
	for format, want := range map[Format]string{
		JSON: "{\n  \"name\": \"alice\",\n  \"groups\": [\n    \"dev\"\n  ]\n}\n",
		YAML: "groups:\n- dev\nname: alice\n",
	} {
		s, _, out, _ := Test()
		if err := Print(s, format, v, nil); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, out.String()); diff != "" {
			t.Errorf("Print(%s) mismatch (-want +got):\n%s", format, diff)
		}
	}
}

func TestParseFormat(t *testing.T) {
	t.Parallel()
	if f, err := ParseFormat("", CommonFormats); err != nil || f != Table {
		t.Errorf("ParseFormat(\"\") = %q, %v", f, err)
	}
	if f, err := ParseFormat("JSON", CommonFormats); err != nil || f != JSON {
		t.Errorf("ParseFormat(JSON) = %q, %v", f, err)
	}
	_, err := ParseFormat("xml", CommonFormats)
	if err == nil || err.Error() != `--output "xml": must be one of table, json, yaml` {
		t.Errorf("ParseFormat(xml) error = %v", err)
	}
}

func TestStatusLinesOnlyOnTerminal(t *testing.T) {
	t.Parallel()
	s, _, _, errOut := Test()
	Success(s, "wrote %s", "a.crt")
	p := NewProgress(s, "loading", 10)
	p.Add(5)
	p.Done()
	if errOut.Len() != 0 {
		t.Errorf("a pipe got conversation: %q", errOut)
	}
	s.ErrTTY = true
	Success(s, "wrote %s", "a.crt")
	if !strings.Contains(errOut.String(), "✓ wrote a.crt") {
		t.Errorf("terminal summary = %q", errOut)
	}
}
