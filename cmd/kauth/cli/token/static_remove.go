package token

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/kauth/kauth/cmd/kauth/cli"
	"github.com/kauth/kauth/internal/output"
	"github.com/kauth/kauth/internal/tokens"
)

type staticRemoveOptions struct {
	IO *output.Streams

	File   string
	User   string
	Format output.Format
}

func newStaticRemoveCmd(f *cli.Factory, runF func(*staticRemoveOptions) error) *cobra.Command {
	opts := &staticRemoveOptions{IO: f.IO}
	cmd := &cobra.Command{
		Use:   "remove --file FILE --user NAME",
		Short: "Remove a user's lines from a static token file",
		Long: `Remove deletes every line of the user from the token file and replaces the
file atomically (mode 0600). All other lines stay byte for byte as they
were. kube-apiserver reads the file only at start, so restart it.`,
		Example: `  # Remove bob's tokens
  kauth token static remove --file tokens.csv --user bob

  # Report the removed lines as JSON
  kauth token static remove --file tokens.csv --user carol -o json`,
		Args: cli.WrapArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := opts.complete(f); err != nil {
				return err
			}
			if runF != nil {
				return runF(opts)
			}
			return runStaticRemove(opts)
		},
	}
	cmd.Flags().StringVar(&opts.File, "file", "", "the static token file")
	cmd.Flags().StringVar(&opts.User, "user", "", "user whose lines to remove")
	return cmd
}

func (o *staticRemoveOptions) complete(f *cli.Factory) error {
	if o.File == "" || o.User == "" {
		return cli.UsageErrorf("--file and --user are required")
	}
	format, err := f.OutputFormat()
	o.Format = format
	return err
}

func runStaticRemove(o *staticRemoveOptions) error {
	res, err := tokens.RemoveStaticUser(o.File, o.User)
	if err != nil {
		return classify(err)
	}
	if o.Format == output.Table {
		output.Info(o.IO, "removed %s from %s (%s)", res.User, res.File, linesText(res.Lines))
		return nil
	}
	return output.Print(o.IO, o.Format, res, nil)
}

func linesText(lines []int) string {
	s := make([]string, len(lines))
	for i, l := range lines {
		s[i] = strconv.Itoa(l)
	}
	word := "line"
	if len(lines) > 1 {
		word = "lines"
	}
	return fmt.Sprintf("%s %s", word, strings.Join(s, ", "))
}
