package quota

import (
	"context"
	"fmt"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/kauth/kauth/cmd/kauth/cli"
	"github.com/kauth/kauth/internal/output"
	"github.com/kauth/kauth/internal/quota"
)

type checkOptions struct {
	IO *output.Streams

	Files     []string
	Quotas    []string
	Nodes     int
	Namespace string
	Format    output.Format
}

func newCheckCmd(f *cli.Factory, runF func(*checkOptions) error) *cobra.Command {
	opts := &checkOptions{IO: f.IO}
	cmd := &cobra.Command{
		Use:   "check -f MANIFESTS... [--quota FILE]...",
		Short: "Check whether workloads fit their namespaces' quotas and limit ranges",
		Long: `Check replays the creation of every object in MANIFESTS, and of the
ReplicaSets, Jobs, pods and claims their controllers would create (replicas
multiplied out), through kube-apiserver's admission: API defaulting,
LimitRanger (defaults, then min, max and maxLimitRequestRatio), then
ResourceQuota with the upstream evaluators' usage.

It prints what each object leads to, what each quota would then use against
its hard limits, and the first create request that would be rejected with
kube-apiserver's own message. It exits 1 if anything would be rejected.

--quota reads ResourceQuotas, LimitRanges and RuntimeClasses (already in the
cluster, with status.used if you have it) or a tenants file. Those found in
MANIFESTS count as in place too. A DaemonSet runs on an unknown number of
nodes: its pods are counted for --nodes nodes.`,
		Example: `  # Check a deployment against a tenants file
  kauth quota check -f deploy.yaml --quota tenants.yaml

  # Check a folder of manifests against quotas exported from a cluster
  kauth quota check -f manifests/ --quota quotas.yaml

  # Count DaemonSet pods for 3 nodes, as JSON
  kauth quota check -f manifests/ --quota tenants.yaml --nodes 3 -o json`,
		Args: cli.WrapArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := opts.complete(f); err != nil {
				return err
			}
			if runF != nil {
				return runF(opts)
			}
			return runCheck(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringArrayVarP(&opts.Files, "filename", "f", nil, "manifests to check: a file, a folder (recursive), - for stdin, or git:REF:PATH (repeatable)")
	cmd.Flags().StringArrayVar(&opts.Quotas, "quota", nil, "ResourceQuotas and LimitRanges in place, or a tenants file (repeatable)")
	replayFlags(cmd, &opts.Nodes, &opts.Namespace)
	return cmd
}

func (o *checkOptions) complete(f *cli.Factory) error {
	if len(o.Files) == 0 {
		return cli.UsageErrorf("-f/--filename is required: the manifests to check")
	}
	if o.Nodes < 1 {
		return cli.UsageErrorf("--nodes %d: must be at least 1", o.Nodes)
	}
	format, err := f.OutputFormat()
	o.Format = format
	return err
}

func runCheck(ctx context.Context, o *checkOptions) error {
	res, err := replay(ctx, o.IO.In, o.Files, o.Quotas, o.Nodes, o.Namespace)
	if err != nil {
		return err
	}
	if o.Format == output.Table {
		if err := output.RenderTable(o.IO, objectsTable(res)); err != nil {
			return err
		}
		fmt.Fprintln(o.IO.Out)
	}
	if err := output.Print(o.IO, o.Format, res, func() *output.TableView { return checkUsageTable(res) }); err != nil {
		return err
	}
	if !res.Fits {
		return &cli.ResultError{Code: cli.ExitResult}
	}
	return nil
}

func objectsTable(r *quota.CheckResult) *output.TableView {
	t := &output.TableView{Headers: []string{"SOURCE", "KIND", "NAMESPACE", "NAME", "PODS", "ADMITTED", "RESULT"}}
	for _, ob := range r.Objects {
		result, level := "admitted", output.Good
		if ob.Rejected {
			result, level = "rejected", output.Bad
		}
		t.AddRowLevel(level, ob.Source.String(), ob.Kind, ob.Namespace, ob.Name, strconv.Itoa(ob.Pods), strconv.Itoa(ob.Admitted), result)
	}
	for _, ob := range r.Objects {
		if ob.Note != "" {
			t.Footer = append(t.Footer, fmt.Sprintf("note: %s %s: %s", ob.Kind, ob.Name, ob.Note))
		}
	}
	return t
}

func checkUsageTable(r *quota.CheckResult) *output.TableView {
	t := usageTable(r.Namespaces, false)
	if r.Rejected != nil {
		t.Footer = append(t.Footer, "", fmt.Sprintf("first rejection: %s %s %s/%s:", r.Rejected.Source, r.Rejected.Kind, r.Rejected.Namespace, r.Rejected.Name), "  "+r.Rejected.Message)
	} else {
		t.Footer = append(t.Footer, "", "every object fits")
	}
	return t
}
