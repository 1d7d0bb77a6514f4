package rbaclint

import (
	"fmt"
	"slices"
	"strings"

	"github.com/kauth/kauth/internal/rbac"
)

// pseudo-risks are written-text checks that share the scope machinery of
// the request risks: a wildcard matters by who holds it.
func pseudoRisks() []Risk {
	return []Risk{
		{Rule: RuleWildcardVerbs, What: "every verb (verbs: [\"*\"])"},
		{Rule: RuleWildcardResources, What: "every resource (resources: [\"*\"])"},
		{Rule: RuleWildcardAPIGroups, What: "every API group (apiGroups: [\"*\"])"},
		{Rule: RuleWildcardURLs, What: "every non-resource URL (nonResourceURLs: [\"*\"])"},
	}
}

// addWrittenWildcards adds the pseudo-risk hits of every rule.
func (l *linter) addWrittenWildcards() {
	base := len(l.risks)
	l.risks = append(l.risks, pseudoRisks()...)
	full := slices.IndexFunc(l.risks, func(r Risk) bool { return r.Rule == RuleFullWildcard })
	for key, rules := range l.rules {
		for i, r := range rules {
			k := ruleKey{key, i}
			isFull := slices.Contains(l.hits[k], full)
			for j, list := range [][]string{r.Verbs, r.Resources, r.APIGroups, r.NonResourceURLs} {
				if slices.Contains(list, "*") && (j == 3 || !isFull) {
					l.hits[k] = append(l.hits[k], base+j)
				}
			}
		}
	}
}

// weigh decides the rule and severity of a risk held in scope ("" for
// cluster-wide), or false when a grant in that scope is no risk.
func (l *linter) weigh(r Risk, scope string) (string, Severity, bool) {
	base := r.Severity
	if base == "" {
		base = mustRule(r.Rule).Severity
	}
	if scope == "" {
		return r.Rule, base, true
	}
	if r.ClusterOnly || (r.Namespace != "" && scope != r.Namespace) || (r.PrivilegedOnly && !l.privileged(scope)) {
		return "", "", false
	}
	rule := r.Rule
	if r.NamespaceRule != "" {
		rule = r.NamespaceRule
	}
	switch {
	case l.privileged(scope):
		return rule, base, true
	case r.NamespaceRule != "":
		return rule, mustRule(rule).Severity, true
	}
	return rule, base.lower(), true
}

type groupKey struct {
	rule   string
	anchor rbac.ObjectKey
}

// group gathers the holdings behind one finding.
type group struct {
	key      groupKey
	role     rbac.ObjectKey
	sev      Severity
	what     []string
	rules    []int
	holders  []holding
	dropped  int
	position int
}

type grouper struct {
	groups map[groupKey]*group
	order  []*group
}

func (g *grouper) get(k groupKey, role rbac.ObjectKey) *group {
	if g.groups == nil {
		g.groups = map[groupKey]*group{}
	}
	gr := g.groups[k]
	if gr == nil {
		gr = &group{key: k, role: role, position: len(g.order)}
		g.groups[k] = gr
		g.order = append(g.order, gr)
	}
	return gr
}

func (gr *group) add(h holding, sev Severity, what string) {
	if sev.Rank() > gr.sev.Rank() {
		gr.sev = sev
	}
	if !slices.Contains(gr.what, what) {
		gr.what = append(gr.what, what)
	}
	if !slices.Contains(gr.rules, h.index) && h.role == gr.role {
		gr.rules = append(gr.rules, h.index)
	}
	gr.holders = append(gr.holders, h)
}

// riskFindings reports every risky rule someone holds, one finding per
// rule and role (or per binding when the role is a default role), with
// the severity of the widest scope it is held in.
func (l *linter) riskFindings() []Finding {
	var g grouper
	for _, h := range l.holding {
		for _, ri := range l.hits[ruleKey{h.role, h.index}] {
			risk := l.risks[ri]
			rule, sev, ok := l.weigh(risk, h.scope())
			if !ok || !l.holdsRequired(h, risk) {
				continue
			}
			anchor := h.role
			if !l.user(h.role) {
				if !l.user(h.binding) || ri >= len(l.risks)-len(pseudoRisks()) || risk.Rule == RuleFullWildcard {
					continue // how a default role is written is not the user's to fix; cluster-admin-binding covers it
				}
				anchor = h.binding
			}
			gr := g.get(groupKey{rule, anchor}, h.role)
			if l.ignored(h.binding, rule) || l.cfg.allows(h.subject, rule, l.now) {
				gr.dropped++
				continue
			}
			gr.add(h, sev, risk.What)
		}
	}
	var out []Finding
	for _, gr := range g.order {
		if len(gr.holders) == 0 {
			if gr.dropped > 0 {
				l.suppressed++
			}
			continue
		}
		out = append(out, l.groupFinding(gr))
	}
	return append(out, l.unboundRisks()...)
}

