package rbacdiff

import (
	"cmp"
	"context"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/authorization/authorizer"

	"github.com/kauth/kauth/internal/rbac"
	"github.com/kauth/kauth/internal/rbaclint"
)

// Changes in effective permissions.
const (
	Granted = "granted"
	Revoked = "revoked"
)

// Subject is a user, group or service account.
type Subject struct {
	Kind      string `json:"kind"`
	Name      string `json:"name"`
	Namespace string `json:"namespace"`
}

// Change is one line of the permission diff: verbs on one resource (in
// one namespace, or cluster-wide when Namespace is empty) or on one
// non-resource URL. A "*" stands for every value no rule of the subject
// names; empty ResourceNames means every name.
type Change struct {
	Subject        Subject    `json:"subject"`
	Change         string     `json:"change"`
	Verbs          []string   `json:"verbs"`
	APIGroup       string     `json:"apiGroup"`
	Resource       string     `json:"resource"`
	Subresource    string     `json:"subresource"`
	Namespace      string     `json:"namespace"`
	ResourceNames  []string   `json:"resourceNames"`
	NonResourceURL string     `json:"nonResourceURL"`
	Escalation     bool       `json:"escalation"`
	Via            []rbac.Via `json:"via"`
	// Risks are the rbaclint rules an escalation matches.
	Risks []string `json:"-"`
}

// Result is the permission diff and the object diff.
type Result struct {
	Changes []Change       `json:"changes"`
	Objects []ObjectChange `json:"objects"`
}

// Escalations counts the escalating changes.
func (r *Result) Escalations() int {
	n := 0
	for _, c := range r.Changes {
		if c.Escalation {
			n++
		}
	}
	return n
}

// Diff compares two indexed policies.
func Diff(old, new *rbac.Index) *Result {
	d := &differ{old: old, new: new, risks: rbaclint.Risks(), memo: map[string]*candidates{}}
	d.olds, d.news = newRuleStrings(old.Policy()), newRuleStrings(new.Policy())
	res := &Result{Changes: []Change{}, Objects: diffObjects(old.Policy(), new.Policy())}
	dirty := dirtyScopes(old.Policy(), new.Policy())
	var work []scoped
	for _, s := range subjectsOf(old.Policy(), new.Policy()) {
		scopes := s.scopes[:0]
		for _, ns := range s.scopes {
			if dirty[s.s][ns] {
				scopes = append(scopes, ns)
			}
		}
		if len(scopes) > 0 {
			s.scopes = scopes
			work = append(work, s)
		}
	}
	// Subjects are independent and the indexes are safe for concurrent
	// use: diff them on every core, then keep the subjects' order.
	results := make([][]Change, len(work))
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), max(len(work), 1)) {
		wg.Go(func() {
			for i := int(next.Add(1) - 1); i < len(work); i = int(next.Add(1) - 1) {
				results[i] = d.subject(work[i])
			}
		})
	}
	wg.Wait()
	for _, r := range results {
		res.Changes = append(res.Changes, r...)
	}
	sortChanges(res.Changes)
	return res
}

type differ struct {
	old, new   *rbac.Index
	risks      []rbaclint.Risk
	olds, news ruleStrings

	mu   sync.Mutex
	memo map[string]*candidates
}

// scoped is a subject and the namespaces where a RoleBinding names it.
type scoped struct {
	s      Subject
	scopes []string
}

// subjectsOf lists every subject either policy's bindings name, with ""
// (cluster-wide) and each namespace where a RoleBinding names it.
func subjectsOf(policies ...*rbac.Policy) []scoped {
	idx := map[Subject]int{}
	var out []scoped
	note := func(sub rbacv1.Subject, ns string) {
		s := Subject{Kind: sub.Kind, Name: sub.Name, Namespace: sub.Namespace}
		if s.Kind == rbacv1.ServiceAccountKind && s.Namespace == "" {
			s.Namespace = ns
		}
		if s.Kind == rbacv1.ServiceAccountKind && s.Namespace == "" {
			return
		}
		i, ok := idx[s]
		if !ok {
			i = len(out)
			idx[s] = i
			out = append(out, scoped{s: s, scopes: []string{""}})
		}
		if ns != "" && !slices.Contains(out[i].scopes, ns) {
			out[i].scopes = append(out[i].scopes, ns)
		}
	}
	for _, p := range policies {
		for _, b := range p.ClusterRoleBindings {
			for _, s := range b.Subjects {
				note(s, "")
			}
		}
		for _, b := range p.RoleBindings {
			for _, s := range b.Subjects {
				note(s, b.Namespace)
			}
		}
	}
	return out
}

