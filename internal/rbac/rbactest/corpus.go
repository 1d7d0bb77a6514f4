package rbactest

import (
	"fmt"
	"io"
	"math/rand/v2"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/authorization/authorizer"
	"sigs.k8s.io/yaml"

	"github.com/kauth/kauth/internal/loader"
	"github.com/kauth/kauth/internal/rbac"
)

// Config sizes a generated corpus. The zero value of every field but Seed
// and Bindings takes a default scaled from Bindings.
type Config struct {
	Seed     uint64
	Bindings int // RoleBindings plus ClusterRoleBindings
	// ClusterBindingPercent is the share of ClusterRoleBindings (default 10).
	ClusterBindingPercent int
	Namespaces            int // default Bindings/50, at least 2
	Users                 int // default Bindings/5, at least 4
	Groups                int // default Bindings/50, at least 2
	ClusterRoles          int // default Bindings/20, at least 4
	RolesPerNamespace     int // default 3
	// MissingRolePercent of bindings reference a role that does not exist
	// (default 2).
	MissingRolePercent int
	Queries            int // default 1000
}

func (c Config) withDefaults() Config {
	def := func(v *int, d, floor int) {
		if *v == 0 {
			*v = max(d, floor)
		}
	}
	def(&c.Bindings, 100, 1)
	def(&c.ClusterBindingPercent, 10, 0)
	def(&c.Namespaces, c.Bindings/50, 2)
	def(&c.Users, c.Bindings/5, 4)
	def(&c.Groups, c.Bindings/50, 2)
	def(&c.ClusterRoles, c.Bindings/20, 4)
	def(&c.RolesPerNamespace, 3, 1)
	def(&c.MissingRolePercent, 2, 0)
	def(&c.Queries, 1000, 1)
	return c
}

// Corpus is a generated policy and the questions to ask it.
type Corpus struct {
	Policy  *rbac.Policy
	Queries []authorizer.AttributesRecord
}

// The vocabulary rules and queries draw from. It covers every matching
// case of the authorizer: wildcards, subresources, "*/x", resourceNames,
// non-resource URLs with and without a trailing star.
var (
	verbs     = []string{"get", "list", "watch", "create", "update", "patch", "delete", "deletecollection", "escalate", "bind", "impersonate"}
	groups    = []string{"", "apps", "batch", "rbac.authorization.k8s.io", "networking.k8s.io", "example.com"}
	resources = []string{"pods", "pods/log", "pods/exec", "deployments", "deployments/scale", "statefulsets/scale", "configmaps", "secrets", "services", "jobs", "roles", "rolebindings", "nodes", "namespaces", "ingresses", "widgets"}
	urls      = []string{"/healthz", "/healthz/*", "/metrics", "/api*", "/apis/*", "/version", "/logs/*"}
	paths     = []string{"/healthz", "/healthz/etcd", "/metrics", "/api", "/apis/apps/v1", "/version", "/logs/kubelet.log", "/openapi/v2"}
	objNames  = []string{"", "", "", "web", "db", "app-config", "cache"}
)

// Generate builds a deterministic corpus: the same Config always gives the
// same policy, in the same order, and the same queries.
func Generate(cfg Config) Corpus {
	cfg = cfg.withDefaults()
	g := &gen{r: rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x9e3779b97f4a7c15)), cfg: cfg}
	p := &rbac.Policy{Sources: map[rbac.ObjectKey]loader.Source{}}
	g.roles(p)
	g.bindings(p)
	rbac.Aggregate(p)
	return Corpus{Policy: p, Queries: g.queries(p)}
}

type gen struct {
	r   *rand.Rand
	cfg Config
}

func (g *gen) pick(list []string) string { return list[g.r.IntN(len(list))] }

