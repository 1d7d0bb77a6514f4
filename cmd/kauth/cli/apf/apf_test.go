package apf

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/spf13/cobra"

	"github.com/kauth/kauth/cmd/kauth/cli"
	"github.com/kauth/kauth/internal/apf"
	"github.com/kauth/kauth/internal/output"
)

func testFactory(format string) (*cli.Factory, *strings.Builder) {
	s, _, _, _ := output.Test()
	var o, e strings.Builder
	s.Out, s.ErrOut = &o, &e
	return &cli.Factory{IO: s, Output: format, Clock: time.Now, Getenv: func(string) string { return "" }}, &o
}

func parse(cmd *cobra.Command, argv ...string) error {
	cmd.SetArgs(argv)
	cmd.SilenceErrors, cmd.SilenceUsage = true, true
	cmd.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &cli.UsageError{Err: err} })
	return cmd.ExecuteContext(context.Background())
}

func TestNewClassifyCmd(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		argv    []string
		want    apf.Request
		wantErr string
	}{
		{
			name: "resource with group, subresource and name",
			argv: []string{"--as", "bob", "--as-group", "dev", "-n", "ns", "get", "deployments.apps/scale", "web"},
			want: apf.Request{User: "bob", Groups: []string{"dev", "system:authenticated"}, Verb: "get", APIGroup: "apps", Resource: "deployments", Subresource: "scale", Namespace: "ns", Name: "web"},
		},
		{
			name: "service account groups implied",
			argv: []string{"--as", "system:serviceaccount:ci:r", "LIST", "pods"},
			want: apf.Request{User: "system:serviceaccount:ci:r", Groups: []string{"system:serviceaccounts", "system:serviceaccounts:ci", "system:authenticated"}, Verb: "list", Resource: "pods"},
		},
		{
			name: "non-resource",
			argv: []string{"--as", "system:anonymous", "get", "/healthz"},
			want: apf.Request{User: "system:anonymous", Groups: []string{"system:unauthenticated"}, Verb: "get", NonResourceURL: "/healthz"},
		},
		{name: "no user", argv: []string{"get", "pods"}, wantErr: "--as is required"},
		{name: "path with name", argv: []string{"--as", "a", "get", "/x", "y"}, wantErr: "takes no NAME"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f, _ := testFactory("table")
			var got apf.Request
			err := parse(newClassifyCmd(f, func(o *classifyOptions) error { got = o.Request; return nil }), tc.argv...)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || cli.ExitCode(err) != cli.ExitUsage {
					t.Fatalf("error = %v, want exit 2 containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("request mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestNewSimulateCmd(t *testing.T) {
	t.Parallel()
	existing := filepath.Join(t.TempDir(), "r.html")
	if err := os.WriteFile(existing, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		argv    []string
		want    simulateOptions
		wantErr string
	}{
		{name: "defaults", argv: []string{"-f", "w.yaml"}, want: simulateOptions{Workload: "w.yaml", Format: output.Table}},
		{
			name: "compare with limits", argv: []string{"-f", "w.yaml", "--compare", "max-inflight", "--max-requests-inflight", "4", "--max-mutating-requests-inflight", "2", "--config", "a", "--config", "b"},
			want: simulateOptions{Workload: "w.yaml", Compare: "max-inflight", MaxRequestsInflight: 4, MaxMutatingRequestsInflight: 2, Config: []string{"a", "b"}, Format: output.Table},
		},
		{name: "no workload", argv: nil, wantErr: "-f WORKLOAD is required"},
		{name: "limits without compare", argv: []string{"-f", "w", "--max-requests-inflight", "3"}, wantErr: "need --compare"},
		{name: "unknown compare", argv: []string{"-f", "w", "--compare", "x"}, wantErr: "must be one of max-inflight"},
		{name: "existing html", argv: []string{"-f", "w", "--html", existing}, wantErr: "file exists"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f, _ := testFactory("")
			var got simulateOptions
			err := parse(newSimulateCmd(f, func(o *simulateOptions) error { got = *o; return nil }), tc.argv...)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || cli.ExitCode(err) != cli.ExitUsage {
					t.Fatalf("error = %v, want exit 2 containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got, cmpopts.IgnoreFields(simulateOptions{}, "IO")); diff != "" {
				t.Errorf("options mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRunLimits(t *testing.T) {
	t.Parallel()
	f, out := testFactory("json")
	if err := parse(newLimitsCmd(f, nil), "--server-concurrency-limit", "100"); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"serverConcurrencyLimit": 100`, `"name": "workload-low"`, `"nominalConcurrencyLimit": 41`} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %s:\n%s", want, out.String())
		}
	}
	f, _ = testFactory("table")
	if err := parse(newLimitsCmd(f, nil), "--server-concurrency-limit", "-1"); cli.ExitCode(err) != cli.ExitUsage {
		t.Errorf("negative limit: exit %d, want 2", cli.ExitCode(err))
	}
}

func TestRunLintDefaults(t *testing.T) {
	t.Parallel()
	f, out := testFactory("table")
	if err := parse(newLintCmd(f, nil)); err != nil {
		t.Fatalf("lint of the defaults: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "no findings") {
		t.Errorf("output = %q, want no findings", out.String())
	}
}
