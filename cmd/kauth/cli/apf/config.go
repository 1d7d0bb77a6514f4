package apf

import (
	"io"

	"github.com/spf13/cobra"

	"github.com/kauth/kauth/internal/apf"
	"github.com/kauth/kauth/internal/loader"
)

// defaultServerConcurrencyLimit is kube-apiserver's default total:
// --max-requests-inflight 400 plus --max-mutating-requests-inflight 200.
const defaultServerConcurrencyLimit = 600

// configFlag defines the repeatable --config PATH flag of the apf verbs.
func configFlag(cmd *cobra.Command, p *[]string) {
	cmd.Flags().StringArrayVar(p, "config", nil, "FlowSchemas and PriorityLevelConfigurations (flowcontrol.apiserver.k8s.io/v1): a file, a folder, - for stdin, or git:REF:PATH (repeatable; default: the built-in configuration)")
}

func configSource(paths []string, stdin io.Reader) apf.ConfigSource {
	return apf.ConfigSource{Sources: paths, Options: loader.Options{Stdin: stdin}}
}
