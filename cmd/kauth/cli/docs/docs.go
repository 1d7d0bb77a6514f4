// Package docs implements "kauth docs man|markdown DIR", which generates
// the reference from the command tree itself.
package docs

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"
	"github.com/spf13/cobra/doc"

	"github.com/kauth/kauth/cmd/kauth/cli"
	"github.com/kauth/kauth/internal/output"
)

// NewCmd builds "kauth docs". root is the tree to document.
func NewCmd(f *cli.Factory, root *cobra.Command) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "docs",
		Short: "Generate man pages or markdown reference for every command",
		Args:  cobra.NoArgs,
		RunE:  cli.NoArgsRunE,
	}
	cmd.AddCommand(newGenCmd(f, root, "man", "Write one man page per command into DIR",
		func(dir string) error {
			return doc.GenManTree(root, &doc.GenManHeader{Title: "KAUTH", Section: "1", Source: "kauth"}, dir)
		}))
	cmd.AddCommand(newGenCmd(f, root, "markdown", "Write one markdown page per command into DIR",
		func(dir string) error { return doc.GenMarkdownTree(root, dir) }))
	return cmd
}

func newGenCmd(f *cli.Factory, root *cobra.Command, name, short string, gen func(string) error) *cobra.Command {
	return &cobra.Command{
		Use:   name + " DIR",
		Short: short,
		Example: fmt.Sprintf(`  # Generate the %[1]s reference into ./ref
  kauth docs %[1]s ref`, name),
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return cli.UsageErrorf("expected one argument, the output folder")
			}
			return nil
		},
		RunE: func(_ *cobra.Command, args []string) error {
			if err := os.MkdirAll(args[0], 0o755); err != nil {
				return fmt.Errorf("creating %s: %w", args[0], err)
			}
			root.DisableAutoGenTag = true
			if err := gen(args[0]); err != nil {
				return fmt.Errorf("generating %s pages: %w", name, err)
			}
			output.Success(f.IO, "wrote %s pages to %s", name, args[0])
			return nil
		},
	}
}
