package rbacdiff

import (
	"encoding/binary"
	"math/bits"
	"slices"
	"strings"

	"k8s.io/apiserver/pkg/authorization/authorizer"

	"github.com/kauth/kauth/internal/rbac"
	"github.com/kauth/kauth/internal/rbaclint"
)

// lineBufs are the maps lines reuses.
type lineBufs struct {
	targets map[target]int
	order   []targetVerbs
	lines   map[lineKey]int
	list    []line
}

// target is a flip without its verb, in universe ids.
type target struct {
	granted bool
	a       gatom // verb 0
}

type targetVerbs struct {
	t     target
	verbs []int32
}

type lineKey struct {
	granted bool
	a       gatom // verb and name 0
	verbs   string
}

type line struct {
	key   lineKey
	verbs []int32 // sorted as their strings
	names []int32
	first gatom // the first target, with the first verb
}

// lines merges the flips of one subject in one scope, atoms of set: the
// verbs of each (group, resource, subresource, name) or path together,
// then the names that share the same verbs.
func (w *worker) lines(out []Change, s Subject, ns string, set *flipSet, flips []catom) []Change {
	u, b, c := w.d.u, &w.lineBufs, set.c
	w.explainR = [2]bool{}
	if b.targets == nil {
		b.targets, b.lines = map[target]int{}, map[lineKey]int{}
	}
	clear(b.targets)
	clear(b.lines)
	b.order, b.list = b.order[:0], b.list[:0]
	for _, f := range flips {
		a := c.voc.global(&f)
		verb := a.verb
		a.verb = 0
		t := target{f.granted, a}
		i, ok := b.targets[t]
		if !ok {
			i = len(b.order)
			b.targets[t] = i
			if i < cap(b.order) {
				b.order = b.order[:i+1]
				b.order[i].t, b.order[i].verbs = t, b.order[i].verbs[:0]
			} else {
				b.order = append(b.order, targetVerbs{t: t})
			}
		}
		b.order[i].verbs = append(b.order[i].verbs, verb)
	}
	for _, t := range b.order {
		vs := t.verbs
		slices.SortFunc(vs, func(x, y int32) int { return int(u.verbRank[x] - u.verbRank[y]) })
		a := t.t.a
		a.name = 0
		k := lineKey{granted: t.t.granted, a: a, verbs: u.verbsKey(vs)}
		i, ok := b.lines[k]
		if !ok {
			i = len(b.list)
			b.lines[k] = i
			rep := t.t.a
			rep.verb = vs[0]
			b.list = append(b.list, line{key: k, verbs: vs, first: rep})
		}
		b.list[i].names = append(b.list[i].names, t.t.a.name)
	}
	for _, l := range b.list {
		c := Change{Subject: s, Change: Revoked, Namespace: ns, ResourceNames: []string{}, Via: []rbac.Via{}}
		if l.key.granted {
			c.Change = Granted
		}
		verbs := u.verbStrings(l.verbs)
		c.Verbs = displayVerbs(verbs)
		if l.key.a.nonResource {
			c.NonResourceURL = displayPath(u.t[dPath].str[l.key.a.path])
		} else {
			a := l.key.a
			c.APIGroup, c.Resource, c.Subresource = display(u.t[dGroup].str[a.group], anyGroup), display(u.t[dRes].str[a.res], anyResource), u.t[dSub].str[a.sub]
			if !slices.Contains(l.names, 0) {
				c.ResourceNames = make([]string, len(l.names))
				for i, n := range l.names {
					c.ResourceNames[i] = u.t[dName].str[n]
				}
				slices.Sort(c.ResourceNames)
			}
		}
		w.explain(&c, set, &l.first)
		if l.key.granted {
			w.classify(&c, l.key.a.res, verbs)
		}
		out = append(out, c)
	}
	return out
}

// verbsKey identifies a set of verbs (sorted) as their joined strings do.
func (u *universe) verbsKey(vs []int32) string {
	if u.commaVerbs {
		return strings.Join(u.verbStrings(vs), ",")
	}
	b := make([]byte, 0, 4*len(vs))
	for _, v := range vs {
		b = binary.LittleEndian.AppendUint32(b, uint32(v))
	}
	return string(b)
}

