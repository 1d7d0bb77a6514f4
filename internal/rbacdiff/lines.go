package rbacdiff

import (
	"slices"
	"strings"

	"k8s.io/apiserver/pkg/authorization/authorizer"

	"github.com/kauth/kauth/internal/rbac"
	"github.com/kauth/kauth/internal/rbaclint"
)

// lines merges the flips of one subject in one scope: the verbs of each
// (group, resource, subresource, name) or path together, then the names
// that share the same verbs.
func (d *differ) lines(s Subject, ns string, flips []flip) []Change {
	type target struct {
		granted bool
		a       atom // verb empty
	}
	verbs := map[target][]string{}
	var order []target
	for _, f := range flips {
		a := f.a
		a.verb = ""
		t := target{f.granted, a}
		if _, ok := verbs[t]; !ok {
			order = append(order, t)
		}
		verbs[t] = append(verbs[t], f.a.verb)
	}
	type line struct {
		granted bool
		a       atom // verb and name empty
		verbs   string
	}
	names := map[line][]string{}
	first := map[line]atom{}
	var lines []line
	for _, t := range order {
		vs := verbs[t]
		slices.Sort(vs)
		a := t.a
		a.name = ""
		l := line{t.granted, a, strings.Join(vs, ",")}
		if _, ok := names[l]; !ok {
			lines = append(lines, l)
			rep := t.a
			rep.verb = vs[0]
			first[l] = rep
		}
		names[l] = append(names[l], t.a.name)
	}
	out := make([]Change, 0, len(lines))
	for _, l := range lines {
		c := Change{Subject: s, Change: Revoked, Namespace: ns, ResourceNames: []string{}, Via: []rbac.Via{}}
		if l.granted {
			c.Change = Granted
		}
		c.Verbs = displayVerbs(strings.Split(l.verbs, ","))
		if l.a.nonResource {
			c.NonResourceURL = displayPath(l.a.path)
		} else {
			c.APIGroup, c.Resource, c.Subresource = display(l.a.group, anyGroup), display(l.a.resource, anyResource), l.a.sub
			if ns := names[l]; !slices.Contains(ns, anyName) {
				c.ResourceNames = slices.Sorted(slices.Values(ns))
			}
		}
		d.explain(&c, first[l])
		if l.granted {
			d.classify(&c, strings.Split(l.verbs, ","))
		}
		out = append(out, c)
	}
	return out
}

func displayVerbs(vs []string) []string {
	if slices.Contains(vs, anyVerb) {
		return []string{"*"}
	}
	return vs
}

// explain names the bindings and roles that grant (for a grant, on the
// new side) or granted (for a revocation, on the old side) the change.
func (d *differ) explain(c *Change, rep atom) {
	idx := d.old
	if c.Change == Granted {
		idx = d.new
	}
	e := idx.Explain(rep.request(rbaclint.SubjectUser(c.Subject.lint()), c.Namespace))
	for _, g := range e.Grants {
		v := rbac.Via{Binding: g.Binding, Role: g.Role}
		if !slices.Contains(c.Via, v) {
			c.Via = append(c.Via, v)
		}
	}
}

// classify marks a grant as an escalation when it covers a request of a
// lint risk that the subject could not make before and can now, in a
// scope where that risk counts.
func (d *differ) classify(c *Change, verbs []string) {
	if c.NonResourceURL != "" {
		return
	}
	u := rbaclint.SubjectUser(c.Subject.lint())
	for _, r := range d.risks {
		if !riskInScope(r, c.Namespace) {
			continue
		}
		for _, q := range r.Requests {
			if !covers(c, verbs, q) {
				continue
			}
			q.User, q.Namespace = u, c.Namespace
			if d.allowed(d.old, q) || !d.allowed(d.new, q) || !d.holdsRequired(r, q) {
				continue
			}
			rule := r.Rule
			if c.Namespace != "" && r.NamespaceRule != "" {
				rule = r.NamespaceRule
			}
			c.Escalation = true
			if !slices.Contains(c.Risks, rule) {
				c.Risks = append(c.Risks, rule)
			}
			break
		}
	}
}

func (d *differ) holdsRequired(r rbaclint.Risk, q authorizer.AttributesRecord) bool {
	if len(r.Requires) == 0 {
		return true
	}
	for _, req := range r.Requires {
		req.User, req.Namespace = q.User, q.Namespace
		if d.allowed(d.new, req) {
			return true
		}
	}
	return false
}

func riskInScope(r rbaclint.Risk, ns string) bool {
	if ns == "" {
		return true
	}
	return !r.ClusterOnly && (r.Namespace == "" || r.Namespace == ns) && (!r.PrivilegedOnly || slices.Contains(rbaclint.DefaultPrivilegedNamespaces, ns))
}

// covers tells whether the change's line includes request q.
func covers(c *Change, verbs []string, q authorizer.AttributesRecord) bool {
	if !slices.Contains(verbs, anyVerb) && !slices.Contains(verbs, q.Verb) {
		return false
	}
	if c.APIGroup != "*" && c.APIGroup != q.APIGroup {
		return false
	}
	if c.Resource != "*" && (c.Resource != q.Resource || c.Subresource != q.Subresource) {
		return false
	}
	return len(c.ResourceNames) == 0 || slices.Contains(c.ResourceNames, q.Name)
}
