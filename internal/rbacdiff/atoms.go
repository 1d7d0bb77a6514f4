package rbacdiff

import (
	"slices"
	"strings"
	"sync"

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

func displayVerbs(vs []string) []string {
	if slices.Contains(vs, anyVerb) {
		return []string{"*"}
	}
	return vs
}
