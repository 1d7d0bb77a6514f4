package rbac

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/kauth/kauth/cmd/kauth/cli"
	"github.com/kauth/kauth/internal/output"
	"github.com/kauth/kauth/internal/rbaclint"
)

// The lint formats beyond table, json and yaml.
const (
	formatSARIF  output.Format = "sarif"
	formatGitHub output.Format = "github"
)

type lintOptions struct {
	IO    *output.Streams
	Clock func() time.Time

	Paths     []string
	Bootstrap bool
	Config    string
	FailOn    string
	ListRules bool
	Format    output.Format
}

func newLintCmd(f *cli.Factory, runF func(*lintOptions) error) *cobra.Command {
	opts := &lintOptions{IO: f.IO, Clock: f.Clock}
	cmd := &cobra.Command{
		Use:   "lint PATH... [--bootstrap-policy] [--config .kauth.yaml] [--fail-on error|warning|info]",
		Short: "Find risky and broken RBAC in manifests",
		Long: `Lint checks Roles, ClusterRoles, RoleBindings and ClusterRoleBindings for
risky grants (wildcards, secrets, escalate/bind/impersonate, pod creation,
exec, nodes/proxy, token requests, CSR approval, admission webhooks, grants
to anonymous or all authenticated users, cluster-admin bindings, ...) and
for mistakes (bindings to missing roles, roles never bound, duplicate and
shadowed rules, removed API versions, bloat). ServiceAccounts and
workloads in the same paths are read too: workloads whose service account
holds risky permissions with its token mounted, tokens mounted for
nothing, cloud IAM-linked service accounts and who can act as them, and
the Kubernetes dashboard's service account.

Findings are judged by who holds a rule and where: the RBAC engine says
which subjects hold each rule through which bindings, and a grant in one
namespace weighs less than the same grant cluster-wide, except in
privileged namespaces (kube-system). Each finding names the subjects and
bindings, the file and line, and a hint. --list-rules prints every rule
with the equivalent IDs of other scanners.

.kauth.yaml (or --config) disables rules, allows subjects and ignores
objects; the annotation kauth.io/lint-ignore silences rules on one object.
Every suppression carries a reason and may expire.

Lint exits 1 when a finding reaches --fail-on (default error).`,
		Example: `  # Lint a folder of manifests
  kauth rbac lint rbac/

  # Resolve references to the default roles (view, edit, cluster-admin)
  kauth rbac lint rbac/ --bootstrap-policy --fail-on warning

  # Judge the workloads' service accounts too: lint RBAC and workloads together
  kauth rbac lint rbac/ deploy/

  # Annotations for a GitHub Actions job, or SARIF for code scanning
  kauth rbac lint rbac/ -o github
  kauth rbac lint rbac/ -o sarif > kauth.sarif

  # List the rules and their equivalents in other scanners
  kauth rbac lint --list-rules`,
		Args: cli.WrapArgs(cobra.ArbitraryArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Paths = args
			if err := opts.complete(f); err != nil {
				return err
			}
			if runF != nil {
				return runF(opts)
			}
			return runLint(cmd.Context(), opts)
		},
	}
	cmd.Flags().BoolVar(&opts.Bootstrap, "bootstrap-policy", false, "add the default roles and bindings of Kubernetes v1.37, so references to them resolve")
	cmd.Flags().StringVar(&opts.Config, "config", "", "the configuration file (default .kauth.yaml when it exists)")
	cli.EnumVar(cmd, &opts.FailOn, "fail-on", string(rbaclint.SeverityError), []string{"error", "warning", "info"}, "exit 1 when a finding has at least this severity")
	cmd.Flags().BoolVar(&opts.ListRules, "list-rules", false, "print the rules instead of linting")
	return cmd
}

func (o *lintOptions) complete(f *cli.Factory) error {
	format, err := f.OutputFormat(output.Table, output.JSON, output.YAML, formatSARIF, formatGitHub)
	if err != nil {
		return err
	}
	o.Format = format
	if !o.ListRules && len(o.Paths) == 0 {
		return cli.UsageErrorf("PATH is required: a file, a folder, - or git:REF:PATH")
	}
	return nil
}

func runLint(ctx context.Context, o *lintOptions) error {
	if o.ListRules {
		rules := rbaclint.Rules()
		return output.Print(o.IO, o.Format, rules, func() *output.TableView { return rulesTable(rules) })
	}
	res, err := rbaclint.Run(ctx, rbaclint.Options{Paths: o.Paths, Bootstrap: o.Bootstrap, ConfigFile: o.Config, Stdin: o.IO.In, Now: o.Clock()})
	var ie *rbaclint.InputError
	if errors.As(err, &ie) {
		return cli.InputError(err)
	}
	if err != nil {
		return err
	}
	if err := printLint(o, res); err != nil {
		return err
	}
	if sev, _ := rbaclint.ParseSeverity(o.FailOn); res.Count(sev) > 0 {
		return &cli.ResultError{Code: cli.ExitResult}
	}
	return nil
}

func printLint(o *lintOptions, res *rbaclint.Result) error {
	switch o.Format {
	case formatSARIF:
		return output.WriteJSON(o.IO, res.ToSARIF())
	case formatGitHub:
		_, err := io.WriteString(o.IO.Out, strings.Join(append(res.GitHubAnnotations(), ""), "\n"))
		return err
	}
	return output.Print(o.IO, o.Format, res, func() *output.TableView { return lintTable(res) })
}

// lintTable groups the findings by file: the file is named on its first
// row only.
func lintTable(res *rbaclint.Result) *output.TableView {
	t := &output.TableView{Headers: []string{"FILE", "LINE", "SEVERITY", "RULE", "OBJECT", "MESSAGE"}}
	prev := ""
	for _, f := range res.Findings {
		file := f.File
		if file == prev {
			file = ""
		}
		prev = f.File
		obj := f.Kind + "/" + f.Name
		if f.Namespace != "" {
			obj = f.Kind + "/" + f.Namespace + "/" + f.Name
		}
		t.AddRowLevel(severityLevel(f.Severity), file, fmt.Sprint(f.Line), string(f.Severity), f.Rule, obj, f.Message)
	}
	t.Footer = append(t.Footer, fmt.Sprintf("%d errors, %d warnings, %d info (%d suppressed, %d RBAC objects)",
		res.Count(rbaclint.SeverityError), res.Count(rbaclint.SeverityWarning)-res.Count(rbaclint.SeverityError),
		len(res.Findings)-res.Count(rbaclint.SeverityWarning), res.Suppressed, res.Objects))
	return t
}

func severityLevel(s rbaclint.Severity) output.Level {
	switch s {
	case rbaclint.SeverityError:
		return output.Bad
	case rbaclint.SeverityWarning:
		return output.Warn
	}
	return output.Plain
}

func rulesTable(rules []rbaclint.Rule) *output.TableView {
	t := &output.TableView{Headers: []string{"RULE", "SEVERITY", "TITLE", "EQUIVALENTS"}}
	for _, r := range rules {
		t.AddRow(r.ID, string(r.Severity), r.Title, strings.Join(r.Equivalents, ", "))
	}
	return t
}