func (s Subject) lint() rbaclint.Subject {
	return rbaclint.Subject{Kind: s.Kind, Name: s.Name, Namespace: s.Namespace}
}

// subject diffs one subject in every scope; flips a cluster-wide change
// already explains are not repeated per namespace.
func (d *differ) subject(sc scoped) []Change {
	u := rbaclint.SubjectUser(sc.s.lint())
	var out []Change
	var cluster *flipSet
	for _, ns := range sc.scopes {
		oldRefs, _ := d.old.Rules(u, ns)
		newRefs, _ := d.new.Rules(u, ns)
		e := d.flips(u, ns, oldRefs, newRefs)
		if !e.changed {
			continue
		}
		// Keep only the most general flips: a "*" line covers the specific
		// ones, and a cluster-wide line covers every namespace.
		kept := e.general
		if cluster != nil && len(cluster.m) > 0 {
			kept = make([]flip, 0, len(e.general))
			for _, f := range e.general {
				if !subsumed(f, cluster, true) {
					kept = append(kept, f)
				}
			}
		}
		if ns == "" {
			cluster = &e.here
		}
		out = append(out, d.lines(sc.s, ns, kept)...)
	}
	return out
}

// candidates are the atoms of one scope's changed rules that the rules
// only one side holds decide differently, shared by every subject whose
// rules differ in the same way.
type candidates struct {
	once  sync.Once
	atoms []flip // the atom and whether the new-only rules allow it
}

// scopeFlips is what one scope's rules flip for one subject.
type scopeFlips struct {
	changed bool    // the two sides' rules differ
	here    flipSet // every flip
	general []flip  // the flips no other flip of here covers, in order
}

// flips finds the requests whose decision flips in scope ns. Only atoms of
// the changed rules can flip (see changedRules). A decision is whether any
// rule that applies allows the request (Authorize visits exactly the
// bindings Rules lists): where a rule both sides hold allows it, nothing
// flips, and otherwise the rules only the old side holds decide before and
// those only the new side holds after. So an atom flips only if those two
// sets decide it differently; that test depends on the changed rules
// alone, is computed once per distinct change (every holder of a changed
// role shares it), and each subject asks the engine only about the atoms
// that pass it.
func (d *differ) flips(u user.Info, ns string, oldRefs, newRefs []rbac.RuleRef) scopeFlips {
	var e scopeFlips
	oldAll, newAll := d.olds.set(oldRefs), d.news.set(newRefs)
	oldOnly, newOnly := minus(oldAll, newAll), minus(newAll, oldAll)
	var changed []rbacv1.PolicyRule
	if ns != "" {
		// Where the namespace's own rules are the same on both sides, a
		// flip there is a flip of the cluster-wide rules, already
		// reported; where they differ, a value they do not name decides
		// like the fresh value (a cluster rule that allows a fresh value
		// allows every value), so their values suffice.
		changed = changedRules(d.olds.set(roleBindingRules(oldRefs)), d.news.set(roleBindingRules(newRefs)))
	} else {
		changed = append(slices.Clip(oldOnly), newOnly...) // changedRules of all the rules
	}
	if len(changed) == 0 {
		return e
	}
	e.changed = true
	c := d.candidates(ns, changed, oldOnly, newOnly)
	var flips []flip
	for _, f := range c.atoms {
		// The side whose only-rules allow the atom allows it; the atom
		// flips unless the other side allows it too.
		other := d.old
		if !f.granted {
			other = d.new
		}
		if !d.allowed(other, f.a.request(u, ns)) {
			e.here.add(f)
			flips = append(flips, f)
		}
	}
	for _, f := range flips {
		if !subsumed(f, &e.here, false) {
			e.general = append(e.general, f)
		}
	}
	return e
}

