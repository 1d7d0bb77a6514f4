package cli

import (
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/kauth/kauth/internal/output"
)

// Factory hands every command its dependencies. Commands copy what they
// need into their options struct when they are built, so tests can replace
// any of them.
type Factory struct {
	IO    *output.Streams
	Clock func() time.Time
	// Getenv reads the environment (tests inject their own).
	Getenv func(string) string

	// Global flags, bound by the root command.
	Output     string
	NoColor    bool
	Kubeconfig string
	Context    string
	Verbosity  int
}

// Logger returns a logger on stderr at the level -v asks for: nothing by
// default, info from -v 1, debug from -v 4 (kubectl's scale, roughly).
func (f *Factory) Logger() *slog.Logger {
	if f.Verbosity <= 0 {
		return slog.New(slog.DiscardHandler)
	}
	level := slog.LevelInfo
	if f.Verbosity >= 4 {
		level = slog.LevelDebug
	}
	return slog.New(slog.NewTextHandler(f.IO.ErrOut, &slog.HandlerOptions{Level: level}))
}

// OutputFormat parses the global -o flag against the formats a command
// accepts.
func (f *Factory) OutputFormat(allowed ...output.Format) (output.Format, error) {
	if len(allowed) == 0 {
		allowed = output.CommonFormats
	}
	format, err := output.ParseFormat(f.Output, allowed)
	if err != nil {
		return "", UsageErrorf("%s", err)
	}
	return format, nil
}

// RESTConfig loads the client configuration from --kubeconfig and
// --context the way kubectl does (KUBECONFIG and ~/.kube/config when the
// flag is empty).
func (f *Factory) RESTConfig() (*rest.Config, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	if f.Kubeconfig != "" {
		rules.ExplicitPath = f.Kubeconfig
	}
	overrides := &clientcmd.ConfigOverrides{CurrentContext: f.Context}
	cfg, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, overrides).ClientConfig()
	if err != nil {
		return nil, fmt.Errorf("loading kubeconfig: %w", err)
	}
	cfg.UserAgent = "kauth"
	return cfg, nil
}

// KubeClient returns a typed client for the cluster in --kubeconfig.
func (f *Factory) KubeClient() (kubernetes.Interface, error) {
	cfg, err := f.RESTConfig()
	if err != nil {
		return nil, err
	}
	return kubernetes.NewForConfig(cfg)
}

// Stdin returns the input stream, for "-" arguments.
func (f *Factory) Stdin() io.Reader { return f.IO.In }

// NoArgsRunE is for group commands: they print help when run bare and
// reject unknown subcommands as a usage error.
func NoArgsRunE(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return UsageErrorf("unknown command %q for %q", args[0], cmd.CommandPath())
	}
	return cmd.Help()
}
