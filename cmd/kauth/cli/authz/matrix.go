package authz

import (
	"context"
	"strings"

	"github.com/spf13/cobra"

	"github.com/kauth/kauth/cmd/kauth/cli"
	"github.com/kauth/kauth/internal/output"
	"github.com/kauth/kauth/internal/rbac"
)

type matrixOptions struct {
	IO      *output.Streams
	Factory *cli.Factory

	policyFlags
	subjectFlags
	Namespace string
	Verbs     []string
	Format    output.Format
}

func newMatrixCmd(f *cli.Factory, runF func(*matrixOptions) error) *cobra.Command {
	opts := &matrixOptions{IO: f.IO, Factory: f}
	cmd := &cobra.Command{
		Use:   "matrix --as USER [--as-group G]... [-n NS] [--verb V]... --from PATH...",
		Short: "Print what a user may do to every built-in resource, as a resources by verbs matrix",
		Long: `Matrix asks every (resource, verb) question of the built-in resources of
Kubernetes v1.37 for one user, as rakkess does, and prints yes, no, or n/a
where the resource does not serve the verb. Without -n it asks cluster-wide
for every resource; with -n it asks in that namespace for the namespaced
resources only. On a colour terminal yes is green and no is red.`,
		Example: `  # What may alice do cluster-wide?
  kauth authz matrix --as alice --from policy/

  # What may the CI service account do in namespace dev?
  kauth authz matrix --as system:serviceaccount:ci:builder -n dev --from policy/

  # Only some verbs, as JSON
  kauth authz matrix --as alice -n dev --verb get --verb delete --from policy/ -o json`,
		Args: cli.WrapArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := opts.complete(f); err != nil {
				return err
			}
			if runF != nil {
				return runF(opts)
			}
			return runMatrix(cmd.Context(), opts)
		},
	}
	opts.policyFlags.bind(cmd, f)
	opts.subjectFlags.bind(cmd)
	cmd.Flags().StringVarP(&opts.Namespace, "namespace", "n", "", "ask in this namespace, for namespaced resources only (default: cluster-wide)")
	cmd.Flags().StringArrayVar(&opts.Verbs, "verb", nil, "a verb column (repeatable; default get, list, watch, create, update, patch, delete)")
	return cmd
}

func (o *matrixOptions) complete(f *cli.Factory) error {
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

func runMatrix(ctx context.Context, o *matrixOptions) error {
	idx, err := o.load(ctx, o.Factory)
	if err != nil {
		return err
	}
	m, err := rbac.BuildMatrix(ctx, rbac.NewAuthorizer(idx), rbac.MatrixRequest{User: o.user(), Namespace: o.Namespace, Verbs: o.Verbs})
	if err != nil {
		return err
	}
	return output.Print(o.IO, o.Format, m, func() *output.TableView { return matrixTable(m) })
}

func matrixTable(m rbac.Matrix) *output.TableView {
	t := &output.TableView{Headers: []string{"NAME"}}
	for _, v := range m.Verbs {
		t.Headers = append(t.Headers, strings.ToUpper(v))
	}
	for _, r := range m.Rows {
		row := output.Row{Cells: []string{r.Resource}, Levels: []output.Level{output.Plain}}
		for _, v := range m.Verbs {
			a := r.Access[v]
			row.Cells = append(row.Cells, a)
			row.Levels = append(row.Levels, accessLevel(a))
		}
		t.Rows = append(t.Rows, row)
	}
	return t
}

func accessLevel(a string) output.Level {
	switch a {
	case rbac.AccessYes:
		return output.Good
	case rbac.AccessNo:
		return output.Bad
	}
	return output.Dim
}
