// Package docs implements "kauth docs man|markdown DIR", which generates
// the reference from the command tree itself.
package docs

import (
	"fmt"
	"os"
	"path/filepath"

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
	var force bool
	cmd := &cobra.Command{
		Use:   name + " DIR",
		Short: short,
		Example: fmt.Sprintf(`  # Generate the %[1]s reference into ./ref
  kauth docs %[1]s ref

  # Regenerate it over the pages already there
  kauth docs %[1]s ref --force`, name),
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return cli.UsageErrorf("expected one argument, the output folder")
			}
			return nil
		},
		RunE: func(_ *cobra.Command, args []string) error {
			root.DisableAutoGenTag = true
			if err := writePages(args[0], force, gen); err != nil {
				return err
			}
			output.Success(f.IO, "wrote %s pages to %s", name, args[0])
			return nil
		},
	}
	cli.ForceFlag(cmd, &force)
	return cmd
}

// writePages generates the pages into a temporary folder beside dir, then
// moves them into dir: a page that exists already stops everything
// unless force, and a failed generation leaves dir as it was.
func writePages(dir string, force bool, gen func(string) error) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("creating %s: %w", dir, err)
	}
	tmp, err := os.MkdirTemp(dir, ".kauth-docs-")
	if err != nil {
		return fmt.Errorf("creating a temporary folder in %s: %w", dir, err)
	}
	defer os.RemoveAll(tmp)
	if err := gen(tmp); err != nil {
		return fmt.Errorf("generating pages: %w", err)
	}
	pages, err := os.ReadDir(tmp)
	if err != nil {
		return err
	}
	if !force {
		for _, p := range pages {
			if _, err := os.Lstat(filepath.Join(dir, p.Name())); err == nil {
				return cli.InputError(fmt.Errorf("%s: already exists; use --force to overwrite the pages in %s", filepath.Join(dir, p.Name()), dir))
			}
		}
	}
	for _, p := range pages {
		if err := os.Rename(filepath.Join(tmp, p.Name()), filepath.Join(dir, p.Name())); err != nil {
			return fmt.Errorf("writing %s: %w", filepath.Join(dir, p.Name()), err)
		}
	}
	return nil
}
