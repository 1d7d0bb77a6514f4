package token

import (
	"io"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/kauth/kauth/cmd/kauth/cli"
	"github.com/kauth/kauth/internal/output"
	"github.com/kauth/kauth/internal/tokens"
)

type basicAuthMigrateOptions struct {
	IO *output.Streams
	// Rand is the token source; nil means crypto/rand.
	Rand io.Reader

	In     string
	Out    string
	Force  bool
	Format output.Format
}

func newBasicAuthMigrateCmd(f *cli.Factory, runF func(*basicAuthMigrateOptions) error) *cobra.Command {
	opts := &basicAuthMigrateOptions{IO: f.IO}
	cmd := &cobra.Command{
		Use:   "migrate PASSWORD-FILE --out TOKEN-FILE [--force]",
		Short: "Convert a basic-auth password file into a static token file",
		Long: `kube-apiserver removed --basic-auth-file in v1.19. Migrate reads such a file
(password,user,uid[,"groups"]) and writes a static token file with one fresh
token per user, keeping user, uid and groups; passwords are not reused.
When a user appears twice, the later line wins, as it did in the password
file reader. The new tokens are printed once: hand them to their users.`,
		Example: `  # Convert the old password file and print the new tokens
  kauth token basic-auth migrate passwords.csv --out tokens.csv

  # Replace an existing token file, listing the users as JSON
  kauth token basic-auth migrate passwords.csv --out tokens.csv --force -o json`,
		Args: cli.WrapArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.In = args[0]
			if err := opts.complete(f); err != nil {
				return err
			}
			if runF != nil {
				return runF(opts)
			}
			return runBasicAuthMigrate(opts)
		},
	}
	cmd.Flags().StringVar(&opts.Out, "out", "", "the static token file to write")
	cli.ForceFlag(cmd, &opts.Force)
	return cmd
}

func (o *basicAuthMigrateOptions) complete(f *cli.Factory) error {
	if o.Out == "" {
		return cli.UsageErrorf("--out is required")
	}
	format, err := f.OutputFormat()
	o.Format = format
	return err
}

func runBasicAuthMigrate(o *basicAuthMigrateOptions) error {
	output.Warning(o.IO, "--basic-auth-file was removed from kube-apiserver in %s; use --token-auth-file %s instead", tokens.BasicAuthRemovedIn, o.Out)
	res, err := tokens.MigrateBasicAuth(tokens.MigrateRequest{In: o.In, Out: o.Out, Force: o.Force, Rand: o.Rand})
	if err != nil {
		return classify(err)
	}
	for _, line := range res.Replaced {
		output.Warning(o.IO, "%s:%d: skipped, the same user appears again later (the later line wins)", res.In, line)
	}
	if err := output.Print(o.IO, o.Format, res, func() *output.TableView { return migrateTable(res) }); err != nil {
		return err
	}
	output.Success(o.IO, "wrote %d users to %s", len(res.Users), res.Out)
	return nil
}

func migrateTable(r *tokens.MigrateResult) *output.TableView {
	t := &output.TableView{Headers: []string{"LINE", "USER", "UID", "GROUPS", "TOKEN"}}
	for _, u := range r.Users {
		t.AddRow(strconv.Itoa(u.Line), u.User, u.UID, strings.Join(u.Groups, ","), u.Token)
	}
	return t
}
