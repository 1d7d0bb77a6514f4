package token

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/spf13/cobra"

	"github.com/kauth/kauth/cmd/kauth/cli"
	"github.com/kauth/kauth/internal/output"
)

// TestNewCmdsFlags checks argv to options for every verb: flags, defaults
// and usage errors (exit 2). The options are compared without their
// dependencies.
func TestNewCmdsFlags(t *testing.T) {
	t.Parallel()
	type built struct {
		cmd  func(f *cli.Factory, got *any) *cobra.Command
		args []string
		want any
		code int
	}
	capture := func(got *any) func(v any) error { return func(v any) error { *got = v; return nil } }
	staticRemove := func(f *cli.Factory, got *any) *cobra.Command {
		return newStaticRemoveCmd(f, func(o *staticRemoveOptions) error { o.IO = nil; return capture(got)(*o) })
	}
	staticRotate := func(f *cli.Factory, got *any) *cobra.Command {
		return newStaticRotateCmd(f, func(o *staticRotateOptions) error { o.IO = nil; return capture(got)(*o) })
	}
	staticLint := func(f *cli.Factory, got *any) *cobra.Command {
		return newStaticLintCmd(f, func(o *staticLintOptions) error { o.IO = nil; return capture(got)(*o) })
	}
	migrate := func(f *cli.Factory, got *any) *cobra.Command {
		return newBasicAuthMigrateCmd(f, func(o *basicAuthMigrateOptions) error { o.IO = nil; return capture(got)(*o) })
	}
	create := func(f *cli.Factory, got *any) *cobra.Command {
		return newBootstrapCreateCmd(f, func(o *bootstrapCreateOptions) error {
			o.IO, o.Clock, o.KubeClient = nil, nil, nil
			return capture(got)(*o)
		})
	}
	validate := func(f *cli.Factory, got *any) *cobra.Command {
		return newBootstrapValidateCmd(f, func(o *bootstrapValidateOptions) error { o.IO, o.Clock = nil, nil; return capture(got)(*o) })
	}
	issue := func(f *cli.Factory, got *any) *cobra.Command {
		return newSAIssueCmd(f, func(o *saIssueOptions) error { o.IO, o.Clock = nil, nil; return capture(got)(*o) })
	}
	decode := func(f *cli.Factory, got *any) *cobra.Command {
		return newDecodeCmd(f, func(o *decodeOptions) error { o.IO, o.Clock = nil, nil; return capture(got)(*o) })
	}
	tests := map[string]built{
		"remove":              {cmd: staticRemove, args: []string{"--file", "t.csv", "--user", "bob", "-o", "json"}, want: staticRemoveOptions{File: "t.csv", User: "bob", Format: output.JSON}},
		"remove without user": {cmd: staticRemove, args: []string{"--file", "t.csv"}, code: 2},
		"rotate":              {cmd: staticRotate, args: []string{"--file", "t.csv", "--user", "bob"}, want: staticRotateOptions{File: "t.csv", User: "bob", Format: output.Table}},
		"rotate without file": {cmd: staticRotate, args: []string{"--user", "bob"}, code: 2},
		"lint":                {cmd: staticLint, args: []string{"t.csv"}, want: staticLintOptions{File: "t.csv", Format: output.Table}},
		"lint two files":      {cmd: staticLint, args: []string{"a.csv", "b.csv"}, code: 2},
		"lint bad format":     {cmd: staticLint, args: []string{"a.csv", "-o", "xml"}, code: 2},
		"migrate":             {cmd: migrate, args: []string{"p.csv", "--out", "t.csv", "--force"}, want: basicAuthMigrateOptions{In: "p.csv", Out: "t.csv", Force: true, Format: output.Table}},
		"migrate without out": {cmd: migrate, args: []string{"p.csv"}, code: 2},
		"create defaults":     {cmd: create, want: bootstrapCreateOptions{TTL: 24 * time.Hour, Usages: []string{"signing", "authentication"}, Format: output.Table}},
		"create flags": {cmd: create, args: []string{"--ttl", "2d", "--description", "d", "--usages", "authentication", "--groups", "system:bootstrappers:a,system:bootstrappers:b", "--apply", "-o", "yaml"},
			want: bootstrapCreateOptions{TTL: 48 * time.Hour, Description: "d", Usages: []string{"authentication"}, Groups: []string{"system:bootstrappers:a", "system:bootstrappers:b"}, Apply: true, Format: output.YAML}},
		"create bad ttl":     {cmd: create, args: []string{"--ttl", "soon"}, code: 2},
		"validate":           {cmd: validate, args: []string{"s.yaml"}, want: bootstrapValidateOptions{Arg: "s.yaml", Format: output.Table}},
		"validate no arg":    {cmd: validate, code: 2},
		"issue":              {cmd: issue, args: []string{"--signing-key", "k", "--issuer", "i", "-n", "ns", "--name", "sa", "--uid", "u", "--audience", "a", "--audience", "b", "--ttl", "30m"}, want: saIssueOptions{SigningKey: "k", Issuer: "i", Namespace: "ns", Name: "sa", UID: "u", Audiences: []string{"a", "b"}, TTL: 30 * time.Minute, Format: output.Table}},
		"issue without name": {cmd: issue, args: []string{"--signing-key", "k", "-n", "ns"}, code: 2},
		"decode": {cmd: decode, args: []string{"tok", "--token-file", "t.csv", "--secret", "s.yaml", "--key", "k.pub", "--issuer", "i", "--audience", "a", "--show-secret", "-o", "json"},
			want: decodeOptions{Token: "tok", TokenFile: "t.csv", SecretFile: "s.yaml", KeyFile: "k.pub", Issuers: []string{"i"}, Audiences: []string{"a"}, ShowSecret: true, Format: output.JSON}},
		"decode empty token": {cmd: decode, args: []string{" "}, code: 2},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f, _, _ := testFactory("")
			f.IO.In = strings.NewReader("")
			var got any
			cmd := tc.cmd(f, &got)
			// -o is the root's persistent flag; mirror it here.
			cmd.Flags().StringVarP(&f.Output, "output", "o", "table", "")
			err := execute(cmd, tc.args...)
			if tc.code != 0 {
				if cli.ExitCode(err) != tc.code {
					t.Fatalf("exit code = %d (%v), want %d", cli.ExitCode(err), err, tc.code)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("options mismatch (-want +got):\n%s", diff)
			}
		})
	}
}
