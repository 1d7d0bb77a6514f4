package token

import (
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/kauth/kauth/cmd/kauth/cli"
	"github.com/kauth/kauth/internal/output"
	"github.com/kauth/kauth/internal/tokens"
)

type bootstrapValidateOptions struct {
	IO    *output.Streams
	Clock func() time.Time

	Arg    string
	Format output.Format
}

func newBootstrapValidateCmd(f *cli.Factory, runF func(*bootstrapValidateOptions) error) *cobra.Command {
	opts := &bootstrapValidateOptions{IO: f.IO, Clock: f.Clock}
	cmd := &cobra.Command{
		Use:   "validate TOKEN|FILE|-",
		Short: "Check a bootstrap token or its Secret as kube-apiserver would",
		Long: `Validate checks a bootstrap token string (format only: the Secret decides
the rest) or a file holding its Secret (YAML or JSON): name, namespace,
type, token-id and token-secret, expiry, usages and extra groups, with
k8s.io/cluster-bootstrap's rules and in the order kube-apiserver's bootstrap
token authenticator checks them. It shows the user the token authenticates
as, and exits 1 when kube-apiserver would not accept it. "-" reads the
token from stdin.`,
		Example: `  # Check a Secret before applying it
  kauth token bootstrap validate secret.yaml

  # Check the format of a token and see its user
  kauth token bootstrap validate abcdef.0123456789abcdef

  # Check a Secret and get the report as JSON
  kauth token bootstrap validate secret.yaml -o json`,
		Args: cli.WrapArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := opts.complete(f, args[0]); err != nil {
				return err
			}
			if runF != nil {
				return runF(opts)
			}
			return runBootstrapValidate(opts)
		},
	}
	return cmd
}

func (o *bootstrapValidateOptions) complete(f *cli.Factory, arg string) error {
	tok, err := readTokenArg(o.IO, arg)
	if err != nil {
		return err
	}
	o.Arg = tok
	format, err := f.OutputFormat()
	o.Format = format
	return err
}

func runBootstrapValidate(o *bootstrapValidateOptions) error {
	info, err := tokens.ValidateBootstrap(o.Arg, o.Clock())
	if err != nil {
		return cli.InputError(err)
	}
	if err := output.Print(o.IO, o.Format, info, func() *output.TableView { return bootstrapInfoTable(info) }); err != nil {
		return err
	}
	if !info.Valid() {
		return &cli.ResultError{Code: cli.ExitResult}
	}
	return nil
}

func bootstrapInfoTable(b *tokens.BootstrapInfo) *output.TableView {
	t := &output.TableView{Headers: []string{"FIELD", "VALUE"}}
	t.AddRow("id", b.ID)
	t.AddRow("secret", "kube-system/"+b.SecretName)
	if b.Expiration != "" || len(b.Usages) > 0 {
		t.AddRow("expiration", expiresText(b.Expiration))
		t.AddRow("usages", strings.Join(b.Usages, ","))
	}
	if b.Description != "" {
		t.AddRow("description", b.Description)
	}
	addUserRows(t, b.User)
	for _, p := range b.Problems {
		t.AddRowLevel(output.Bad, "problem", p)
	}
	for _, w := range b.Warnings {
		t.AddRowLevel(output.Warn, "warning", w)
	}
	return t
}

// addUserRows adds the identity kube-apiserver would see.
func addUserRows(t *output.TableView, u *tokens.UserInfo) {
	if u == nil {
		t.AddRowLevel(output.Bad, "user", "<not authenticated>")
		return
	}
	t.AddRowLevel(output.Good, "user", u.Username)
	if u.UID != "" {
		t.AddRow("uid", u.UID)
	}
	t.AddRow("groups", strings.Join(u.Groups, ","))
	for _, k := range sortedKeys(u.Extra) {
		t.AddRow("extra "+k, strings.Join(u.Extra[k], ","))
	}
}
