package token

import (
	"context"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/client-go/kubernetes"

	"github.com/kauth/kauth/cmd/kauth/cli"
	"github.com/kauth/kauth/internal/output"
	"github.com/kauth/kauth/internal/tokens"
)

type bootstrapListOptions struct {
	IO         *output.Streams
	Clock      func() time.Time
	KubeClient func() (kubernetes.Interface, error)

	Format output.Format
}

func newBootstrapListCmd(f *cli.Factory, runF func(*bootstrapListOptions) error) *cobra.Command {
	opts := &bootstrapListOptions{IO: f.IO, Clock: f.Clock, KubeClient: f.KubeClient}
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the bootstrap tokens of a cluster",
		Long: `List reads the bootstrap-token Secrets in kube-system of the cluster of
--kubeconfig and shows each token's id, time left, usages, extra groups and
whether kube-apiserver would accept it. Token secrets are never shown.`,
		Example: `  # List the bootstrap tokens of the current cluster
  kauth token bootstrap list

  # As JSON, from another kubeconfig
  kauth token bootstrap list --kubeconfig admin.conf -o json`,
		Args: cli.WrapArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := opts.complete(f); err != nil {
				return err
			}
			if runF != nil {
				return runF(opts)
			}
			return runBootstrapList(cmd.Context(), opts)
		},
	}
	return cmd
}

func (o *bootstrapListOptions) complete(f *cli.Factory) error {
	format, err := f.OutputFormat()
	o.Format = format
	return err
}

func runBootstrapList(ctx context.Context, o *bootstrapListOptions) error {
	client, err := o.KubeClient()
	if err != nil {
		return err
	}
	list, err := tokens.ListBootstrapTokens(ctx, client, o.Clock())
	if err != nil {
		return classify(err)
	}
	return output.Print(o.IO, o.Format, list, func() *output.TableView { return bootstrapListTable(list) })
}

func bootstrapListTable(list []tokens.BootstrapInfo) *output.TableView {
	t := &output.TableView{Headers: []string{"ID", "TTL", "EXPIRES", "USAGES", "EXTRA GROUPS", "DESCRIPTION", "STATUS"}}
	for _, b := range list {
		ttl, status, level := "<forever>", "valid", output.Plain
		if b.Expiration != "" {
			ttl = cli.FormatDuration(time.Duration(b.TTLSeconds) * time.Second)
		}
		if !b.Valid() {
			status, level = strings.Join(b.Problems, "; "), output.Bad
		}
		if b.Expired {
			ttl = "expired"
		}
		t.AddRowLevel(level, b.ID, ttl, expiresText(b.Expiration), strings.Join(b.Usages, ","), strings.Join(b.ExtraGroups, ","), b.Description, status)
	}
	if len(list) == 0 {
		t.Footer = append(t.Footer, "no bootstrap tokens in kube-system")
	}
	return t
}
