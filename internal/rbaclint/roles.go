package rbaclint

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apiserver/pkg/authorization/authorizer"

	"github.com/kauth/kauth/internal/rbac"
)

// DefaultMaxBindingsPerSubject is the bloat threshold unless configured.
const DefaultMaxBindingsPerSubject = 20

// aggregation is an aggregated ClusterRole and the ClusterRoles its
// selectors pull in.
type aggregation struct {
	role    rbac.ObjectKey
	sources []rbac.ObjectKey
}

// aggregations lists, for each ClusterRole with an aggregationRule, the
// ClusterRoles whose labels its selectors match, as the aggregation
// controller selects them.
func (l *linter) aggregations() []aggregation {
	var out []aggregation
	for _, cr := range l.p.ClusterRoles {
		if cr.AggregationRule == nil {
			continue
		}
		a := aggregation{role: rbac.ObjectKey{Kind: rbac.KindClusterRole, Name: cr.Name}}
		for i := range cr.AggregationRule.ClusterRoleSelectors {
			sel, err := metav1.LabelSelectorAsSelector(&cr.AggregationRule.ClusterRoleSelectors[i])
			if err != nil {
				continue
			}
			for _, other := range l.p.ClusterRoles {
				k := rbac.ObjectKey{Kind: rbac.KindClusterRole, Name: other.Name}
				if other.Name != cr.Name && sel.Matches(labels.Set(other.Labels)) && !slices.Contains(a.sources, k) {
					a.sources = append(a.sources, k)
				}
			}
		}
		out = append(out, a)
	}
	return out
}

// aggregationFindings report aggregation rules that pull risky rules into
// a role: reported at the labelled source role when it is the user's, else
// at the aggregating role.
func (l *linter) aggregationFindings() []Finding {
	var out []Finding
	for _, a := range l.aggregations() {
		for _, src := range a.sources {
			anchor := src
			if !l.user(src) {
				if !l.user(a.role) {
					continue
				}
				anchor = a.role
			}
			var what []string
			sev := SeverityInfo
			for i := range l.rules[src] {
				for _, ri := range l.hits[ruleKey{src, i}] {
					r := l.risks[ri]
					if !slices.Contains(what, r.What) {
						what = append(what, r.What)
					}
					if s := mustRule(r.Rule).Severity; s.Rank() > sev.Rank() {
						sev = s
					}
				}
			}
			if len(what) == 0 {
				continue
			}
			if !l.heldRoles[a.role] {
				sev = sev.lower()
			}
			held := "not bound in these files"
			if l.heldRoles[a.role] {
				held = "bound"
			}
			out = append(out, l.at(RuleAggregation, sev, anchor,
				fmt.Sprintf("the aggregationRule of %s selects %s, pulling in rules that %s (%s is %s)", a.role, src, strings.Join(what, ", "), a.role, held)))
		}
	}
	return out
}

// roleFindings check roles as written: never bound, duplicate and
// shadowed rules.
func (l *linter) roleFindings() []Finding {
	bound := map[rbac.ObjectKey]bool{}
	for _, b := range l.p.ClusterRoleBindings {
		bound[rbac.ObjectKey{Kind: b.RoleRef.Kind, Name: b.RoleRef.Name}] = true
	}
	for _, b := range l.p.RoleBindings {
		k := rbac.ObjectKey{Kind: b.RoleRef.Kind, Name: b.RoleRef.Name}
		if k.Kind == rbac.KindRole {
			k.Namespace = b.Namespace
		}
		bound[k] = true
	}
	aggregating := map[rbac.ObjectKey]bool{}
	for _, cr := range l.p.ClusterRoles {
		if cr.AggregationRule != nil {
			aggregating[rbac.ObjectKey{Kind: rbac.KindClusterRole, Name: cr.Name}] = true
		}
	}
	var out []Finding
	for _, key := range l.roleKeys() {
		if !l.user(key) {
			continue
		}
		if !bound[key] && !l.aggregated[key] {
			out = append(out, l.at(RuleRoleNotBound, "", key, fmt.Sprintf("no binding references %s and no aggregationRule selects it", key)))
		}
		if !aggregating[key] {
			out = append(out, l.ruleOverlaps(key)...)
		}
	}
	return out
}

// ruleOverlaps finds rules equal to an earlier one, and rules every
// request of which another rule of the role already allows (asked of the
// engine, rule by rule).
func (l *linter) ruleOverlaps(key rbac.ObjectKey) []Finding {
	rules := l.rules[key]
	var out []Finding
	for j := range rules {
		for i := range rules {
			if i == j {
				continue
			}
			same := equalRules(rules[i], rules[j])
			switch {
			case same && i < j:
				out = append(out, l.at(RuleDuplicateRule, "", key, fmt.Sprintf("%s: rule %d repeats rule %d", key, j, i)))
			case !same && l.covers(ruleKey{key, i}, rules[j]):
				out = append(out, l.at(RuleShadowedRule, "", key, fmt.Sprintf("%s: rule %d allows everything rule %d allows", key, i, j)))
			default:
				continue
			}
			break
		}
	}
	return out
}

