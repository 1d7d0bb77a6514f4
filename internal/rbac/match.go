package rbac

import (
	"strings"

	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apiserver/pkg/authorization/authorizer"
)

// vocab interns the verbs, API groups, resources and subresources that the
// policy's rules name, so a compiled rule tests a request with bit tests
// instead of string comparisons. A request string the policy never names
// gets no id and can only match wildcards.
type vocab struct {
	verbs, groups, subresources map[string]int32
	// resources maps "resource" to its id for rules without subresource,
	// and "resource/subresource" entries are split into a nested map so
	// a request needs no string concatenation to look them up.
	resources map[string]int32
	combined  map[string]map[string]int32
}

func newVocab() *vocab {
	return &vocab{
		verbs: map[string]int32{}, groups: map[string]int32{}, subresources: map[string]int32{},
		resources: map[string]int32{}, combined: map[string]map[string]int32{},
	}
}

func intern(m map[string]int32, s string) int32 {
	if id, ok := m[s]; ok {
		return id
	}
	id := int32(len(m))
	m[s] = id
	return id
}

// resourceID interns an entry of rule.resources ("pods" or "pods/log").
func (v *vocab) resourceID(entry string) int32 {
	res, sub, ok := strings.Cut(entry, "/")
	if !ok {
		return intern(v.resources, entry)
	}
	m := v.combined[res]
	if m == nil {
		m = map[string]int32{}
		v.combined[res] = m
	}
	if id, ok := m[sub]; ok {
		return id
	}
	// ids of combined entries share the resources id space.
	id := int32(len(v.resources))
	v.resources["\x00"+entry] = id // reserve the id; "\x00" never starts a request
	m[sub] = id
	return id
}

func lookup(m map[string]int32, s string) int32 {
	if id, ok := m[s]; ok {
		return id
	}
	return -1
}

// bitset is a set of vocabulary ids.
type bitset []uint64

func (b *bitset) add(id int32) {
	for int(id>>6) >= len(*b) {
		*b = append(*b, 0)
	}
	(*b)[id>>6] |= 1 << (id & 63)
}

func (b bitset) union(o bitset) bitset {
	for len(b) < len(o) {
		b = append(b, 0)
	}
	for i, w := range o {
		b[i] |= w
	}
	return b
}

func (b bitset) has(id int32) bool {
	return id >= 0 && int(id>>6) < len(b) && b[id>>6]&(1<<(id&63)) != 0
}

// rule is a PolicyRule compiled for matching: wildcards hoisted into flags,
// verbs, groups and resources as bitsets over the index's vocabulary.
// resourceNames and URLs stay strings: they are rare and rarely long.
type rule struct {
	src *rbacv1.PolicyRule

	allVerbs, allGroups, allResources, allURLs bool
	verbs, groups, resources, subresources     bitset
	names                                      []string
	urls                                       []string
	// urlPrefixes holds every nonResourceURL ending in "*", without its
	// trailing stars.
	urlPrefixes []string
}

func compileRule(v *vocab, r *rbacv1.PolicyRule) rule {
	c := rule{src: r, names: r.ResourceNames}
	for _, verb := range r.Verbs {
		c.allVerbs = c.allVerbs || verb == rbacv1.VerbAll
		c.verbs.add(intern(v.verbs, verb))
	}
	for _, g := range r.APIGroups {
		c.allGroups = c.allGroups || g == rbacv1.APIGroupAll
		c.groups.add(intern(v.groups, g))
	}
	for _, res := range r.Resources {
		c.allResources = c.allResources || res == rbacv1.ResourceAll
		c.resources.add(v.resourceID(res))
		if sub, ok := strings.CutPrefix(res, "*/"); ok {
			c.subresources.add(intern(v.subresources, sub))
		}
	}
	for _, u := range r.NonResourceURLs {
		c.allURLs = c.allURLs || u == rbacv1.NonResourceAll
		c.urls = append(c.urls, u)
		if strings.HasSuffix(u, "*") {
			c.urlPrefixes = append(c.urlPrefixes, strings.TrimRight(u, "*"))
		}
	}
	return c
}

// request is the part of authorizer.Attributes that rules look at, read
// once per decision (interface calls are not free) and translated to
// vocabulary ids.
type request struct {
	resource bool
	name     string
	path     string

	verb, group, combined, subresource int32
	// hasSub is set when the request names a subresource (its id may still
	// be -1 if no rule names it).
	hasSub bool
}

func (v *vocab) request(a authorizer.Attributes) request {
	r := request{resource: a.IsResourceRequest(), verb: lookup(v.verbs, a.GetVerb())}
	if !r.resource {
		r.path = a.GetPath()
		return r
	}
	r.group, r.name = lookup(v.groups, a.GetAPIGroup()), a.GetName()
	res, sub := a.GetResource(), a.GetSubresource()
	if strings.IndexByte(res, '/') >= 0 {
		// Only hand-written reviews put a slash in a resource; upstream then
		// compares the joined string, so join and split at the first slash.
		full := res
		if sub != "" {
			full += "/" + sub
		}
		res0, sub0, _ := strings.Cut(full, "/")
		r.hasSub, r.subresource, r.combined = sub != "", lookup(v.subresources, sub), -1
		if m := v.combined[res0]; m != nil {
			r.combined = lookup(m, sub0)
		}
		return r
	}
	if sub == "" {
		r.combined, r.subresource = lookup(v.resources, res), -1
		return r
	}
	r.hasSub, r.combined, r.subresource = true, -1, lookup(v.subresources, sub)
	if m := v.combined[res]; m != nil {
		r.combined = lookup(m, sub)
	}
	return r
}

// allows is upstream's RuleAllows (plugin/pkg/auth/authorizer/rbac). The
// resource test comes first: it is the most selective.
func (c *rule) allows(r *request) bool {
	if !r.resource {
		return c.verbMatches(r) && c.urlMatches(r.path)
	}
	return c.resourceMatches(r) && c.verbMatches(r) && c.groupMatches(r) && c.nameMatches(r.name)
}

func (c *rule) verbMatches(r *request) bool  { return c.allVerbs || c.verbs.has(r.verb) }
func (c *rule) groupMatches(r *request) bool { return c.allGroups || c.groups.has(r.group) }

// resourceMatches accepts "*", the exact "resource[/subresource]", and
// "*/subresource" when the request has that subresource. There is no
// "resource/*": such an entry only matches the literal subresource "*".
func (c *rule) resourceMatches(r *request) bool {
	return c.allResources || c.resources.has(r.combined) || (r.hasSub && c.subresources.has(r.subresource))
}

// nameMatches: a rule without resourceNames matches any name; a rule with
// them matches only those names, so a request without a name (list,
// watch, create, deletecollection) never matches it.
func (c *rule) nameMatches(name string) bool {
	return len(c.names) == 0 || contains(c.names, name)
}

func (c *rule) urlMatches(p string) bool {
	if c.allURLs || contains(c.urls, p) {
		return true
	}
	for _, prefix := range c.urlPrefixes {
		if strings.HasPrefix(p, prefix) {
			return true
		}
	}
	return false
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
