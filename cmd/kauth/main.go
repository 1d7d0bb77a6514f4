// Command kauth is the Kubernetes authentication, authorization and RBAC
// toolkit. This file only builds the streams and exits with the code that
// root.Main returns.
package main

import (
	"os"

	"github.com/kauth/kauth/cmd/kauth/cli/root"
	"github.com/kauth/kauth/internal/output"
)

func main() {
	os.Exit(root.Main(os.Args[1:], output.System(os.LookupEnv)))
}
