package main

import (
	"bytes"
	"context"
	"fmt"
	"slices"

	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apiserver/pkg/authorization/authorizer"
	"sigs.k8s.io/yaml"
)

// Minimize shrinks objs while the engines still disagree on q in the same
// check: it drops whole objects, then rules and subjects, then entries of
// rule lists, greedily, until no single removal keeps the disagreement.
// The result is a small reproducer for a bug report.
func Minimize(ctx context.Context, objs *Objects, q authorizer.AttributesRecord, check string) *Objects {
	fails := func(o *Objects) bool {
		e, err := NewEngines(o)
		if err != nil {
			return false
		}
		for _, d := range e.CompareOne(ctx, q) {
			if d.Check == check {
				return true
			}
		}
		return false
	}
	cur := objs.DeepCopy()
	for changed := true; changed; {
		changed = false
		for _, cand := range shrinks(cur) {
			if fails(cand) {
				cur, changed = cand, true
				break
			}
		}
	}
	return cur
}

// shrinks lists every policy that is objs with one thing removed.
func shrinks(objs *Objects) []*Objects {
	var out []*Objects
	with := func(f func(o *Objects)) {
		c := objs.DeepCopy()
		f(c)
		out = append(out, c)
	}
	for i := range objs.ClusterRoleBindings {
		with(func(o *Objects) { o.ClusterRoleBindings = slices.Delete(o.ClusterRoleBindings, i, i+1) })
	}
	for i := range objs.RoleBindings {
		with(func(o *Objects) { o.RoleBindings = slices.Delete(o.RoleBindings, i, i+1) })
	}
	for i := range objs.ClusterRoles {
		with(func(o *Objects) { o.ClusterRoles = slices.Delete(o.ClusterRoles, i, i+1) })
	}
	for i := range objs.Roles {
		with(func(o *Objects) { o.Roles = slices.Delete(o.Roles, i, i+1) })
	}
	for i, b := range objs.ClusterRoleBindings {
		for j := range b.Subjects {
			if len(b.Subjects) > 1 {
				with(func(o *Objects) { s := &o.ClusterRoleBindings[i].Subjects; *s = slices.Delete(*s, j, j+1) })
			}
		}
	}
	for i, b := range objs.RoleBindings {
		for j := range b.Subjects {
			if len(b.Subjects) > 1 {
				with(func(o *Objects) { s := &o.RoleBindings[i].Subjects; *s = slices.Delete(*s, j, j+1) })
			}
		}
	}
	for i, r := range objs.ClusterRoles {
		out = append(out, shrinkRules(objs, r.Rules, func(o *Objects) *[]rbacv1.PolicyRule { return &o.ClusterRoles[i].Rules })...)
		if r.AggregationRule != nil && len(r.AggregationRule.ClusterRoleSelectors) > 1 {
			for j := range r.AggregationRule.ClusterRoleSelectors {
				with(func(o *Objects) {
					s := &o.ClusterRoles[i].AggregationRule.ClusterRoleSelectors
					*s = slices.Delete(*s, j, j+1)
				})
			}
		}
		if len(r.Labels) > 0 {
			for k := range r.Labels {
				with(func(o *Objects) { delete(o.ClusterRoles[i].Labels, k) })
			}
		}
	}
	for i, r := range objs.Roles {
		out = append(out, shrinkRules(objs, r.Rules, func(o *Objects) *[]rbacv1.PolicyRule { return &o.Roles[i].Rules })...)
	}
	return out
}

// shrinkRules removes one rule, or one entry of one of a rule's lists
// (never leaving a list that validation requires empty).
func shrinkRules(objs *Objects, rules []rbacv1.PolicyRule, at func(*Objects) *[]rbacv1.PolicyRule) []*Objects {
	var out []*Objects
	with := func(f func(rules *[]rbacv1.PolicyRule)) {
		c := objs.DeepCopy()
		f(at(c))
		out = append(out, c)
	}
	for j, r := range rules {
		if len(rules) > 1 {
			with(func(rs *[]rbacv1.PolicyRule) { *rs = slices.Delete(*rs, j, j+1) })
		}
		lists := []struct {
			n        int
			optional bool
			get      func(*rbacv1.PolicyRule) *[]string
		}{
			{len(r.Verbs), false, func(p *rbacv1.PolicyRule) *[]string { return &p.Verbs }},
			{len(r.APIGroups), false, func(p *rbacv1.PolicyRule) *[]string { return &p.APIGroups }},
			{len(r.Resources), false, func(p *rbacv1.PolicyRule) *[]string { return &p.Resources }},
			{len(r.ResourceNames), true, func(p *rbacv1.PolicyRule) *[]string { return &p.ResourceNames }},
			{len(r.NonResourceURLs), false, func(p *rbacv1.PolicyRule) *[]string { return &p.NonResourceURLs }},
		}
		for _, l := range lists {
			if l.n > 1 || (l.optional && l.n == 1) {
				for k := range l.n {
					with(func(rs *[]rbacv1.PolicyRule) { s := l.get(&(*rs)[j]); *s = slices.Delete(*s, k, k+1) })
				}
			}
		}
	}
	return out
}

// YAML renders objs as a multi-document manifest kauth --from can read.
func (o *Objects) YAML() string {
	var buf bytes.Buffer
	write := func(obj runtime.Object, kind string) {
		obj.GetObjectKind().SetGroupVersionKind(rbacv1.SchemeGroupVersion.WithKind(kind))
		u, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
		if err != nil {
			fmt.Fprintf(&buf, "# %v\n", err)
			return
		}
		if md, ok := u["metadata"].(map[string]any); ok {
			delete(md, "creationTimestamp")
		}
		data, err := yaml.Marshal(u)
		if err != nil {
			fmt.Fprintf(&buf, "# %v\n", err)
			return
		}
		buf.WriteString("---\n")
		buf.Write(data)
	}
	c := o.DeepCopy()
	for _, x := range c.ClusterRoles {
		write(x, "ClusterRole")
	}
	for _, x := range c.Roles {
		write(x, "Role")
	}
	for _, x := range c.ClusterRoleBindings {
		write(x, "ClusterRoleBinding")
	}
	for _, x := range c.RoleBindings {
		write(x, "RoleBinding")
	}
	return buf.String()
}
