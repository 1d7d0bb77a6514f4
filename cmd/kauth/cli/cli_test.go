package cli

import (
	"errors"
	"fmt"
	"testing"
	"time"
)

func TestParseDuration(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		want    time.Duration
		wantErr bool
	}{
		{in: "90m", want: 90 * time.Minute},
		{in: "12h", want: 12 * time.Hour},
		{in: "30d", want: 30 * 24 * time.Hour},
		{in: "1.5d", want: 36 * time.Hour},
		{in: "10y", want: 10 * 365 * 24 * time.Hour},
		{in: "", wantErr: true},
		{in: "ten days", wantErr: true},
		{in: "-3d", wantErr: true},
		{in: "d", wantErr: true},
		{in: "292y", want: 292 * 365 * 24 * time.Hour},
		{in: "1000y", wantErr: true},
		{in: "300y", wantErr: true},
		{in: "NaNd", wantErr: true},
		{in: "Infd", wantErr: true},
		{in: "+Infy", wantErr: true},
	}
	for _, tc := range tests {
		got, err := ParseDuration(tc.in)
		if (err != nil) != tc.wantErr || got != tc.want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v, error %v", tc.in, got, err, tc.want, tc.wantErr)
		}
	}
}

func TestFormatDuration(t *testing.T) {
	t.Parallel()
	for d, want := range map[time.Duration]string{
		364 * 24 * time.Hour: "364d",
		12 * time.Hour:       "12h0m0s",
		25 * time.Hour:       "25h0m0s",
	} {
		if got := FormatDuration(d); got != want {
			t.Errorf("FormatDuration(%v) = %q, want %q", d, got, want)
		}
	}
}

func TestExitCode(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		err  error
		want int
	}{
		{"nil", nil, 0},
		{"result", &ResultError{Code: 1}, 1},
		{"wrapped usage", fmt.Errorf("loading: %w", UsageErrorf("bad")), 2},
		{"input", InputError(errors.New("f.yaml:1: bad")), 2},
		{"custom", &ExitError{Code: 2, Err: errors.New("escalation")}, 2},
		{"runtime", errors.New("dial tcp: refused"), 3},
		{"hint keeps the code", WithHint(UsageErrorf("x"), "try y"), 2},
	}
	for _, tc := range tests {
		if got := ExitCode(tc.err); got != tc.want {
			t.Errorf("%s: ExitCode() = %d, want %d", tc.name, got, tc.want)
		}
	}
	if h := Hints(fmt.Errorf("a: %w", WithHint(errors.New("b"), "do c"))); len(h) != 1 || h[0] != "do c" {
		t.Errorf("Hints() = %v", h)
	}
}
