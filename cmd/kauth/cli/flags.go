package cli

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// ParseDuration parses a Go duration with two more units: d (24h) and
// y (365d), as in "90d" or "10y". Every --expiry, --ttl and --warn flag
// uses it, so they all read the same way.
func ParseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, fmt.Errorf("empty duration")
	}
	for _, u := range []struct {
		suffix string
		unit   time.Duration
	}{{"d", 24 * time.Hour}, {"y", 365 * 24 * time.Hour}} {
		if rest, ok := strings.CutSuffix(s, u.suffix); ok {
			n, err := strconv.ParseFloat(rest, 64)
			if err != nil || n < 0 || math.IsNaN(n) || math.IsInf(n, 0) {
				return 0, fmt.Errorf("%q is not a duration (examples: 90m, 12h, 30d, 1y)", s)
			}
			if n*float64(u.unit) >= math.MaxInt64 {
				return 0, fmt.Errorf("%q is too long: a duration is at most about 292y", s)
			}
			return time.Duration(n * float64(u.unit)), nil
		}
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("%q is not a duration (examples: 90m, 12h, 30d, 1y)", s)
	}
	return d, nil
}

// FormatDuration prints a duration the way ParseDuration reads it, using
// days for long spans ("364d", "12h0m0s").
func FormatDuration(d time.Duration) string {
	if d >= 48*time.Hour && d%(24*time.Hour) == 0 {
		return fmt.Sprintf("%dd", d/(24*time.Hour))
	}
	return d.String()
}

// DurationValue is a pflag.Value for ParseDuration durations.
type DurationValue struct{ D *time.Duration }

// DurationVar defines a duration flag that accepts d and y suffixes.
func DurationVar(fs *pflag.FlagSet, p *time.Duration, name string, def time.Duration, usage string) {
	*p = def
	fs.Var(&DurationValue{D: p}, name, usage)
}

func (v *DurationValue) String() string {
	if v.D == nil {
		return ""
	}
	return FormatDuration(*v.D)
}

// Set parses s.
func (v *DurationValue) Set(s string) error {
	d, err := ParseDuration(s)
	if err != nil {
		return err
	}
	*v.D = d
	return nil
}

// Type names the value in help.
func (*DurationValue) Type() string { return "duration" }

// EnumValue is a string flag limited to a set of values; help and errors
// list them.
type EnumValue struct {
	P       *string
	Allowed []string
}

// EnumVar defines an enum flag and registers its completions.
func EnumVar(cmd *cobra.Command, p *string, name, def string, allowed []string, usage string) {
	*p = def
	cmd.Flags().Var(&EnumValue{P: p, Allowed: allowed}, name, fmt.Sprintf("%s (one of: %s)", usage, strings.Join(allowed, ", ")))
	_ = cmd.RegisterFlagCompletionFunc(name, cobra.FixedCompletions(allowed, cobra.ShellCompDirectiveNoFileComp))
}

func (v *EnumValue) String() string { return *v.P }

// Set checks s against the allowed values.
func (v *EnumValue) Set(s string) error {
	if !slices.Contains(v.Allowed, s) {
		return fmt.Errorf("must be one of %s", strings.Join(v.Allowed, ", "))
	}
	*v.P = s
	return nil
}

// Type names the value in help.
func (*EnumValue) Type() string { return "string" }

// ForceFlag defines --force, which every command that could overwrite a
// file takes.
func ForceFlag(cmd *cobra.Command, p *bool) {
	cmd.Flags().BoolVar(p, "force", false, "overwrite files that already exist")
}

// FromFlag defines the repeatable --from PATH flag of commands that load
// Kubernetes objects: a file, a folder (recursively), - for stdin, or
// git:REF:PATH.
func FromFlag(cmd *cobra.Command, p *[]string) {
	cmd.Flags().StringArrayVar(p, "from", nil, "load objects from PATH: a file, a folder (recursive), - for stdin, or git:REF:PATH (repeatable)")
}

// WrapArgs turns a cobra positional-argument validator into one whose
// errors are usage errors (exit 2).
func WrapArgs(v cobra.PositionalArgs) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if err := v(cmd, args); err != nil {
			return &UsageError{Err: err}
		}
		return nil
	}
}

// CommandAfterDash returns the command a serving command runs once it is
// ready, given as "kauth ... -- COMMAND [ARG...]": nil without arguments,
// and a usage error for an argument that does not follow "--".
func CommandAfterDash(cmd *cobra.Command, args []string) ([]string, error) {
	if len(args) == 0 {
		return nil, nil
	}
	if cmd.ArgsLenAtDash() != 0 {
		return nil, UsageErrorf("unexpected argument %q: put a command to run after \"--\"", args[0])
	}
	return args, nil
}