// candidates returns, once per (scope kind, changed rules, old-only
// rules, new-only rules), the atoms of the changed rules that the old-only
// and the new-only rules decide differently, in the order of atoms.
func (d *differ) candidates(ns string, changed, oldOnly, newOnly []rbacv1.PolicyRule) *candidates {
	var b strings.Builder
	if ns != "" {
		b.WriteByte('n')
	}
	for _, list := range [3][]rbacv1.PolicyRule{changed, oldOnly, newOnly} {
		for _, r := range list {
			b.WriteString(ruleString(r))
			b.WriteByte(1)
		}
		b.WriteByte(2)
	}
	key := b.String()
	d.mu.Lock()
	c := d.memo[key]
	if c == nil {
		c = &candidates{}
		d.memo[key] = c
	}
	d.mu.Unlock()
	c.once.Do(func() {
		was, is := soleRoleIndex(oldOnly), soleRoleIndex(newOnly)
		for _, a := range atoms(changed) {
			if ns != "" && clusterScoped(a) {
				continue // a RoleBinding cannot grant a cluster-scoped request
			}
			req := a.request(soleUser, ns)
			if w, i := d.allowed(was, req), d.allowed(is, req); w != i {
				c.atoms = append(c.atoms, flip{a: a, granted: i})
			}
		}
	})
	return c
}

// soleUser holds the rules of a soleRoleIndex.
var soleUser user.Info = &user.DefaultInfo{Name: "kauth:rbacdiff"}

// soleRoleIndex indexes one cluster role with rules, bound cluster-wide to
// soleUser, so that the engine's own matching decides by those rules alone.
func soleRoleIndex(rules []rbacv1.PolicyRule) *rbac.Index {
	const name = "kauth:rbacdiff"
	return rbac.NewIndex(&rbac.Policy{
		ClusterRoles: []*rbacv1.ClusterRole{{ObjectMeta: metav1.ObjectMeta{Name: name}, Rules: rules}},
		ClusterRoleBindings: []*rbacv1.ClusterRoleBinding{{
			ObjectMeta: metav1.ObjectMeta{Name: name},
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: rbac.KindClusterRole, Name: name},
			Subjects:   []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: soleUser.GetName()}},
		}},
	})
}

// ruleStrings holds the ruleString of every rule of one policy's roles,
// by role and position, computed once before the subjects are diffed and
// only read afterwards.
type ruleStrings map[rbac.ObjectKey][]keyedRule

type keyedRule struct {
	key  string
	rule rbacv1.PolicyRule
}

func newRuleStrings(p *rbac.Policy) ruleStrings {
	m := make(ruleStrings, len(p.ClusterRoles)+len(p.Roles))
	add := func(k rbac.ObjectKey, rules []rbacv1.PolicyRule) {
		strs := make([]keyedRule, len(rules))
		for i, r := range rules {
			strs[i] = keyedRule{ruleString(r), r}
		}
		m[k] = strs
	}
	for _, r := range p.ClusterRoles {
		add(rbac.ObjectKey{Kind: rbac.KindClusterRole, Name: r.Name}, r.Rules)
	}
	for _, r := range p.Roles {
		add(rbac.ObjectKey{Kind: rbac.KindRole, Namespace: r.Namespace, Name: r.Name}, r.Rules)
	}
	return m
}

// set maps the rules of refs by ruleString.
func (rs ruleStrings) set(refs []rbac.RuleRef) map[string]rbacv1.PolicyRule {
	m := make(map[string]rbacv1.PolicyRule, len(refs))
	for _, r := range refs {
		// The engine's rule is the role's rule at Index; compare to be sure.
		if strs := rs[r.Role]; r.Index < len(strs) && sameRule(r.Rule, strs[r.Index].rule) {
			m[strs[r.Index].key] = r.Rule
			continue
		}
		m[ruleString(r.Rule)] = r.Rule
	}
	return m
}

