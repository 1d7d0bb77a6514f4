package rbacdiff

import (
	"encoding/binary"
	"slices"
	"sync"

	"github.com/kauth/kauth/internal/rbac"
	"github.com/kauth/kauth/internal/rbaclint"
)

// candidates are the atoms of one scope's changed rules that the rules
// only one side holds decide differently, shared by every subject whose
// rules differ in the same way.
type candidates struct {
	once  sync.Once
	voc   lvocab
	atoms []catom // in the order atoms enumerates them; granted when the new-only rules allow it
}

// lvocab is the vocabulary of one change: index 0 of each dimension is
// the fresh value, then the values the changed rules name, in order of
// first appearance.
type lvocab struct {
	vals [nDims][]int32 // local index -> universe id
}

func (v *lvocab) shape() shape {
	return shape{len(v.vals[dVerb]), len(v.vals[dGroup]), len(v.vals[dRes]), len(v.vals[dSub]), len(v.vals[dName]), len(v.vals[dPath])}
}

// global is a in universe ids.
func (v *lvocab) global(a *catom) gatom {
	if a.nonResource {
		return gatom{nonResource: true, verb: v.vals[dVerb][a.v], path: v.vals[dPath][a.p]}
	}
	return gatom{verb: v.vals[dVerb][a.v], group: v.vals[dGroup][a.g], res: v.vals[dRes][a.r], sub: v.vals[dSub][a.s], name: v.vals[dName][a.n]}
}

// catom is an atom in the local indexes of one lvocab: a verb on a group,
// resource, subresource and name, or a verb on a path. granted is the
// direction of its flip.
type catom struct {
	v, g, r, s, n, p     int32
	nonResource, granted bool
}

// worker holds the buffers one goroutine reuses from subject to subject.
type worker struct {
	d        *differ
	refs     [2][]rbac.BoundRule
	ids      [2][]int32 // rule ids of refs
	all      [2][]int32 // distinct rule ids of each side, sorted
	rb       [2][]int32 // the same for the RoleBindings' rules
	only     [2][]int32
	common   []int32
	onlyMark [2][]uint32 // onlyGen where a rule id is in only
	onlyGen  uint32
	changed  []int32
	key      []byte
	roles    [2]map[*rbac.ObjectKey][]int32
	enum     vmap
	atomBuf  []catom
	masks    masks
	seen     cellSet
	sets     [2]flipSet // the cluster scope's flips, a namespace's
	flipBuf  []catom
	general  []catom
	kept     []catom
	lineBufs lineBufs
	out      []Change
	explainM [2]masks // the rules only one side holds, over the scope's vocabulary
	explainR [2]bool  // explainM[side] is ready
	allowBuf []uint64
	viaMark  []uint32 // viaGen where a rule allows a line's request
	viaGen   uint32
	order    []int32
}

func newWorker(d *differ) *worker {
	w := &worker{d: d}
	w.roles[0], w.roles[1] = map[*rbac.ObjectKey][]int32{}, map[*rbac.ObjectKey][]int32{}
	return w
}

// flipSet is one scope's flips with the vocabulary they are in.
type flipSet struct {
	u     *universe
	c     *candidates
	m     vmap // universe id -> local index of c.voc
	cells cellSet
}

// subject diffs one subject in every scope; flips a cluster-wide change
// already explains are not repeated per namespace.
func (w *worker) subject(sc scoped) []Change {
	u := rbaclint.SubjectUser(sc.s.lint())
	var cluster *flipSet
	// The cluster-wide rules apply in every scope: list them once.
	var nCluster [2]int
	for side, idx := range [2]*rbac.Index{w.d.old, w.d.new} {
		w.refs[side] = idx.AppendScopeBoundRules(w.refs[side][:0], u, "")
		w.ids[side] = w.ruleIDs(side, w.refs[side], w.ids[side][:0])
		nCluster[side] = len(w.refs[side])
	}
	for _, ns := range sc.scopes {
		for side, idx := range [2]*rbac.Index{w.d.old, w.d.new} {
			w.refs[side] = w.refs[side][:nCluster[side]]
			w.ids[side] = w.ids[side][:nCluster[side]]
			if ns != "" {
				n := len(w.refs[side])
				w.refs[side] = idx.AppendScopeBoundRules(w.refs[side], u, ns)
				w.ids[side] = w.ruleIDs(side, w.refs[side][n:], w.ids[side])
			}
		}
		set := &w.sets[1]
		if ns == "" {
			set = &w.sets[0]
		}
		if !w.flips(ns, set) {
			continue
		}
		// Keep only the most general flips: a "*" line covers the specific
		// ones, and a cluster-wide line covers every namespace.
		kept := w.general
		if cluster != nil && cluster.cells.n > 0 {
			w.kept = w.kept[:0]
			for _, f := range w.general {
				if !cluster.subsumedOther(set, f) {
					w.kept = append(w.kept, f)
				}
			}
			kept = w.kept
		}
		if ns == "" {
			cluster = set
		}
		w.out = w.lines(w.out, sc.s, ns, set, kept)
	}
	return w.sorted()
}

