package apf

import (
	"strconv"

	"github.com/spf13/cobra"

	"github.com/kauth/kauth/cmd/kauth/cli"
	"github.com/kauth/kauth/internal/apf"
	"github.com/kauth/kauth/internal/output"
)

type limitsOptions struct {
	IO *output.Streams

	ServerConcurrencyLimit int
	Config                 []string
	Format                 output.Format
}

func newLimitsCmd(f *cli.Factory, runF func(*limitsOptions) error) *cobra.Command {
	opts := &limitsOptions{IO: f.IO}
	cmd := &cobra.Command{
		Use:   "limits [--server-concurrency-limit N] [--config PATH]...",
		Short: "Show the concurrency limits kube-apiserver derives for each priority level",
		Long: `Limits computes, for a server concurrency limit (--max-requests-inflight
plus --max-mutating-requests-inflight, 600 by default), what the APF
controller derives per priority level: the nominal limit
ceil(SCL * shares / sum of shares), the lendable and borrowing limits, the
range the current limit moves in, the current limit right after the
configuration is digested, and the queues, hand size and queue length limit.`,
		Example: `  # Limits of the built-in configuration at the default 600
  kauth apf limits

  # For a server with --max-requests-inflight 800 --max-mutating-requests-inflight 400
  kauth apf limits --server-concurrency-limit 1200

  # For your own FlowSchemas and PriorityLevelConfigurations, as JSON
  kauth apf limits --config flowcontrol/ -o json`,
		Args: cli.WrapArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := opts.complete(f); err != nil {
				return err
			}
			if runF != nil {
				return runF(opts)
			}
			return runLimits(cmd, opts)
		},
	}
	cmd.Flags().IntVar(&opts.ServerConcurrencyLimit, "server-concurrency-limit", defaultServerConcurrencyLimit, "total concurrency: --max-requests-inflight + --max-mutating-requests-inflight")
	configFlag(cmd, &opts.Config)
	return cmd
}

func (o *limitsOptions) complete(f *cli.Factory) error {
	if o.ServerConcurrencyLimit <= 0 {
		return cli.UsageErrorf("--server-concurrency-limit %d: must be positive", o.ServerConcurrencyLimit)
	}
	format, err := f.OutputFormat()
	o.Format = format
	return err
}

func runLimits(cmd *cobra.Command, o *limitsOptions) error {
	res, err := apf.ComputeLimits(cmd.Context(), configSource(o.Config, o.IO.In), o.ServerConcurrencyLimit)
	if err != nil {
		return cli.InputError(err)
	}
	return output.Print(o.IO, o.Format, res, func() *output.TableView { return limitsTable(res) })
}

func limitsTable(r *apf.LimitsResult) *output.TableView {
	t := &output.TableView{Headers: []string{"NAME", "TYPE", "SHARES", "NOMINAL", "LENDABLE", "BORROWING", "MIN", "MAX", "INITIAL", "QUEUES", "HAND-SIZE", "QUEUE-LENGTH"}}
	itoa := strconv.Itoa
	for _, l := range r.PriorityLevels {
		typ := l.Type
		if l.LimitResponse == "Reject" {
			typ += "/Reject"
		}
		t.AddRow(l.Name, typ, itoa(int(l.NominalConcurrencyShares)), itoa(l.NominalConcurrencyLimit), itoa(l.LendableConcurrencyLimit),
			itoa(l.BorrowingConcurrencyLimit), itoa(l.MinConcurrencyLimit), itoa(l.MaxConcurrencyLimit), itoa(l.InitialConcurrencyLimit),
			itoa(int(l.Queues)), itoa(int(l.HandSize)), itoa(int(l.QueueLengthLimit)))
	}
	return t
}
