package authz

import (
	"context"
	"strings"

	"github.com/spf13/cobra"

	"github.com/kauth/kauth/cmd/kauth/cli"
	"github.com/kauth/kauth/internal/output"
	"github.com/kauth/kauth/internal/rbac"
)

type whoCanOptions struct {
	IO      *output.Streams
	Factory *cli.Factory

	policyFlags
	requestFlags
	Args   []string
	Format output.Format
}

func newWhoCanCmd(f *cli.Factory, runF func(*whoCanOptions) error) *cobra.Command {
	opts := &whoCanOptions{IO: f.IO, Factory: f}
	cmd := &cobra.Command{
		Use:   "who-can VERB RESOURCE [NAME] | VERB /PATH  --from PATH...",
		Short: "List the users, groups and service accounts allowed to make a request",
		Long: `Who-can lists the subjects allowed to make a request, as kube-apiserver's
subject locator does: the group system:masters (allowed ahead of RBAC), then
the subjects of every ClusterRoleBinding, and of every RoleBinding in the
request's namespace, whose role allows the request. Subjects are shown as
the bindings name them, each with the bindings that grant it.

A group listed here grants access to every member; a service account also
gets access through the groups system:serviceaccounts and
system:serviceaccounts:NS, and every authenticated user through
system:authenticated.`,
		Example: `  # Who may delete pods in namespace prod?
  kauth authz who-can delete pods -n prod --from policy/

  # Who may read the secret db-password, including the default roles?
  kauth authz who-can get secrets db-password -n prod --from policy/ --bootstrap-policy

  # Who may read /metrics, as JSON
  kauth authz who-can get /metrics --from policy/ -o json`,
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
			return runWhoCan(cmd.Context(), opts)
		},
	}
	opts.policyFlags.bind(cmd, f)
	opts.requestFlags.bind(cmd)
	return cmd
}

func (o *whoCanOptions) complete(f *cli.Factory) error {
	if err := o.policyFlags.validate(); err != nil {
		return err
	}
	format, err := f.OutputFormat()
	o.Format = format
	return err
}

func runWhoCan(ctx context.Context, o *whoCanOptions) error {
	idx, err := o.load(ctx, o.Factory)
	if err != nil {
		return err
	}
	q, err := o.question(o.Factory, o.Args, nil)
	if err != nil {
		return err
	}
	res := idx.WhoCan(q.Attributes)
	for _, e := range res.Errors {
		output.Warning(o.IO, "%s", e)
	}
	return output.Print(o.IO, o.Format, res, func() *output.TableView { return whoCanTable(res) })
}

func whoCanTable(res rbac.WhoCanResult) *output.TableView {
	t := &output.TableView{Headers: []string{"KIND", "NAME", "NAMESPACE", "VIA"}}
	for _, s := range res.Subjects {
		via := make([]string, 0, len(s.Via))
		for _, v := range s.Via {
			via = append(via, v.Binding.String()+" -> "+v.Role.String())
		}
		if s.Privileged {
			via = append(via, "privileged group, allowed ahead of RBAC")
		}
		ns := s.Namespace
		if ns == "" {
			ns = "-"
		}
		t.AddRow(s.Kind, s.Name, ns, strings.Join(via, ", "))
	}
	return t
}