// sorted returns the subject's changes, in order, in a slice of their
// own, and empties w.out.
func (w *worker) sorted() []Change {
	if len(w.out) == 0 {
		return nil
	}
	w.order = w.order[:0]
	for i := range w.out {
		w.order = append(w.order, int32(i))
	}
	slices.SortFunc(w.order, func(a, b int32) int { return compareChanges(&w.out[a], &w.out[b]) })
	out := make([]Change, len(w.out))
	for i, j := range w.order {
		out[i] = w.out[j]
	}
	clear(w.out) // drop references
	w.out = w.out[:0]
	return out
}

// ruleIDs appends the universe ids of the rules of refs.
func (w *worker) ruleIDs(side int, refs []rbac.BoundRule, dst []int32) []int32 {
	cache := w.roles[side]
	var last *rbac.ObjectKey
	var ids []int32
	for _, r := range refs {
		if r.Role != last {
			var ok bool
			if ids, ok = cache[r.Role]; !ok {
				ids = w.d.u.roles[side][*r.Role]
				cache[r.Role] = ids
			}
			last = r.Role
		}
		dst = append(dst, ids[r.Index])
	}
	return dst
}

// sortedSet sorts ids and drops duplicates, in place.
func sortedSet(ids []int32) []int32 {
	slices.Sort(ids)
	return slices.Compact(ids)
}

// minusIDs appends to dst the ids of sorted a that sorted b lacks.
func minusIDs(dst, a, b []int32) []int32 {
	j := 0
	for _, x := range a {
		for j < len(b) && b[j] < x {
			j++
		}
		if j == len(b) || b[j] != x {
			dst = append(dst, x)
		}
	}
	return dst
}

func intersectIDs(dst, a, b []int32) []int32 {
	j := 0
	for _, x := range a {
		for j < len(b) && b[j] < x {
			j++
		}
		if j < len(b) && b[j] == x {
			dst = append(dst, x)
		}
	}
	return dst
}

