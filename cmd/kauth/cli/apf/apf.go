// Package apf implements the "kauth apf" command group, one file per
// verb. Each verb parses its flags, calls one core function and renders
// the result; the work itself lives in the internal packages.
package apf

import (
	"github.com/spf13/cobra"

	"github.com/kauth/kauth/cmd/kauth/cli"
)

// NewCmd builds the "kauth apf" group.
func NewCmd(f *cli.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "apf",
		Short: "Inspect and simulate API Priority and Fairness",
		Args:  cobra.ArbitraryArgs,
		RunE:  cli.NoArgsRunE,
	}
	cmd.AddCommand(
		newDefaultsCmd(f, nil),
		newLimitsCmd(f, nil),
		newClassifyCmd(f, nil),
		newLintCmd(f, nil),
		newSimulateCmd(f, nil),
	)
	return cmd
}
