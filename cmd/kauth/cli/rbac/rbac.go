// Package rbac implements the "kauth rbac" command group, one file per
// verb. Each verb parses its flags, calls one core function and renders
// the result; the work itself lives in the internal packages.
package rbac

import (
	"github.com/spf13/cobra"

	"github.com/kauth/kauth/cmd/kauth/cli"
)

// NewCmd builds the "kauth rbac" group.
func NewCmd(f *cli.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "rbac",
		Short: "Lint and diff RBAC kept in source",
		Args:  cobra.ArbitraryArgs,
		RunE:  cli.NoArgsRunE,
	}
	cmd.AddCommand(newLintCmd(f, nil), newDiffCmd(f, nil))
	return cmd
}
