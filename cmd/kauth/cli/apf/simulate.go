package apf

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/kauth/kauth/cmd/kauth/cli"
	"github.com/kauth/kauth/internal/apf"
	"github.com/kauth/kauth/internal/output"
)

type simulateOptions struct {
	IO *output.Streams

	Workload                    string
	Config                      []string
	HTML                        string
	Force                       bool
	Compare                     string
	MaxRequestsInflight         int
	MaxMutatingRequestsInflight int
	Format                      output.Format
}

func newSimulateCmd(f *cli.Factory, runF func(*simulateOptions) error) *cobra.Command {
	opts := &simulateOptions{IO: f.IO}
	cmd := &cobra.Command{
		Use:   "simulate -f WORKLOAD [--config PATH]... [--html FILE] [--compare max-inflight]",
		Short: "Replay a workload against the priority levels in simulated time",
		Long: `Simulate reads an APFWorkload file (see docs/apf.md), classifies every
client's requests, and replays the arrivals in simulated time through the
model of kube-apiserver's API Priority and Fairness: seats and concurrency
limits, shuffle-sharded queues, fair queuing by virtual finish time, queue
length limits, queue-wait time-outs, exempt traffic and borrowing between
levels every 10 s. It reports per priority level and per client.

--config replaces the workload's config: list. --html also writes a
self-contained page with charts over time. --compare max-inflight runs the
same workload through the older max-in-flight limiter (split 2:1 between
--max-requests-inflight and --max-mutating-requests-inflight unless they
are given) and shows both.`,
		Example: `  # Simulate a workload against the built-in configuration
  kauth apf simulate -f workload.yaml

  # The JSON report, against your own configuration
  kauth apf simulate -f workload.yaml --config flowcontrol/ -o json

  # Charts, and the same workload through max-in-flight
  kauth apf simulate -f workload.yaml --html report.html --compare max-inflight`,
		Args: cli.WrapArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := opts.complete(f, cmd); err != nil {
				return err
			}
			if runF != nil {
				return runF(opts)
			}
			return runSimulate(cmd, opts)
		},
	}
	cmd.Flags().StringVarP(&opts.Workload, "filename", "f", "", "the APFWorkload file (required)")
	configFlag(cmd, &opts.Config)
	cmd.Flags().StringVar(&opts.HTML, "html", "", "also write a self-contained HTML page with charts to FILE")
	cli.ForceFlag(cmd, &opts.Force)
	cli.EnumVar(cmd, &opts.Compare, "compare", "", []string{"max-inflight"}, "also run the workload through another limiter")
	cmd.Flags().IntVar(&opts.MaxRequestsInflight, "max-requests-inflight", 0, "read-only limit for --compare max-inflight (default: 2/3 of the workload's serverConcurrencyLimit)")
	cmd.Flags().IntVar(&opts.MaxMutatingRequestsInflight, "max-mutating-requests-inflight", 0, "mutating limit for --compare max-inflight (default: 1/3 of the workload's serverConcurrencyLimit)")
	return cmd
}

func (o *simulateOptions) complete(f *cli.Factory, cmd *cobra.Command) error {
	if o.Workload == "" {
		return cli.UsageErrorf("-f WORKLOAD is required")
	}
	if o.Compare == "" && (cmd.Flags().Changed("max-requests-inflight") || cmd.Flags().Changed("max-mutating-requests-inflight")) {
		return cli.UsageErrorf("--max-requests-inflight and --max-mutating-requests-inflight need --compare max-inflight")
	}
	if o.MaxRequestsInflight < 0 || o.MaxMutatingRequestsInflight < 0 {
		return cli.UsageErrorf("--max-requests-inflight and --max-mutating-requests-inflight must not be negative")
	}
	if o.HTML != "" && !o.Force {
		if _, err := os.Stat(o.HTML); err == nil {
			return cli.WithHint(cli.UsageErrorf("--html %s: file exists", o.HTML), "use --force to overwrite it")
		}
	}
	format, err := f.OutputFormat()
	o.Format = format
	return err
}

