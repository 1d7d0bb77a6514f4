package apf

import (
	"fmt"

	"github.com/spf13/cobra"
	flowcontrolv1 "k8s.io/api/flowcontrol/v1"

	"github.com/kauth/kauth/cmd/kauth/cli"
	"github.com/kauth/kauth/internal/apf"
	"github.com/kauth/kauth/internal/output"
)

type defaultsOptions struct {
	IO     *output.Streams
	Format output.Format
}

func newDefaultsCmd(f *cli.Factory, runF func(*defaultsOptions) error) *cobra.Command {
	opts := &defaultsOptions{IO: f.IO}
	return &cobra.Command{
		Use:   "defaults",
		Short: "Print the built-in FlowSchemas and PriorityLevelConfigurations of Kubernetes 1.37",
		Long: `Defaults prints the configuration kube-apiserver 1.37 creates on its own:
the mandatory exempt and catch-all objects and the suggested ones, taken
from k8s.io/apiserver's bootstrap package. With -o yaml or -o json it is a
List that kubectl can apply; the table summarises it.`,
		Example: `  # Summarise the built-in configuration
  kauth apf defaults

  # As a List for kubectl apply -f -
  kauth apf defaults -o yaml`,
		Args: cli.WrapArgs(cobra.NoArgs),
		RunE: func(*cobra.Command, []string) error {
			format, err := f.OutputFormat()
			if err != nil {
				return err
			}
			opts.Format = format
			if runF != nil {
				return runF(opts)
			}
			return runDefaults(opts)
		},
	}
}

func runDefaults(o *defaultsOptions) error {
	cfg := apf.DefaultConfig()
	list, err := cfg.List()
	if err != nil {
		return err
	}
	return output.Print(o.IO, o.Format, list, func() *output.TableView { return defaultsTable(cfg) })
}

func defaultsTable(cfg *apf.Config) *output.TableView {
	t := &output.TableView{Headers: []string{"KIND", "NAME", "DETAILS"}}
	for _, pl := range cfg.PriorityLevels {
		t.AddRow("PriorityLevelConfiguration", pl.Name, levelDetails(pl))
	}
	for _, fs := range cfg.FlowSchemas {
		d := fmt.Sprintf("precedence %d, level %s", fs.Spec.MatchingPrecedence, fs.Spec.PriorityLevelConfiguration.Name)
		if fs.Spec.DistinguisherMethod != nil {
			d += ", " + string(fs.Spec.DistinguisherMethod.Type)
		}
		t.AddRow("FlowSchema", fs.Name, d)
	}
	return t
}

func levelDetails(pl *flowcontrolv1.PriorityLevelConfiguration) string {
	l := pl.Spec.Limited
	if l == nil {
		return "Exempt"
	}
	d := fmt.Sprintf("Limited, shares %d, lendable %d%%", deref(l.NominalConcurrencyShares), deref(l.LendablePercent))
	if l.BorrowingLimitPercent != nil {
		d += fmt.Sprintf(", borrowing limit %d%%", *l.BorrowingLimitPercent)
	}
	if q := l.LimitResponse.Queuing; q != nil {
		return d + fmt.Sprintf(", %d queues, hand %d, queue length %d", q.Queues, q.HandSize, q.QueueLengthLimit)
	}
	return d + ", rejects"
}

func deref(p *int32) int32 {
	if p == nil {
		return 0
	}
	return *p
}
