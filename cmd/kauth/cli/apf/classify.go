package apf

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/kauth/kauth/cmd/kauth/cli"
	"github.com/kauth/kauth/internal/apf"
	"github.com/kauth/kauth/internal/output"
)

type classifyOptions struct {
	IO *output.Streams

	As        string
	AsGroups  []string
	Namespace string
	Config    []string
	Request   apf.Request
	Format    output.Format
}

func newClassifyCmd(f *cli.Factory, runF func(*classifyOptions) error) *cobra.Command {
	opts := &classifyOptions{IO: f.IO}
	cmd := &cobra.Command{
		Use:   "classify --as USER [--as-group G]... (VERB RESOURCE [NAME] [-n NS] | VERB /PATH) [--config PATH]...",
		Short: "Show which FlowSchema and priority level a request is classified into",
		Long: `Classify matches a request against the FlowSchemas in kube-apiserver's order
(matchingPrecedence, then name) and prints the schemas it skipped and why,
the one that matched, its priority level, the flow distinguisher and
whether the request is exempt.

RESOURCE is written as for kubectl auth can-i: pods, pods/log,
deployments.apps, deployments.apps/scale. The groups are those
kube-apiserver gives an impersonated user (kubectl --as): a service
account's own groups when --as-group is not given, and
system:authenticated (system:unauthenticated for system:anonymous).`,
		Example: `  # Where does a service account's pod list go?
  kauth apf classify --as system:serviceaccount:ci:runner list pods -n ci

  # A node updating its lease
  kauth apf classify --as system:node:n1 --as-group system:nodes update leases.coordination.k8s.io -n kube-node-lease

  # A non-resource request against your own configuration
  kauth apf classify --as alice get /healthz --config flowcontrol/`,
		Args: cli.WrapArgs(cobra.RangeArgs(2, 3)),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := opts.complete(f, args); err != nil {
				return err
			}
			if runF != nil {
				return runF(opts)
			}
			return runClassify(cmd, opts)
		},
	}
	cmd.Flags().StringVar(&opts.As, "as", "", "user name of the request (required)")
	cmd.Flags().StringArrayVar(&opts.AsGroups, "as-group", nil, "group of the user (repeatable)")
	cmd.Flags().StringVarP(&opts.Namespace, "namespace", "n", "", "namespace of the request (empty: cluster-scoped)")
	configFlag(cmd, &opts.Config)
	return cmd
}

func (o *classifyOptions) complete(f *cli.Factory, args []string) error {
	if o.As == "" {
		return cli.UsageErrorf("--as is required: the user making the request")
	}
	r := apf.Request{User: o.As, Groups: apf.ImpersonatedGroups(o.As, o.AsGroups), Verb: strings.ToLower(args[0])}
	if strings.HasPrefix(args[1], "/") {
		if len(args) > 2 || o.Namespace != "" {
			return cli.UsageErrorf("a non-resource request (%s) takes no NAME and no --namespace", args[1])
		}
		r.NonResourceURL = args[1]
	} else {
		r.Resource, r.Subresource, r.APIGroup = apf.ParseResourceArg(args[1])
		r.Namespace = o.Namespace
		if len(args) == 3 {
			r.Name = args[2]
		}
	}
	o.Request = r
	format, err := f.OutputFormat()
	o.Format = format
	return err
}

func runClassify(cmd *cobra.Command, o *classifyOptions) error {
	res, err := apf.ClassifyRequest(cmd.Context(), configSource(o.Config, o.IO.In), o.Request)
	if err != nil {
		return cli.InputError(err)
	}
	if err := output.Print(o.IO, o.Format, res, func() *output.TableView { return classifyTable(res) }); err != nil {
		return err
	}
	if !res.Matched {
		return &cli.ResultError{Code: cli.ExitResult}
	}
	return nil
}

func classifyTable(r *apf.ClassifyResult) *output.TableView {
	t := &output.TableView{Headers: []string{"FLOWSCHEMA", "PRECEDENCE", "RESULT", "DETAILS"}}
	for _, s := range r.Skipped {
		t.Rows = append(t.Rows, output.Row{Cells: []string{s.FlowSchema, strconv.Itoa(int(s.MatchingPrecedence)), "skipped", s.Reason}, Level: output.Dim})
	}
	if r.FlowSchema == "" {
		t.Footer = append(t.Footer, "no FlowSchema matches and there is no catch-all")
		return t
	}
	result := "matched"
	if r.FallbackToCatchAll {
		result = "fallback"
	}
	d := fmt.Sprintf("priority level %s", r.PriorityLevel)
	switch {
	case r.Exempt:
		d += ", exempt"
	case !r.Queuing:
		d += ", rejects when full (no queuing)"
	default:
		d += fmt.Sprintf(", flow distinguisher %q", r.FlowDistinguisher)
		if r.DistinguisherType != "" {
			d += " (" + r.DistinguisherType + ")"
		}
	}
	t.Rows = append(t.Rows, output.Row{Cells: []string{r.FlowSchema, strconv.Itoa(int(r.MatchingPrecedence)), result, d}, Level: output.Good})
	return t
}
