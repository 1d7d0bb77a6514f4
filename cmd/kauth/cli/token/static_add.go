package token

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/kauth/kauth/cmd/kauth/cli"
	"github.com/kauth/kauth/internal/output"
	"github.com/kauth/kauth/internal/tokens"
)

type staticAddOptions struct {
	IO *output.Streams
	// Rand is the token source; nil means crypto/rand.
	Rand io.Reader

	File   string
	User   string
	UID    string
	Groups []string
	Token  string
	Format output.Format
}

func newStaticAddCmd(f *cli.Factory, runF func(*staticAddOptions) error) *cobra.Command {
	opts := &staticAddOptions{IO: f.IO}
	cmd := &cobra.Command{
		Use:   "add --file FILE --user NAME --uid UID [--group G]... [--token T]",
		Short: "Add a user with a fresh token to a static token file",
		Long: `Add appends one line token,user,uid[,"g1,g2"] to the token file, creating
it with mode 0600 when it is missing, and prints the token once. The token
is 256 bits from crypto/rand, URL-safe base64. A token given with --token
(or read from stdin with --token -) must be at least 22 characters, without
commas, quotes or whitespace, and not guessable.

A user already in the file is refused (use rotate), as is a file
kube-apiserver would refuse.`,
		Example: `  # Add alice in groups dev and ops; the token is printed once
  kauth token static add --file tokens.csv --user alice --uid 1001 --group dev --group ops

  # Add a user and keep the token in a shell variable
  TOKEN=$(kauth token static add --file tokens.csv --user ci --uid 2001)

  # Describe the new line as JSON (includes the token)
  kauth token static add --file tokens.csv --user bob --uid 1002 -o json`,
		Args: cli.WrapArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := opts.complete(f); err != nil {
				return err
			}
			if runF != nil {
				return runF(opts)
			}
			return runStaticAdd(opts)
		},
	}
	cmd.Flags().StringVar(&opts.File, "file", "", "the static token file (kube-apiserver's --token-auth-file)")
	cmd.Flags().StringVar(&opts.User, "user", "", "user name")
	cmd.Flags().StringVar(&opts.UID, "uid", "", "user uid")
	cmd.Flags().StringArrayVar(&opts.Groups, "group", nil, "group (repeatable)")
	cmd.Flags().StringVar(&opts.Token, "token", "", "use this token instead of a random one; - reads it from stdin")
	return cmd
}

func (o *staticAddOptions) complete(f *cli.Factory) error {
	if o.File == "" || o.User == "" || o.UID == "" {
		return cli.UsageErrorf("--file, --user and --uid are required")
	}
	if o.Token == "-" {
		b, err := io.ReadAll(io.LimitReader(o.IO.In, 4096))
		if err != nil {
			return fmt.Errorf("reading --token from stdin: %w", err)
		}
		o.Token = strings.TrimRight(string(b), "\r\n")
	}
	format, err := f.OutputFormat()
	o.Format = format
	return err
}

func runStaticAdd(o *staticAddOptions) error {
	e, err := tokens.AddStaticToken(o.File, tokens.AddRequest{User: o.User, UID: o.UID, Groups: o.Groups, Token: o.Token, Rand: o.Rand})
	if errors.Is(err, tokens.ErrUserExists) {
		return cli.WithHint(classify(err), fmt.Sprintf("to give %s a new token, run: kauth token static rotate --file %s --user %s", o.User, o.File, o.User))
	}
	if err != nil {
		return classify(err)
	}
	if err := printToken(o.IO, o.Format, e.Token, e); err != nil {
		return err
	}
	output.Success(o.IO, "added %s to %s (line %d)", e.User, o.File, e.Line)
	return nil
}

// printToken prints a token alone on a line for the table format, so that
// $(kauth ...) captures it, and v for json and yaml.
func printToken(s *output.Streams, format output.Format, token string, v any) error {
	if format == output.Table {
		_, err := fmt.Fprintln(s.Out, token)
		return err
	}
	return output.Print(s, format, v, nil)
}
