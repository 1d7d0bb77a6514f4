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
		Long: `Write each kind of bearer token in the exact form kube-apiserver accepts,
check existing ones the way kube-apiserver reads them, and show which
identity a token maps to: static token files (--token-auth-file),
bootstrap tokens (Secrets in kube-system) and service-account tokens.`,
		Args: cobra.ArbitraryArgs,
		RunE: cli.NoArgsRunE,
	}
	cmd.AddCommand(
		newStaticCmd(f),
		newBasicAuthCmd(f),
		newBootstrapCmd(f),
		newSACmd(f),
		newDecodeCmd(f, nil),
	)
	return cmd
}

func newStaticCmd(f *cli.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "static",
		Short: "Add, lint, remove and rotate tokens in a static token file",
		Long: `A static token file is kube-apiserver's --token-auth-file: CSV lines of
token,user,uid[,"group1,group2"]. kauth reads it exactly as kube-apiserver
does and changes only the lines it means to, replacing the file atomically
with mode 0600.`,
		Args: cobra.ArbitraryArgs,
		RunE: cli.NoArgsRunE,
	}
	cmd.AddCommand(
		newStaticAddCmd(f, nil),
		newStaticLintCmd(f, nil),
		newStaticRemoveCmd(f, nil),
		newStaticRotateCmd(f, nil),
	)
	return cmd
}

func newBasicAuthCmd(f *cli.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "basic-auth",
		Short: "Move users off the removed basic-auth password file",
		Args:  cobra.ArbitraryArgs,
		RunE:  cli.NoArgsRunE,
	}
	cmd.AddCommand(newBasicAuthMigrateCmd(f, nil))
	return cmd
}

func newBootstrapCmd(f *cli.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "bootstrap",
		Short: "Create, list, delete and validate bootstrap tokens",
		Long: `Bootstrap tokens are Secrets of type bootstrap.kubernetes.io/token named
bootstrap-token-<id> in kube-system. kube-apiserver authenticates the token
<id>.<secret> as system:bootstrap:<id> in the group system:bootstrappers
plus the Secret's auth-extra-groups.`,
		Args: cobra.ArbitraryArgs,
		RunE: cli.NoArgsRunE,
	}
	cmd.AddCommand(
		newBootstrapCreateCmd(f, nil),
		newBootstrapListCmd(f, nil),
		newBootstrapDeleteCmd(f, nil),
		newBootstrapValidateCmd(f, nil),
	)
	return cmd
}

func newSACmd(f *cli.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "sa",
		Short: "Sign or request service-account tokens",
		Args:  cobra.ArbitraryArgs,
		RunE:  cli.NoArgsRunE,
	}
	cmd.AddCommand(
		newSAIssueCmd(f, nil),
		newSARequestCmd(f, nil),
	)
	return cmd
}
