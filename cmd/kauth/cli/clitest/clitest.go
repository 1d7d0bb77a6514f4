package clitest

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/spf13/cobra"

	"github.com/kauth/kauth/cmd/kauth/cli"
)

// Execute runs cmd with argv and returns its error. Errors and usage are
// not printed, and a flag parsing error becomes a *cli.UsageError (exit 2)
// as under the root command.
func Execute(cmd *cobra.Command, argv ...string) error {
	cmd.SetArgs(argv)
	cmd.SilenceErrors, cmd.SilenceUsage = true, true
	cmd.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &cli.UsageError{Err: err} })
	return cmd.Execute()
}

// WriteFile writes data to a file called name (0600) in a new temporary
// folder of t and returns its path; it fails the test if it cannot.
func WriteFile(t testing.TB, name, data string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}
