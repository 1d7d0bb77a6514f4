package main

import (
	"fmt"
	"math/rand/v2"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/authorization/authorizer"
)

// CorpusConfig sizes a generated policy. The same config and seed always
// give the same objects and queries.
type CorpusConfig struct {
	Seed                uint64
	Namespaces          int
	Users               int
	Groups              int
	ServiceAccounts     int // per namespace
	ClusterRoles        int
	Roles               int
	ClusterRoleBindings int
	RoleBindings        int
	// SystemGroups is how often a Group subject names a system group
	// (system:authenticated, system:serviceaccounts[:NS], ...) rather
	// than group-N; such bindings apply to most users.
	SystemGroups float64
}

// SmallCorpus is a policy small enough that random queries hit its rules
// often; the differential test runs many seeds of it.
func SmallCorpus(seed uint64) CorpusConfig {
	return CorpusConfig{Seed: seed, Namespaces: 3, Users: 6, Groups: 4, ServiceAccounts: 2,
		ClusterRoles: 20, Roles: 8, ClusterRoleBindings: 10, RoleBindings: 20, SystemGroups: 0.16}
}

// BenchCorpus is the 10,000-binding policy of the benchmark.
func BenchCorpus(seed uint64) CorpusConfig {
	return CorpusConfig{Seed: seed, Namespaces: 100, Users: 2000, Groups: 200, ServiceAccounts: 10,
		ClusterRoles: 300, Roles: 1000, ClusterRoleBindings: 1000, RoleBindings: 9000, SystemGroups: 0.01}
}

// vocabulary of API groups and their resources; scope tells whether the
// resource is namespaced. Subresources are written "resource/sub".
var vocabulary = []struct {
	group     string
	resources []string
}{
	{"", []string{"pods", "pods/log", "pods/exec", "pods/status", "services", "secrets", "configmaps", "serviceaccounts", "serviceaccounts/token"}},
	{"", []string{"nodes", "nodes/proxy", "namespaces", "namespaces/status", "persistentvolumes"}}, // cluster-scoped
	{"apps", []string{"deployments", "deployments/scale", "replicasets", "replicasets/scale", "statefulsets"}},
	{"batch", []string{"jobs", "cronjobs", "jobs/status"}},
	{"rbac.authorization.k8s.io", []string{"roles", "rolebindings", "clusterroles"}},
	{"example.com", []string{"widgets", "widgets/status", "gadgets"}},
}

var (
	verbs        = []string{"get", "list", "watch", "create", "update", "patch", "delete", "deletecollection", "impersonate", "bind", "escalate", "proxy"}
	urlRules     = []string{"/healthz", "/healthz/*", "/api", "/api/*", "/apis/*", "/metrics", "/logs/*", "/version", "/readyz*", "*"}
	urlPaths     = []string{"/healthz", "/healthz/", "/healthz/ping", "/api", "/api/", "/api/v1", "/apis", "/apis/apps", "/metrics", "/logs/x", "/version", "/readyz", "/readyz/etcd", "/", "", "/other", "*", "/healthz*", "/api/*"}
	urlVerbs     = []string{"get", "post", "put", "delete", "head"}
	aggLabels    = []string{"agg-a", "agg-b", "agg-c"}
	resourceName = []string{"name-0", "name-1", "name-2"}
)

type gen struct {
	cfg CorpusConfig
	r   *rand.Rand
}

func (g *gen) pick(list []string) string { return list[g.r.IntN(len(list))] }
func (g *gen) chance(p float64) bool     { return g.r.Float64() < p }
func (g *gen) ns(i int) string           { return fmt.Sprintf("ns-%d", i) }
func (g *gen) anyNS() string             { return g.ns(g.r.IntN(g.cfg.Namespaces)) }