// verbStrings are the verbs of a line as it shows them: joined with
// commas, then split at commas.
func (u *universe) verbStrings(vs []int32) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = u.t[dVerb].str[v]
	}
	if u.commaVerbs {
		return strings.Split(strings.Join(out, ","), ",")
	}
	return out
}

// explain names the bindings and roles that grant (for a grant, on the
// new side) or granted (for a revocation, on the old side) the change:
// every binding and role with a rule that allows the line's first
// request, in the order the authorizer visits them (as Explain's grants).
func (w *worker) explain(c *Change, set *flipSet, rep *gatom) {
	side := 0
	if c.Change == Granted {
		side = 1
	}
	// The request is a flip: on the side that allows it, only the rules
	// that side alone holds can allow it.
	mk := &w.explainM[side]
	if !w.explainR[side] {
		w.explainR[side] = true
		mk.reset(w.d.u, &set.c.voc, &set.m, w.only[side], nil)
	}
	a := catom{nonResource: rep.nonResource, v: set.m.get(dVerb, rep.verb)}
	if rep.nonResource {
		a.p = set.m.get(dPath, rep.path)
	} else {
		a.g, a.r, a.s, a.n = set.m.get(dGroup, rep.group), set.m.get(dRes, rep.res), set.m.get(dSub, rep.sub), set.m.get(dName, rep.name)
	}
	w.allowBuf = mk.allowing(&a, w.allowBuf)
	if len(w.viaMark) < len(w.d.u.rules) {
		w.viaMark = make([]uint32, len(w.d.u.rules))
	}
	w.viaGen++
	for k, word := range w.allowBuf {
		for ; word != 0; word &= word - 1 {
			w.viaMark[mk.ids[k*64+bits.TrailingZeros64(word)]] = w.viaGen
		}
	}
	for i, r := range w.refs[side] {
		if w.viaMark[w.ids[side][i]] != w.viaGen {
			continue
		}
		if v := (rbac.Via{Binding: *r.Binding, Role: *r.Role}); !slices.Contains(c.Via, v) {
			c.Via = append(c.Via, v)
		}
	}
}

// classify marks a grant as an escalation when it covers a request of a
// lint risk that the subject could not make before and can now, in a
// scope where that risk counts. The subject's rules in the change's scope
// decide, as the authorizer would. res is the line's resource id (0 for
// every resource).
func (w *worker) classify(c *Change, res int32, verbs []string) {
	if c.NonResourceURL != "" {
		return
	}
	u := w.d.u
	for ri := range w.d.risks {
		r := &w.d.risks[ri]
		if !riskInScope(r, c.Namespace) {
			continue
		}
		// Only the requests for the line's resource can be covered.
		reqs := w.d.riskAll[ri]
		if res > 0 {
			reqs = w.d.riskByRes[ri][res]
		}
		for _, qi := range reqs {
			if q := &r.Requests[qi]; !covers(c, verbs, q) {
				continue
			}
			g := &w.d.riskReqs[ri][qi]
			if u.anyAllows(w.all[0], g) || !u.anyAllows(w.all[1], g) || !w.holdsRequired(ri) {
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

func (w *worker) holdsRequired(risk int) bool {
	reqs := w.d.riskRequires[risk]
	if len(reqs) == 0 {
		return true
	}
	for i := range reqs {
		if w.d.u.anyAllows(w.all[1], &reqs[i]) {
			return true
		}
	}
	return false
}

func riskInScope(r *rbaclint.Risk, ns string) bool {
	if ns == "" {
		return true
	}
	return !r.ClusterOnly && (r.Namespace == "" || r.Namespace == ns) && (!r.PrivilegedOnly || slices.Contains(rbaclint.DefaultPrivilegedNamespaces, ns))
}

// covers tells whether the change's line includes request q.
func covers(c *Change, verbs []string, q *authorizer.AttributesRecord) bool {
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
