package authz

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	rbacv1 "k8s.io/api/rbac/v1"

	"github.com/kauth/kauth/cmd/kauth/cli"
	"github.com/kauth/kauth/internal/output"
	"github.com/kauth/kauth/internal/rbac"
)

type explainOptions struct {
	IO      *output.Streams
	Factory *cli.Factory

	policyFlags
	subjectFlags
	requestFlags
	Args   []string
	Format output.Format
}

func newExplainCmd(f *cli.Factory, runF func(*explainOptions) error) *cobra.Command {
	opts := &explainOptions{IO: f.IO, Factory: f}
	cmd := &cobra.Command{
		Use:   "explain VERB RESOURCE [NAME] | VERB /PATH  --as USER [--as-group G]... --from PATH...",
		Short: "Show the bindings, roles and rules behind an access decision, or its nearest misses",
		Long: `Explain decides a request as can-i does and shows the evidence: every
binding, role and rule that allows it (the first is the one kube-apiserver
names in its reason), or, when it is denied, the nearest misses: a rule that
matches but is bound in another namespace, a binding that applies but
references a missing role, a rule whose resourceNames exclude the request,
and roles that would allow it but are not bound to the user.

It takes the same arguments as can-i and exits 0 when allowed, 1 when not.`,
		Example: `  # Why may alice list pods in dev?
  kauth authz explain list pods -n dev --as alice --from policy/

  # Why can't the CI service account read secrets in prod?
  kauth authz explain get secrets -n prod --as system:serviceaccount:ci:builder --from policy/

  # The evidence as JSON
  kauth authz explain get configmaps -n dev --as alice --from policy/ -o json`,
		Args: cli.WrapArgs(cobra.RangeArgs(2, 3)),
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
			return runExplain(cmd.Context(), opts)
		},
	}
	opts.policyFlags.bind(cmd, f)
	opts.subjectFlags.bind(cmd)
	opts.requestFlags.bind(cmd)
	return cmd
}

func (o *explainOptions) complete(f *cli.Factory) error {
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

func runExplain(ctx context.Context, o *explainOptions) error {
	idx, err := o.load(ctx, o.Factory)
	if err != nil {
		return err
	}
	q, err := o.question(o.Factory, o.Args, o.user())
	if err != nil {
		return err
	}
	e := idx.Explain(q.Attributes)
	if t := explainTable(e); o.Format == output.Table && len(t.Rows) == 0 {
		// Nothing to tabulate: say only the decision.
		fmt.Fprintln(o.IO.Out, t.Footer[0])
	} else if err := output.Print(o.IO, o.Format, e, func() *output.TableView { return explainTable(e) }); err != nil {
		return err
	}
	if !e.Allowed {
		return &cli.ResultError{Code: cli.ExitResult}
	}
	return nil
}

func explainTable(e rbac.Explanation) *output.TableView {
	t := &output.TableView{Headers: []string{"EVIDENCE", "BINDING", "ROLE", "RULE", "SOURCE", "DETAIL"}}
	for _, g := range e.Grants {
		t.Rows = append(t.Rows, output.Row{Level: output.Good, Cells: []string{"allows", g.Binding.String(), g.Role.String(), ruleText(g.Index, &g.Rule), orDash(g.BindingSource), "subject " + subjectText(g.Subject)}})
	}
	for _, m := range e.Misses {
		row := []string{"miss:" + string(m.Kind), keyText(m.Binding), keyText(m.Role), ruleText(m.Index, m.Rule), orDash(m.Source), m.Message}
		t.Rows = append(t.Rows, output.Row{Level: output.Warn, Cells: row})
	}
	switch {
	case e.Privileged:
		t.Footer = []string{"allowed: the group system:masters is allowed ahead of RBAC"}
	case e.Allowed:
		t.Footer = []string{"allowed: " + e.Reason}
	case e.Reason != "":
		t.Footer = []string{"denied: " + e.Reason}
	default:
		t.Footer = []string{"denied: no RBAC rule allows the request"}
	}
	return t
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func keyText(k *rbac.ObjectKey) string {
	if k == nil {
		return "-"
	}
	return k.String()
}

func ruleText(i int, r *rbacv1.PolicyRule) string {
	if r == nil {
		return "-"
	}
	var parts []string
	add := func(name string, v []string) {
		if len(v) > 0 {
			parts = append(parts, name+"="+strings.Join(v, ","))
		}
	}
	add("verbs", r.Verbs)
	add("apiGroups", quoteEmpty(r.APIGroups))
	add("resources", r.Resources)
	add("resourceNames", r.ResourceNames)
	add("nonResourceURLs", r.NonResourceURLs)
	return fmt.Sprintf("#%d %s", i, strings.Join(parts, " "))
}

func quoteEmpty(groups []string) []string {
	out := make([]string, len(groups))
	for i, g := range groups {
		out[i] = g
		if g == "" {
			out[i] = `""`
		}
	}
	return out
}

func subjectText(s rbacv1.Subject) string {
	if s.Namespace != "" {
		return fmt.Sprintf("%s %s/%s", s.Kind, s.Namespace, s.Name)
	}
	return s.Kind + " " + s.Name
}
