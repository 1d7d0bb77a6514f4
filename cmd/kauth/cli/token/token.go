// Package token implements the "kauth token" command group, one file per
// verb. Each verb parses its flags, calls one core function and renders
// the result; the work itself lives in the internal packages.
package token

import (
	"github.com/spf13/cobra"

	"github.com/kauth/kauth/cmd/kauth/cli"
)

// NewCmd builds the "kauth token" group.
func NewCmd(f *cli.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "token",
		Short: "Write, check and decode static, bootstrap and service-account tokens",
		Args:  cobra.ArbitraryArgs,
		RunE:  cli.NoArgsRunE,
	}
	_ = f
	return cmd
}
