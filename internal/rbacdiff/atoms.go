package rbacdiff

import (
	"slices"
	"strings"
	"sync"

	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/authorization/authorizer"

	"github.com/kauth/kauth/internal/rbac"
)

// Fresh values that stand for every value the rules do not name. A path
// that does not start with "/" is matched only by the nonResourceURL "*".
const (
	anyVerb     = "kauth-any-verb"
	anyGroup    = "any.kauth.invalid"
	anyResource = "kauth-any-resource"
	anyName     = "kauth-any-name"
	anyPath     = "kauth-any-path"
)

// atom is one request shape: a verb on a group, resource, subresource and
// name, or a verb on a path.
type atom struct {
	nonResource bool
	verb        string
	path        string
	group       string
	resource    string
	sub         string
	name        string
}

type flip struct {
	a       atom
	granted bool
}

func (a atom) request(u user.Info, ns string) authorizer.AttributesRecord {
	if a.nonResource {
		return authorizer.AttributesRecord{User: u, Verb: a.verb, Path: a.path}
	}
	return authorizer.AttributesRecord{User: u, Verb: a.verb, Namespace: ns, APIGroup: a.group, Resource: a.resource, Subresource: a.sub, Name: a.name, ResourceRequest: true}
}

// vocab is every value the rules of both sides name, plus the fresh ones.
type vocab struct {
	verbs, groups, resources, subs, names, paths []string
}

func add(list *[]string, v string) {
	if !slices.Contains(*list, v) {
		*list = append(*list, v)
	}
}

func newVocab(rules []rbacv1.PolicyRule) *vocab {
	v := &vocab{verbs: []string{anyVerb}, groups: []string{anyGroup}, resources: []string{anyResource}, subs: []string{""}, names: []string{anyName}, paths: []string{anyPath}}
	for _, r := range rules {
		for _, x := range r.Verbs {
			if x != "*" {
				add(&v.verbs, x)
			}
		}
		for _, x := range r.APIGroups {
			if x != "*" {
				add(&v.groups, x)
			}
		}
		for _, x := range r.Resources {
			res, sub, _ := strings.Cut(x, "/")
			if res != "*" {
				add(&v.resources, res)
			}
			if sub != "" {
				add(&v.subs, sub)
			}
		}
		for _, x := range r.ResourceNames {
			add(&v.names, x)
		}
		for _, x := range r.NonResourceURLs {
			switch {
			case x == "*":
			case strings.HasSuffix(x, "*"):
				add(&v.paths, strings.TrimRight(x, "*")+anyPath)
			default:
				add(&v.paths, x)
			}
		}
	}
	return v
}

// atoms enumerates every request one of the rules could allow: each
// rule's own values, a wildcard standing for the whole vocabulary.
func atoms(rules []rbacv1.PolicyRule) []atom {
	v := newVocab(rules)
	seen := map[atom]bool{}
	var out []atom
	emit := func(a atom) {
		if !seen[a] {
			seen[a] = true
			out = append(out, a)
		}
	}
	for _, r := range rules {
		verbs := expand(r.Verbs, v.verbs)
		if len(r.NonResourceURLs) > 0 {
			for _, verb := range verbs {
				for _, p := range v.paths {
					emit(atom{nonResource: true, verb: verb, path: p})
				}
			}
			continue
		}
		// A rule without resourceNames treats every name alike, and a
		// named rule emits its own names, so unnamed rules need only the
		// fresh name: a name flips only if a rule naming it changed, or if
		// the fresh name flips too.
		names := r.ResourceNames
		if len(names) == 0 {
			names = []string{anyName}
		}
		for _, pair := range resourcePairs(r.Resources, v) {
			for _, g := range expand(r.APIGroups, v.groups) {
				for _, verb := range verbs {
					for _, n := range names {
						emit(atom{verb: verb, group: g, resource: pair[0], sub: pair[1], name: n})
					}
				}
			}
		}
	}
	return out
}

func expand(values, vocab []string) []string {
	if slices.Contains(values, "*") {
		return vocab
	}
	return values
}

// resourcePairs expands a rule's resources into (resource, subresource)
// pairs: "*" is every pair, "*/s" every resource with s.
func resourcePairs(entries []string, v *vocab) [][2]string {
	var out [][2]string
	for _, e := range entries {
		res, sub, _ := strings.Cut(e, "/")
		switch {
		case e == "*":
			for _, r := range v.resources {
				for _, s := range v.subs {
					out = append(out, [2]string{r, s})
				}
			}
		case res == "*":
			for _, r := range v.resources {
				out = append(out, [2]string{r, sub})
			}
		default:
			out = append(out, [2]string{res, sub})
		}
	}
	return out
}

// clusterScoped tells whether a built-in resource exists only cluster-wide
// (so a namespaced request for it never happens). Namespaces are the
// exception: a request for namespace N carries N as its namespace.
func clusterScoped(a atom) bool {
	if a.nonResource {
		return true
	}
	if a.resource == "namespaces" && a.group == "" {
		return false
	}
	return !namespaced(a.group, a.resource)
}

// builtinScope maps the built-in resources to whether they are
// namespaced; it is built once, on first use, and never changes.
var builtinScope = sync.OnceValue(func() map[[2]string]bool {
	m := map[[2]string]bool{}
	for _, r := range rbac.BuiltinResources() {
		m[[2]string{r.Group, r.Resource}] = r.Namespaced
	}
	return m
})

// namespaced is false only for built-in cluster-scoped resources; custom
// and unknown resources may be namespaced.
func namespaced(group, resource string) bool {
	ns, known := builtinScope()[[2]string{group, resource}]
	return !known || ns
}

func display(v, fresh string) string {
	if v == fresh {
		return "*"
	}
	return v
}

func displayPath(p string) string {
	if p == anyPath {
		return "*"
	}
	if prefix, ok := strings.CutSuffix(p, anyPath); ok {
		return prefix + "*"
	}
	return p
}
