package rbac

import (
	"slices"
	"sort"
	"strings"

	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apiserver/pkg/authentication/user"
)

// AccessRow is one line of "kubectl auth can-i --list".
type AccessRow struct {
	Resources       []string `json:"resources"` // resource.group
	NonResourceURLs []string `json:"nonResourceURLs"`
	ResourceNames   []string `json:"resourceNames"`
	Verbs           []string `json:"verbs"`
}

// AccessList is what "kubectl auth can-i --list" prints for u in ns: the
// rules of a SelfSubjectRulesReview broken down to one (group, resource,
// name) or one URL each, compacted by merging the verbs of identical
// simple rules, and sorted by the rules' protobuf text, as kubectl does
// (so rows are ordered by their verbs first). The error lists bindings to
// missing roles; the rows are still complete for what exists.
func (idx *Index) AccessList(u user.Info, ns string) ([]AccessRow, error) {
	refs, err := idx.Rules(u, ns)
	var broken []rbacv1.PolicyRule
	for _, r := range refs {
		broken = append(broken, breakdown(r.Rule)...)
	}
	compact := compactRules(broken)
	sort.SliceStable(compact, func(i, j int) bool { return compact[i].String() < compact[j].String() })
	rows := make([]AccessRow, len(compact))
	for i, r := range compact {
		rows[i] = AccessRow{Resources: combineResourceGroup(r.Resources, r.APIGroups), NonResourceURLs: nonNil(r.NonResourceURLs), ResourceNames: nonNil(r.ResourceNames), Verbs: r.Verbs}
	}
	return rows, err
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// breakdown splits a rule into one rule per group, resource and name, and
// one per non-resource URL, each with all the verbs.
func breakdown(r rbacv1.PolicyRule) []rbacv1.PolicyRule {
	var out []rbacv1.PolicyRule
	for _, g := range r.APIGroups {
		for _, res := range r.Resources {
			if len(r.ResourceNames) == 0 {
				out = append(out, rbacv1.PolicyRule{Verbs: r.Verbs, APIGroups: []string{g}, Resources: []string{res}})
				continue
			}
			for _, n := range r.ResourceNames {
				out = append(out, rbacv1.PolicyRule{Verbs: r.Verbs, APIGroups: []string{g}, Resources: []string{res}, ResourceNames: []string{n}})
			}
		}
	}
	for _, u := range r.NonResourceURLs {
		out = append(out, rbacv1.PolicyRule{Verbs: r.Verbs, NonResourceURLs: []string{u}})
	}
	return out
}

type simpleKey struct {
	group, resource, name string
	named                 bool
}

// compactRules merges the verbs of simple rules (one group, one resource,
// at most one name) that differ only in verbs; other rules pass through.
func compactRules(rules []rbacv1.PolicyRule) []rbacv1.PolicyRule {
	var out []rbacv1.PolicyRule
	simple := map[simpleKey]int{}
	for _, r := range rules {
		if len(r.NonResourceURLs) > 0 || len(r.ResourceNames) > 1 || len(r.APIGroups) != 1 || len(r.Resources) != 1 {
			out = append(out, r)
			continue
		}
		k := simpleKey{group: r.APIGroups[0], resource: r.Resources[0], named: len(r.ResourceNames) == 1}
		if k.named {
			k.name = r.ResourceNames[0]
		}
		i, ok := simple[k]
		if !ok {
			simple[k] = len(out)
			r.Verbs = slices.Clone(r.Verbs)
			out = append(out, r)
			continue
		}
		for _, v := range r.Verbs {
			if !slices.Contains(out[i].Verbs, v) {
				out[i].Verbs = append(out[i].Verbs, v)
			}
		}
	}
	return out
}

func combineResourceGroup(resources, groups []string) []string {
	out := []string{}
	for _, r := range resources {
		for _, g := range groups {
			switch res, sub, ok := strings.Cut(r, "/"); {
			case g == "":
				out = append(out, r)
			case ok:
				// kubectl puts the group on the resource, before the
				// subresource: deployments.apps/scale.
				out = append(out, res+"."+g+"/"+sub)
			default:
				out = append(out, r+"."+g)
			}
		}
	}
	return out
}
