package token

import (
	"context"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/client-go/kubernetes"

	"github.com/kauth/kauth/cmd/kauth/cli"
	"github.com/kauth/kauth/internal/output"
	"github.com/kauth/kauth/internal/tokens"
)

type saRequestOptions struct {
	IO         *output.Streams
	KubeClient func() (kubernetes.Interface, error)

	Namespace string
	Name      string
	Audiences []string
	Duration  time.Duration
	Format    output.Format
}

func newSARequestCmd(f *cli.Factory, runF func(*saRequestOptions) error) *cobra.Command {
	opts := &saRequestOptions{IO: f.IO, KubeClient: f.KubeClient}
	cmd := &cobra.Command{
		Use:   "request -n NS SA [--audience A]... [--duration 1h]",
		Short: "Ask a cluster for a service-account token (TokenRequest API)",
		Long: `Request asks the cluster of --kubeconfig for a token of the service
account through the TokenRequest API (serviceaccounts/token), like kubectl
create token, and prints it. Without --duration the server picks the
lifetime (one hour by default); the API accepts at least 10m.`,
		Example: `  # A token for team-a/deployer
  kauth token sa request -n team-a deployer

  # A two-hour token for the vault audience, with its expiry, as JSON
  kauth token sa request -n team-a deployer --audience vault --duration 2h -o json`,
		Args: cli.WrapArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Name = args[0]
			if err := opts.complete(f); err != nil {
				return err
			}
			if runF != nil {
				return runF(opts)
			}
			return runSARequest(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVarP(&opts.Namespace, "namespace", "n", "default", "namespace of the service account")
	cmd.Flags().StringArrayVar(&opts.Audiences, "audience", nil, "audience (repeatable; default: the API server's audiences)")
	cli.DurationVar(cmd.Flags(), &opts.Duration, "duration", 0, "requested lifetime (at least 10m; default: the server's)")
	return cmd
}

func (o *saRequestOptions) complete(f *cli.Factory) error {
	if o.Duration != 0 && o.Duration < tokens.MinTokenRequestDuration {
		return cli.UsageErrorf("--duration %s: the TokenRequest API accepts at least %s", cli.FormatDuration(o.Duration), cli.FormatDuration(tokens.MinTokenRequestDuration))
	}
	format, err := f.OutputFormat()
	o.Format = format
	return err
}

func runSARequest(ctx context.Context, o *saRequestOptions) error {
	client, err := o.KubeClient()
	if err != nil {
		return err
	}
	res, err := tokens.RequestServiceAccountToken(ctx, client, o.Namespace, o.Name, o.Audiences, o.Duration)
	if err != nil {
		return classify(err)
	}
	return printToken(o.IO, o.Format, res.Token, res)
}
