// Package authz implements the "kauth authz" command group, one file per
// verb. Each verb parses its flags, calls one core function and renders
// the result; the work itself lives in the internal packages.
package authz

import (
	"github.com/spf13/cobra"

	"github.com/kauth/kauth/cmd/kauth/cli"
)

// NewCmd builds the "kauth authz" group.
func NewCmd(f *cli.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "authz",
		Short: "Decide authorization questions offline, exactly as kube-apiserver's RBAC authorizer",
		Args:  cobra.ArbitraryArgs,
		RunE:  cli.NoArgsRunE,
	}
	cmd.AddCommand(
		newCanICmd(f, nil),
		newExplainCmd(f, nil),
		newWhoCanCmd(f, nil),
		newMatrixCmd(f, nil),
		newCheckCmd(f, nil),
	)
	return cmd
}
