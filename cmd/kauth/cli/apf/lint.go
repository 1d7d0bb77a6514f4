package apf

import (
	"github.com/spf13/cobra"

	"github.com/kauth/kauth/cmd/kauth/cli"
	"github.com/kauth/kauth/internal/apf"
	"github.com/kauth/kauth/internal/output"
)

type lintOptions struct {
	IO *output.Streams

	ServerConcurrencyLimit int
	Config                 []string
	Format                 output.Format
}

func newLintCmd(f *cli.Factory, runF func(*lintOptions) error) *cobra.Command {
	opts := &lintOptions{IO: f.IO}
	cmd := &cobra.Command{
		Use:   "lint [--config PATH]... [--server-concurrency-limit N]",
		Short: "Find mistakes in FlowSchemas and PriorityLevelConfigurations",
		Long: `Lint reports objects the API would reject (with the API's reason), FlowSchemas
pointing at missing priority levels, schemas that can never match because
one matched earlier covers them, overlapping schemas with the same
matchingPrecedence, priority levels no schema uses, and queuing that can't
work as meant: a hand as large as the queues, a single queue, a nominal
limit of zero at the server limit given. Missing mandatory objects are
noted: kube-apiserver supplies them.

It exits 1 when there are findings.`,
		Example: `  # Lint a folder of APF objects
  kauth apf lint --config flowcontrol/

  # As JSON, for a server limit of 1200
  kauth apf lint --config flowcontrol/ --server-concurrency-limit 1200 -o json`,
		Args: cli.WrapArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := opts.complete(f); err != nil {
				return err
			}
			if runF != nil {
				return runF(opts)
			}
			return runLint(cmd, opts)
		},
	}
	cmd.Flags().IntVar(&opts.ServerConcurrencyLimit, "server-concurrency-limit", defaultServerConcurrencyLimit, "total concurrency: --max-requests-inflight + --max-mutating-requests-inflight")
	configFlag(cmd, &opts.Config)
	return cmd
}

func (o *lintOptions) complete(f *cli.Factory) error {
	if o.ServerConcurrencyLimit <= 0 {
		return cli.UsageErrorf("--server-concurrency-limit %d: must be positive", o.ServerConcurrencyLimit)
	}
	format, err := f.OutputFormat()
	o.Format = format
	return err
}

func runLint(cmd *cobra.Command, o *lintOptions) error {
	res, err := apf.LintSources(cmd.Context(), configSource(o.Config, o.IO.In), o.ServerConcurrencyLimit)
	if err != nil {
		return cli.InputError(err)
	}
	if err := output.Print(o.IO, o.Format, res, func() *output.TableView { return lintTable(res) }); err != nil {
		return err
	}
	if len(res.Findings) > 0 {
		return &cli.ResultError{Code: cli.ExitResult}
	}
	return nil
}

func lintTable(r *apf.LintResult) *output.TableView {
	t := &output.TableView{Headers: []string{"SEVERITY", "CHECK", "OBJECT", "SOURCE", "MESSAGE"}}
	for _, f := range r.Findings {
		level := output.Warn
		if f.Severity == "error" {
			level = output.Bad
		}
		t.AddRowLevel(level, f.Severity, f.Check, f.Object, f.Source, f.Message)
	}
	if len(r.Findings) == 0 {
		t.Footer = append(t.Footer, "no findings")
	}
	return t
}
