package token

import (
	"context"

	"github.com/spf13/cobra"
	"k8s.io/client-go/kubernetes"

	"github.com/kauth/kauth/cmd/kauth/cli"
	"github.com/kauth/kauth/internal/output"
	"github.com/kauth/kauth/internal/tokens"
)

type bootstrapDeleteOptions struct {
	IO         *output.Streams
	KubeClient func() (kubernetes.Interface, error)

	ID string
}

func newBootstrapDeleteCmd(f *cli.Factory, runF func(*bootstrapDeleteOptions) error) *cobra.Command {
	opts := &bootstrapDeleteOptions{IO: f.IO, KubeClient: f.KubeClient}
	cmd := &cobra.Command{
		Use:   "delete ID|TOKEN",
		Short: "Delete a bootstrap token from a cluster",
		Long: `Delete removes the bootstrap-token-<id> Secret from kube-system of the
cluster of --kubeconfig. It takes the token id or the whole token. A token
that does not exist exits 1.`,
		Example: `  # Delete the token with id abcdef
  kauth token bootstrap delete abcdef

  # Delete by the whole token, in another cluster
  kauth token bootstrap delete abcdef.0123456789abcdef --kubeconfig admin.conf`,
		Args: cli.WrapArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.ID = args[0]
			if err := opts.validate(); err != nil {
				return err
			}
			if runF != nil {
				return runF(opts)
			}
			return runBootstrapDelete(cmd.Context(), opts)
		},
	}
	return cmd
}

func (o *bootstrapDeleteOptions) validate() error {
	_, err := tokens.BootstrapTokenID(o.ID)
	return cli.InputError(err)
}

func runBootstrapDelete(ctx context.Context, o *bootstrapDeleteOptions) error {
	client, err := o.KubeClient()
	if err != nil {
		return err
	}
	name, err := tokens.DeleteBootstrapToken(ctx, client, o.ID)
	if err != nil {
		return classify(err)
	}
	output.Info(o.IO, "deleted secret kube-system/%s", name)
	return nil
}
