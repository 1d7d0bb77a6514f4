package rbaclint

import (
	"fmt"
	"slices"
	"strings"

	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apiserver/pkg/authentication/user"

	"github.com/kauth/kauth/internal/loader"
	"github.com/kauth/kauth/internal/rbac"
)

// Discovery and health paths: what system:discovery and
// system:public-info-viewer grant by default.
var (
	publicURLs    = []string{"/healthz", "/livez", "/readyz", "/version", "/version/"}
	discoveryURLs = append([]string{"/api", "/api/*", "/apis", "/apis/*", "/openapi", "/openapi/*",
		"/.well-known/openid-configuration", "/.well-known/openid-configuration/", "/openid/v1/jwks", "/openid/v1/jwks/"}, publicURLs...)
	selfReviews = []string{"selfsubjectaccessreviews", "selfsubjectrulesreviews", "selfsubjectreviews"}
)

func subset(list, allowed []string) bool {
	for _, v := range list {
		if !slices.Contains(allowed, v) {
			return false
		}
	}
	return true
}

// discoveryOnly tells whether a rule grants no more than the default
// discovery roles: get on discovery paths and, unless public, the self
// reviews of system:basic-user. For public grants the cluster-info
// configmap kubeadm publishes in kube-public is allowed too.
func discoveryOnly(r rbacv1.PolicyRule, public bool, ns string) bool {
	if len(r.NonResourceURLs) > 0 {
		urls := discoveryURLs
		if public {
			urls = publicURLs
		}
		return subset(r.Verbs, []string{"get"}) && subset(r.NonResourceURLs, urls)
	}
	if public {
		return ns == "kube-public" && subset(r.Verbs, []string{"get"}) && subset(r.APIGroups, []string{""}) &&
			subset(r.Resources, []string{"configmaps"}) && len(r.ResourceNames) > 0 && subset(r.ResourceNames, []string{"cluster-info"})
	}
	return subset(r.Verbs, []string{"create"}) && subset(r.APIGroups, []string{"authorization.k8s.io", "authentication.k8s.io"}) && subset(r.Resources, selfReviews)
}

func isAnonymous(s Subject) bool {
	return (s.Kind == rbacv1.GroupKind && (s.Name == user.AllUnauthenticated || s.Name == user.Anonymous)) ||
		(s.Kind == rbacv1.UserKind && s.Name == user.Anonymous)
}

// subjectFindings judge a grant by whom it goes to: anonymous users,
// every authenticated user, default service accounts, cluster-admin
// outside system:. Each is reported at the binding.
func (l *linter) subjectFindings() []Finding {
	var g grouper
	fullWild := slices.IndexFunc(l.risks, func(r Risk) bool { return r.Rule == RuleFullWildcard })
	for _, h := range l.holding {
		if !l.user(h.binding) {
			continue
		}
		rule := l.rules[h.role][h.index]
		ns := h.scope()
		var id string
		sev := Severity("")
		switch {
		case isAnonymous(h.subject) && !discoveryOnly(rule, true, ns):
			id = RuleAnonymous
		case h.subject.Kind == rbacv1.GroupKind && h.subject.Name == user.AllAuthenticated && !discoveryOnly(rule, false, ns):
			id, sev = RuleAuthenticated, SeverityWarning
			if l.hasErrorRisk(ruleKey{h.role, h.index}, ns) {
				sev = SeverityError
			}
		case h.subject.Kind == rbacv1.ServiceAccountKind && h.subject.Name == "default":
			id, sev = RuleDefaultServiceAccount, SeverityWarning
		}
		if id != "" {
			l.addBindingHolding(&g, id, sev, h)
		}
		if slices.Contains(l.hits[ruleKey{h.role, h.index}], fullWild) && !strings.HasPrefix(h.subject.Name, "system:") {
			sev := SeverityError
			if ns != "" && !l.privileged(ns) {
				sev = SeverityWarning
			}
			l.addBindingHolding(&g, RuleClusterAdminBinding, sev, h)
		}
	}
	var out []Finding
	for _, gr := range g.order {
		if len(gr.holders) == 0 {
			l.suppressed++
			continue
		}
		f := l.at(gr.key.rule, gr.sev, gr.key.anchor, "")
		for _, h := range gr.holders {
			if !slices.Contains(f.Subjects, h.subject) {
				f.Subjects = append(f.Subjects, h.subject)
			}
		}
		sortSubjects(f.Subjects)
		f.Bindings = []rbac.ObjectKey{gr.key.anchor}
		scope := "cluster-wide"
		if gr.key.anchor.Namespace != "" {
			scope = fmt.Sprintf("in namespace %q", gr.key.anchor.Namespace)
		}
		f.Message = fmt.Sprintf("%s grants %s%s %s to %s: %s", gr.key.anchor, gr.role, ruleList(gr.rules), scope, subjectsText(f.Subjects), mustRule(gr.key.rule).Title)
		out = append(out, f)
	}
	return out
}

