package rbacdiff

import (
	"slices"
	"strings"

	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apiserver/pkg/authorization/authorizer"

	"github.com/kauth/kauth/internal/rbac"
)

// The dimensions of an atom whose values are interned.
const (
	dVerb = iota
	dGroup
	dRes
	dSub
	dName
	dPath
	nDims
)

// table interns the strings of one dimension. Id 0 is the fresh value
// (for subresources, the empty one).
type table struct {
	ids map[string]int32
	str []string
}

func (t *table) intern(s string) int32 {
	if id, ok := t.ids[s]; ok {
		return id
	}
	id := int32(len(t.str))
	t.ids[s] = id
	t.str = append(t.str, s)
	return id
}

// lookup is -1 for a string no rule names: only wildcards match it.
func (t *table) lookup(s string) int32 {
	if id, ok := t.ids[s]; ok {
		return id
	}
	return -1
}

// universe interns every value the rules of both sides name, and holds
// every distinct rule of both sides compiled over those ids, numbered in
// the order of their ruleString (so sorting ids sorts rules as the
// strings would). It is built once per diff and only read afterwards.
type universe struct {
	t     [nDims]table
	rules []crule
	// roles maps each side's roles to the ids of their rules, by position.
	roles [2]map[rbac.ObjectKey][]int32
	// verbRank orders verb ids as their strings sort.
	verbRank []int32
	// commaVerbs is set when a verb contains a comma, which the display
	// of a line's verbs (joined, then split at commas) does not keep.
	commaVerbs bool
	// pathGens lists, per path id, the ids of the paths that generalize it
	// (anyPath and every prefix followed by anyPath) that some rule names.
	pathGens [][]int32
	// clusterRes lists, per resource id, the group ids for which it is a
	// built-in cluster-scoped resource.
	clusterRes [][]int32
}

// crule is a PolicyRule compiled over the universe's ids, with upstream's
// matching (RuleAllows): "*" matches every value, resources also
// "*/subresource", nonResourceURLs also a prefix ending in "*", and
// resourceNames only by equality.
type crule struct {
	src                                        *rbacv1.PolicyRule
	allVerbs, allGroups, allResources, hasURLs bool
	verbSet, groupSet                          bitset
	verbs, groups                              []int32 // entries but "*", in rule order
	resources                                  []resEntry
	nameless                                   bool
	names                                      []int32
	paths                                      []int32 // the atom paths the URLs name, in order
	pathSet                                    bitset  // paths (of the universe) the URLs match
	urls                                       []string
}

// Kinds of resource entries.
const (
	resAll     = iota // "*"
	resStarSub        // "*/sub" (and "*/")
	resExact          // "res" or "res/sub"
)

type resEntry struct {
	kind     uint8
	slash    bool // "res/sub": matches only with a subresource
	res, sub int32
}

type bitset []uint64

func (b *bitset) add(id int32) {
	for int(id>>6) >= len(*b) {
		*b = append(*b, 0)
	}
	(*b)[id>>6] |= 1 << (id & 63)
}

func (b bitset) has(id int32) bool {
	return id >= 0 && int(id>>6) < len(b) && b[id>>6]&(1<<(id&63)) != 0
}