// holdsRequired checks a risk's companion permission with the engine: the
// subject itself must also be allowed one of the required requests.
func (l *linter) holdsRequired(h holding, r Risk) bool {
	if len(r.Requires) == 0 {
		return true
	}
	for _, req := range r.Requires {
		req.User, req.Namespace = SubjectUser(h.subject), h.scope()
		if l.allowed(req) {
			return true
		}
	}
	return false
}

func (l *linter) groupFinding(gr *group) Finding {
	f := l.at(gr.key.rule, gr.sev, gr.key.anchor, "")
	var subjects []Subject
	var bindings []rbac.ObjectKey
	var scopes []string
	for _, h := range gr.holders {
		if !slices.Contains(subjects, h.subject) {
			subjects = append(subjects, h.subject)
		}
		if !slices.Contains(bindings, h.binding) {
			bindings = append(bindings, h.binding)
		}
		if !slices.Contains(scopes, h.scope()) {
			scopes = append(scopes, h.scope())
		}
	}
	sortSubjects(subjects)
	sortKeys(bindings)
	f.Subjects, f.Bindings = subjects, bindings
	what := strings.Join(gr.what, ", ")
	if gr.key.anchor == gr.role {
		f.Message = fmt.Sprintf("%s%s grants %s %s to %s via %s", gr.role, ruleList(gr.rules), what, scopeText(scopes), subjectsText(subjects), keysText(bindings))
	} else {
		f.Message = fmt.Sprintf("%s grants %s through %s %s to %s", gr.key.anchor, what, gr.role, scopeText(scopes), subjectsText(subjects))
	}
	return f
}

// unboundRisks reports, as info, risky rules of the user's roles that no
// binding applies to anyone: they are latent.
func (l *linter) unboundRisks() []Finding {
	var out []Finding
	for _, key := range l.roleKeys() {
		if !l.user(key) || l.heldRoles[key] || l.aggregated[key] {
			continue
		}
		byRule := map[string][]int{}
		var order []string
		for i := range l.rules[key] {
			for _, ri := range l.hits[ruleKey{key, i}] {
				r := l.risks[ri]
				if key.Kind == rbac.KindRole && r.ClusterOnly {
					continue
				}
				if _, seen := byRule[r.Rule]; !seen {
					order = append(order, r.Rule)
				}
				if !slices.Contains(byRule[r.Rule], i) {
					byRule[r.Rule] = append(byRule[r.Rule], i)
				}
			}
		}
		for _, rule := range order {
			out = append(out, l.at(rule, SeverityInfo, key, fmt.Sprintf("%s%s: %s; no binding in these files uses it", key, ruleList(byRule[rule]), mustRule(rule).Title)))
		}
	}
	return out
}

func ruleList(idx []int) string {
	if len(idx) == 0 {
		return ""
	}
	s := make([]string, len(idx))
	for i, n := range idx {
		s[i] = fmt.Sprint(n)
	}
	if len(idx) == 1 {
		return " rule " + s[0]
	}
	return " rules " + strings.Join(s, ", ")
}

func scopeText(scopes []string) string {
	if slices.Contains(scopes, "") {
		return "cluster-wide"
	}
	slices.Sort(scopes)
	q := make([]string, len(scopes))
	for i, s := range scopes {
		q[i] = fmt.Sprintf("%q", s)
	}
	if len(q) == 1 {
		return "in namespace " + q[0]
	}
	return "in namespaces " + abbreviate(q, 3)
}

func subjectsText(s []Subject) string {
	out := make([]string, len(s))
	for i, v := range s {
		out[i] = v.String()
	}
	return abbreviate(out, 3)
}

func keysText(k []rbac.ObjectKey) string {
	out := make([]string, len(k))
	for i, v := range k {
		out[i] = v.String()
	}
	return abbreviate(out, 2)
}

func abbreviate(items []string, n int) string {
	if len(items) <= n {
		return strings.Join(items, ", ")
	}
	return strings.Join(items[:n], ", ") + fmt.Sprintf(" and %d more", len(items)-n)
}

func sortSubjects(s []Subject) {
	slices.SortFunc(s, func(a, b Subject) int {
		return strings.Compare(a.Kind+"\x00"+a.Namespace+"\x00"+a.Name, b.Kind+"\x00"+b.Namespace+"\x00"+b.Name)
	})
}

func sortKeys(k []rbac.ObjectKey) {
	slices.SortFunc(k, func(a, b rbac.ObjectKey) int {
		return strings.Compare(a.Kind+"\x00"+a.Namespace+"\x00"+a.Name, b.Kind+"\x00"+b.Namespace+"\x00"+b.Name)
	})
}
