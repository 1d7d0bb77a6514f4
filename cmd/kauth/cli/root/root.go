package root

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/kauth/kauth/cmd/kauth/cli"
	"github.com/kauth/kauth/cmd/kauth/cli/completion"
	"github.com/kauth/kauth/cmd/kauth/cli/docs"
	"github.com/kauth/kauth/cmd/kauth/cli/version"
	"github.com/kauth/kauth/internal/output"
)

// NewCmd builds the whole kauth command tree.
func NewCmd(f *cli.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "kauth",
		Short: "Kubernetes authentication, authorization and RBAC toolkit",
		Long: `kauth issues and inspects the credentials kube-apiserver accepts, decides
authorization questions offline exactly as kube-apiserver's RBAC authorizer
does, lints and diffs RBAC kept in source, models API Priority and Fairness,
and runs a local Kubernetes API server with kube-apiserver's request path.`,
		Example: `  # Create a CA and a client certificate for alice in group dev
  kauth cert ca init --cn my-ca --out-dir pki
  kauth cert issue --ca-dir pki --user alice --group dev --out-dir pki

  # See who alice is to kube-apiserver
  kauth cert inspect pki/alice.crt`,
		SilenceUsage:  true,
		SilenceErrors: true,
		Args:          cobra.NoArgs,
		RunE:          cli.NoArgsRunE,
		PersistentPreRun: func(*cobra.Command, []string) {
			if f.NoColor {
				f.IO.DisableColor()
			}
			configureKlog(f)
		},
	}
	pf := cmd.PersistentFlags()
	pf.StringVarP(&f.Output, "output", "o", "table", "output format: table, json or yaml (some commands add more)")
	pf.BoolVar(&f.NoColor, "no-color", false, "disable colour (also NO_COLOR; output to a pipe is never coloured)")
	pf.StringVar(&f.Kubeconfig, "kubeconfig", "", "path to the kubeconfig file for commands that talk to a cluster")
	pf.StringVar(&f.Context, "context", "", "the kubeconfig context to use")
	pf.IntVarP(&f.Verbosity, "v", "v", 0, "log verbosity; logs go to stderr")
	_ = cmd.RegisterFlagCompletionFunc("output", cobra.FixedCompletions(
		[]string{"table", "json", "yaml"}, cobra.ShellCompDirectiveNoFileComp))

	cmd.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return &cli.UsageError{Err: err}
	})
	addGroups(cmd, f)
	return cmd
}

// Main runs kauth with args (without the program name) on the given
// streams and returns the exit code.
func Main(args []string, streams *output.Streams) int {
	f := &cli.Factory{IO: streams, Clock: time.Now, Getenv: os.Getenv}
	cmd := NewCmd(f)
	cmd.SetArgs(args)
	cmd.SetIn(streams.In)
	cmd.SetOut(streams.Out)
	cmd.SetErr(streams.ErrOut)
	executed, err := cmd.ExecuteC()
	if err == nil {
		return cli.ExitOK
	}
	if strings.HasPrefix(err.Error(), "unknown command") || strings.HasPrefix(err.Error(), "unknown flag") {
		err = &cli.UsageError{Err: err}
	}
	printError(streams, executed, err, f.Verbosity > 0 || f.Getenv("KAUTH_DEBUG") != "")
	return cli.ExitCode(err)
}

func printError(s *output.Streams, cmd *cobra.Command, err error, debug bool) {
	var re *cli.ResultError
	if errors.As(err, &re) {
		if re.Msg != "" {
			fmt.Fprintf(s.ErrOut, "kauth: %s\n", re.Msg)
		}
		return
	}
	label := output.Colorize(s.ErrOut, s.ErrColor, output.Bad, "kauth: error:")
	fmt.Fprintf(s.ErrOut, "%s %s\n", label, err)
	if debug {
		for e := errors.Unwrap(err); e != nil; e = errors.Unwrap(e) {
			fmt.Fprintf(s.ErrOut, "kauth: debug: caused by %T: %s\n", e, e)
		}
	}
	for _, h := range cli.Hints(err) {
		fmt.Fprintf(s.ErrOut, "kauth: hint: %s\n", h)
	}
	var ue *cli.UsageError
	if errors.As(err, &ue) && !ue.Input && cmd != nil && isUsageMistake(err) {
		fmt.Fprintf(s.ErrOut, "Run '%s --help' for usage.\n", cmd.CommandPath())
	}
}

// isUsageMistake tells command-line mistakes (which get the --help line)
// from bad input files, which name their file instead.
func isUsageMistake(err error) bool {
	msg := err.Error()
	return strings.Contains(msg, "flag") || strings.Contains(msg, "--") ||
		strings.Contains(msg, "argument") || strings.Contains(msg, "unknown command")
}

func addGroups(cmd *cobra.Command, f *cli.Factory) {
	cmd.AddCommand(
		version.NewCmd(f),
		completion.NewCmd(f),
		docs.NewCmd(f, cmd),
	)
	addDomainGroups(cmd, f)
}