// flips finds the requests whose decision flips in scope ns, into set
// and w.general; it is false when the two sides' rules there are the
// same. Only atoms of the changed rules (those one side holds and the
// other does not) can flip: a request matched by the same rules on both
// sides is decided the same, and a value they do not name decides like a
// fresh one (a shared rule that allows a fresh value allows every value). A
// decision is whether any rule that applies allows the request
// (Authorize visits exactly the bindings AppendBoundRules lists): where a
// rule both sides hold allows it, nothing flips, and otherwise the rules
// only the old side holds decide before and those only the new side holds
// after. So an atom flips only if those two sets decide it differently;
// that test depends on the changed rules alone, is computed once per
// distinct change (every holder of a changed role shares it), and each
// subject then only checks the surviving atoms against the rules both
// sides hold.
func (w *worker) flips(ns string, set *flipSet) bool {
	for side := range 2 {
		w.all[side] = sortedSet(append(w.all[side][:0], w.ids[side]...))
	}
	w.only[0] = minusIDs(w.only[0][:0], w.all[0], w.all[1])
	w.only[1] = minusIDs(w.only[1][:0], w.all[1], w.all[0])
	w.common = intersectIDs(w.common[:0], w.all[0], w.all[1])
	w.onlyGen++
	for side := range 2 {
		if len(w.onlyMark[side]) < len(w.d.u.rules) {
			w.onlyMark[side] = make([]uint32, len(w.d.u.rules))
		}
		for _, id := range w.only[side] {
			w.onlyMark[side][id] = w.onlyGen
		}
	}
	if ns != "" {
		// Where the namespace's own rules are the same on both sides, a
		// flip there is a flip of the cluster-wide rules, already
		// reported; where they differ, a value they do not name decides
		// like the fresh value (a cluster rule that allows a fresh value
		// allows every value), so their values suffice.
		for side := range 2 {
			w.rb[side] = w.rb[side][:0]
			for i, r := range w.refs[side] {
				if r.Binding.Kind == rbac.KindRoleBinding {
					w.rb[side] = append(w.rb[side], w.ids[side][i])
				}
			}
			w.rb[side] = sortedSet(w.rb[side])
		}
		w.changed = minusIDs(w.changed[:0], w.rb[0], w.rb[1])
		w.changed = minusIDs(w.changed, w.rb[1], w.rb[0])
	} else {
		w.changed = append(append(w.changed[:0], w.only[0]...), w.only[1]...)
	}
	if len(w.changed) == 0 {
		return false
	}
	c := w.d.candidates(w, ns != "", w.changed, w.only[0], w.only[1])
	set.reset(w.d.u, c)
	w.flipBuf = w.flipBuf[:0]
	u := w.d.u
	for _, a := range c.atoms {
		// The side whose only-rules allow the atom allows it; the atom
		// flips unless the other side allows it too, which only a rule
		// both sides hold can.
		if len(w.common) > 0 {
			g := c.voc.global(&a)
			if u.anyAllows(w.common, &g) {
				continue
			}
		}
		set.cells.add(a)
		w.flipBuf = append(w.flipBuf, a)
	}
	w.general = w.general[:0]
	for _, f := range w.flipBuf {
		if !set.subsumedSelf(f) {
			w.general = append(w.general, f)
		}
	}
	return true
}

// candidates returns, once per (scope kind, changed rules, old-only
// rules, new-only rules), the atoms of the changed rules that the old-only
// and the new-only rules decide differently, in the order of atoms.
func (d *differ) candidates(w *worker, namespaced bool, changed, oldOnly, newOnly []int32) *candidates {
	k := w.key[:0]
	if namespaced {
		k = append(k, 'n')
	}
	for _, list := range [3][]int32{changed, oldOnly, newOnly} {
		k = binary.LittleEndian.AppendUint32(k, uint32(len(list)))
		for _, id := range list {
			k = binary.LittleEndian.AppendUint32(k, uint32(id))
		}
	}
	w.key = k
	d.mu.Lock()
	c := d.memo[string(k)]
	if c == nil {
		c = &candidates{}
		d.memo[string(k)] = c
	}
	d.mu.Unlock()
	c.once.Do(func() { c.compute(d.u, w, namespaced, changed, oldOnly, newOnly) })
	return c
}

