package token

import (
	"fmt"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/kauth/kauth/cmd/kauth/cli"
	"github.com/kauth/kauth/internal/output"
	"github.com/kauth/kauth/internal/tokens"
)

type staticLintOptions struct {
	IO *output.Streams

	File   string
	Format output.Format
}

func newStaticLintCmd(f *cli.Factory, runF func(*staticLintOptions) error) *cobra.Command {
	opts := &staticLintOptions{IO: f.IO}
	cmd := &cobra.Command{
		Use:   "lint FILE",
		Short: "Check a static token file the way kube-apiserver reads it",
		Long: `Lint reads the file exactly as kube-apiserver's token-file authenticator does
and reports, by line:

  errors    lines kube-apiserver refuses (CSV syntax, fewer than 3 columns),
            empty tokens it skips, empty user names, tokens no client can
            send, a token repeated for different users (the later line
            wins), one user with several uids, weak tokens
  warnings  stray whitespace kube-apiserver keeps in names, empty groups,
            columns after the 4th it ignores, short tokens, the same line
            repeated, a file readable by group or others
  info      users in system:masters

It exits 1 when there are errors.`,
		Example: `  # Lint the token file kube-apiserver is started with
  kauth token static lint tokens.csv

  # List the findings as JSON
  kauth token static lint tokens.csv -o json`,
		Args: cli.WrapArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.File = args[0]
			if err := opts.complete(f); err != nil {
				return err
			}
			if runF != nil {
				return runF(opts)
			}
			return runStaticLint(opts)
		},
	}
	return cmd
}

func (o *staticLintOptions) complete(f *cli.Factory) error {
	format, err := f.OutputFormat()
	o.Format = format
	return err
}

func runStaticLint(o *staticLintOptions) error {
	res, err := tokens.LintStaticFile(o.File)
	if err != nil {
		return cli.InputError(err)
	}
	if o.Format == output.Table && len(res.Findings) == 0 {
		_, err := fmt.Fprintln(o.IO.Out, lintSummary(res))
		return err
	}
	if err := output.Print(o.IO, o.Format, res, func() *output.TableView { return lintTable(res) }); err != nil {
		return err
	}
	if res.Errors > 0 {
		return &cli.ResultError{Code: cli.ExitResult}
	}
	return nil
}

func lintTable(r *tokens.LintResult) *output.TableView {
	t := &output.TableView{Headers: []string{"LINE", "SEVERITY", "RULE", "MESSAGE"}}
	for _, f := range r.Findings {
		level := output.Plain
		switch f.Severity {
		case tokens.SeverityError:
			level = output.Bad
		case tokens.SeverityWarning:
			level = output.Warn
		}
		line := "-"
		if f.Line > 0 {
			line = strconv.Itoa(f.Line)
		}
		t.AddRowLevel(level, line, f.Severity, f.Rule, f.Message)
	}
	t.Footer = append(t.Footer, lintSummary(r))
	return t
}

func lintSummary(r *tokens.LintResult) string {
	if len(r.Findings) == 0 {
		return r.File + ": " + strconv.Itoa(r.Tokens) + " tokens, no findings"
	}
	return r.File + ": " + strconv.Itoa(r.Tokens) + " tokens, " + strconv.Itoa(r.Errors) + " errors, " + strconv.Itoa(r.Warnings) + " warnings"
}
