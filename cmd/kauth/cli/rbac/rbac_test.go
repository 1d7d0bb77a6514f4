package rbac

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/spf13/cobra"

	"github.com/kauth/kauth/cmd/kauth/cli"
	"github.com/kauth/kauth/internal/output"
)

const testPolicy = `apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: secret-reader}
rules: [{apiGroups: [""], resources: [secrets], verbs: [get, list]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: alice-reads, namespace: dev}
subjects: [{kind: User, name: alice}]
roleRef: {kind: ClusterRole, name: secret-reader, apiGroup: rbac.authorization.k8s.io}
`

var testNow = time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)

func testFactory(format string) (*cli.Factory, *strings.Builder) {
	s, _, _, _ := output.Test()
	var out strings.Builder
	s.Out = &out
	return &cli.Factory{IO: s, Output: format, Clock: func() time.Time { return testNow }, Getenv: func(string) string { return "" }}, &out
}

func write(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func parse(cmd *cobra.Command, argv ...string) error {
	cmd.SetArgs(argv)
	cmd.SilenceErrors, cmd.SilenceUsage = true, true
	cmd.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &cli.UsageError{Err: err} })
	return cmd.Execute()
}

func TestNewLintCmd(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		argv     []string
		output   string
		want     lintOptions
		wantCode int
	}{
		{"defaults", []string{"rbac/"}, "", lintOptions{Paths: []string{"rbac/"}, FailOn: "error", Format: output.Table}, 0},
		{"flags", []string{"a/", "b.yaml", "--bootstrap-policy", "--config", "c.yaml", "--fail-on", "info"}, "sarif",
			lintOptions{Paths: []string{"a/", "b.yaml"}, Bootstrap: true, Config: "c.yaml", FailOn: "info", Format: "sarif"}, 0},
		{"list rules needs no path", []string{"--list-rules"}, "json", lintOptions{Paths: []string{}, ListRules: true, FailOn: "error", Format: output.JSON}, 0},
		{"no path", nil, "", lintOptions{}, cli.ExitUsage},
		{"bad fail-on", []string{"a/", "--fail-on", "never"}, "", lintOptions{}, cli.ExitUsage},
		{"bad format", []string{"a/"}, "markdown", lintOptions{}, cli.ExitUsage},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f, _ := testFactory(tc.output)
			var got *lintOptions
			err := parse(newLintCmd(f, func(o *lintOptions) error { got = o; return nil }), tc.argv...)
			if code := cli.ExitCode(err); code != tc.wantCode {
				t.Fatalf("exit code = %d (%v), want %d", code, err, tc.wantCode)
			}
			if tc.wantCode != 0 {
				return
			}
			got.IO, got.Clock = nil, nil
			if d := cmp.Diff(tc.want, *got); d != "" {
				t.Errorf("options mismatch (-want +got):\n%s", d)
			}
		})
	}
}

func TestRunLint(t *testing.T) {
	t.Parallel()
	f, out := testFactory("github")
	o := &lintOptions{IO: f.IO, Clock: f.Clock, Paths: []string{write(t, "p.yaml", testPolicy)}, FailOn: "warning", Format: formatGitHub}
	err := runLint(context.Background(), o)
	if code := cli.ExitCode(err); code != cli.ExitResult {
		t.Fatalf("exit code = %d (%v), want 1", code, err)
	}
	if !strings.HasPrefix(out.String(), "::warning file=") || !strings.Contains(out.String(), "title=kauth secrets-read-namespace::") {
		t.Errorf("output = %q, want a github warning annotation for secrets-read-namespace", out.String())
	}
	o.FailOn = "error"
	if err := runLint(context.Background(), o); err != nil {
		t.Errorf("fail-on error with only warnings: %v", err)
	}
}

func TestNewDiffCmd(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		argv     []string
		output   string
		want     diffOptions
		wantCode int
	}{
		{"defaults", []string{"git:origin/main:rbac/", "rbac/"}, "", diffOptions{Old: "git:origin/main:rbac/", New: "rbac/", Format: output.Table}, 0},
		{"flags", []string{"live", "rbac/", "--bootstrap-policy", "--exit-code"}, "markdown", diffOptions{Old: "live", New: "rbac/", Bootstrap: true, ExitCode: true, Format: "markdown"}, 0},
		{"one side", []string{"rbac/"}, "", diffOptions{}, cli.ExitUsage},
		{"both stdin", []string{"-", "-"}, "", diffOptions{}, cli.ExitUsage},
		{"bad format", []string{"a", "b"}, "sarif", diffOptions{}, cli.ExitUsage},
		{"one side, --exit-code", []string{"rbac/", "--exit-code"}, "", diffOptions{}, cli.ExitRuntime},
		{"both stdin, --exit-code", []string{"-", "-", "--exit-code"}, "", diffOptions{}, cli.ExitRuntime},
		{"bad format, --exit-code", []string{"a", "b", "--exit-code"}, "sarif", diffOptions{}, cli.ExitRuntime},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f, _ := testFactory(tc.output)
			var got *diffOptions
			err := parse(newDiffCmd(f, func(o *diffOptions) error { got = o; return nil }), tc.argv...)
			if code := cli.ExitCode(err); code != tc.wantCode {
				t.Fatalf("exit code = %d (%v), want %d", code, err, tc.wantCode)
			}
			if tc.wantCode != 0 {
				return
			}
			got.IO, got.KubeClient = nil, nil
			if d := cmp.Diff(tc.want, *got); d != "" {
				t.Errorf("options mismatch (-want +got):\n%s", d)
			}
		})
	}
}

func TestRunDiff(t *testing.T) {
	t.Parallel()
	empty := write(t, "empty.yaml", "")
	policy := write(t, "p.yaml", testPolicy)
	tests := []struct {
		name     string
		old, new string
		exitCode bool
		want     int
		contains string
	}{
		{"escalation", empty, policy, true, 2, "User alice   granted   get,list   secrets    dev"},
		{"revocation", policy, empty, true, 1, "User alice   revoked"},
		{"no change", policy, policy, true, 0, "no change in effective permissions"},
		{"without --exit-code", empty, policy, false, 0, "granted"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f, out := testFactory("")
			o := &diffOptions{IO: f.IO, Old: tc.old, New: tc.new, ExitCode: tc.exitCode, Format: output.Table}
			err := runDiff(context.Background(), o)
			if code := cli.ExitCode(err); code != tc.want {
				t.Fatalf("exit code = %d (%v), want %d", code, err, tc.want)
			}
			if !strings.Contains(out.String(), tc.contains) {
				t.Errorf("output = %q, want it to contain %q", out.String(), tc.contains)
			}
		})
	}
}
