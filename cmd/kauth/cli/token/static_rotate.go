package token

import (
	"io"

	"github.com/spf13/cobra"

	"github.com/kauth/kauth/cmd/kauth/cli"
	"github.com/kauth/kauth/internal/output"
	"github.com/kauth/kauth/internal/tokens"
)

type staticRotateOptions struct {
	IO *output.Streams
	// Rand is the token source; nil means crypto/rand.
	Rand io.Reader

	File   string
	User   string
	Format output.Format
}

func newStaticRotateCmd(f *cli.Factory, runF func(*staticRotateOptions) error) *cobra.Command {
	opts := &staticRotateOptions{IO: f.IO}
	cmd := &cobra.Command{
		Use:   "rotate --file FILE --user NAME",
		Short: "Give a user a fresh token, keeping uid and groups",
		Long: `Rotate replaces the user's token with a fresh one (256 bits from
crypto/rand), keeps the uid, groups and any further columns, prints the new
token once and replaces the file atomically (mode 0600). A user on several
lines is refused. kube-apiserver reads the file only at start, so restart
it.`,
		Example: `  # Rotate alice's token and print the new one
  kauth token static rotate --file tokens.csv --user alice

  # Rotate and get the new line as JSON
  kauth token static rotate --file tokens.csv --user alice -o json`,
		Args: cli.WrapArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := opts.complete(f); err != nil {
				return err
			}
			if runF != nil {
				return runF(opts)
			}
			return runStaticRotate(opts)
		},
	}
	cmd.Flags().StringVar(&opts.File, "file", "", "the static token file")
	cmd.Flags().StringVar(&opts.User, "user", "", "user whose token to rotate")
	return cmd
}

func (o *staticRotateOptions) complete(f *cli.Factory) error {
	if o.File == "" || o.User == "" {
		return cli.UsageErrorf("--file and --user are required")
	}
	format, err := f.OutputFormat()
	o.Format = format
	return err
}

func runStaticRotate(o *staticRotateOptions) error {
	e, err := tokens.RotateStaticToken(o.File, o.User, o.Rand)
	if err != nil {
		return classify(err)
	}
	if err := printToken(o.IO, o.Format, e.Token, e); err != nil {
		return err
	}
	output.Success(o.IO, "rotated the token of %s in %s (line %d)", e.User, o.File, e.Line)
	return nil
}
