package authz

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/kauth/kauth/cmd/kauth/cli"
	"github.com/kauth/kauth/internal/output"
	"github.com/kauth/kauth/internal/rbac"
)

// policyFlags are the flags every authz verb reads its policy with.
type policyFlags struct {
	From      []string
	Bootstrap bool
	Live      bool

	// KubeClient reaches the cluster for --live (the factory's, or a fake).
	KubeClient func() (kubernetes.Interface, error)
}

func (p *policyFlags) bind(cmd *cobra.Command, f *cli.Factory) {
	p.KubeClient = f.KubeClient
	cli.FromFlag(cmd, &p.From)
	cmd.Flags().BoolVar(&p.Bootstrap, "bootstrap-policy", false, "add the default roles and bindings of Kubernetes v1.37 (cluster-admin, admin/edit/view, system:*)")
	cmd.Flags().BoolVar(&p.Live, "live", false, "read Roles, ClusterRoles and their bindings from the cluster in --kubeconfig/--context")
}

func (p *policyFlags) validate() error {
	if len(p.From) == 0 && !p.Bootstrap && !p.Live {
		return cli.UsageErrorf("no policy to read: use --from PATH, --bootstrap-policy or --live")
	}
	return nil
}

// load reads and indexes the policy; bad input exits 2, an unreachable
// cluster 3. With -v it reports what it read on stderr.
func (p *policyFlags) load(ctx context.Context, f *cli.Factory) (*rbac.Index, error) {
	src := rbac.Sources{From: p.From, Bootstrap: p.Bootstrap, Stdin: f.Stdin()}
	if p.Live {
		client, err := p.KubeClient()
		if err != nil {
			return nil, err
		}
		src.Live = client
	}
	loaded, err := rbac.Load(ctx, src)
	var se *rbac.SourceError
	if errors.As(err, &se) {
		return nil, cli.InputError(err)
	}
	if err != nil {
		return nil, err
	}
	if loaded.Objects == 0 && !p.Bootstrap && !p.Live {
		// A wrong --from path answers "no" for everyone; say so.
		output.Warning(f.IO, "no Role, ClusterRole, RoleBinding or ClusterRoleBinding in --from %s (%s of other kinds skipped): every request is denied",
			strings.Join(p.From, ", "), plural(loaded.Skipped, "object"))
	}
	if f.Verbosity > 0 {
		output.Info(f.IO, "kauth: read %d RBAC objects, skipped %d of other kinds", loaded.Objects, loaded.Skipped)
		if len(loaded.Aggregated) > 0 {
			output.Info(f.IO, "kauth: aggregated ClusterRoles: %s", strings.Join(loaded.Aggregated, ", "))
		}
	}
	return loaded.Index, nil
}

// plural is "1 object" or "N objects".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// subjectFlags are --as and --as-group.
type subjectFlags struct {
	As      string
	AsGroup []string
}

func (s *subjectFlags) bind(cmd *cobra.Command) {
	cmd.Flags().StringVar(&s.As, "as", "", "the user to ask for, as kubectl --as (system:serviceaccount:NS:NAME for a service account)")
	cmd.Flags().StringArrayVar(&s.AsGroup, "as-group", nil, "a group of the user, as kubectl --as-group (repeatable)")
}

func (s *subjectFlags) validate() error {
	if s.As == "" {
		// kube-apiserver refuses to impersonate groups without a user.
		return cli.UsageErrorf("--as USER is required (with --as-group G for groups)")
	}
	return nil
}

// user builds the user kube-apiserver's impersonation would: service
// accounts get their groups, everyone system:authenticated.
func (s *subjectFlags) user() user.Info {
	return rbac.Impersonate(s.As, s.AsGroup)
}

// requestFlags are the kubectl auth can-i shaped request flags.
type requestFlags struct {
	Namespace     string
	AllNamespaces bool
	Subresource   string
}

// defaultNamespace gives -n the namespace of the kubeconfig context when
// the policy is --live and -n was not given, as kubectl does.
func (r *requestFlags) defaultNamespace(cmd *cobra.Command, f *cli.Factory, live bool) error {
	if !live || cmd.Flags().Changed("namespace") {
		return nil
	}
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	rules.ExplicitPath = f.Kubeconfig
	ns, _, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{CurrentContext: f.Context}).Namespace()
	if err != nil {
		return fmt.Errorf("reading the namespace of the kubeconfig context: %w", err)
	}
	r.Namespace = ns
	return nil
}

func (r *requestFlags) bind(cmd *cobra.Command) {
	cmd.Flags().StringVarP(&r.Namespace, "namespace", "n", "default", "the namespace of the request (with --live: the kubeconfig context's)")
	cmd.Flags().BoolVarP(&r.AllNamespaces, "all-namespaces", "A", false, "ask for all namespaces (a request without namespace)")
	cmd.Flags().StringVar(&r.Subresource, "subresource", "", "the subresource, such as log or scale")
}

func (r *requestFlags) namespace() string {
	if r.AllNamespaces {
		return ""
	}
	return r.Namespace
}

// question resolves VERB TARGET [NAME] into request attributes and prints
// kubectl's warnings on stderr.
func (r *requestFlags) question(f *cli.Factory, args []string, u user.Info) (rbac.Resolved, error) {
	q := rbac.Question{Verb: args[0], Target: args[1], Namespace: r.namespace(), Subresource: r.Subresource, User: u}
	if len(args) > 2 {
		q.Name = args[2]
	}
	if strings.HasPrefix(q.Target, "/") {
		q.Namespace = ""
	}
	res, err := rbac.Resolve(q)
	if err != nil {
		return res, cli.UsageErrorf("%s", err)
	}
	for _, w := range res.Warnings {
		output.Warning(f.IO, "%s", w)
	}
	return res, nil
}