func (l *linter) addBindingHolding(g *grouper, id string, sev Severity, h holding) {
	gr := g.get(groupKey{id, h.binding}, h.role)
	if l.ignored(h.binding, id) || l.cfg.allows(h.subject, id, l.now) {
		gr.dropped++
		return
	}
	if sev == "" {
		sev = mustRule(id).Severity
	}
	gr.add(h, sev, "")
}

// hasErrorRisk tells whether a rule carries an error-level risk in scope.
func (l *linter) hasErrorRisk(k ruleKey, scope string) bool {
	for _, ri := range l.hits[k] {
		if _, sev, ok := l.weigh(l.risks[ri], scope); ok && sev == SeverityError {
			return true
		}
	}
	return false
}

// bindingFindings check the bindings as written: references to missing
// roles and system:masters.
func (l *linter) bindingFindings() []Finding {
	var out []Finding
	check := func(key rbac.ObjectKey, ref rbacv1.RoleRef, subjects []rbacv1.Subject) {
		if !l.user(key) {
			return
		}
		target := rbac.ObjectKey{Kind: ref.Kind, Name: ref.Name}
		if ref.Kind == rbac.KindRole {
			target.Namespace = key.Namespace
		}
		if _, ok := l.rules[target]; !ok {
			f := l.at(RuleMissingRole, "", key, fmt.Sprintf("%s references %s, which does not exist; it grants nothing", key, target))
			f.Subjects = bindingSubjects(subjects, key.Namespace)
			out = append(out, f)
		}
		for _, s := range subjects {
			switch {
			case s.Kind == rbacv1.GroupKind && s.Name == user.SystemPrivilegedGroup:
				f := l.at(RuleSystemMasters, "", key, fmt.Sprintf("%s names Group %q, which kube-apiserver allows everything ahead of RBAC", key, s.Name))
				f.Subjects = []Subject{{Kind: s.Kind, Name: s.Name}}
				out = append(out, f)
			}
		}
	}
	l.eachBinding(check)
	return out
}

func bindingSubjects(subjects []rbacv1.Subject, ns string) []Subject {
	out := make([]Subject, 0, len(subjects))
	for _, s := range subjects {
		out = append(out, subjectOf(s, ns))
	}
	sortSubjects(out)
	return out
}

// dropNamespacelessSubjects reports ServiceAccount subjects without
// namespace in ClusterRoleBindings, which kube-apiserver rejects (and
// which would match nobody), and removes them so the rest of the binding
// is still checked.
func dropNamespacelessSubjects(objs []loader.Object) ([]loader.Object, []Finding) {
	var findings []Finding
	out := make([]loader.Object, len(objs))
	for i, o := range objs {
		out[i] = o
		b, ok := o.Object.(*rbacv1.ClusterRoleBinding)
		if !ok {
			continue
		}
		var keep []rbacv1.Subject
		for _, s := range b.Subjects {
			if s.Kind != rbacv1.ServiceAccountKind || s.Namespace != "" {
				keep = append(keep, s)
				continue
			}
			r := mustRule(RuleSANoNamespace)
			key := rbac.ObjectKey{Kind: rbac.KindClusterRoleBinding, Name: b.Name}
			findings = append(findings, Finding{Rule: r.ID, Severity: r.Severity, File: o.Source.File, Line: o.Source.Line, Kind: key.Kind, Name: key.Name,
				Subjects: []Subject{{Kind: s.Kind, Name: s.Name}}, Hint: r.Hint,
				Message: fmt.Sprintf("%s names ServiceAccount %q without namespace; kube-apiserver rejects it, and it would match nobody", key, s.Name)})
		}
		if len(keep) != len(b.Subjects) {
			c := b.DeepCopy()
			c.Subjects = keep
			out[i].Object = c
		}
	}
	return out, findings
}

// eachBinding calls f with every binding's key, role reference and
// subjects, the ClusterRoleBindings first.
func (l *linter) eachBinding(f func(key rbac.ObjectKey, ref rbacv1.RoleRef, subjects []rbacv1.Subject)) {
	for _, b := range l.p.ClusterRoleBindings {
		f(rbac.ObjectKey{Kind: rbac.KindClusterRoleBinding, Name: b.Name}, b.RoleRef, b.Subjects)
	}
	for _, b := range l.p.RoleBindings {
		f(rbac.ObjectKey{Kind: rbac.KindRoleBinding, Namespace: b.Namespace, Name: b.Name}, b.RoleRef, b.Subjects)
	}
}
