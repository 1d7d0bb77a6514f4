package rbacdiff

import (
	"cmp"
	"context"
	"crypto/sha256"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	rbacv1 "k8s.io/api/rbac/v1"
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
	d := &differ{old: old, new: new, risks: rbaclint.Risks(), memo: map[[sha256.Size]byte]*scopeFlips{}}
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
	old, new *rbac.Index
	risks    []rbaclint.Risk

	mu   sync.Mutex
	memo map[[sha256.Size]byte]*scopeFlips
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
	var cluster map[flip]bool
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
		if len(cluster) > 0 {
			kept = make([]flip, 0, len(e.general))
			for _, f := range e.general {
				if !subsumed(f, cluster, true) {
					kept = append(kept, f)
				}
			}
		}
		if ns == "" {
			cluster = e.here
		}
		out = append(out, d.lines(sc.s, ns, kept)...)
	}
	return out
}

// scopeFlips is what one scope's rules flip, shared by every subject that
// holds the same rules there.
type scopeFlips struct {
	once    sync.Once
	changed bool          // the two sides' rules differ
	here    map[flip]bool // every flip
	general []flip        // the flips no other flip of here covers, in order
}

// flips computes, once per distinct pair of rule sets, the requests whose
// decision flips in scope ns. A decision depends only on the rules that
// apply to the subject (Authorize visits exactly the bindings Rules
// lists), and rule matching ignores the namespace, so subjects holding the
// same rules on both sides (as every holder of a changed role often does)
// share the result; the key tells cluster-wide from namespaced scopes and
// RoleBinding rules from ClusterRoleBinding ones, which the scopes treat
// differently.
func (d *differ) flips(u user.Info, ns string, oldRefs, newRefs []rbac.RuleRef) *scopeFlips {
	key := ruleSetKey(ns != "", oldRefs, newRefs)
	d.mu.Lock()
	e := d.memo[key]
	if e == nil {
		e = &scopeFlips{}
		d.memo[key] = e
	}
	d.mu.Unlock()
	e.once.Do(func() { d.computeFlips(e, u, ns, oldRefs, newRefs) })
	return e
}

func (d *differ) computeFlips(e *scopeFlips, u user.Info, ns string, oldRefs, newRefs []rbac.RuleRef) {
	if ns != "" {
		// Where the namespace's own rules are the same on both sides, a
		// flip there is a flip of the cluster-wide rules, already
		// reported; where they differ, a value they do not name decides
		// like the fresh value (a cluster rule that allows a fresh value
		// allows every value), so their values suffice.
		oldRefs, newRefs = roleBindingRules(oldRefs), roleBindingRules(newRefs)
	}
	changed := changedRules(oldRefs, newRefs)
	if len(changed) == 0 {
		return
	}
	e.changed = true
	e.here = map[flip]bool{}
	var flips []flip
	for _, a := range atoms(changed) {
		if ns != "" && clusterScoped(a) {
			continue // a RoleBinding cannot grant a cluster-scoped request
		}
		req := a.request(u, ns)
		was, is := d.allowed(d.old, req), d.allowed(d.new, req)
		if was != is {
			f := flip{a: a, granted: is}
			e.here[f] = true
			flips = append(flips, f)
		}
	}
	for _, f := range flips {
		if !subsumed(f, e.here, false) {
			e.general = append(e.general, f)
		}
	}
}

// ruleSetKey identifies the rules of both sides as sets (a decision does
// not depend on order or repetition), with the kind of binding that
// grants each one, and whether the scope is a namespace.
func ruleSetKey(namespaced bool, oldRefs, newRefs []rbac.RuleRef) [sha256.Size]byte {
	h := sha256.New()
	if namespaced {
		h.Write([]byte{1})
	} else {
		h.Write([]byte{0})
	}
	for _, refs := range [2][]rbac.RuleRef{oldRefs, newRefs} {
		keys := make([]string, 0, len(refs))
		for _, r := range refs {
			kind := "c"
			if r.Binding.Kind == rbac.KindRoleBinding {
				kind = "r"
			}
			keys = append(keys, kind+ruleString(r.Rule))
		}
		slices.Sort(keys)
		keys = slices.Compact(keys)
		for _, k := range keys {
			h.Write([]byte(k))
			h.Write([]byte{1})
		}
		h.Write([]byte{2})
	}
	var sum [sha256.Size]byte
	h.Sum(sum[:0])
	return sum
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
func changedRules(a, b []rbac.RuleRef) []rbacv1.PolicyRule {
	set := func(refs []rbac.RuleRef) map[string]rbacv1.PolicyRule {
		m := make(map[string]rbacv1.PolicyRule, len(refs))
		for _, r := range refs {
			m[ruleString(r.Rule)] = r.Rule
		}
		return m
	}
	sa, sb := set(a), set(b)
	var out []rbacv1.PolicyRule
	for _, m := range [2][2]map[string]rbacv1.PolicyRule{{sa, sb}, {sb, sa}} {
		keys := make([]string, 0, len(m[0]))
		for k := range m[0] {
			if _, ok := m[1][k]; !ok {
				keys = append(keys, k)
			}
		}
		slices.Sort(keys)
		for _, k := range keys {
			out = append(out, m[0][k])
		}
	}
	return out
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

// subsumed tells whether set holds a flip of the same direction that is
// more general than f (or, with self, equal to it).
func subsumed(f flip, set map[flip]bool, self bool) bool {
	if len(set) == 0 {
		return false
	}
	found := false
	generalize(f.a, func(g atom) bool {
		found = (self || g != f.a) && set[flip{a: g, granted: f.granted}]
		return found
	})
	return found
}

// generalize calls fn with a and every atom whose line covers a, until fn
// returns true: a fresh value in place of any of its values (a fresh
// resource without subresource stands for every resource and
// subresource), and for paths every prefix wildcard.
func generalize(a atom, fn func(atom) bool) {
	for _, v := range [2]string{a.verb, anyVerb} {
		if a.nonResource {
			if fn(atom{nonResource: true, verb: v, path: a.path}) || fn(atom{nonResource: true, verb: v, path: anyPath}) {
				return
			}
			for i := range len(a.path) + 1 {
				if fn(atom{nonResource: true, verb: v, path: a.path[:i] + anyPath}) {
					return
				}
			}
			continue
		}
		for _, g := range [2]string{a.group, anyGroup} {
			for _, p := range [3][2]string{{a.resource, a.sub}, {anyResource, a.sub}, {anyResource, ""}} {
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