// compute enumerates every request one of the changed rules could allow:
// each rule's own values, a wildcard standing for the whole vocabulary of
// the changed rules plus the fresh value. A rule without resourceNames
// treats every name alike, and a named rule emits its own names, so
// unnamed rules need only the fresh name: a name flips only if a rule
// naming it changed, or if the fresh name flips too.
func (c *candidates) compute(u *universe, w *worker, namespaced bool, changed, oldOnly, newOnly []int32) {
	m := &w.enum
	c.voc = newLvocab(u, m, changed)
	sh := c.voc.shape()
	w.seen.reset(sh)
	w.atomBuf = w.atomBuf[:0]
	mk := &w.masks
	mk.reset(u, &c.voc, m, oldOnly, newOnly)
	emit := func(a catom) {
		if !w.seen.add(a) {
			return
		}
		if namespaced {
			if g := c.voc.global(&a); u.clusterScoped(&g) {
				return // a RoleBinding cannot grant a cluster-scoped request
			}
		}
		if was, is := mk.decide(&a); was != is {
			a.granted = is
			w.atomBuf = append(w.atomBuf, a)
		}
	}
	local := func(d int, ids []int32, all bool, buf []int32) []int32 {
		buf = buf[:0]
		if all {
			for i := range c.voc.vals[d] {
				buf = append(buf, int32(i))
			}
			return buf
		}
		for _, id := range ids {
			buf = append(buf, m.get(d, id))
		}
		return buf
	}
	var verbs, groups, names []int32
	var pairs [][2]int32
	for _, id := range changed {
		r := &u.rules[id]
		verbs = local(dVerb, r.verbs, r.allVerbs, verbs)
		if r.hasURLs {
			for _, v := range verbs {
				for p := range sh.p {
					emit(catom{nonResource: true, v: v, p: int32(p)})
				}
			}
			continue
		}
		names = local(dName, r.names, r.nameless, names)
		if r.nameless {
			names = append(names[:0], 0)
		}
		groups = local(dGroup, r.groups, r.allGroups, groups)
		pairs = pairs[:0]
		for _, e := range r.resources {
			switch e.kind {
			case resAll:
				for res := range sh.r {
					for sub := range sh.s {
						pairs = append(pairs, [2]int32{int32(res), int32(sub)})
					}
				}
			case resStarSub:
				for res := range sh.r {
					pairs = append(pairs, [2]int32{int32(res), m.get(dSub, e.sub)})
				}
			default:
				pairs = append(pairs, [2]int32{m.get(dRes, e.res), m.get(dSub, e.sub)})
			}
		}
		for _, pr := range pairs {
			for _, g := range groups {
				for _, v := range verbs {
					for _, n := range names {
						emit(catom{v: v, g: g, r: pr[0], s: pr[1], n: n})
					}
				}
			}
		}
	}
	c.atoms = slices.Clone(w.atomBuf)
}

// newLvocab is the vocabulary of rules, which m then maps.
func newLvocab(u *universe, m *vmap, rules []int32) lvocab {
	var voc lvocab
	m.reset(u)
	for d := range nDims {
		voc.vals[d] = []int32{0}
		m.set(d, 0, 0)
	}
	add := func(d int, id int32) {
		if m.get(d, id) < 0 {
			m.set(d, id, int32(len(voc.vals[d])))
			voc.vals[d] = append(voc.vals[d], id)
		}
	}
	for _, id := range rules {
		r := &u.rules[id]
		for _, v := range r.verbs {
			add(dVerb, v)
		}
		for _, g := range r.groups {
			add(dGroup, g)
		}
		for _, e := range r.resources {
			if e.kind == resExact {
				add(dRes, e.res)
			}
			if e.sub != 0 {
				add(dSub, e.sub)
			}
		}
		for _, n := range r.names {
			add(dName, n)
		}
		for _, p := range r.paths {
			add(dPath, p)
		}
	}
	return voc
}

// reset makes s the empty set of flips of c.
func (s *flipSet) reset(u *universe, c *candidates) {
	s.u, s.c = u, c
	s.m.reset(u)
	for d := range nDims {
		for i, id := range c.voc.vals[d] {
			s.m.set(d, id, int32(i))
		}
	}
	s.cells.reset(c.voc.shape())
}

// subsumedSelf tells whether s holds a flip of the same direction that
// is more general than f, which is one of its own atoms: a fresh value in
// place of any of its values (a fresh resource without subresource stands
// for every resource and subresource), and for paths every prefix
// wildcard.
func (s *flipSet) subsumedSelf(f catom) bool {
	if f.nonResource {
		gens := s.u.pathGens[s.c.voc.vals[dPath][f.p]]
		for _, v := range [2]int32{f.v, 0} {
			if v != f.v && s.cells.has(catom{nonResource: true, v: v, p: f.p, granted: f.granted}) {
				return true
			}
			for _, gp := range gens {
				if p := s.m.get(dPath, gp); p >= 0 && (v != f.v || p != f.p) && s.cells.has(catom{nonResource: true, v: v, p: p, granted: f.granted}) {
					return true
				}
			}
		}
		return false
	}
	if s.cells.size >= 0 {
		return s.cells.generalDense(&f)
	}
	for _, v := range [2]int32{f.v, 0} {
		for _, g := range [2]int32{f.g, 0} {
			for _, pr := range [3][2]int32{{f.r, f.s}, {0, f.s}, {0, 0}} {
				for _, n := range [2]int32{f.n, 0} {
					if (v != f.v || g != f.g || pr[0] != f.r || pr[1] != f.s || n != f.n) &&
						s.cells.has(catom{v: v, g: g, r: pr[0], s: pr[1], n: n, granted: f.granted}) {
						return true
					}
				}
			}
		}
	}
	return false
}

