package quota

import (
	"context"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"k8s.io/client-go/kubernetes"

	"github.com/kauth/kauth/cmd/kauth/cli"
	"github.com/kauth/kauth/internal/output"
	"github.com/kauth/kauth/internal/quota"
)

type generateOptions struct {
	IO         *output.Streams
	KubeClient func() (kubernetes.Interface, error)

	File   string
	Apply  bool
	Format output.Format
}

func newGenerateCmd(f *cli.Factory, runF func(*generateOptions) error) *cobra.Command {
	opts := &generateOptions{IO: f.IO, KubeClient: f.KubeClient}
	cmd := &cobra.Command{
		Use:   "generate -f TENANTS [--apply]",
		Short: "Generate the Namespaces, quotas, limit ranges and admin bindings of a tenants file",
		Long: `Generate turns a tenants file (see docs/quota.md) into, for each tenant
namespace: the Namespace labelled kauth.io/tenant, a ResourceQuota and a
LimitRange named kauth-tenant, a RoleBinding of the tenant's admin groups and
users to the admin ClusterRole, and a ConfigMap holding the tenant's spec.

The output is a kind: List ready for kubectl apply (-o yaml, the default, or
-o json). With --apply the objects are created, or updated in place, in the
cluster of --kubeconfig, and the command lists what it did.`,
		Example: `  # Print the objects of every tenant as YAML
  kauth quota generate -f tenants.yaml

  # The same as JSON, piped to kubectl
  kauth quota generate -f tenants.yaml -o json

  # Create or update them in the cluster of the current kubeconfig
  kauth quota generate -f tenants.yaml --apply`,
		Args: cli.WrapArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := opts.complete(f, cmd); err != nil {
				return err
			}
			if runF != nil {
				return runF(opts)
			}
			return runGenerate(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVarP(&opts.File, "filename", "f", "", "the tenants file (- for stdin)")
	cmd.Flags().BoolVar(&opts.Apply, "apply", false, "create or update the objects in the cluster of --kubeconfig instead of printing them")
	return cmd
}

func (o *generateOptions) complete(f *cli.Factory, cmd *cobra.Command) error {
	if o.File == "" {
		return cli.UsageErrorf("-f/--filename is required: the tenants file to generate from")
	}
	allowed := []output.Format{output.YAML, output.JSON}
	if o.Apply {
		allowed = output.CommonFormats
	} else if fl := cmd.Flag("output"); fl == nil || !fl.Changed {
		o.Format = output.YAML
		return nil
	}
	format, err := f.OutputFormat(allowed...)
	o.Format = format
	return err
}

func runGenerate(ctx context.Context, o *generateOptions) error {
	data, err := readInput(o.File, o.IO.In)
	if err != nil {
		return cli.InputError(err)
	}
	t, err := quota.ReadTenants(o.File, data)
	if err != nil {
		return cli.InputError(err)
	}
	list, err := quota.Generate(t)
	if err != nil {
		return err
	}
	if !o.Apply {
		return output.Print(o.IO, o.Format, list, nil)
	}
	client, err := o.KubeClient()
	if err != nil {
		return err
	}
	res, err := quota.Apply(ctx, client, list)
	if err != nil {
		return err
	}
	output.Success(o.IO, "applied %d objects of %d tenants", len(res.Objects), len(t.Tenants))
	return output.Print(o.IO, o.Format, res, func() *output.TableView { return appliedTable(res) })
}

func appliedTable(r *quota.ApplyResult) *output.TableView {
	objs := slices.Clone(r.Objects)
	key := func(a quota.Applied) string {
		ns := a.Namespace
		if a.Kind == "Namespace" {
			ns = a.Name
		}
		return ns + "\x00" + a.Kind + "\x00" + a.Name
	}
	slices.SortStableFunc(objs, func(a, b quota.Applied) int { return strings.Compare(key(a), key(b)) })
	t := &output.TableView{Headers: []string{"KIND", "NAMESPACE", "NAME", "ACTION"}}
	for _, a := range objs {
		t.AddRow(a.Kind, a.Namespace, a.Name, a.Action)
	}
	return t
}
