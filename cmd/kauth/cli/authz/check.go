package authz

import (
	"context"
	"errors"

	"github.com/spf13/cobra"
	authorizationv1 "k8s.io/api/authorization/v1"

	"github.com/kauth/kauth/cmd/kauth/cli"
	"github.com/kauth/kauth/internal/loader"
	"github.com/kauth/kauth/internal/output"
	"github.com/kauth/kauth/internal/rbac"
)

// jsonl is check's extra output format: one JSON object per line.
const jsonl output.Format = "jsonl"

type checkOptions struct {
	IO      *output.Streams
	Factory *cli.Factory

	policyFlags
	File       string
	ServerSide bool
	Format     output.Format
}

func newCheckCmd(f *cli.Factory, runF func(*checkOptions) error) *cobra.Command {
	opts := &checkOptions{IO: f.IO, Factory: f}
	cmd := &cobra.Command{
		Use:   "check -f FILE|- --from PATH... [--bootstrap-policy] [-o yaml|json|jsonl]",
		Short: "Answer a batch of SubjectAccessReviews and print them back with their status",
		Long: `Check reads authorization.k8s.io/v1 SubjectAccessReview objects (a YAML or
JSON stream, or one JSON object per line) and prints them back, in input
order, with status.allowed, status.denied and status.reason filled in as
kube-apiserver's SubjectAccessReview API would fill them: the user and
groups exactly as given (no groups are added), system:masters first, then
RBAC. It is the batch interface for CI.

-o yaml (the default) prints a YAML stream, -o json a List, -o jsonl one
object per line. With --live --server-side the reviews go to the cluster's
SubjectAccessReview API instead, so the answers of a real cluster can be
compared with kauth's.`,
		Example: `  # Answer reviews from a file against a policy folder
  kauth authz check -f reviews.yaml --from policy/

  # From stdin, with the default roles, one JSON object per line
  kauth authz check -f - --from policy/ --bootstrap-policy -o jsonl

  # Ask a real cluster the same questions
  kauth authz check -f reviews.yaml --live --server-side -o jsonl`,
		Args: cli.WrapArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := opts.complete(f, cmd.Flags().Changed("output")); err != nil {
				return err
			}
			if runF != nil {
				return runF(opts)
			}
			return runCheck(cmd.Context(), opts)
		},
	}
	opts.policyFlags.bind(cmd, f)
	cmd.Flags().StringVarP(&opts.File, "filename", "f", "", "the SubjectAccessReviews: a file, a folder, - for stdin, or git:REF:PATH")
	cmd.Flags().BoolVar(&opts.ServerSide, "server-side", false, "with --live, send the reviews to the cluster's SubjectAccessReview API")
	return cmd
}

func (o *checkOptions) complete(f *cli.Factory, outputSet bool) error {
	if o.File == "" {
		return cli.UsageErrorf("-f/--filename is required: the SubjectAccessReviews to answer")
	}
	if o.ServerSide && !o.Live {
		return cli.UsageErrorf("--server-side needs --live: it sends the reviews to the cluster")
	}
	if o.ServerSide && (len(o.From) > 0 || o.Bootstrap) {
		return cli.UsageErrorf("--server-side asks the cluster; --from and --bootstrap-policy would be ignored")
	}
	if err := o.policyFlags.validate(); err != nil {
		return err
	}
	if !outputSet {
		// The reviews print back as a stream of objects unless asked.
		f.Output = string(output.YAML)
	}
	format, err := f.OutputFormat(output.YAML, output.JSON, jsonl)
	o.Format = format
	return err
}

func runCheck(ctx context.Context, o *checkOptions) error {
	objs, err := loader.Load(ctx, []string{o.File}, loader.Options{Stdin: o.Factory.Stdin()})
	if err != nil {
		return cli.InputError(err)
	}
	review, err := o.reviewer(ctx)
	if err != nil {
		return err
	}
	sars, err := rbac.ReviewObjects(ctx, objs, review)
	var se *rbac.SourceError
	if errors.As(err, &se) {
		return cli.InputError(err)
	}
	if err != nil {
		return err
	}
	return printReviews(o.IO, o.Format, sars)
}

func (o *checkOptions) reviewer(ctx context.Context) (rbac.ReviewFunc, error) {
	if o.ServerSide {
		client, err := o.KubeClient()
		if err != nil {
			return nil, err
		}
		return rbac.ServerSide(client), nil
	}
	idx, err := o.load(ctx, o.Factory)
	if err != nil {
		return nil, err
	}
	return rbac.Offline(rbac.NewAuthorizer(idx)), nil
}

// reviewList is a kind: List of reviews, as kubectl prints several objects.
type reviewList struct {
	APIVersion string                                 `json:"apiVersion"`
	Kind       string                                 `json:"kind"`
	Items      []*authorizationv1.SubjectAccessReview `json:"items"`
}

func printReviews(s *output.Streams, format output.Format, sars []*authorizationv1.SubjectAccessReview) error {
	switch format {
	case jsonl:
		for _, r := range sars {
			if err := output.WriteJSONLine(s, r); err != nil {
				return err
			}
		}
		return nil
	case output.JSON:
		return output.WriteJSON(s, reviewList{APIVersion: "v1", Kind: "List", Items: sars})
	}
	for i, r := range sars {
		if i > 0 {
			if _, err := s.Out.Write([]byte("---\n")); err != nil {
				return err
			}
		}
		if err := output.WriteYAML(s, r); err != nil {
			return err
		}
	}
	return nil
}