// GeneratePolicy makes a valid, defaulted policy covering users, groups,
// service accounts (with and without namespace in RoleBindings), the
// system groups, RoleBindings to Roles and to ClusterRoles, bindings to
// missing roles, wildcards in verbs/groups/resources, subresources
// ("pods/*", "*/scale"), resourceNames, nonResourceURLs with and without a
// trailing "*", cluster-scoped resources and aggregated ClusterRoles
// (including chains and a role matching its own selector, but no cycles).
func GeneratePolicy(cfg CorpusConfig) *Objects {
	g := &gen{cfg: cfg, r: rand.New(rand.NewPCG(cfg.Seed, 0x6b61757468))}
	objs := &Objects{}

	for i := range cfg.ClusterRoles {
		cr := &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("cr-%d", i)}}
		switch {
		case i == 19 || i%50 == 49:
			// aggregates the aggregated roles (a chain of two).
			cr.AggregationRule = &rbacv1.AggregationRule{ClusterRoleSelectors: []metav1.LabelSelector{
				{MatchLabels: map[string]string{"agg-top": "true"}},
			}}
		case i%10 == 9:
			// aggregated: selects one or two aggregation labels; never
			// labelled with agg-top itself, so agg-top chains cannot cycle.
			sel := []metav1.LabelSelector{{MatchLabels: map[string]string{g.pick(aggLabels): "true"}}}
			if g.chance(0.3) {
				req := metav1.LabelSelectorRequirement{Key: g.pick(aggLabels), Operator: metav1.LabelSelectorOpIn, Values: []string{"true"}}
				switch x := g.r.Float64(); {
				case x < 0.2:
					req.Operator, req.Values = metav1.LabelSelectorOpExists, nil
				case x < 0.3:
					// NotIn on a label no role has: with agg-b below,
					// every agg-b role (aggregated roles carry no agg-b)
					req.Operator, req.Values = metav1.LabelSelectorOpNotIn, []string{"true"}
					req.Key = "agg-none"
				}
				sel = append(sel, metav1.LabelSelector{
					MatchLabels:      map[string]string{"agg-b": "true"},
					MatchExpressions: []metav1.LabelSelectorRequirement{req},
				})
			}
			cr.AggregationRule = &rbacv1.AggregationRule{ClusterRoleSelectors: sel}
			if g.chance(0.3) {
				cr.Rules = g.rules(true) // replaced by the aggregate unless it is empty
			}
			cr.Labels = map[string]string{"agg-top": "true"}
			if g.chance(0.3) {
				// a selector that matches only the role itself, which the
				// controller skips
				cr.Labels["self"] = cr.Name
				sel = append(sel, metav1.LabelSelector{MatchLabels: map[string]string{"self": cr.Name}})
				cr.AggregationRule.ClusterRoleSelectors = sel
			}
		default:
			cr.Rules = g.rules(true)
			if g.chance(0.3) {
				cr.Labels = map[string]string{g.pick(aggLabels): "true"}
			}
		}
		objs.ClusterRoles = append(objs.ClusterRoles, cr)
	}
	for i := range cfg.Roles {
		name := fmt.Sprintf("role-%d", i)
		if i%7 == 3 {
			name = fmt.Sprintf("cr-%d", i) // the name of a ClusterRole when i < ClusterRoles
		}
		objs.Roles = append(objs.Roles, &rbacv1.Role{
			ObjectMeta: metav1.ObjectMeta{Namespace: g.anyNS(), Name: name},
			Rules:      g.rules(false),
		})
	}
	for i := range cfg.ClusterRoleBindings {
		objs.ClusterRoleBindings = append(objs.ClusterRoleBindings, &rbacv1.ClusterRoleBinding{
			ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("crb-%d", i)},
			RoleRef:    g.clusterRoleRef(),
			Subjects:   g.subjects(false),
		})
	}
	for i := range cfg.RoleBindings {
		rb := &rbacv1.RoleBinding{
			ObjectMeta: metav1.ObjectMeta{Namespace: g.anyNS(), Name: fmt.Sprintf("rb-%d", i)},
			Subjects:   g.subjects(true),
		}
		if g.chance(0.5) {
			rb.RoleRef = g.clusterRoleRef()
		} else {
			rb.RoleRef = g.roleRef(objs.Roles, rb.Namespace)
		}
		objs.RoleBindings = append(objs.RoleBindings, rb)
	}
	return objs
}