func newUniverse(old, new *rbac.Policy) *universe {
	u := &universe{}
	for i := range u.t {
		u.t[i].ids = map[string]int32{}
	}
	for d, fresh := range [nDims]string{anyVerb, anyGroup, anyResource, "", anyName, anyPath} {
		u.t[d].intern(fresh)
	}
	// Distinct rules by ruleString, numbered in string order.
	type named struct {
		key  string
		rule *rbacv1.PolicyRule
	}
	byKey := map[string]int{}
	var distinct []named
	var sides [2]map[rbac.ObjectKey][]int // role -> positions in distinct
	for side, p := range [2]*rbac.Policy{old, new} {
		m := make(map[rbac.ObjectKey][]int, len(p.ClusterRoles)+len(p.Roles))
		add := func(k rbac.ObjectKey, rules []rbacv1.PolicyRule) {
			pos := make([]int, len(rules))
			for i := range rules {
				key := ruleString(rules[i])
				j, ok := byKey[key]
				if !ok {
					j = len(distinct)
					byKey[key] = j
					distinct = append(distinct, named{key, &rules[i]})
				}
				pos[i] = j
			}
			m[k] = pos
		}
		for _, r := range p.ClusterRoles {
			add(rbac.ObjectKey{Kind: rbac.KindClusterRole, Name: r.Name}, r.Rules)
		}
		for _, r := range p.Roles {
			add(rbac.ObjectKey{Kind: rbac.KindRole, Namespace: r.Namespace, Name: r.Name}, r.Rules)
		}
		sides[side] = m
	}
	order := make([]int, len(distinct))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int { return strings.Compare(distinct[a].key, distinct[b].key) })
	id := make([]int32, len(distinct))
	u.rules = make([]crule, len(distinct))
	for rank, j := range order {
		id[j] = int32(rank)
		u.rules[rank] = u.compile(distinct[j].rule)
	}
	for side, m := range sides {
		u.roles[side] = make(map[rbac.ObjectKey][]int32, len(m))
		for k, pos := range m {
			ids := make([]int32, len(pos))
			for i, j := range pos {
				ids[i] = id[j]
			}
			u.roles[side][k] = ids
		}
	}
	// The derived tables need every value interned.
	paths := u.t[dPath].str
	u.pathGens = make([][]int32, len(paths))
	for i, p := range paths {
		gens := []int32{0}
		for j := range len(p) + 1 {
			if g := u.t[dPath].lookup(p[:j] + anyPath); g > 0 && !slices.Contains(gens, g) {
				gens = append(gens, g)
			}
		}
		u.pathGens[i] = gens
	}
	for i := range u.rules {
		c := &u.rules[i]
		if !c.hasURLs {
			continue
		}
		for id, p := range paths {
			if urlMatches(c.urls, p) {
				c.pathSet.add(int32(id))
			}
		}
	}
	verbs := u.t[dVerb].str
	byString := make([]int32, len(verbs))
	for i := range byString {
		byString[i] = int32(i)
	}
	slices.SortFunc(byString, func(a, b int32) int { return strings.Compare(verbs[a], verbs[b]) })
	u.verbRank = make([]int32, len(verbs))
	for rank, id := range byString {
		u.verbRank[id] = int32(rank)
		u.commaVerbs = u.commaVerbs || strings.Contains(verbs[id], ",")
	}
	u.clusterRes = make([][]int32, len(u.t[dRes].str))
	for gr, ns := range builtinScope() {
		g, r := u.t[dGroup].lookup(gr[0]), u.t[dRes].lookup(gr[1])
		if !ns && g >= 0 && r >= 0 && !(gr[0] == "" && gr[1] == "namespaces") {
			u.clusterRes[r] = append(u.clusterRes[r], g)
		}
	}
	return u
}

func (u *universe) compile(r *rbacv1.PolicyRule) crule {
	c := crule{src: r, hasURLs: len(r.NonResourceURLs) > 0, nameless: len(r.ResourceNames) == 0}
	for _, v := range r.Verbs {
		if v == rbacv1.VerbAll {
			c.allVerbs = true
			continue
		}
		id := u.t[dVerb].intern(v)
		c.verbs = append(c.verbs, id)
		c.verbSet.add(id)
	}
	for _, g := range r.APIGroups {
		if g == rbacv1.APIGroupAll {
			c.allGroups = true
			continue
		}
		id := u.t[dGroup].intern(g)
		c.groups = append(c.groups, id)
		c.groupSet.add(id)
	}
	for _, x := range r.Resources {
		res, sub, slash := strings.Cut(x, "/")
		e := resEntry{slash: slash, sub: u.t[dSub].intern(sub)}
		switch {
		case x == rbacv1.ResourceAll:
			e.kind = resAll
			c.allResources = true
		case res == "*":
			e.kind = resStarSub
		default:
			e.kind, e.res = resExact, u.t[dRes].intern(res)
		}
		c.resources = append(c.resources, e)
	}
	for _, n := range r.ResourceNames {
		c.names = append(c.names, u.t[dName].intern(n))
	}
	for _, x := range r.NonResourceURLs {
		c.urls = append(c.urls, x)
		switch {
		case x == "*":
		case strings.HasSuffix(x, "*"):
			c.paths = append(c.paths, u.t[dPath].intern(strings.TrimRight(x, "*")+anyPath))
		default:
			c.paths = append(c.paths, u.t[dPath].intern(x))
		}
	}
	return c
}

