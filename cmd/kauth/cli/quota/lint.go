package quota

import (
	"context"

	"github.com/spf13/cobra"
	"k8s.io/client-go/kubernetes"

	"github.com/kauth/kauth/cmd/kauth/cli"
	"github.com/kauth/kauth/internal/loader"
	"github.com/kauth/kauth/internal/output"
	"github.com/kauth/kauth/internal/quota"
)

type lintOptions struct {
	IO         *output.Streams
	KubeClient func() (kubernetes.Interface, error)

	Files     []string
	Live      bool
	Namespace string
	Format    output.Format
}

func newLintCmd(f *cli.Factory, runF func(*lintOptions) error) *cobra.Command {
	opts := &lintOptions{IO: f.IO, KubeClient: f.KubeClient}
	cmd := &cobra.Command{
		Use:   "lint (-f MANIFESTS... | --live)",
		Short: "Find namespaces without quotas or limits and limits that contradict quotas",
		Long: `Lint reports namespaces with no ResourceQuota or no LimitRange (warnings),
pods that alone already exceed a quota of their namespace, limit ranges that
contradict themselves (min above max, a default outside min and max) or
their namespace's quota (a default or a min above the quota's hard), and
quotas on cpu or memory that no LimitRange default covers, so pods without
resources are rejected with "must specify". kube-system, kube-public and
kube-node-lease are skipped.

-f accepts manifests and tenants files. --live reads the cluster's
Namespaces, ResourceQuotas, LimitRanges and the workloads that own their
pods. It exits 1 when there are findings.`,
		Example: `  # Lint the objects a tenants file generates
  kauth quota lint -f tenants.yaml

  # Lint manifests together with their quotas, as JSON
  kauth quota lint -f manifests/ -f quotas.yaml -o json

  # Lint the namespaces, quotas and limit ranges of a cluster
  kauth quota lint --live`,
		Args: cli.WrapArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := opts.complete(f); err != nil {
				return err
			}
			if runF != nil {
				return runF(opts)
			}
			return runLint(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringArrayVarP(&opts.Files, "filename", "f", nil, "manifests, quotas, limit ranges or tenants files (repeatable)")
	cmd.Flags().BoolVar(&opts.Live, "live", false, "lint the namespaces, quotas, limit ranges and workloads of the cluster of --kubeconfig")
	cmd.Flags().StringVarP(&opts.Namespace, "namespace", "n", "default", "namespace of objects that do not name one")
	return cmd
}

func (o *lintOptions) complete(f *cli.Factory) error {
	if o.Live == (len(o.Files) > 0) {
		return cli.UsageErrorf("give either -f MANIFESTS or --live")
	}
	format, err := f.OutputFormat()
	o.Format = format
	return err
}

func runLint(ctx context.Context, o *lintOptions) error {
	var objs []loader.Object
	var err error
	if o.Live {
		objs, err = loadLive(ctx, o.KubeClient)
	} else {
		objs, err = loadManifests(ctx, o.Files, o.IO.In)
	}
	if err != nil {
		return err
	}
	res := quota.Lint(objs, o.Namespace)
	if err := output.Print(o.IO, o.Format, res, func() *output.TableView { return lintTable(res) }); err != nil {
		return err
	}
	if len(res.Findings) > 0 {
		return &cli.ResultError{Code: cli.ExitResult}
	}
	return nil
}

func loadLive(ctx context.Context, kubeClient func() (kubernetes.Interface, error)) ([]loader.Object, error) {
	client, err := kubeClient()
	if err != nil {
		return nil, err
	}
	objs, err := loader.LoadLive(ctx, client, loader.NamespaceKind, loader.ResourceQuotaKind, loader.LimitRangeKind)
	if err != nil {
		return nil, err
	}
	workloads, err := quota.LiveWorkloads(ctx, client)
	if err != nil {
		return nil, err
	}
	return append(objs, workloads...), nil
}

func lintTable(r *quota.LintResult) *output.TableView {
	t := &output.TableView{Headers: []string{"SEVERITY", "RULE", "NAMESPACE", "OBJECT", "SOURCE", "MESSAGE"}}
	for _, f := range r.Findings {
		level := output.Warn
		if f.Severity == quota.SeverityError {
			level = output.Bad
		}
		t.AddRowLevel(level, f.Severity, f.Rule, f.Namespace, f.Kind+"/"+f.Name, f.Source.String(), f.Message)
	}
	if len(r.Findings) == 0 {
		t.Footer = append(t.Footer, "no findings")
	}
	return t
}
