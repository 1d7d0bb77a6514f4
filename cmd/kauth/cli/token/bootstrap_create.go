package token

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/client-go/kubernetes"

	"github.com/kauth/kauth/cmd/kauth/cli"
	"github.com/kauth/kauth/internal/output"
	"github.com/kauth/kauth/internal/tokens"
)

type bootstrapCreateOptions struct {
	IO         *output.Streams
	Clock      func() time.Time
	KubeClient func() (kubernetes.Interface, error)

	Token       string
	TTL         time.Duration
	Description string
	Usages      []string
	Groups      []string
	Apply       bool
	Format      output.Format
}

func newBootstrapCreateCmd(f *cli.Factory, runF func(*bootstrapCreateOptions) error) *cobra.Command {
	opts := &bootstrapCreateOptions{IO: f.IO, Clock: f.Clock, KubeClient: f.KubeClient}
	cmd := &cobra.Command{
		Use:   "create [--ttl 24h] [--description TEXT] [--usages signing,authentication] [--groups system:bootstrappers:...] [--apply]",
		Short: "Generate a bootstrap token and its kube-system Secret",
		Long: `Create generates a token [a-z0-9]{6}.[a-z0-9]{16} with k8s.io/cluster-bootstrap
and prints the bootstrap-token-<id> Secret for kube-system, ready for
kubectl apply -f -; the token itself is in the first (comment) line of the
YAML. With --apply the Secret is created in the cluster of --kubeconfig and
only the token is printed.

--ttl 0 makes a token that never expires. Usages and extra groups are
checked with cluster-bootstrap's rules.`,
		Example: `  # Print a 24h token's Secret and apply it with kubectl
  kauth token bootstrap create | kubectl apply -f -

  # A token for joining workers, valid for 2 hours, as JSON
  kauth token bootstrap create --ttl 2h --description "join workers" --groups system:bootstrappers:kubeadm:default-node-token -o json

  # Create the Secret in the cluster directly and print the token
  kauth token bootstrap create --apply --kubeconfig admin.conf`,
		Args: cli.WrapArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := opts.complete(f); err != nil {
				return err
			}
			if runF != nil {
				return runF(opts)
			}
			return runBootstrapCreate(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVar(&opts.Token, "token", "", "use this token instead of generating one")
	cli.DurationVar(cmd.Flags(), &opts.TTL, "ttl", 24*time.Hour, "lifetime of the token; 0 never expires")
	cmd.Flags().StringVar(&opts.Description, "description", "", "human-readable description stored in the Secret")
	cmd.Flags().StringSliceVar(&opts.Usages, "usages", tokens.DefaultBootstrapUsages, "usages: signing, authentication")
	cmd.Flags().StringSliceVar(&opts.Groups, "groups", nil, "extra groups, each system:bootstrappers:...")
	cmd.Flags().BoolVar(&opts.Apply, "apply", false, "create the Secret in the cluster of --kubeconfig")
	return cmd
}

func (o *bootstrapCreateOptions) complete(f *cli.Factory) error {
	format, err := f.OutputFormat()
	o.Format = format
	return err
}

func runBootstrapCreate(ctx context.Context, o *bootstrapCreateOptions) error {
	req := tokens.BootstrapRequest{Token: o.Token, TTL: o.TTL, Description: o.Description, Usages: o.Usages, Groups: o.Groups, Now: o.Clock()}
	if o.Apply {
		client, err := o.KubeClient()
		if err != nil {
			return err
		}
		req.Client = client
	}
	res, err := tokens.CreateBootstrapToken(ctx, req)
	if err != nil {
		return classify(err)
	}
	if err := printBootstrapToken(o.IO, o.Format, res); err != nil {
		return err
	}
	if res.Applied {
		output.Success(o.IO, "created secret kube-system/%s (expires %s)", res.Secret.Name, expiresText(res.Expiration))
	}
	return nil
}

func printBootstrapToken(s *output.Streams, format output.Format, res *tokens.BootstrapToken) error {
	switch {
	case res.Applied:
		return printToken(s, format, res.Token, res)
	case format == output.JSON:
		return output.WriteJSON(s, res.Secret)
	default:
		if _, err := fmt.Fprintf(s.Out, "# bootstrap token: %s\n", res.Token); err != nil {
			return err
		}
		return output.WriteYAML(s, res.Secret)
	}
}

func expiresText(exp string) string {
	if exp == "" {
		return "never"
	}
	return exp
}
