package quota

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/kauth/kauth/cmd/kauth/cli"
	"github.com/kauth/kauth/internal/loader"
	"github.com/kauth/kauth/internal/output"
	"github.com/kauth/kauth/internal/quota"
)

type usageOptions struct {
	IO         *output.Streams
	KubeClient func() (kubernetes.Interface, error)

	Files     []string
	Quotas    []string
	Live      bool
	Nodes     int
	Namespace string
	Format    output.Format
}

func newUsageCmd(f *cli.Factory, runF func(*usageOptions) error) *cobra.Command {
	opts := &usageOptions{IO: f.IO, KubeClient: f.KubeClient}
	cmd := &cobra.Command{
		Use:   "usage (-f MANIFESTS... --quota FILE... | --live)",
		Short: "Show used against hard for every quota, per namespace and resource",
		Long: `Usage shows, for every ResourceQuota, each resource's used amount against
its hard limit, with a bar on a terminal.

From files, the usage is what the manifests would charge once admitted (as
kauth quota check computes it, LimitRange defaults included). With --live it
is the status.used the cluster's quota controller reports.`,
		Example: `  # What the manifests would use of the tenants' quotas
  kauth quota usage -f manifests/ --quota tenants.yaml

  # What the cluster reports, as JSON
  kauth quota usage --live -o json`,
		Args: cli.WrapArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := opts.complete(f); err != nil {
				return err
			}
			if runF != nil {
				return runF(opts)
			}
			return runUsage(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringArrayVarP(&opts.Files, "filename", "f", nil, "manifests whose usage to compute (repeatable)")
	cmd.Flags().StringArrayVar(&opts.Quotas, "quota", nil, "ResourceQuotas and LimitRanges, or a tenants file (repeatable)")
	cmd.Flags().BoolVar(&opts.Live, "live", false, "read the quotas' status from the cluster of --kubeconfig")
	replayFlags(cmd, &opts.Nodes, &opts.Namespace)
	return cmd
}

func (o *usageOptions) complete(f *cli.Factory) error {
	switch {
	case o.Live && (len(o.Files) > 0 || len(o.Quotas) > 0):
		return cli.UsageErrorf("--live reads the cluster: it cannot be combined with -f or --quota")
	case !o.Live && len(o.Files) == 0 && len(o.Quotas) == 0:
		return cli.UsageErrorf("give -f MANIFESTS and --quota FILE, or --live")
	case o.Nodes < 1:
		return cli.UsageErrorf("--nodes %d: must be at least 1", o.Nodes)
	}
	format, err := f.OutputFormat()
	o.Format = format
	return err
}

func runUsage(ctx context.Context, o *usageOptions) error {
	var usage []quota.NamespaceUsage
	if o.Live {
		client, err := o.KubeClient()
		if err != nil {
			return err
		}
		objs, err := loader.LoadLive(ctx, client, loader.ResourceQuotaKind)
		if err != nil {
			return err
		}
		usage = quota.UsageFromQuotas(quotasOf(objs))
	} else {
		res, err := replay(ctx, o.IO.In, o.Files, o.Quotas, o.Nodes, o.Namespace)
		if err != nil {
			return err
		}
		usage = res.Namespaces
	}
	return output.Print(o.IO, o.Format, usage, func() *output.TableView { return usageTable(usage, o.IO.OutTTY) })
}

func quotasOf(objs []loader.Object) []corev1.ResourceQuota {
	var out []corev1.ResourceQuota
	for _, o := range objs {
		if q, ok := o.Object.(*corev1.ResourceQuota); ok {
			out = append(out, *q)
		}
	}
	return out
}

// usageTable lists used against hard; bars draws a bar on a terminal.
func usageTable(namespaces []quota.NamespaceUsage, bars bool) *output.TableView {
	t := &output.TableView{Headers: []string{"NAMESPACE", "QUOTA", "RESOURCE", "USED", "HARD", "USAGE"}}
	for _, ns := range namespaces {
		if len(ns.Quotas) == 0 {
			addUnlimited(t, ns)
		}
		for _, q := range ns.Quotas {
			for _, r := range q.Resources {
				level := output.Plain
				switch {
				case r.Percent > 100:
					level = output.Bad
				case r.Percent >= 90:
					level = output.Warn
				}
				used, cell := r.Used.String(), usageCell(r.Percent, bars)
				if q.StatusUnknown {
					used, cell, level = "unknown", "-", output.Dim
				}
				t.AddRowLevel(level, ns.Namespace, q.Name, string(r.Resource), used, r.Hard.String(), cell)
			}
		}
	}
	return t
}

// addUnlimited lists what a namespace without a quota would use.
func addUnlimited(t *output.TableView, ns quota.NamespaceUsage) {
	names := make([]string, 0, len(ns.Used))
	for name := range ns.Used {
		if !strings.HasPrefix(string(name), "count/") {
			names = append(names, string(name))
		}
	}
	sort.Strings(names)
	for _, name := range names {
		used := ns.Used[corev1.ResourceName(name)]
		t.AddRowLevel(output.Dim, ns.Namespace, "(none)", name, used.String(), "-", "-")
	}
}

const barWidth = 20

func usageCell(percent int, bars bool) string {
	if !bars {
		return fmt.Sprintf("%d%%", percent)
	}
	filled := min(percent*barWidth/100, barWidth)
	return strings.Repeat("█", filled) + strings.Repeat("░", barWidth-filled) + fmt.Sprintf(" %d%%", percent)
}
