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
		Long: `Turn a tenants file into Namespaces, ResourceQuotas, LimitRanges and admin
RoleBindings, and check workloads against quotas and limit ranges exactly as
kube-apiserver's LimitRanger and ResourceQuota admission would.`,
		Args: cobra.ArbitraryArgs,
		RunE: cli.NoArgsRunE,
	}
	cmd.AddCommand(
		newGenerateCmd(f, nil),
		newCheckCmd(f, nil),
		newUsageCmd(f, nil),
		newLintCmd(f, nil),
	)
	return cmd
}
