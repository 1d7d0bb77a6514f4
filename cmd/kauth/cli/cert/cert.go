// Package cert implements the "kauth cert" command group, one file per
// verb. Each verb parses its flags, calls one core function and renders
// the result; the work itself lives in the internal packages.
package cert

import (
	"github.com/spf13/cobra"

	"github.com/kauth/kauth/cmd/kauth/cli"
)

// NewCmd builds the "kauth cert" group.
func NewCmd(f *cli.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "cert",
		Short: "Issue, sign, inspect and check X.509 certificates for Kubernetes",
		Long: `Certificates for Kubernetes users and servers, built on cloudflare/cfssl.

A client certificate's subject CommonName is the user and every
Organization a group, exactly as kube-apiserver's x509 authenticator
(--client-ca-file) reads them.`,
		Args: cobra.ArbitraryArgs,
		RunE: cli.NoArgsRunE,
	}
	cmd.AddCommand(
		newCACmd(f),
		newIssueCmd(f, nil),
		newCSRCmd(f, nil),
		newSignCmd(f, nil),
		newInspectCmd(f, nil),
		newRevokeCmd(f, nil),
		newCheckCmd(f, nil),
	)
	return cmd
}

// newCACmd builds the "kauth cert ca" group.
func newCACmd(f *cli.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "ca",
		Short: "Manage the certificate authority that signs kauth certificates",
		Args:  cobra.ArbitraryArgs,
		RunE:  cli.NoArgsRunE,
	}
	cmd.AddCommand(newCAInitCmd(f, nil))
	return cmd
}