func (g *gen) clusterRoleRef() rbacv1.RoleRef {
	name := fmt.Sprintf("cr-%d", g.r.IntN(g.cfg.ClusterRoles))
	if g.chance(0.05) {
		name = "missing-clusterrole"
	}
	return rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: name}
}

// roleRef picks a Role of the binding's namespace when there is one; else,
// and sometimes anyway, one that does not exist there.
func (g *gen) roleRef(roles []*rbacv1.Role, ns string) rbacv1.RoleRef {
	var local []string
	for _, r := range roles {
		if r.Namespace == ns {
			local = append(local, r.Name)
		}
	}
	name := "missing-role"
	if len(local) > 0 && g.chance(0.9) {
		name = g.pick(local)
	} else if len(roles) > 0 && g.chance(0.5) {
		name = roles[g.r.IntN(len(roles))].Name // exists, but maybe in another namespace
	}
	return rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: name}
}

func (g *gen) subjects(namespaced bool) []rbacv1.Subject {
	n := 1 + g.r.IntN(3)
	var out []rbacv1.Subject
	for range n {
		switch x := g.r.Float64(); {
		case x < 0.4:
			out = append(out, rbacv1.Subject{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: g.userName()})
		case x < 0.7:
			out = append(out, rbacv1.Subject{Kind: rbacv1.GroupKind, APIGroup: rbacv1.GroupName, Name: g.groupName()})
		default:
			s := rbacv1.Subject{Kind: rbacv1.ServiceAccountKind, Name: fmt.Sprintf("sa-%d", g.r.IntN(g.cfg.ServiceAccounts)), Namespace: g.anyNS()}
			if namespaced && g.chance(0.3) {
				s.Namespace = "" // means the RoleBinding's own namespace
			}
			out = append(out, s)
		}
	}
	return out
}

func (g *gen) userName() string {
	if g.chance(0.03) {
		return "system:serviceaccount:" + g.anyNS() + ":sa-0" // a User subject naming a service account
	}
	return fmt.Sprintf("user-%d", g.r.IntN(g.cfg.Users))
}

func (g *gen) groupName() string {
	if !g.chance(g.cfg.SystemGroups) {
		return fmt.Sprintf("group-%d", g.r.IntN(g.cfg.Groups))
	}
	switch x := g.r.Float64(); {
	case x < 0.3:
		return user.AllAuthenticated
	case x < 0.45:
		return user.AllUnauthenticated
	case x < 0.6:
		return "system:serviceaccounts"
	case x < 0.9:
		return "system:serviceaccounts:" + g.anyNS()
	}
	return user.SystemPrivilegedGroup
}

func (g *gen) rules(cluster bool) []rbacv1.PolicyRule {
	n := 1 + g.r.IntN(4)
	out := make([]rbacv1.PolicyRule, 0, n)
	for range n {
		if cluster && g.chance(0.15) {
			out = append(out, rbacv1.PolicyRule{Verbs: g.verbs(urlVerbs), NonResourceURLs: g.some(urlRules, 2)})
			continue
		}
		out = append(out, g.resourceRule())
	}
	return out
}

func (g *gen) some(list []string, max int) []string {
	n := 1 + g.r.IntN(max)
	out := make([]string, 0, n)
	for range n {
		out = append(out, g.pick(list))
	}
	return out
}

func (g *gen) verbs(list []string) []string {
	if g.chance(0.1) {
		return []string{"*"}
	}
	return g.some(list, 3)
}

func (g *gen) resourceRule() rbacv1.PolicyRule {
	v := vocabulary[g.r.IntN(len(vocabulary))]
	r := rbacv1.PolicyRule{Verbs: g.verbs(verbs), APIGroups: []string{v.group}}
	switch x := g.r.Float64(); {
	case x < 0.08:
		r.APIGroups = []string{"*"}
	case x < 0.15:
		r.APIGroups = append(r.APIGroups, vocabulary[g.r.IntN(len(vocabulary))].group)
	}
	switch x := g.r.Float64(); {
	case x < 0.08:
		r.Resources = []string{"*"}
	case x < 0.13:
		r.Resources = []string{g.pick([]string{"pods/*", "deployments/*", "nodes/*"})}
	case x < 0.2:
		r.Resources = []string{g.pick([]string{"*/scale", "*/status", "*/log", "*/*"})}
	default:
		r.Resources = g.some(v.resources, 3)
	}
	if g.chance(0.15) {
		r.ResourceNames = g.some(resourceName, 2)
	}
	return r
}