// urlMatches is upstream's NonResourceURLMatches.
func urlMatches(urls []string, p string) bool {
	for _, u := range urls {
		if u == rbacv1.NonResourceAll || u == p || (strings.HasSuffix(u, "*") && strings.HasPrefix(p, strings.TrimRight(u, "*"))) {
			return true
		}
	}
	return false
}

// gatom is an atom in universe ids; -1 stands for a string no rule names.
// For a non-resource atom only verb and path are set.
type gatom struct {
	nonResource                       bool
	verb, group, res, sub, name, path int32
	// raw is set for a request the ids cannot stand for (an unknown path,
	// a resource with a slash): it is then matched by its strings.
	raw *authorizer.AttributesRecord
}

// allows is upstream's RuleAllows on an atom.
func (c *crule) allows(a *gatom) bool {
	if a.raw != nil {
		return ruleAllows(c.src, a.raw)
	}
	if !(c.allVerbs || c.verbSet.has(a.verb)) {
		return false
	}
	if a.nonResource {
		return c.pathSet.has(a.path)
	}
	return c.resourceMatches(a.res, a.sub) && (c.allGroups || c.groupSet.has(a.group)) && (c.nameless || slices.Contains(c.names, a.name))
}

// resourceMatches is upstream's ResourceMatches: "*", the exact
// "res[/sub]", or "*/sub" when the request has that subresource (sub id
// 0 is no subresource).
func (c *crule) resourceMatches(res, sub int32) bool {
	if c.allResources {
		return true
	}
	for _, e := range c.resources {
		switch e.kind {
		case resExact:
			if e.res == res && e.sub == sub && e.slash == (sub != 0) {
				return true
			}
		case resStarSub:
			if sub != 0 && e.sub == sub {
				return true
			}
		}
	}
	return false
}

// anyAllows tells whether one of the rules allows a.
func (u *universe) anyAllows(ids []int32, a *gatom) bool {
	for _, id := range ids {
		if u.rules[id].allows(a) {
			return true
		}
	}
	return false
}

// request translates a request (its user and namespace aside).
func (u *universe) request(q authorizer.AttributesRecord) gatom {
	if !q.ResourceRequest || strings.Contains(q.Resource, "/") {
		return gatom{nonResource: !q.ResourceRequest, raw: &q}
	}
	sub := int32(0)
	if q.Subresource != "" {
		sub = u.t[dSub].lookup(q.Subresource)
	}
	return gatom{verb: u.t[dVerb].lookup(q.Verb), group: u.t[dGroup].lookup(q.APIGroup), res: u.t[dRes].lookup(q.Resource), sub: sub, name: u.t[dName].lookup(q.Name)}
}

// clusterScoped is the clusterScoped of an atom in universe ids.
func (u *universe) clusterScoped(a *gatom) bool {
	return a.nonResource || slices.Contains(u.clusterRes[a.res], a.group)
}

// ruleAllows is upstream's RuleAllows on strings.
func ruleAllows(r *rbacv1.PolicyRule, q *authorizer.AttributesRecord) bool {
	match := func(list []string, all, v string) bool { return slices.Contains(list, all) || slices.Contains(list, v) }
	if !match(r.Verbs, rbacv1.VerbAll, q.Verb) {
		return false
	}
	if !q.ResourceRequest {
		return urlMatches(r.NonResourceURLs, q.Path)
	}
	combined := q.Resource
	if q.Subresource != "" {
		combined += "/" + q.Subresource
	}
	resource := false
	for _, x := range r.Resources {
		if x == rbacv1.ResourceAll || x == combined || (q.Subresource != "" && x == "*/"+q.Subresource) {
			resource = true
			break
		}
	}
	return resource && match(r.APIGroups, rbacv1.APIGroupAll, q.APIGroup) && (len(r.ResourceNames) == 0 || slices.Contains(r.ResourceNames, q.Name))
}
