package rbac

import (
	"context"
	"errors"
	"io"
	"strings"

	"github.com/spf13/cobra"
	"k8s.io/client-go/kubernetes"

	"github.com/kauth/kauth/cmd/kauth/cli"
	"github.com/kauth/kauth/internal/output"
	"github.com/kauth/kauth/internal/rbac"
	"github.com/kauth/kauth/internal/rbacdiff"
)

const formatMarkdown output.Format = "markdown"

type diffOptions struct {
	IO         *output.Streams
	KubeClient func() (kubernetes.Interface, error)

	Old, New  string
	Bootstrap bool
	ExitCode  bool
	Format    output.Format
}

func newDiffCmd(f *cli.Factory, runF func(*diffOptions) error) *cobra.Command {
	opts := &diffOptions{IO: f.IO, KubeClient: f.KubeClient}
	cmd := &cobra.Command{
		Use:   "diff OLD NEW [--bootstrap-policy] [--exit-code]",
		Short: "Show what a change to RBAC does to effective permissions",
		Long: `Diff compares two policies by effective permission, not by text: per
subject (user, group, service account), what is newly granted and what is
revoked, as verbs on a resource (in a namespace or cluster-wide) or on a
non-resource URL, merged into few lines; and which RBAC objects were added,
removed or modified. A grant of what "kauth rbac lint" calls risky is
marked as an escalation.

OLD and NEW are each a file, a folder, - (standard input), git:REF:PATH, or
live for the cluster in --kubeconfig. In a line, * stands for every value
no rule of the subject names, and a resource * without subresource for
every resource and subresource.

With --exit-code, diff exits 0 when permissions do not change, 1 when they
do, 2 when a change is an escalation, and 3 on every error (a usage
mistake, an unreadable side or invalid object, a failure), so that 2
always means an escalation. Without --exit-code, errors exit as with every
kauth command (2 for usage and input errors, 3 for failures).`,
		Example: `  # What does this pull request change?
  kauth rbac diff git:origin/main:rbac/ rbac/

  # Two folders, as JSON
  kauth rbac diff old/ new/ -o json

  # Require approval in CI when a change escalates
  kauth rbac diff git:origin/main:rbac/ rbac/ -o markdown --exit-code

  # Drift: what the cluster grants beyond the source (revoked lines), and
  # what was not rolled out yet (granted lines)
  kauth rbac diff live rbac/ --bootstrap-policy`,
		Args: func(cmd *cobra.Command, args []string) error {
			return opts.exitError(cli.WrapArgs(cobra.ExactArgs(2))(cmd, args))
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Old, opts.New = args[0], args[1]
			if err := opts.complete(f); err != nil {
				return opts.exitError(err)
			}
			if runF != nil {
				return opts.exitError(runF(opts))
			}
			return opts.exitError(runDiff(cmd.Context(), opts))
		},
	}
	cmd.Flags().BoolVar(&opts.Bootstrap, "bootstrap-policy", false, "add the default roles and bindings of Kubernetes v1.37 to each side read from files")
	cmd.Flags().BoolVar(&opts.ExitCode, "exit-code", false, "exit 1 when permissions change, 2 when a change is an escalation, 3 on any error")
	// A flag error after --exit-code exits 3 too; the flags before the bad
	// one are already parsed.
	cmd.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return opts.exitError(&cli.UsageError{Err: err})
	})
	return cmd
}

// exitError makes every error exit 3 under --exit-code, where 2 means an
// escalation; the result codes 1 and 2 pass unchanged.
func (o *diffOptions) exitError(err error) error {
	var re *cli.ResultError
	if err == nil || !o.ExitCode || errors.As(err, &re) {
		return err
	}
	return &cli.ExitError{Code: cli.ExitRuntime, Err: err}
}

func (o *diffOptions) complete(f *cli.Factory) error {
	format, err := f.OutputFormat(output.Table, output.JSON, output.YAML, formatMarkdown)
	o.Format = format
	if err == nil && o.Old == "-" && o.New == "-" {
		err = cli.UsageErrorf("OLD and NEW cannot both be - (standard input)")
	}
	return err
}

func runDiff(ctx context.Context, o *diffOptions) error {
	res, err := rbacdiff.Run(ctx, rbacdiff.Options{Old: o.Old, New: o.New, Bootstrap: o.Bootstrap, Stdin: o.IO.In, Client: o.KubeClient})
	var se *rbac.SourceError
	if errors.As(err, &se) {
		return cli.InputError(err)
	}
	if err != nil {
		return err
	}
	if o.Format == formatMarkdown {
		_, err = io.WriteString(o.IO.Out, res.Markdown())
	} else {
		err = output.Print(o.IO, o.Format, res, func() *output.TableView { return diffTable(res) })
	}
	if err != nil || !o.ExitCode {
		return err
	}
	switch {
	case res.Escalations() > 0:
		return &cli.ResultError{Code: 2}
	case len(res.Changes) > 0:
		return &cli.ResultError{Code: 1}
	}
	return nil
}

func diffTable(res *rbacdiff.Result) *output.TableView {
	t := &output.TableView{Headers: []string{"SUBJECT", "CHANGE", "VERBS", "RESOURCE", "NAMESPACE", "VIA", "ESCALATION"}}
	for _, c := range res.Changes {
		level, esc := output.Plain, ""
		if c.Change == rbacdiff.Revoked {
			level = output.Dim
		}
		if c.Escalation {
			level, esc = output.Bad, strings.Join(c.Risks, ",")
		}
		t.AddRowLevel(level, c.Subject.String(), c.Change, strings.Join(c.Verbs, ","), c.ResourceText(), c.NamespaceText(), c.ViaText(), esc)
	}
	if len(res.Changes) == 0 {
		t.Footer = append(t.Footer, "no change in effective permissions")
	}
	for _, ob := range res.Objects {
		name := ob.Name
		if ob.Namespace != "" {
			name = ob.Namespace + "/" + ob.Name
		}
		t.Footer = append(t.Footer, ob.Change+" "+ob.Kind+" "+name)
	}
	return t
}