func equalRules(a, b rbacv1.PolicyRule) bool {
	norm := func(r rbacv1.PolicyRule) string {
		for _, l := range []*[]string{&r.Verbs, &r.APIGroups, &r.Resources, &r.ResourceNames, &r.NonResourceURLs} {
			s := slices.Clone(*l)
			slices.Sort(s)
			*l = slices.Compact(s)
			if len(*l) == 0 {
				*l = nil
			}
		}
		b, _ := json.Marshal(r)
		return string(b)
	}
	return norm(a) == norm(b)
}

// covers asks the engine whether rule a allows every request rule b
// allows. Rules compare strings only by equality (and URLs by prefix), so
// one request per combination of b's values, with a fresh value for each
// wildcard and for "any name", decides it.
func (l *linter) covers(a ruleKey, b rbacv1.PolicyRule) bool {
	for _, req := range representatives(b) {
		if !l.ruleIdx.allows(a, req) {
			return false
		}
	}
	return true
}

func representatives(r rbacv1.PolicyRule) []authorizer.AttributesRecord {
	verbs := replaceStar(r.Verbs, probeVerb)
	var out []authorizer.AttributesRecord
	for _, u := range r.NonResourceURLs {
		path := strings.ReplaceAll(u, "*", "kauth-probe")
		if u == "*" {
			path = "/kauth-probe"
		}
		for _, v := range verbs {
			out = append(out, authorizer.AttributesRecord{Verb: v, Path: path})
		}
	}
	names := r.ResourceNames
	if len(names) == 0 {
		names = []string{probeName}
	}
	for _, g := range replaceStar(r.APIGroups, probeGroup) {
		for _, res := range r.Resources {
			resource, sub, _ := strings.Cut(res, "/")
			if resource == "*" {
				resource = probeResource
			}
			for _, v := range verbs {
				for _, n := range names {
					out = append(out, authorizer.AttributesRecord{Verb: v, APIGroup: g, Resource: resource, Subresource: sub, Name: n, ResourceRequest: true})
				}
			}
		}
	}
	return out
}

func replaceStar(list []string, probe string) []string {
	out := make([]string, len(list))
	for i, v := range list {
		if v == "*" {
			v = probe
		}
		out[i] = v
	}
	return out
}

// bloatFindings report subjects named by very many bindings and roles
// that duplicate one another, with the counts.
func (l *linter) bloatFindings() []Finding {
	limit := l.cfg.maxBindingsPerSubject()
	type count struct {
		first      rbac.ObjectKey
		cluster    int
		namespaced int
		namespaces map[string]bool
	}
	counts := map[Subject]*count{}
	var order []Subject
	note := func(key rbac.ObjectKey, subjects []rbacv1.Subject) {
		if !l.user(key) {
			return
		}
		for _, s := range subjects {
			sub := subjectOf(s, key.Namespace)
			c := counts[sub]
			if c == nil {
				c = &count{first: key, namespaces: map[string]bool{}}
				counts[sub] = c
				order = append(order, sub)
			}
			if key.Namespace == "" {
				c.cluster++
			} else {
				c.namespaced++
				c.namespaces[key.Namespace] = true
			}
		}
	}
	l.eachBinding(func(key rbac.ObjectKey, _ rbacv1.RoleRef, subjects []rbacv1.Subject) { note(key, subjects) })
	var out []Finding
	for _, s := range order {
		c := counts[s]
		if c.cluster+c.namespaced <= limit {
			continue
		}
		f := l.at(RuleBloatBindings, "", c.first, fmt.Sprintf("%s is named by %d bindings (%d ClusterRoleBindings, %d RoleBindings in %d namespaces), more than %d",
			s, c.cluster+c.namespaced, c.cluster, c.namespaced, len(c.namespaces), limit))
		f.Subjects = []Subject{s}
		out = append(out, f)
	}
	return append(out, l.duplicateRoles()...)
}

func (l *linter) duplicateRoles() []Finding {
	groups := map[string][]rbac.ObjectKey{}
	var order []string
	for _, key := range l.roleKeys() {
		rules := l.rules[key]
		if !l.user(key) || len(rules) == 0 || l.isAggregating(key) {
			continue
		}
		canon := make([]string, len(rules))
		for i, r := range rules {
			canon[i] = fmt.Sprint(r.Verbs, r.APIGroups, r.Resources, r.ResourceNames, r.NonResourceURLs)
		}
		slices.Sort(canon)
		sig := strings.Join(canon, "\n")
		if _, seen := groups[sig]; !seen {
			order = append(order, sig)
		}
		groups[sig] = append(groups[sig], key)
	}
	var out []Finding
	for _, sig := range order {
		keys := groups[sig]
		if len(keys) < 2 {
			continue
		}
		names := make([]string, len(keys)-1)
		for i, k := range keys[1:] {
			names[i] = k.String()
		}
		out = append(out, l.at(RuleBloatDuplicateRoles, "", keys[0], fmt.Sprintf("%s and %d other roles have the same %d rules: %s",
			keys[0], len(keys)-1, len(l.rules[keys[0]]), abbreviate(names, 3))))
	}
	return out
}

func (l *linter) isAggregating(key rbac.ObjectKey) bool {
	for _, cr := range l.p.ClusterRoles {
		if key.Kind == rbac.KindClusterRole && cr.Name == key.Name {
			return cr.AggregationRule != nil
		}
	}
	return false
}
