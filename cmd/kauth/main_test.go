package main

import (
	"errors"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/kauth/kauth/cmd/kauth/cli/root"
	"github.com/kauth/kauth/internal/output"
)

var update = flag.Bool("update", false, "rewrite the expected output in the txtar scripts")

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"kauth": func() {
			os.Exit(root.Main(os.Args[1:], output.System(os.LookupEnv)))
		},
	})
}

// TestScript runs the end-to-end suite in testdata/script: every command,
// its files, modes, stdout, stderr and exit status, through the real
// binary entry point. Scripts that need openssl or kubectl guard
// themselves with [exec:openssl] and [exec:kubectl].
func TestScript(t *testing.T) {
	t.Parallel()
	testscript.Run(t, testscript.Params{
		Dir:                 filepath.Join("testdata", "script"),
		UpdateScripts:       *update,
		RequireExplicitExec: true,
		Cmds:                map[string]func(ts *testscript.TestScript, neg bool, args []string){"exits": cmdExits},
		Setup: func(env *testscript.Env) error {
			env.Setenv("NO_COLOR", "1")
			env.Setenv("HOME", env.WorkDir)
			return nil
		},
	})
}

// cmdExits runs "exits CODE PROGRAM ARGS..." and checks the exact exit
// code, keeping stdout and stderr for the lines that follow. kauth's exit
// codes are a contract (0, 1, 2, 3), so scripts pin them.
func cmdExits(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: exits CODE PROGRAM [ARGS...]")
	}
	want, err := strconv.Atoi(args[0])
	if err != nil {
		ts.Fatalf("exits: bad code %q", args[0])
	}
	got := 0
	var ee *exec.ExitError
	if err := ts.Exec(args[1], args[2:]...); errors.As(err, &ee) {
		got = ee.ExitCode()
	} else if err != nil {
		ts.Fatalf("exits: %v", err)
	}
	if got != want {
		ts.Fatalf("%s exited %d, want %d", args[1], got, want)
	}
}
