package authz

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"k8s.io/apiserver/pkg/authorization/authorizer"

	"github.com/kauth/kauth/cmd/kauth/cli"
	"github.com/kauth/kauth/internal/output"
	"github.com/kauth/kauth/internal/rbac"
)

type canIOptions struct {
	IO      *output.Streams
	Factory *cli.Factory

	policyFlags
	subjectFlags
	requestFlags
	List   bool
	Quiet  bool
	Args   []string
	Format output.Format
}

// canIResult is what can-i prints with -o json or yaml.
type canIResult struct {
	Allowed bool   `json:"allowed"`
	Reason  string `json:"reason,omitempty"`
}

// canIListResult is what can-i --list prints with -o json or yaml.
type canIListResult struct {
	Namespace string           `json:"namespace,omitempty"`
	Rules     []rbac.AccessRow `json:"rules"`
}

func newCanICmd(f *cli.Factory, runF func(*canIOptions) error) *cobra.Command {
	opts := &canIOptions{IO: f.IO, Factory: f}
	cmd := &cobra.Command{
		Use:   "can-i VERB RESOURCE [NAME] | VERB /PATH | --list  --as USER [--as-group G]... --from PATH...",
		Short: "Answer yes or no to an access question, offline, as kubectl auth can-i would",
		Long: `Can-i decides one request exactly as kube-apiserver v1.37 with
--authorization-mode=RBAC would: the group system:masters first, then RBAC.
It prints yes (exit 0) or no (exit 1), like kubectl auth can-i.

RESOURCE resolves as kubectl resolves it: deploy, deployments,
deployments.apps. As in kubectl, TYPE/NAME names an object: pods/log is the
pod named "log"; ask for a subresource with --subresource log. The user is
built as kube-apiserver's impersonation builds it: a service account
(system:serviceaccount:NS:NAME) gets its groups, everyone gets
system:authenticated. --list prints every rule the user has in the
namespace, as kubectl auth can-i --list.`,
		Example: `  # Can alice list pods in namespace dev?
  kauth authz can-i list pods -n dev --as alice --from policy/

  # A subresource, with the default roles of a cluster added
  kauth authz can-i get pods --subresource log -n dev --as alice --from policy/ --bootstrap-policy

  # A non-resource URL
  kauth authz can-i get /healthz --as system:anonymous --bootstrap-policy

  # Everything a service account may do in namespace dev
  kauth authz can-i --list -n dev --as system:serviceaccount:ci:builder --from policy/`,
		Args: cli.WrapArgs(cobra.RangeArgs(0, 3)),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Args = args
			if err := opts.complete(f); err != nil {
				return err
			}
			if err := opts.defaultNamespace(cmd, f, opts.Live); err != nil {
				return err
			}
			if runF != nil {
				return runF(opts)
			}
			return runCanI(cmd.Context(), opts)
		},
	}
	opts.policyFlags.bind(cmd, f)
	opts.subjectFlags.bind(cmd)
	opts.requestFlags.bind(cmd)
	cmd.Flags().BoolVar(&opts.List, "list", false, "list everything the user may do in the namespace")
	cmd.Flags().BoolVarP(&opts.Quiet, "quiet", "q", false, "print nothing; only the exit code answers")
	return cmd
}

func (o *canIOptions) complete(f *cli.Factory) error {
	switch {
	case o.List && len(o.Args) > 0:
		return cli.UsageErrorf("--list takes no VERB or RESOURCE")
	case !o.List && len(o.Args) < 2:
		return cli.UsageErrorf("expected VERB RESOURCE [NAME] or VERB /PATH, or --list")
	}
	if err := o.subjectFlags.validate(); err != nil {
		return err
	}
	if err := o.policyFlags.validate(); err != nil {
		return err
	}
	format, err := f.OutputFormat()
	o.Format = format
	return err
}

func runCanI(ctx context.Context, o *canIOptions) error {
	idx, err := o.load(ctx, o.Factory)
	if err != nil {
		return err
	}
	if o.List {
		return runCanIList(o, idx)
	}
	q, err := o.question(o.Factory, o.Args, o.user())
	if err != nil {
		return err
	}
	if !knownVerb(o.Args[0], strings.HasPrefix(o.Args[1], "/")) {
		output.Warning(o.IO, "verb '%s' is not a known verb", o.Args[0])
	}
	d, reason, _ := rbac.NewAuthorizer(idx).Authorize(ctx, q.Attributes)
	res := canIResult{Allowed: d == authorizer.DecisionAllow, Reason: reason}
	switch {
	case o.Quiet:
	case o.Format == output.Table:
		fmt.Fprintln(o.IO.Out, canILine(res))
	default:
		if err := output.Print(o.IO, o.Format, res, nil); err != nil {
			return err
		}
	}
	if !res.Allowed {
		return &cli.ResultError{Code: cli.ExitResult}
	}
	return nil
}

// knownVerb: the verbs kubectl auth can-i knows for resources and for
// non-resource URLs; it warns about others but still asks.
func knownVerb(verb string, url bool) bool {
	if url {
		return slices.Contains([]string{"get", "put", "post", "head", "options", "delete", "patch", "*"}, verb)
	}
	return slices.Contains([]string{"get", "list", "watch", "create", "update", "patch", "delete", "deletecollection",
		"use", "bind", "impersonate", "*", "approve", "sign", "escalate", "attest"}, verb)
}

// canILine is kubectl's answer line: yes, or no with the reason.
func canILine(r canIResult) string {
	if r.Allowed {
		return "yes"
	}
	if r.Reason != "" {
		return "no - " + r.Reason
	}
	return "no"
}

func runCanIList(o *canIOptions, idx *rbac.Index) error {
	rows, err := idx.AccessList(o.user(), o.namespace())
	if err != nil {
		output.Warning(o.IO, "the list may be incomplete: %v", err)
	}
	res := canIListResult{Namespace: o.namespace(), Rules: rows}
	return output.Print(o.IO, o.Format, res, func() *output.TableView { return accessTable(rows) })
}

func accessTable(rows []rbac.AccessRow) *output.TableView {
	t := &output.TableView{Headers: []string{"RESOURCES", "NON-RESOURCE URLS", "RESOURCE NAMES", "VERBS"}}
	list := func(s []string) string { return "[" + strings.Join(s, " ") + "]" }
	for _, r := range rows {
		t.AddRow(strings.Join(r.Resources, " "), list(r.NonResourceURLs), list(r.ResourceNames), list(r.Verbs))
	}
	return t
}
