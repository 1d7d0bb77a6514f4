package rbac

import (
	"strings"

	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apiserver/pkg/authorization/authorizer"
)

// rule is a PolicyRule compiled for matching. The lists stay slices: RBAC
// rules are short, and a linear scan of a few strings beats a map lookup.
// The wildcards are hoisted into flags so the common "*" costs one branch.
type rule struct {
	src *rbacv1.PolicyRule

	allVerbs, allGroups, allResources, allURLs bool
	verbs, groups, resources, names            []string
	// subresources holds X for every "*/X" entry of resources.
	subresources []string
	urls         []string
	// urlPrefixes holds every nonResourceURL ending in "*", without its
	// trailing stars.
	urlPrefixes []string
}

func compileRule(r *rbacv1.PolicyRule) rule {
	c := rule{src: r, verbs: r.Verbs, groups: r.APIGroups, resources: r.Resources, names: r.ResourceNames}
	for _, v := range r.Verbs {
		c.allVerbs = c.allVerbs || v == rbacv1.VerbAll
	}
	for _, g := range r.APIGroups {
		c.allGroups = c.allGroups || g == rbacv1.APIGroupAll
	}
	for _, res := range r.Resources {
		c.allResources = c.allResources || res == rbacv1.ResourceAll
		if sub, ok := strings.CutPrefix(res, "*/"); ok {
			c.subresources = append(c.subresources, sub)
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
// once per decision (interface calls are not free).
type request struct {
	resource    bool
	verb        string
	group       string
	combined    string // "resource" or "resource/subresource"
	subresource string
	name        string
	path        string
}

func newRequest(a authorizer.Attributes) request {
	r := request{resource: a.IsResourceRequest(), verb: a.GetVerb()}
	if !r.resource {
		r.path = a.GetPath()
		return r
	}
	r.group, r.subresource, r.name = a.GetAPIGroup(), a.GetSubresource(), a.GetName()
	r.combined = a.GetResource()
	if r.subresource != "" {
		r.combined += "/" + r.subresource
	}
	return r
}

// allows is upstream's RuleAllows (plugin/pkg/auth/authorizer/rbac).
func (c *rule) allows(r *request) bool {
	if !c.verbMatches(r.verb) {
		return false
	}
	if !r.resource {
		return c.urlMatches(r.path)
	}
	return c.groupMatches(r.group) && c.resourceMatches(r) && c.nameMatches(r.name)
}

func (c *rule) verbMatches(v string) bool {
	return c.allVerbs || contains(c.verbs, v)
}

func (c *rule) groupMatches(g string) bool {
	return c.allGroups || contains(c.groups, g)
}

// resourceMatches accepts "*", the exact "resource[/subresource]", and
// "*/subresource" when the request has that subresource. There is no
// "resource/*": such an entry only matches the literal subresource "*".
func (c *rule) resourceMatches(r *request) bool {
	if c.allResources || contains(c.resources, r.combined) {
		return true
	}
	return r.subresource != "" && contains(c.subresources, r.subresource)
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
