package output

import (
	"io"
	"strings"

	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/lipgloss/table"
	"github.com/mattn/go-runewidth"
	"github.com/muesli/termenv"
)

// Level gives a row or cell its meaning, which colour only highlights.
type Level int

// Levels, from plain to alarming.
const (
	Plain Level = iota
	Dim         // inherited or less important
	Good        // allowed, valid
	Warn        // expiring soon, warning findings
	Bad         // denied, errors, expired
)

// Row is one table row. Levels, when set, colour single cells; otherwise
// Level colours the whole row.
type Row struct {
	Cells  []string
	Level  Level
	Levels []Level
}

// TableView is what a command hands to the renderer: upper-case headers and
// rows already sorted.
type TableView struct {
	Headers []string
	Rows    []Row
	// Footer lines are printed after the table (on stdout), e.g. totals.
	Footer []string
}

// AddRow appends a plain row.
func (t *TableView) AddRow(cells ...string) {
	t.Rows = append(t.Rows, Row{Cells: cells})
}

// AddRowLevel appends a row with a level.
func (t *TableView) AddRowLevel(level Level, cells ...string) {
	t.Rows = append(t.Rows, Row{Cells: cells, Level: level})
}

// RenderTable writes the table: with lipgloss and colour on a colour
// terminal, as plain space-aligned columns otherwise (no ANSI, no borders,
// no truncation, header kept as kubectl users expect).
func RenderTable(s *Streams, t *TableView) error {
	var out string
	if s.Color {
		out = styledTable(s.Out, t, s.Width)
	} else {
		out = plainTable(t)
	}
	// One builder: appending each footer line to out would copy the whole
	// table once per line.
	var b strings.Builder
	b.Grow(len(out) + len(t.Footer)*64)
	b.WriteString(out)
	for _, f := range t.Footer {
		b.WriteString(f)
		b.WriteByte('\n')
	}
	_, err := io.WriteString(s.Out, b.String())
	return err
}

func plainTable(t *TableView) string {
	widths := make([]int, len(t.Headers))
	measure := func(cells []string) {
		for i, c := range cells {
			if i < len(widths) {
				widths[i] = max(widths[i], textWidth(c))
			}
		}
	}
	measure(t.Headers)
	for _, r := range t.Rows {
		measure(r.Cells)
	}
	var b strings.Builder
	line := func(cells []string) {
		for i := range widths {
			c := ""
			if i < len(cells) {
				c = cells[i]
			}
			b.WriteString(c)
			if i < len(widths)-1 {
				b.WriteString(strings.Repeat(" ", widths[i]-textWidth(c)+3))
			}
		}
		b.WriteString("\n")
	}
	line(t.Headers)
	for _, r := range t.Rows {
		line(r.Cells)
	}
	return b.String()
}

// textWidth is runewidth.StringWidth, which segments text into grapheme
// clusters, with a fast path for printable ASCII (one column a byte).
func textWidth(s string) int {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f {
			return runewidth.StringWidth(s)
		}
	}
	return len(s)
}

// Renderer returns a lipgloss renderer for w whose colour profile follows
// our own decision, not lipgloss's detection.
func Renderer(w io.Writer, color bool) *lipgloss.Renderer {
	r := lipgloss.NewRenderer(w)
	if color {
		r.SetColorProfile(termenv.ANSI256)
	} else {
		r.SetColorProfile(termenv.Ascii)
	}
	return r
}

func styledTable(w io.Writer, t *TableView, width int) string {
	r := Renderer(w, true)
	header := r.NewStyle().Bold(true).PaddingRight(2)
	cell := r.NewStyle().PaddingRight(2)
	rows := make([][]string, len(t.Rows))
	for i, row := range t.Rows {
		rows[i] = row.Cells
	}
	tbl := table.New().
		Border(lipgloss.HiddenBorder()).
		BorderTop(false).BorderBottom(false).BorderLeft(false).BorderRight(false).
		BorderColumn(false).BorderHeader(false).
		Headers(t.Headers...).
		Rows(rows...).
		StyleFunc(func(row, col int) lipgloss.Style {
			if row == table.HeaderRow {
				return header
			}
			if row < 0 || row >= len(t.Rows) {
				return cell
			}
			return levelStyle(cell, cellLevel(t.Rows[row], col))
		})
	if width > 0 && width < lipgloss.Width(tbl.Render()) {
		tbl = tbl.Width(width)
	}
	return tbl.Render() + "\n"
}

func cellLevel(r Row, col int) Level {
	if col < len(r.Levels) && r.Levels[col] != Plain {
		return r.Levels[col]
	}
	return r.Level
}

func levelStyle(base lipgloss.Style, l Level) lipgloss.Style {
	switch l {
	case Dim:
		return base.Faint(true)
	case Good:
		return base.Foreground(lipgloss.Color("2"))
	case Warn:
		return base.Foreground(lipgloss.Color("3"))
	case Bad:
		return base.Foreground(lipgloss.Color("1"))
	default:
		return base
	}
}

// Colorize styles text for a stream whose colour decision is color.
func Colorize(w io.Writer, color bool, l Level, text string) string {
	if !color {
		return text
	}
	return levelStyle(Renderer(w, true).NewStyle(), l).Render(text)
}