// generalDense is subsumedSelf's resource case on bitmaps: a cell is the
// sum of its values' offsets, so a fresh value in place of one of them
// drops that offset (index 0 is the fresh value).
func (s *cellSet) generalDense(f *catom) bool {
	sh := &s.sh
	n := int(f.n)
	sv := sh.g * sh.r * sh.s * sh.n
	ov, og, or, os := int(f.v)*sv, int(f.g)*sh.r*sh.s*sh.n, int(f.r)*sh.s*sh.n, int(f.s)*sh.n
	self := ov + og + or + os + n
	bits := s.bits[dir(f.granted)]
	vs, gs, ns := [2]int{ov, 0}, [2]int{og, 0}, [2]int{n, 0}
	ps := [3]int{or + os, os, 0}
	nv, ng, nn, np := 2, 2, 2, 3
	if ov == 0 {
		nv = 1
	}
	if og == 0 {
		ng = 1
	}
	if n == 0 {
		nn = 1
	}
	if or == 0 {
		np = 2
		ps[1] = 0
	}
	if os == 0 {
		np--
	}
	for _, v := range vs[:nv] {
		for _, g := range gs[:ng] {
			for _, p := range ps[:np] {
				for _, x := range ns[:nn] {
					if c := v + g + p + x; c != self && bits[c>>6]&(1<<(c&63)) != 0 {
						return true
					}
				}
			}
		}
	}
	return false
}

// subsumedOther tells whether s holds a flip of the same direction as
// f, an atom of other, that is as general as f or more.
func (s *flipSet) subsumedOther(other *flipSet, f catom) bool {
	a := other.c.voc.global(&f)
	if f.nonResource {
		for _, v := range [2]int32{s.m.get(dVerb, a.verb), 0} {
			if v < 0 {
				continue
			}
			if p := s.m.get(dPath, a.path); p >= 0 && s.cells.has(catom{nonResource: true, v: v, p: p, granted: f.granted}) {
				return true
			}
			for _, gp := range s.u.pathGens[a.path] {
				if p := s.m.get(dPath, gp); p >= 0 && s.cells.has(catom{nonResource: true, v: v, p: p, granted: f.granted}) {
					return true
				}
			}
		}
		return false
	}
	for _, v := range [2]int32{s.m.get(dVerb, a.verb), 0} {
		for _, g := range [2]int32{s.m.get(dGroup, a.group), 0} {
			sub := s.m.get(dSub, a.sub)
			for _, pr := range [3][2]int32{{s.m.get(dRes, a.res), sub}, {0, sub}, {0, 0}} {
				for _, n := range [2]int32{s.m.get(dName, a.name), 0} {
					if v >= 0 && g >= 0 && pr[0] >= 0 && pr[1] >= 0 && n >= 0 &&
						s.cells.has(catom{v: v, g: g, r: pr[0], s: pr[1], n: n, granted: f.granted}) {
						return true
					}
				}
			}
		}
	}
	return false
}

// vmap maps universe ids to local indexes; reset empties it in constant
// time.
type vmap struct {
	pos   [nDims][]int32
	stamp [nDims][]uint32
	gen   uint32
}

func (m *vmap) reset(u *universe) {
	m.gen++
	for d := range nDims {
		if n := len(u.t[d].str); len(m.pos[d]) < n {
			m.pos[d] = make([]int32, n)
			m.stamp[d] = make([]uint32, n)
		}
	}
	if m.gen == 0 { // wrapped: forget every old stamp
		for d := range nDims {
			clear(m.stamp[d])
		}
		m.gen = 1
	}
}

func (m *vmap) set(d int, id, local int32) {
	m.pos[d][id], m.stamp[d][id] = local, m.gen
}

// get is -1 for an id the map does not hold.
func (m *vmap) get(d int, id int32) int32 {
	if id < 0 || m.stamp[d][id] != m.gen {
		return -1
	}
	return m.pos[d][id]
}