func (g *gen) some(list []string, star string, maxN int) []string {
	if star != "" && g.r.IntN(10) == 0 {
		return []string{star}
	}
	n := 1 + g.r.IntN(maxN)
	out := make([]string, 0, n)
	for range n {
		v := g.pick(list)
		if !contains(out, v) {
			out = append(out, v)
		}
	}
	return out
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func (g *gen) rule(namespaced bool) rbacv1.PolicyRule {
	if !namespaced && g.r.IntN(8) == 0 {
		return rbacv1.PolicyRule{Verbs: g.some([]string{"get", "post", "put"}, "*", 2), NonResourceURLs: g.some(urls, "*", 2)}
	}
	r := rbacv1.PolicyRule{Verbs: g.some(verbs, "*", 3), APIGroups: g.some(groups, "*", 2), Resources: g.some(resources, "*", 3)}
	switch g.r.IntN(12) {
	case 0:
		r.Resources = []string{"*/scale"}
	case 1:
		r.Resources = []string{g.pick(resources)}
		r.ResourceNames = g.some(objNames[3:], "", 2)
	}
	return r
}

func (g *gen) ruleList(namespaced bool) []rbacv1.PolicyRule {
	n := 1 + g.r.IntN(4)
	out := make([]rbacv1.PolicyRule, n)
	for i := range out {
		out[i] = g.rule(namespaced)
	}
	return out
}

func (g *gen) ns(i int) string    { return fmt.Sprintf("ns-%d", i) }
func (g *gen) user(i int) string  { return fmt.Sprintf("user-%d", i) }
func (g *gen) group(i int) string { return fmt.Sprintf("group-%d", i) }

func (g *gen) roles(p *rbac.Policy) {
	for i := range g.cfg.ClusterRoles {
		cr := &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("cluster-role-%d", i)}, Rules: g.ruleList(false)}
		if i%7 == 1 {
			cr.Labels = map[string]string{"kauth.example/aggregate-to-ops": "true"}
		}
		p.ClusterRoles = append(p.ClusterRoles, cr)
	}
	p.ClusterRoles = append(p.ClusterRoles, &rbacv1.ClusterRole{
		ObjectMeta: metav1.ObjectMeta{Name: "ops"},
		AggregationRule: &rbacv1.AggregationRule{ClusterRoleSelectors: []metav1.LabelSelector{
			{MatchLabels: map[string]string{"kauth.example/aggregate-to-ops": "true"}},
		}},
	})
	for n := range g.cfg.Namespaces {
		for i := range g.cfg.RolesPerNamespace {
			p.Roles = append(p.Roles, &rbacv1.Role{
				ObjectMeta: metav1.ObjectMeta{Namespace: g.ns(n), Name: fmt.Sprintf("role-%d", i)},
				Rules:      g.ruleList(true),
			})
		}
	}
}

func (g *gen) subject(bindingNS string) rbacv1.Subject {
	switch k := g.r.IntN(10); {
	case k < 5:
		return rbacv1.Subject{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: g.user(g.r.IntN(g.cfg.Users))}
	case k < 8:
		name := g.group(g.r.IntN(g.cfg.Groups))
		if g.r.IntN(20) == 0 {
			name = g.pick([]string{user.AllAuthenticated, "system:serviceaccounts", "system:serviceaccounts:" + g.ns(0)})
		}
		return rbacv1.Subject{Kind: rbacv1.GroupKind, APIGroup: rbacv1.GroupName, Name: name}
	default:
		s := rbacv1.Subject{Kind: rbacv1.ServiceAccountKind, Name: fmt.Sprintf("sa-%d", g.r.IntN(5)), Namespace: g.ns(g.r.IntN(g.cfg.Namespaces))}
		if bindingNS != "" && g.r.IntN(2) == 0 {
			s.Namespace = "" // means the binding's namespace
		}
		return s
	}
}

func (g *gen) subjects(ns string) []rbacv1.Subject {
	n := 1 + g.r.IntN(3)
	out := make([]rbacv1.Subject, n)
	for i := range out {
		out[i] = g.subject(ns)
	}
	return out
}

