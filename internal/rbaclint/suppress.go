package rbaclint

import (
	"encoding/json"
	"fmt"
	"strings"

	rbacv1 "k8s.io/api/rbac/v1"
	rbacv1alpha1 "k8s.io/api/rbac/v1alpha1"
	rbacv1beta1 "k8s.io/api/rbac/v1beta1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/kauth/kauth/internal/loader"
	"github.com/kauth/kauth/internal/rbac"
)

// IgnoreAnnotation silences rules on one object. Its value has one entry
// per line: RULE[,RULE...]: REASON[; expires YYYY-MM-DD].
const IgnoreAnnotation = "kauth.io/lint-ignore"

// ParseIgnore reads the value of the kauth.io/lint-ignore annotation.
func ParseIgnore(value string) ([]Suppression, error) {
	var out []Suppression
	for i, line := range strings.Split(value, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		rules, rest, ok := strings.Cut(line, ":")
		if !ok {
			return nil, fmt.Errorf("line %d: expected RULE[,RULE...]: REASON[; expires YYYY-MM-DD], got %q", i+1, line)
		}
		s := Suppression{}
		for _, id := range strings.Split(rules, ",") {
			id = strings.TrimSpace(id)
			if _, known := LookupRule(id); !known {
				return nil, fmt.Errorf("line %d: unknown rule %q", i+1, id)
			}
			s.Rules = append(s.Rules, id)
		}
		reason, exp, hasExp := strings.Cut(rest, ";")
		s.Reason = strings.TrimSpace(reason)
		if s.Reason == "" {
			return nil, fmt.Errorf("line %d: missing reason after %q", i+1, rules+":")
		}
		if hasExp {
			date, found := strings.CutPrefix(strings.TrimSpace(exp), "expires ")
			t, err := ParseExpiry(strings.TrimSpace(date))
			if !found || err != nil {
				return nil, fmt.Errorf("line %d: %q: expected \"expires YYYY-MM-DD\"", i+1, strings.TrimSpace(exp))
			}
			s.Expires = t
		}
		out = append(out, s)
	}
	return out, nil
}

// objectKey names an RBAC object of any served or removed version as the
// policy will, or a ServiceAccount or workload lint reads; ok is false for
// other kinds.
func objectKey(obj runtime.Object) (rbac.ObjectKey, bool) {
	gvk := loader.GVK(obj)
	if gvk.Group != rbacv1.GroupName {
		return workloadKey(obj)
	}
	m, err := meta.Accessor(obj)
	if err != nil {
		return rbac.ObjectKey{}, false
	}
	k := rbac.ObjectKey{Kind: gvk.Kind, Name: m.GetName()}
	switch gvk.Kind {
	case rbac.KindRole, rbac.KindRoleBinding:
		k.Namespace = m.GetNamespace()
		if k.Namespace == "" {
			k.Namespace = rbac.DefaultNamespace
		}
	case rbac.KindClusterRole, rbac.KindClusterRoleBinding:
	default:
		return rbac.ObjectKey{}, false
	}
	return k, true
}

// readAnnotations collects every object's lint-ignore entries; malformed
// ones become findings.
func readAnnotations(objs []loader.Object) (map[rbac.ObjectKey][]Suppression, []Finding) {
	marks := map[rbac.ObjectKey][]Suppression{}
	var bad []Finding
	for _, o := range objs {
		k, ok := objectKey(o.Object)
		if !ok {
			continue
		}
		m, _ := meta.Accessor(o.Object)
		v, has := m.GetAnnotations()[IgnoreAnnotation]
		if !has {
			continue
		}
		s, err := ParseIgnore(v)
		if err != nil {
			r := mustRule(RuleInvalidSuppression)
			bad = append(bad, Finding{Rule: r.ID, Severity: r.Severity, Message: fmt.Sprintf("%s: annotation %s: %v", k, IgnoreAnnotation, err),
				File: o.Source.File, Line: o.Source.Line, Kind: k.Kind, Name: k.Name, Namespace: k.Namespace, Subjects: []Subject{}, Hint: r.Hint})
			continue
		}
		for i := range s {
			s[i].Source = o.Source.String()
		}
		marks[k] = s
	}
	return marks, bad
}

