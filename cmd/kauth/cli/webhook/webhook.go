// Package webhook implements the "kauth webhook" command group: kauth as
// the authentication and authorization webhook of a real cluster.
package webhook

import (
	"github.com/spf13/cobra"

	"github.com/kauth/kauth/cmd/kauth/cli"
)

// NewCmd builds the "kauth webhook" group.
func NewCmd(f *cli.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "webhook",
		Short: "Serve kauth's token files and RBAC policy as a kube-apiserver webhook",
		Long: `kauth as the webhook of a real cluster: kube-apiserver sends TokenReviews
(--authentication-token-webhook-config-file) and SubjectAccessReviews
(--authorization-webhook-config-file) to "kauth webhook serve", which answers
them from a static token file and from RBAC policy kept in git.
"kauth webhook config" writes the kubeconfig-format files those flags take.`,
		Args: cobra.ArbitraryArgs,
		RunE: cli.NoArgsRunE,
	}
	cmd.AddCommand(newServeCmd(f, nil), newConfigCmd(f, nil))
	return cmd
}
