// Package quota implements the "kauth quota" command group, one file per
// verb. Each verb parses its flags, calls one core function and renders
// the result; the work itself lives in the internal packages.
package quota

import (
	"github.com/spf13/cobra"

	"github.com/kauth/kauth/cmd/kauth/cli"
)

// NewCmd builds the "kauth quota" group.
func NewCmd(f *cli.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "quota",
		Short: "Generate and check per-tenant ResourceQuotas and LimitRanges",
		Args:  cobra.ArbitraryArgs,
		RunE:  cli.NoArgsRunE,
	}
	_ = f
	return cmd
}
