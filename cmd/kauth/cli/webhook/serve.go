package webhook

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/kauth/kauth/cmd/kauth/cli"
	"github.com/kauth/kauth/internal/authwebhook"
	"github.com/kauth/kauth/internal/output"
)

type serveOptions struct {
	IO     *output.Streams
	Format output.Format

	Config authwebhook.Config
	// Command runs once the server listens (after "--"), with
	// KAUTH_WEBHOOK_URL set; the server stops when it ends.
	Command []string
}

func newServeCmd(f *cli.Factory, runF func(context.Context, *serveOptions) error) *cobra.Command {
	opts := &serveOptions{IO: f.IO}
	cmd := &cobra.Command{
		Use:   "serve --tls-cert-file FILE --tls-private-key-file FILE [--token-auth-file FILE] [--from PATH]... [-- COMMAND [ARG...]]",
		Short: "Answer kube-apiserver's TokenReviews and SubjectAccessReviews",
		Long: `Serve POST /authenticate (TokenReview) from a static token file in
kube-apiserver's format and POST /authorize (SubjectAccessReview) from an
RBAC policy loaded with --from (files, folders, git:REF:PATH), answering in
exactly the JSON kube-apiserver's webhook clients expect (v1 and v1beta1).

Each client (its certificate's common name, or its IP address) is limited
to --rate requests per second; answers are cached (--token-cache-ttl,
--cache-authorized-ttl, --cache-unauthorized-ttl). With --client-ca-file
only clients with a certificate it verifies are served.

SIGHUP reloads the token file and the policy (a git:REF:PATH source
follows its ref); if they do not load, the previous ones keep answering.

With "-- COMMAND", it runs COMMAND with KAUTH_WEBHOOK_URL set once it
listens, then stops and exits with the command's exit code.`,
		Example: `  # Authenticate a cluster's users from tokens.csv and authorize them from the policy in rbac/
  kauth webhook serve --tls-cert-file pki/webhook.crt --tls-private-key-file pki/webhook.key --token-auth-file tokens.csv --from rbac/

  # Only kube-apiserver (a certificate from pki/ca.crt) may ask
  kauth webhook serve --tls-cert-file pki/webhook.crt --tls-private-key-file pki/webhook.key --client-ca-file pki/ca.crt --from rbac/`,
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
	c := &opts.Config
	fs := cmd.Flags()
	fs.StringVar(&c.Listen, "listen", "127.0.0.1:8443", "address to listen on")
	fs.StringVar(&c.CertFile, "tls-cert-file", "", "serving certificate (required)")
	fs.StringVar(&c.KeyFile, "tls-private-key-file", "", "key of --tls-cert-file (required)")
	fs.StringVar(&c.ClientCAFile, "client-ca-file", "", "require client certificates verified by this CA")
	fs.StringVar(&c.TokenAuthFile, "token-auth-file", "", "static token file (token,user,uid,\"group1,group2\") that answers TokenReviews")
	cli.FromFlag(cmd, &c.Policy.From)
	fs.BoolVar(&c.Policy.Bootstrap, "bootstrap-policy", false, "add Kubernetes' default roles and bindings to the policy")
	fs.Float64Var(&c.Rate, "rate", authwebhook.DefaultRate, "requests per second allowed per client (0: no limit)")
	fs.IntVar(&c.Burst, "burst", authwebhook.DefaultBurst, "requests a client may make at once")
	cli.DurationVar(fs, &c.TokenTTL, "token-cache-ttl", authwebhook.DefaultTokenTTL, "how long a TokenReview answer is cached (0: no cache)")
	cli.DurationVar(fs, &c.AuthorizedTTL, "cache-authorized-ttl", authwebhook.DefaultAuthorizedTTL, "how long an allowed SubjectAccessReview is cached")
	cli.DurationVar(fs, &c.UnauthorizedTTL, "cache-unauthorized-ttl", authwebhook.DefaultUnauthorizedTTL, "how long a refused SubjectAccessReview is cached")
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
	o.Config.Logger = f.Logger()
	o.Config.Policy.Stdin = f.IO.In
	return nil
}

func (o *serveOptions) validate() error {
	c := &o.Config
	switch {
	case c.CertFile == "" || c.KeyFile == "":
		return cli.UsageErrorf("--tls-cert-file and --tls-private-key-file are required: kube-apiserver only calls webhooks over HTTPS")
	case c.TokenAuthFile == "" && len(c.Policy.From) == 0 && !c.Policy.Bootstrap:
		return cli.UsageErrorf("nothing to answer: expected --token-auth-file, --from or --bootstrap-policy")
	case c.Rate < 0 || c.Burst < 0:
		return cli.UsageErrorf("--rate and --burst must not be negative")
	case c.Rate > 0 && c.Burst == 0:
		return cli.UsageErrorf("--burst must be at least 1 when --rate is set")
	}
	return nil
}

// status is what -o json and -o yaml print once the server listens.
type status struct {
	URL           string `json:"url"`
	Authenticate  bool   `json:"authenticate"`
	Authorize     bool   `json:"authorize"`
	PolicyObjects int    `json:"policyObjects"`
}

func runServe(ctx context.Context, o *serveOptions) error {
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	srv, err := authwebhook.New(ctx, o.Config)
	var cfgErr *authwebhook.ConfigError
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
	go reloadOnHangup(ctx, o, srv)
	if err := o.announce(srv); err != nil {
		cancel()
		return errors.Join(err, <-done)
	}
	if len(o.Command) == 0 {
		return <-done
	}
	cmdErr := runCommand(ctx, o, srv.URL())
	cancel()
	return errors.Join(cmdErr, <-done)
}

// reloadOnHangup reloads the token file and the policy on SIGHUP until
// ctx ends; a failed reload keeps the previous ones.
func reloadOnHangup(ctx context.Context, o *serveOptions, srv *authwebhook.Server) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	for {
		select {
		case <-ctx.Done():
			return
		case <-hup:
			if n, err := srv.Reload(ctx); err != nil {
				output.Warning(o.IO, "reload failed, still answering from the previous files: %v", err)
			} else {
				output.Info(o.IO, "kauth webhook serve: reloaded (%d RBAC objects)", n)
			}
		}
	}
}

func (o *serveOptions) announce(srv *authwebhook.Server) error {
	output.Info(o.IO, "kauth webhook serve: listening on %s", srv.URL())
	st := status{URL: srv.URL(), Authenticate: o.Config.TokenAuthFile != "", Authorize: len(o.Config.Policy.From) > 0 || o.Config.Policy.Bootstrap, PolicyObjects: srv.PolicyObjects}
	if st.Authenticate {
		output.Info(o.IO, "  POST %s/authenticate (TokenReview)", st.URL)
	}
	if st.Authorize {
		output.Info(o.IO, "  POST %s/authorize (SubjectAccessReview, %d RBAC objects)", st.URL, st.PolicyObjects)
	}
	if o.Format == output.Table {
		return nil
	}
	return output.Print(o.IO, o.Format, st, nil)
}

func runCommand(ctx context.Context, o *serveOptions, url string) error {
	c := exec.CommandContext(ctx, o.Command[0], o.Command[1:]...)
	c.Env = append(os.Environ(), "KAUTH_WEBHOOK_URL="+url)
	c.Stdin, c.Stdout, c.Stderr = o.IO.In, o.IO.Out, o.IO.ErrOut
	c.WaitDelay = 5 * time.Second
	err := c.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return &cli.ResultError{Code: ee.ExitCode()}
	}
	return err
}
