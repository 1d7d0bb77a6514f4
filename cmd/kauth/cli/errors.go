package cli

import (
	"errors"
	"fmt"
)

// Exit codes. They are documented in docs/exit-codes.md and stable: CI
// depends on them.
const (
	ExitOK      = 0 // success
	ExitResult  = 1 // a negative answer or findings, where the command defines one
	ExitUsage   = 2 // usage or input errors
	ExitRuntime = 3 // runtime failures
)

// UsageError is a mistake in the command line or its input files: exit 2.
type UsageError struct {
	Err   error
	Hints []string
	// Input marks a bad input file or value rather than a command-line
	// mistake: it names its file, so no "--help" line follows it.
	Input bool
}

func (e *UsageError) Error() string { return e.Err.Error() }
func (e *UsageError) Unwrap() error { return e.Err }

// UsageErrorf formats a usage error.
func UsageErrorf(format string, args ...any) error {
	return &UsageError{Err: fmt.Errorf(format, args...)}
}

// InputError marks err (a bad file, a malformed value) as exit 2.
func InputError(err error) error {
	if err == nil {
		return nil
	}
	return &UsageError{Err: err, Input: true}
}

// ResultError is a negative answer: the command printed its result and
// exits with Code (1 unless a command defines more). It prints no error
// line unless Msg is set.
type ResultError struct {
	Code int
	Msg  string
}

func (e *ResultError) Error() string {
	if e.Msg != "" {
		return e.Msg
	}
	return fmt.Sprintf("exit status %d", e.Code)
}

// ExitError carries a command-defined exit code with an error to print.
type ExitError struct {
	Code int
	Err  error
}

func (e *ExitError) Error() string { return e.Err.Error() }
func (e *ExitError) Unwrap() error { return e.Err }

// HintError adds hint lines, printed as "kauth: hint: …", to err.
type HintError struct {
	Err   error
	Hints []string
}

func (e *HintError) Error() string { return e.Err.Error() }
func (e *HintError) Unwrap() error { return e.Err }

// WithHint attaches hints to err.
func WithHint(err error, hints ...string) error {
	if err == nil {
		return nil
	}
	return &HintError{Err: err, Hints: hints}
}

// ExitCode maps an error to the process exit code. It is the only switch
// from error to code.
func ExitCode(err error) int {
	if err == nil {
		return ExitOK
	}
	var re *ResultError
	if errors.As(err, &re) {
		return re.Code
	}
	var ee *ExitError
	if errors.As(err, &ee) {
		return ee.Code
	}
	var ue *UsageError
	if errors.As(err, &ue) {
		return ExitUsage
	}
	return ExitRuntime
}

// Hints collects the hint lines attached anywhere in err's chain.
func Hints(err error) []string {
	var hints []string
	for e := err; e != nil; e = errors.Unwrap(e) {
		switch h := e.(type) {
		case *HintError:
			hints = append(hints, h.Hints...)
		case *UsageError:
			hints = append(hints, h.Hints...)
		}
	}
	return hints
}