func runSimulate(cmd *cobra.Command, o *simulateOptions) error {
	rep, err := apf.SimulateFile(cmd.Context(), apf.SimulateRequest{
		Workload: o.Workload,
		Config:   configSource(o.Config, o.IO.In),
		Options: apf.SimulateOptions{Series: o.HTML != "", CompareMaxInflight: o.Compare == "max-inflight",
			MaxRequestsInflight: o.MaxRequestsInflight, MaxMutatingRequestsInflight: o.MaxMutatingRequestsInflight},
	})
	if err != nil {
		return cli.InputError(err)
	}
	if o.HTML != "" {
		if err := writeHTML(o.HTML, rep); err != nil {
			return err
		}
		output.Success(o.IO, "wrote %s", o.HTML)
	}
	if o.Format != output.Table {
		return output.Print(o.IO, o.Format, rep, nil)
	}
	if err := output.RenderTable(o.IO, levelsTable(rep)); err != nil {
		return err
	}
	fmt.Fprintln(o.IO.Out)
	return output.RenderTable(o.IO, clientsTable(rep))
}

// writeHTML writes the page through a temporary file in the same folder,
// then renames it, so a reader never sees half a page.
func writeHTML(path string, rep *apf.Report) error {
	page, err := apf.RenderHTML(rep)
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".kauth-apf-*.html")
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(page); err != nil {
		tmp.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return os.Rename(tmp.Name(), path)
}

func levelsTable(r *apf.Report) *output.TableView {
	t := &output.TableView{Headers: []string{"PRIORITY-LEVEL", "NOMINAL", "LENDABLE", "LIMIT-MIN", "LIMIT-MAX", "QUEUES", "DISPATCHED", "REJECTED", "MAX-SEATS", "MAX-QUEUED"}}
	itoa := strconv.Itoa
	for _, l := range r.PriorityLevels {
		row := output.Row{Cells: []string{l.Name, itoa(l.NominalConcurrencyLimit), itoa(l.LendableConcurrencyLimit),
			itoa(l.CurrentConcurrencyLimit.Min), itoa(l.CurrentConcurrencyLimit.Max), itoa(int(l.Queues)),
			itoa(l.Dispatched), itoa(l.Rejected), itoa(l.MaxSeatsInUse), itoa(l.MaxQueued)}}
		switch {
		case l.Rejected > 0:
			row.Level = output.Bad
		case l.Dispatched == 0:
			row.Level = output.Dim
		}
		t.Rows = append(t.Rows, row)
	}
	return t
}

func clientsTable(r *apf.Report) *output.TableView {
	h := []string{"CLIENT", "FLOWSCHEMA", "PRIORITY-LEVEL", "ARRIVED", "DISPATCHED", "REJECTED", "QUEUE-FULL", "TIME-OUT", "CONCURRENCY-LIMIT", "WAIT-P50", "WAIT-P99", "WAIT-MAX"}
	var mif map[string]apf.MaxInflightClient
	if r.Compare != nil && r.Compare.MaxInflight != nil {
		h = append(h, "MAXINFLIGHT-DISPATCHED", "MAXINFLIGHT-REJECTED")
		mif = map[string]apf.MaxInflightClient{}
		for _, c := range r.Compare.MaxInflight.Clients {
			mif[c.Name] = c
		}
	}
	t := &output.TableView{Headers: h}
	itoa := strconv.Itoa
	secs := func(v float64) string { return strconv.FormatFloat(v, 'f', 3, 64) + "s" }
	for _, c := range r.Clients {
		cells := []string{c.Name, c.FlowSchema, c.PriorityLevel, itoa(c.Arrived), itoa(c.Dispatched), itoa(c.Rejected),
			itoa(c.RejectReasons.QueueFull), itoa(c.RejectReasons.TimeOut), itoa(c.RejectReasons.ConcurrencyLimit),
			secs(c.WaitSeconds.P50), secs(c.WaitSeconds.P99), secs(c.WaitSeconds.Max)}
		if mif != nil {
			cells = append(cells, itoa(mif[c.Name].Dispatched), itoa(mif[c.Name].Rejected))
		}
		row := output.Row{Cells: cells}
		if c.Rejected > 0 {
			row.Level = output.Bad
		}
		t.Rows = append(t.Rows, row)
	}
	return t
}
