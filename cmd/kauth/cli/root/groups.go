package root

import (
	"github.com/spf13/cobra"

	"github.com/kauth/kauth/cmd/kauth/cli"
	"github.com/kauth/kauth/cmd/kauth/cli/apf"
	"github.com/kauth/kauth/cmd/kauth/cli/authz"
	"github.com/kauth/kauth/cmd/kauth/cli/cert"
	"github.com/kauth/kauth/cmd/kauth/cli/quota"
	"github.com/kauth/kauth/cmd/kauth/cli/rbac"
	"github.com/kauth/kauth/cmd/kauth/cli/serve"
	"github.com/kauth/kauth/cmd/kauth/cli/token"
	"github.com/kauth/kauth/cmd/kauth/cli/webhook"
)

// addDomainGroups adds the command groups of kauth's domains, in the order
// help lists them.
func addDomainGroups(cmd *cobra.Command, f *cli.Factory) {
	cmd.AddCommand(
		cert.NewCmd(f),
		token.NewCmd(f),
		rbac.NewCmd(f),
		authz.NewCmd(f),
		apf.NewCmd(f),
		quota.NewCmd(f),
		serve.NewCmd(f),
		webhook.NewCmd(f),
	)
}