// shape is the size of each dimension of an lvocab.
type shape struct{ v, g, r, s, n, p int }

// maxDenseCells bounds the bitmaps of a cellSet; a larger vocabulary
// uses a map.
const maxDenseCells = 1 << 22

// cells is the number of atoms of the shape (resource ones first), or
// -1 when it exceeds maxDenseCells.
func (sh shape) cells() int {
	n := 1
	for _, x := range [5]int{sh.v, sh.g, sh.r, sh.s, sh.n} {
		if n *= x; n > maxDenseCells {
			return -1
		}
	}
	if n += sh.v * sh.p; sh.v*sh.p > maxDenseCells || n > maxDenseCells {
		return -1
	}
	return n
}

// cellSet is a set of atoms of one shape, by direction.
type cellSet struct {
	sh    shape
	size  int // cells, or -1 for the map
	bits  [2][]uint64
	m     map[catom]struct{}
	n     int // members
	words int
}

func (s *cellSet) reset(sh shape) {
	s.sh, s.size, s.n = sh, sh.cells(), 0
	if s.size < 0 {
		if s.m == nil {
			s.m = map[catom]struct{}{}
		}
		clear(s.m)
		return
	}
	s.words = (s.size + 63) / 64
	for i := range s.bits {
		if cap(s.bits[i]) < s.words {
			s.bits[i] = make([]uint64, s.words)
		} else {
			s.bits[i] = s.bits[i][:s.words]
			clear(s.bits[i])
		}
	}
}

func (s *cellSet) cell(a *catom) int {
	if a.nonResource {
		return s.size - s.sh.v*s.sh.p + int(a.v)*s.sh.p + int(a.p)
	}
	return (((int(a.v)*s.sh.g+int(a.g))*s.sh.r+int(a.r))*s.sh.s+int(a.s))*s.sh.n + int(a.n)
}

func dir(granted bool) int {
	if granted {
		return 1
	}
	return 0
}

func (s *cellSet) has(a catom) bool {
	if s.size < 0 {
		_, ok := s.m[a]
		return ok
	}
	c := s.cell(&a)
	return s.bits[dir(a.granted)][c>>6]&(1<<(c&63)) != 0
}

// add reports whether a was not in s yet.
func (s *cellSet) add(a catom) bool {
	if s.size < 0 {
		if _, ok := s.m[a]; ok {
			return false
		}
		s.m[a] = struct{}{}
		s.n++
		return true
	}
	c := s.cell(&a)
	w, bit := &s.bits[dir(a.granted)][c>>6], uint64(1)<<(c&63)
	if *w&bit != 0 {
		return false
	}
	*w |= bit
	s.n++
	return true
}

// masks decide atoms of one lvocab by two lists of rules at once: per
// local value of each dimension, the set of rules (bit k for rule k, the
// old-only ones first) that name it, plus the rules with a wildcard
// there; an atom is allowed by the rules in the intersection of its
// values' sets.
type masks struct {
	ids              []int32 // the rules, old-only first
	words            int
	verbs, groups    []uint64 // [local value*words + word]
	names, paths     []uint64
	pairs            []uint64 // [(res*subs+sub)*words + word]
	subs             int
	all              [4][]uint64 // rules with "*" verbs, groups, resources; without names
	oldMask, newMask []uint64
}