// minus returns the rules of a that b does not hold, ordered by ruleString.
func minus(a, b map[string]rbacv1.PolicyRule) []rbacv1.PolicyRule {
	keys := make([]string, 0, len(a))
	for k := range a {
		if _, ok := b[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	out := make([]rbacv1.PolicyRule, 0, len(keys))
	for _, k := range keys {
		out = append(out, a[k])
	}
	return out
}

func (d *differ) allowed(idx *rbac.Index, req authorizer.AttributesRecord) bool {
	dec, _, _ := idx.Authorize(context.Background(), req)
	return dec == authorizer.DecisionAllow
}

// changedRules returns the rules one side holds and the other does not.
// Only they can flip a decision: a request matched by the same rules on
// both sides is decided the same. Their values also suffice to enumerate
// requests: a value they do not name decides like a fresh one (a shared
// rule that allows a fresh value allows every value).
func changedRules(sa, sb map[string]rbacv1.PolicyRule) []rbacv1.PolicyRule {
	return append(minus(sa, sb), minus(sb, sa)...)
}

func ruleString(r rbacv1.PolicyRule) string {
	var b strings.Builder
	for _, l := range [][]string{r.Verbs, r.APIGroups, r.Resources, r.ResourceNames, r.NonResourceURLs} {
		b.WriteString(strings.Join(l, ","))
		b.WriteByte(0)
	}
	return b.String()
}

func sortChanges(cs []Change) {
	slices.SortFunc(cs, func(a, b Change) int {
		return cmp.Or(
			cmp.Compare(a.Subject.Kind, b.Subject.Kind), cmp.Compare(a.Subject.Namespace, b.Subject.Namespace), cmp.Compare(a.Subject.Name, b.Subject.Name),
			cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.NonResourceURL, b.NonResourceURL), cmp.Compare(a.APIGroup, b.APIGroup),
			cmp.Compare(a.Resource, b.Resource), cmp.Compare(a.Subresource, b.Subresource), cmp.Compare(a.Change, b.Change),
			slices.Compare(a.ResourceNames, b.ResourceNames), slices.Compare(a.Verbs, b.Verbs))
	})
}

// flipSet is a set of flips, with which fresh values its atoms use, so
// that a lookup of a more general atom it cannot hold is skipped.
type flipSet struct {
	m                       map[flip]bool
	verb, group, res, paths bool // some atom has the fresh verb, group, resource, or a path wildcard
}

func (s *flipSet) add(f flip) {
	if s.m == nil {
		s.m = map[flip]bool{}
	}
	s.m[f] = true
	s.verb = s.verb || f.a.verb == anyVerb
	s.group = s.group || f.a.group == anyGroup
	s.res = s.res || f.a.resource == anyResource
	s.paths = s.paths || strings.HasSuffix(f.a.path, anyPath)
}

// subsumed tells whether set holds a flip of the same direction that is
// more general than f (or, with self, equal to it).
func subsumed(f flip, set *flipSet, self bool) bool {
	if set == nil || len(set.m) == 0 {
		return false
	}
	found := false
	generalize(f.a, set, func(g atom) bool {
		found = (self || g != f.a) && set.m[flip{a: g, granted: f.granted}]
		return found
	})
	return found
}

// generalize calls fn with a and every atom whose line covers a, until fn
// returns true: a fresh value in place of any of its values (a fresh
// resource without subresource stands for every resource and
// subresource), and for paths every prefix wildcard. It leaves out the
// atoms with a fresh verb, group or resource or a path wildcard that in
// does not hold.
func generalize(a atom, in *flipSet, fn func(atom) bool) {
	verbs := []string{a.verb}
	if in.verb {
		verbs = append(verbs, anyVerb)
	}
	for _, v := range verbs {
		if a.nonResource {
			if fn(atom{nonResource: true, verb: v, path: a.path}) {
				return
			}
			if !in.paths {
				continue
			}
			if fn(atom{nonResource: true, verb: v, path: anyPath}) {
				return
			}
			for i := range len(a.path) + 1 {
				if fn(atom{nonResource: true, verb: v, path: a.path[:i] + anyPath}) {
					return
				}
			}
			continue
		}
		groups := []string{a.group}
		if in.group {
			groups = append(groups, anyGroup)
		}
		pairs := [][2]string{{a.resource, a.sub}}
		if in.res {
			pairs = append(pairs, [2]string{anyResource, a.sub}, [2]string{anyResource, ""})
		}
		for _, g := range groups {
			for _, p := range pairs {
				for _, n := range [2]string{a.name, anyName} {
					if fn(atom{verb: v, group: g, resource: p[0], sub: p[1], name: n}) {
						return
					}
				}
			}
		}
	}
}

// roleBindingRules keeps, in place, the rules granted by RoleBindings.
func roleBindingRules(refs []rbac.RuleRef) []rbac.RuleRef {
	out := refs[:0]
	for _, r := range refs {
		if r.Binding.Kind == rbac.KindRoleBinding {
			out = append(out, r)
		}
	}
	return out
}