// upgradeRemoved reports RBAC objects of removed versions and converts
// them to v1 (the fields are the same), so the rest of the checks still
// see them.
func upgradeRemoved(objs []loader.Object) ([]loader.Object, []Finding) {
	out := make([]loader.Object, len(objs))
	var findings []Finding
	for i, o := range objs {
		out[i] = o
		v1, version := toV1(o.Object)
		if v1 == nil {
			continue
		}
		k, _ := objectKey(o.Object)
		r := mustRule(RuleRemovedAPIVersion)
		findings = append(findings, Finding{Rule: r.ID, Severity: r.Severity, File: o.Source.File, Line: o.Source.Line, Kind: k.Kind, Name: k.Name, Namespace: k.Namespace,
			Subjects: []Subject{}, Hint: r.Hint,
			Message: fmt.Sprintf("%s uses apiVersion %s/%s, which Kubernetes v1.22 and later no longer serve; it is checked as v1", k, rbacv1.GroupName, version)})
		out[i].Object = v1
	}
	return out, findings
}

func toV1(obj runtime.Object) (runtime.Object, string) {
	var target runtime.Object
	var version string
	switch obj.(type) {
	case *rbacv1beta1.Role, *rbacv1alpha1.Role:
		target = &rbacv1.Role{}
	case *rbacv1beta1.ClusterRole, *rbacv1alpha1.ClusterRole:
		target = &rbacv1.ClusterRole{}
	case *rbacv1beta1.RoleBinding, *rbacv1alpha1.RoleBinding:
		target = &rbacv1.RoleBinding{}
	case *rbacv1beta1.ClusterRoleBinding, *rbacv1alpha1.ClusterRoleBinding:
		target = &rbacv1.ClusterRoleBinding{}
	default:
		return nil, ""
	}
	version = loader.GVK(obj).Version
	b, err := json.Marshal(obj)
	if err != nil || json.Unmarshal(b, target) != nil {
		return nil, ""
	}
	// v1alpha1 subjects spell apiGroup as apiVersion; its json drops it.
	return target, version
}

// ignored tells whether an annotation on object k silences rule.
func (l *linter) ignored(k rbac.ObjectKey, rule string) bool {
	for _, s := range l.marks[k] {
		if s.covers(rule) && s.active(l.now) {
			return true
		}
	}
	return false
}

// suppress drops findings that configuration or annotations silence, and
// counts them.
func (l *linter) suppress(fs []Finding) []Finding {
	out := make([]Finding, 0, len(fs))
	for _, f := range fs {
		if f.Rule != RuleInvalidSuppression && l.silenced(f) {
			l.suppressed++
			continue
		}
		out = append(out, f)
	}
	return out
}

func (l *linter) silenced(f Finding) bool {
	k := rbac.ObjectKey{Kind: f.Kind, Namespace: f.Namespace, Name: f.Name}
	for _, d := range l.cfg.Disable {
		if d.covers(f.Rule) && d.active(l.now) {
			return true
		}
	}
	for _, ig := range l.cfg.Ignore {
		if ig.covers(f.Rule) && ig.active(l.now) && (ig.Kind == "" || ig.Kind == k.Kind) && (ig.Name == "" || ig.Name == k.Name) && (ig.Namespace == "" || ig.Namespace == k.Namespace) {
			return true
		}
	}
	if l.ignored(k, f.Rule) {
		return true
	}
	if len(f.Subjects) == 0 {
		return false
	}
	for _, s := range f.Subjects {
		if !l.cfg.allows(s, f.Rule, l.now) {
			return false
		}
	}
	return true
}