// reset builds the masks of oldOnly and newOnly over voc; m maps voc.
func (mk *masks) reset(u *universe, voc *lvocab, m *vmap, oldOnly, newOnly []int32) {
	mk.ids = append(append(mk.ids[:0], oldOnly...), newOnly...)
	n := len(mk.ids)
	w := (n + 63) / 64
	mk.words = w
	mk.verbs = resize(mk.verbs, len(voc.vals[dVerb])*w)
	mk.groups = resize(mk.groups, len(voc.vals[dGroup])*w)
	mk.names = resize(mk.names, len(voc.vals[dName])*w)
	mk.paths = resize(mk.paths, len(voc.vals[dPath])*w)
	mk.subs = len(voc.vals[dSub])
	mk.pairs = resize(mk.pairs, len(voc.vals[dRes])*mk.subs*w)
	for i := range mk.all {
		mk.all[i] = resize(mk.all[i], w)
	}
	mk.oldMask, mk.newMask = resize(mk.oldMask, w), resize(mk.newMask, w)
	set := func(buf []uint64, local int32, k int) {
		if local >= 0 {
			buf[int(local)*w+k>>6] |= 1 << (k & 63)
		}
	}
	for k := range n {
		var id int32
		if k < len(oldOnly) {
			id = oldOnly[k]
			mk.oldMask[k>>6] |= 1 << (k & 63)
		} else {
			id = newOnly[k-len(oldOnly)]
			mk.newMask[k>>6] |= 1 << (k & 63)
		}
		c := &u.rules[id]
		bit := uint64(1) << (k & 63)
		if c.allVerbs {
			mk.all[0][k>>6] |= bit
		}
		for _, v := range c.verbs {
			set(mk.verbs, m.get(dVerb, v), k)
		}
		if c.allGroups {
			mk.all[1][k>>6] |= bit
		}
		for _, g := range c.groups {
			set(mk.groups, m.get(dGroup, g), k)
		}
		if c.nameless {
			mk.all[3][k>>6] |= bit
		}
		for _, x := range c.names {
			set(mk.names, m.get(dName, x), k)
		}
		if c.hasURLs {
			for p, id := range voc.vals[dPath] {
				if c.pathSet.has(id) {
					set(mk.paths, int32(p), k)
				}
			}
		}
		if c.allResources {
			mk.all[2][k>>6] |= bit
			continue
		}
		for _, e := range c.resources {
			sub := m.get(dSub, e.sub)
			switch {
			case sub < 0:
			case e.kind == resExact:
				// "res" matches without a subresource, "res/sub" with one.
				if res := m.get(dRes, e.res); res >= 0 && e.slash == (sub != 0) {
					set(mk.pairs, res*int32(mk.subs)+sub, k)
				}
			case e.kind == resStarSub && sub != 0:
				for res := range len(voc.vals[dRes]) {
					set(mk.pairs, int32(res*mk.subs)+sub, k)
				}
			}
		}
	}
}

// resize returns buf with n zero words.
func resize(buf []uint64, n int) []uint64 {
	if cap(buf) < n {
		return make([]uint64, n)
	}
	buf = buf[:n]
	clear(buf)
	return buf
}

// decide tells whether the old-only and the new-only rules allow a.
func (mk *masks) decide(a *catom) (was, is bool) {
	w := mk.words
	v := mk.verbs[int(a.v)*w:]
	if a.nonResource {
		p := mk.paths[int(a.p)*w:]
		for k := range w {
			x := (v[k] | mk.all[0][k]) & p[k]
			was, is = was || x&mk.oldMask[k] != 0, is || x&mk.newMask[k] != 0
		}
		return was, is
	}
	g, n, pr := mk.groups[int(a.g)*w:], mk.names[int(a.n)*w:], mk.pairs[(int(a.r)*mk.subs+int(a.s))*w:]
	for k := range w {
		x := (v[k] | mk.all[0][k]) & (g[k] | mk.all[1][k]) & (pr[k] | mk.all[2][k]) & (n[k] | mk.all[3][k])
		was, is = was || x&mk.oldMask[k] != 0, is || x&mk.newMask[k] != 0
	}
	return was, is
}

// allowing sets dst to the rules that allow a, one bit per rule.
func (mk *masks) allowing(a *catom, dst []uint64) []uint64 {
	w := mk.words
	dst = resize(dst, w)
	v := mk.verbs[int(a.v)*w:]
	if a.nonResource {
		p := mk.paths[int(a.p)*w:]
		for k := range w {
			dst[k] = (v[k] | mk.all[0][k]) & p[k]
		}
		return dst
	}
	g, n, pr := mk.groups[int(a.g)*w:], mk.names[int(a.n)*w:], mk.pairs[(int(a.r)*mk.subs+int(a.s))*w:]
	for k := range w {
		dst[k] = (v[k] | mk.all[0][k]) & (g[k] | mk.all[1][k]) & (pr[k] | mk.all[2][k]) & (n[k] | mk.all[3][k])
	}
	return dst
}