func (g *gen) roleRef(namespaced bool) rbacv1.RoleRef {
	ref := rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: rbac.KindClusterRole, Name: fmt.Sprintf("cluster-role-%d", g.r.IntN(g.cfg.ClusterRoles))}
	switch {
	case g.r.IntN(100) < g.cfg.MissingRolePercent:
		ref.Name = "missing-" + ref.Name
	case g.r.IntN(20) == 0:
		ref.Name = "ops"
	case namespaced && g.r.IntN(2) == 0:
		ref.Kind, ref.Name = rbac.KindRole, fmt.Sprintf("role-%d", g.r.IntN(g.cfg.RolesPerNamespace))
	}
	return ref
}

func (g *gen) bindings(p *rbac.Policy) {
	for i := range g.cfg.Bindings {
		if g.r.IntN(100) < g.cfg.ClusterBindingPercent {
			p.ClusterRoleBindings = append(p.ClusterRoleBindings, &rbacv1.ClusterRoleBinding{
				ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("crb-%d", i)},
				RoleRef:    g.roleRef(false),
				Subjects:   g.subjects(""),
			})
			continue
		}
		ns := g.ns(g.r.IntN(g.cfg.Namespaces))
		p.RoleBindings = append(p.RoleBindings, &rbacv1.RoleBinding{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: fmt.Sprintf("rb-%d", i)},
			RoleRef:    g.roleRef(true),
			Subjects:   g.subjects(ns),
		})
	}
}

func (g *gen) queryUser() user.Info {
	if g.r.IntN(4) == 0 {
		ns := g.ns(g.r.IntN(g.cfg.Namespaces))
		return rbac.Impersonate(fmt.Sprintf("system:serviceaccount:%s:sa-%d", ns, g.r.IntN(5)), nil)
	}
	var gs []string
	for range g.r.IntN(3) {
		gs = append(gs, g.group(g.r.IntN(g.cfg.Groups)))
	}
	return rbac.Impersonate(g.user(g.r.IntN(g.cfg.Users)), gs)
}

func (g *gen) queries(_ *rbac.Policy) []authorizer.AttributesRecord {
	out := make([]authorizer.AttributesRecord, g.cfg.Queries)
	for i := range out {
		q := authorizer.AttributesRecord{User: g.queryUser(), Verb: g.pick(verbs)}
		if g.r.IntN(10) == 0 {
			q.Verb, q.Path = g.pick([]string{"get", "post", "put"}), g.pick(paths)
			out[i] = q
			continue
		}
		q.ResourceRequest = true
		q.APIGroup = g.pick(groups)
		q.Resource = g.pick(resources)
		if res, sub, ok := cut(q.Resource); ok {
			q.Resource, q.Subresource = res, sub
		}
		q.Name = g.pick(objNames)
		if g.r.IntN(8) != 0 {
			q.Namespace = g.ns(g.r.IntN(g.cfg.Namespaces))
		}
		out[i] = q
	}
	return out
}

func cut(s string) (string, string, bool) {
	for i := range len(s) {
		if s[i] == '/' {
			return s[:i], s[i+1:], true
		}
	}
	return s, "", false
}

// WriteYAML writes the policy as a multi-document YAML stream of
// rbac.authorization.k8s.io/v1 objects, in the policy's order by kind.
func WriteYAML(w io.Writer, p *rbac.Policy) error {
	write := func(kind string, obj any) error {
		b, err := yaml.Marshal(obj)
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(w, "---\napiVersion: rbac.authorization.k8s.io/v1\nkind: %s\n%s", kind, b)
		return err
	}
	for _, o := range p.ClusterRoles {
		if err := write(rbac.KindClusterRole, o); err != nil {
			return err
		}
	}
	for _, o := range p.Roles {
		if err := write(rbac.KindRole, o); err != nil {
			return err
		}
	}
	for _, o := range p.ClusterRoleBindings {
		if err := write(rbac.KindClusterRoleBinding, o); err != nil {
			return err
		}
	}
	for _, o := range p.RoleBindings {
		if err := write(rbac.KindRoleBinding, o); err != nil {
			return err
		}
	}
	return nil
}
