package rbacdiff

import (
	"cmp"
	"context"
	"slices"
	"strings"

	rbacv1 "k8s.io/api/rbac/v1"
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
	d := &differ{old: old, new: new, risks: rbaclint.Risks()}
	res := &Result{Changes: []Change{}, Objects: diffObjects(old.Policy(), new.Policy())}
	for _, s := range subjectsOf(old.Policy(), new.Policy()) {
		res.Changes = append(res.Changes, d.subject(s)...)
	}
	sortChanges(res.Changes)
	return res
}

type differ struct {
	old, new *rbac.Index
	risks    []rbaclint.Risk
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
	cluster := map[flip]bool{}
	for _, ns := range sc.scopes {
		oldRefs, _ := d.old.Rules(u, ns)
		newRefs, _ := d.new.Rules(u, ns)
		if sameRules(oldRefs, newRefs) {
			continue
		}
		here := map[flip]bool{}
		var flips []flip
		for _, a := range atoms(oldRefs, newRefs) {
			if ns != "" && clusterScoped(a) {
				continue // a RoleBinding cannot grant a cluster-scoped request
			}
			req := a.request(u, ns)
			was, is := d.allowed(d.old, req), d.allowed(d.new, req)
			if was != is {
				f := flip{a: a, granted: is}
				here[f] = true
				flips = append(flips, f)
			}
		}
		// Keep only the most general flips: a "*" line covers the specific
		// ones, and a cluster-wide line covers every namespace.
		kept := flips[:0]
		for _, f := range flips {
			if !subsumed(f, here, false) && !subsumed(f, cluster, true) {
				kept = append(kept, f)
			}
		}
		if ns == "" {
			cluster = here
		}
		out = append(out, d.lines(sc.s, ns, kept)...)
	}
	return out
}

func (d *differ) allowed(idx *rbac.Index, req authorizer.AttributesRecord) bool {
	dec, _, _ := idx.Authorize(context.Background(), req)
	return dec == authorizer.DecisionAllow
}

// sameRules tells whether two rule lists allow the same requests because
// they hold the same rules (order and repetition aside).
func sameRules(a, b []rbac.RuleRef) bool {
	key := func(refs []rbac.RuleRef) []string {
		out := make([]string, len(refs))
		for i, r := range refs {
			out[i] = ruleString(r.Rule)
		}
		slices.Sort(out)
		return slices.Compact(out)
	}
	return slices.Equal(key(a), key(b))
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
	for _, g := range generalizations(f.a) {
		if (self || g != f.a) && set[flip{a: g, granted: f.granted}] {
			return true
		}
	}
	return false
}

// generalizations lists a and every atom whose line covers a: a fresh
// value in place of any of its values (a fresh resource without
// subresource stands for every resource and subresource), and for paths
// every prefix wildcard.
func generalizations(a atom) []atom {
	var out []atom
	verbs := []string{a.verb, anyVerb}
	if a.nonResource {
		for _, v := range verbs {
			out = append(out, atom{nonResource: true, verb: v, path: a.path}, atom{nonResource: true, verb: v, path: anyPath})
			for i := range len(a.path) + 1 {
				out = append(out, atom{nonResource: true, verb: v, path: a.path[:i] + anyPath})
			}
		}
		return out
	}
	pairs := [][2]string{{a.resource, a.sub}, {anyResource, a.sub}, {anyResource, ""}}
	for _, v := range verbs {
		for _, g := range []string{a.group, anyGroup} {
			for _, p := range pairs {
				for _, n := range []string{a.name, anyName} {
					out = append(out, atom{verb: v, group: g, resource: p[0], sub: p[1], name: n})
				}
			}
		}
	}
	return out
}
