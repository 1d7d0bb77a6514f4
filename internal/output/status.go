package output

import (
	"fmt"
	"io"
	"sync"
	"time"
)

// Success prints a one-line summary of a mutating command on stderr, only
// when stderr is a terminal: a pipe gets no conversation.
func Success(s *Streams, format string, args ...any) {
	if !s.ErrTTY {
		return
	}
	mark := Colorize(s.ErrOut, s.ErrColor, Good, "✓")
	fmt.Fprintf(s.ErrOut, "%s %s\n", mark, fmt.Sprintf(format, args...))
}

// Warning prints a warning line on stderr, always.
func Warning(s *Streams, format string, args ...any) {
	label := Colorize(s.ErrOut, s.ErrColor, Warn, "kauth: warning:")
	fmt.Fprintf(s.ErrOut, "%s %s\n", label, fmt.Sprintf(format, args...))
}

// Info prints a conversational line on stderr, always (hints such as
// "export KUBECONFIG=…" that a user needs even in a pipe).
func Info(s *Streams, format string, args ...any) {
	fmt.Fprintf(s.ErrOut, format+"\n", args...)
}

// Progress reports the progress of long work on stderr when stderr is a
// terminal; otherwise all its methods do nothing.
type Progress struct {
	w       io.Writer
	label   string
	total   int
	on      bool
	mu      sync.Mutex
	done    int
	last    time.Time
	started bool
}

// NewProgress starts a progress line for total units of work (0: unknown).
func NewProgress(s *Streams, label string, total int) *Progress {
	return &Progress{w: s.ErrOut, label: label, total: total, on: s.ErrTTY}
}

// Add records n more units done and redraws at most ten times a second.
func (p *Progress) Add(n int) {
	if p == nil || !p.on {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.done += n
	now := time.Now()
	if p.started && now.Sub(p.last) < 100*time.Millisecond && p.done != p.total {
		return
	}
	p.started, p.last = true, now
	if p.total > 0 {
		fmt.Fprintf(p.w, "\r%s %d/%d (%d%%)", p.label, p.done, p.total, p.done*100/p.total)
	} else {
		fmt.Fprintf(p.w, "\r%s %d", p.label, p.done)
	}
}

// Done clears the progress line.
func (p *Progress) Done() {
	if p == nil || !p.on || !p.started {
		return
	}
	fmt.Fprint(p.w, "\r\x1b[2K")
}
