package serve

import (
	"context"
	"errors"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"syscall"
	"time"

	"github.com/go-logr/logr"
	"github.com/spf13/cobra"
	"k8s.io/klog/v2"

	"github.com/kauth/kauth/cmd/kauth/cli"
	"github.com/kauth/kauth/internal/localserver"
	"github.com/kauth/kauth/internal/output"
)

type serveOptions struct {
	IO     *output.Streams
	Clock  func() time.Time
	Format output.Format

	Config localserver.Config
	// Verbosity is the global -v.
	Verbosity int
	// Command runs against the server once it is ready (after "--"); the
	// server stops when it ends and kauth exits with its code.
	Command []string
}

// NewCmd builds "kauth serve".
func NewCmd(f *cli.Factory) *cobra.Command {
	return newServeCmd(f, nil)
}

func newServeCmd(f *cli.Factory, runF func(context.Context, *serveOptions) error) *cobra.Command {
	opts := &serveOptions{IO: f.IO, Clock: f.Clock, Config: localserver.Default()}
	cmd := &cobra.Command{
		Use:   "serve [--listen HOST:PORT] [--data-dir DIR] [--seed PATH]... [-- COMMAND [ARG...]]",
		Short: "Run a local Kubernetes API server for testing identities and RBAC with kubectl",
		Long: `Run an in-process Kubernetes API server with kube-apiserver's request path:
authentication (client certificates, static tokens, bootstrap tokens,
service-account tokens, OIDC, a token webhook, anonymous), audit,
impersonation, authorization (system:masters, then RBAC, ABAC, Webhook,
AlwaysAllow or AlwaysDeny, or an --authorization-config chain) and
storage, in memory or in a bbolt file with --data-dir.

With no flags it makes a CA, a serving certificate for 127.0.0.1 and
localhost, a service-account signing key and an admin client certificate
in system:masters, writes a kubeconfig for it and prints how to use it.
Flags have kube-apiserver's names and meanings.

With "-- COMMAND", it runs COMMAND with KUBECONFIG set once the server is
ready, then stops and exits with the command's exit code.`,
		Example: `  # Start a sandbox on 127.0.0.1:6443, in memory
  kauth serve

  # Keep everything across restarts
  kauth serve --data-dir .kauth

  # Load your repository's RBAC policy and ask it one question
  kauth serve --seed rbac/ -- kubectl auth can-i list secrets --as alice

  # Bring your own client CA and static token file
  kauth serve --client-ca-file ca.crt --token-auth-file tokens.csv`,
		Args: cli.WrapArgs(cobra.ArbitraryArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := opts.complete(f, cmd, args); err != nil {
				return err
			}
			if err := opts.validate(); err != nil {
				return err
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runServe(cmd.Context(), opts)
		},
	}
	addFlags(cmd, &opts.Config)
	return cmd
}

func (o *serveOptions) complete(f *cli.Factory, cmd *cobra.Command, args []string) error {
	format, err := f.OutputFormat()
	if err != nil {
		return err
	}
	o.Format = format
	if o.Command, err = cli.CommandAfterDash(cmd, args); err != nil {
		return err
	}
	o.Config.AnonymousAuthSet = cmd.Flags().Changed("anonymous-auth")
	if o.Config.AuthorizationConfigFile != "" && !cmd.Flags().Changed("authorization-mode") {
		o.Config.AuthorizationModes = nil // --authorization-config replaces the default mode
	}
	o.Config.Logger = f.Logger()
	o.Verbosity = f.Verbosity
	o.Config.Stdin = f.IO.In
	o.Config.AuditOut = f.IO.Out
	return nil
}

func (o *serveOptions) validate() error {
	if err := o.Config.Validate(); err != nil {
		return cli.InputError(err)
	}
	return nil
}

// status is what -o json and -o yaml print once the server is ready.
type status struct {
	URL        string `json:"url"`
	Kubeconfig string `json:"kubeconfig"`
	DataDir    string `json:"dataDir,omitempty"`
}

func runServe(ctx context.Context, o *serveOptions) error {
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	// k8s.io/apiserver logs through klog: with -v it goes to stderr at that
	// verbosity (the root command sets it up); without, a plain run keeps
	// stderr for the conversation.
	if o.Verbosity <= 0 {
		klog.SetLogger(logr.Discard())
	}
	warnIfExposed(o.IO, o.Config.Listen)
	start := o.Clock()
	srv, err := localserver.New(ctx, o.Config)
	var cfgErr *localserver.ConfigError
	if errors.As(err, &cfgErr) {
		return cli.InputError(err)
	}
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	select {
	case <-srv.Ready():
	case err := <-done:
		return err
	}
	if err := o.announce(srv, o.Clock().Sub(start)); err != nil {
		cancel()
		return errors.Join(err, <-done)
	}
	if len(o.Command) == 0 {
		return <-done
	}
	select {
	case <-srv.Settled():
	case err := <-done:
		return err
	}
	cmdErr := runCommand(ctx, o, srv.KubeconfigPath())
	cancel()
	return errors.Join(cmdErr, <-done)
}

func (o *serveOptions) announce(srv *localserver.Server, took time.Duration) error {
	output.Info(o.IO, "kauth serve: ready on %s in %s", srv.URL(), took.Round(time.Millisecond))
	output.Info(o.IO, "export KUBECONFIG=%s", srv.KubeconfigPath())
	if o.Format == output.Table {
		return nil
	}
	st := status{URL: srv.URL(), Kubeconfig: srv.KubeconfigPath(), DataDir: o.Config.DataDir}
	return output.Print(o.IO, o.Format, st, nil)
}

// runCommand runs the command after "--" with KUBECONFIG pointing at the
// server and maps its exit status to kauth's.
func runCommand(ctx context.Context, o *serveOptions, kubeconfig string) error {
	c := exec.CommandContext(ctx, o.Command[0], o.Command[1:]...)
	c.Env = append(os.Environ(), "KUBECONFIG="+kubeconfig)
	c.Stdin, c.Stdout, c.Stderr = o.IO.In, o.IO.Out, o.IO.ErrOut
	err := c.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return &cli.ResultError{Code: ee.ExitCode()}
	}
	return err
}

// warnIfExposed says so when --listen reaches beyond this machine: the
// server is a sandbox, with anonymous access on by default.
func warnIfExposed(io *output.Streams, listen string) {
	host, _, err := net.SplitHostPort(listen)
	if err != nil || host == "localhost" {
		return
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return
	}
	output.Warning(io, "--listen %s is reachable from other machines; kauth serve is a sandbox", listen)
}
