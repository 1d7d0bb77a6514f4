package output

import (
	"bytes"
	"io"
	"os"
	"strconv"

	"golang.org/x/term"
)

// Streams are the three standard streams of one invocation together with
// the decisions made about them once, at start: whether each output is a
// terminal and whether colour is on.
type Streams struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer

	// OutTTY and ErrTTY tell whether stdout and stderr are terminals.
	OutTTY bool
	ErrTTY bool
	// Color enables ANSI styling on stdout; ErrColor on stderr.
	Color    bool
	ErrColor bool
	// Width is the terminal width of stdout, or 0 when unknown.
	Width int
}

// System builds Streams from the process's standard files and environment.
func System(lookupEnv func(string) (string, bool)) *Streams {
	outTTY := isTerminal(os.Stdout)
	errTTY := isTerminal(os.Stderr)
	s := &Streams{
		In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr,
		OutTTY: outTTY, ErrTTY: errTTY,
		Color:    ColorEnabled(outTTY, lookupEnv),
		ErrColor: ColorEnabled(errTTY, lookupEnv),
	}
	if outTTY {
		if w, _, err := term.GetSize(int(os.Stdout.Fd())); err == nil {
			s.Width = w
		}
	}
	return s
}

// Test returns Streams over in-memory buffers: no terminal, no colour.
// The buffers are returned for assertions.
func Test() (s *Streams, in, out, errOut *bytes.Buffer) {
	in, out, errOut = &bytes.Buffer{}, &bytes.Buffer{}, &bytes.Buffer{}
	return &Streams{In: in, Out: out, ErrOut: errOut}, in, out, errOut
}

// DisableColor turns colour off on both outputs (the --no-color flag).
func (s *Streams) DisableColor() {
	s.Color = false
	s.ErrColor = false
}

func isTerminal(f *os.File) bool {
	return term.IsTerminal(int(f.Fd()))
}

// ColorEnabled decides whether output to a stream may carry colour. Colour
// is on for a terminal unless NO_COLOR is set to any non-empty value (per
// no-color.org, not a boolean parse) or TERM is "dumb". CLICOLOR_FORCE set
// to a non-zero value turns it on even for pipes.
func ColorEnabled(isTTY bool, lookupEnv func(string) (string, bool)) bool {
	if v, ok := lookupEnv("NO_COLOR"); ok && v != "" {
		return false
	}
	if v, ok := lookupEnv("CLICOLOR_FORCE"); ok && v != "" {
		if n, err := strconv.Atoi(v); err != nil || n != 0 {
			return true
		}
	}
	if !isTTY {
		return false
	}
	if v, _ := lookupEnv("TERM"); v == "dumb" {
		return false
	}
	return true
}