// GenerateQueries makes n questions biased towards the names the policy
// of cfg uses, so that allows, denials and every matching rule are common.
func GenerateQueries(cfg CorpusConfig, n int) []authorizer.AttributesRecord {
	g := &gen{cfg: cfg, r: rand.New(rand.NewPCG(cfg.Seed, 0x71756572))}
	out := make([]authorizer.AttributesRecord, 0, n)
	for range n {
		out = append(out, g.query())
	}
	return out
}

func (g *gen) user() user.Info {
	u := &user.DefaultInfo{}
	switch x := g.r.Float64(); {
	case x < 0.45:
		u.Name = fmt.Sprintf("user-%d", g.r.IntN(g.cfg.Users))
		for range g.r.IntN(3) {
			u.Groups = append(u.Groups, fmt.Sprintf("group-%d", g.r.IntN(g.cfg.Groups)))
		}
		if g.chance(0.8) {
			u.Groups = append(u.Groups, user.AllAuthenticated)
		}
	case x < 0.8:
		ns := g.anyNS()
		u.Name = fmt.Sprintf("system:serviceaccount:%s:sa-%d", ns, g.r.IntN(g.cfg.ServiceAccounts))
		if g.chance(0.8) {
			u.Groups = []string{"system:serviceaccounts", "system:serviceaccounts:" + ns, user.AllAuthenticated}
		}
	case x < 0.87:
		u.Name, u.Groups = user.Anonymous, []string{user.AllUnauthenticated}
	case x < 0.9:
		u.Name, u.Groups = "admin-user", []string{user.SystemPrivilegedGroup, user.AllAuthenticated}
	case x < 0.95:
		u.Name, u.Groups = "stranger", []string{"group-x"}
	case x < 0.97:
		u.Name = "" // no name, groups only
		u.Groups = []string{fmt.Sprintf("group-%d", g.r.IntN(g.cfg.Groups)), fmt.Sprintf("group-%d", g.r.IntN(g.cfg.Groups))}
	default:
		g0 := fmt.Sprintf("group-%d", g.r.IntN(g.cfg.Groups))
		u.Name, u.Groups = fmt.Sprintf("user-%d", g.r.IntN(g.cfg.Users)), []string{g0, g0, user.AllAuthenticated, user.AllAuthenticated}
	}
	return u
}

func (g *gen) query() authorizer.AttributesRecord {
	a := authorizer.AttributesRecord{User: g.user()}
	if g.chance(0.15) {
		a.Verb, a.Path = g.pick(urlVerbs), g.pick(urlPaths)
		return a
	}
	a.ResourceRequest = true
	a.Verb = g.pick(verbs)
	v := vocabulary[g.r.IntN(len(vocabulary))]
	a.APIGroup = v.group
	res := g.pick(v.resources)
	a.Resource, a.Subresource = res, ""
	for i := range len(res) {
		if res[i] == '/' {
			a.Resource, a.Subresource = res[:i], res[i+1:]
			break
		}
	}
	switch x := g.r.Float64(); { // odd questions a SubjectAccessReview may ask
	case x < 0.02:
		a.Resource = "*"
	case x < 0.04:
		a.Subresource = "*"
	case x < 0.05:
		a.APIGroup = "*"
	case x < 0.06:
		a.Verb = "*"
	case x < 0.07:
		a.Name = "*"
	case x < 0.075:
		a.Verb = ""
	case x < 0.08:
		a.Resource = ""
	}
	if a.Name == "" && g.chance(0.5) {
		a.Name = g.pick(append([]string{"other"}, resourceName...))
	}
	switch x := g.r.Float64(); {
	case x < 0.65:
		a.Namespace = g.anyNS()
	case x < 0.7:
		a.Namespace = "kube-system"
	}
	return a
}
