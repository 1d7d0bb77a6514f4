package rbactest

import (
	"fmt"
	"slices"
	"strings"

	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	utilerrors "k8s.io/apimachinery/pkg/util/errors"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/authorization/authorizer"

	"github.com/kauth/kauth/internal/rbac"
)

// ReferenceAuthorize is a deliberately naive restatement of upstream's
// RBAC authorizer: it scans every binding in order, resolves roles by
// linear search and matches rules field by field, with no index and no
// compiled rules. Tests and benchmarks hold rbac.Index to it.
func ReferenceAuthorize(p *rbac.Policy, a authorizer.Attributes) (authorizer.Decision, string) {
	var errs []error
	u := a.GetUser()
	for _, b := range p.ClusterRoleBindings {
		i := refAppliesTo(u, b.Subjects, "")
		if i < 0 {
			continue
		}
		rules, err := refRoleRules(p, b.RoleRef, "")
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for _, r := range rules {
			if refRuleAllows(a, r) {
				return authorizer.DecisionAllow, fmt.Sprintf("RBAC: allowed by ClusterRoleBinding %q of %s %q to %s", b.Name, b.RoleRef.Kind, b.RoleRef.Name, refDescribe(b.Subjects[i], ""))
			}
		}
	}
	if ns := a.GetNamespace(); ns != "" {
		for _, b := range p.RoleBindings {
			if b.Namespace != ns {
				continue
			}
			i := refAppliesTo(u, b.Subjects, ns)
			if i < 0 {
				continue
			}
			rules, err := refRoleRules(p, b.RoleRef, ns)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			for _, r := range rules {
				if refRuleAllows(a, r) {
					return authorizer.DecisionAllow, fmt.Sprintf("RBAC: allowed by RoleBinding %q of %s %q to %s", b.Name+"/"+ns, b.RoleRef.Kind, b.RoleRef.Name, refDescribe(b.Subjects[i], ns))
				}
			}
		}
	}
	if len(errs) > 0 {
		return authorizer.DecisionNoOpinion, "RBAC: " + utilerrors.NewAggregate(errs).Error()
	}
	return authorizer.DecisionNoOpinion, ""
}

func refDescribe(s rbacv1.Subject, ns string) string {
	if s.Kind == rbacv1.ServiceAccountKind {
		if s.Namespace != "" {
			ns = s.Namespace
		}
		return fmt.Sprintf("%s %q", s.Kind, s.Name+"/"+ns)
	}
	return fmt.Sprintf("%s %q", s.Kind, s.Name)
}

func refAppliesTo(u user.Info, subjects []rbacv1.Subject, ns string) int {
	for i, s := range subjects {
		switch s.Kind {
		case rbacv1.UserKind:
			if u.GetName() == s.Name {
				return i
			}
		case rbacv1.GroupKind:
			for _, g := range u.GetGroups() {
				if g == s.Name {
					return i
				}
			}
		case rbacv1.ServiceAccountKind:
			saNS := ns
			if s.Namespace != "" {
				saNS = s.Namespace
			}
			if saNS != "" && u.GetName() == "system:serviceaccount:"+saNS+":"+s.Name {
				return i
			}
		}
	}
	return -1
}

func refRoleRules(p *rbac.Policy, ref rbacv1.RoleRef, ns string) ([]rbacv1.PolicyRule, error) {
	switch ref.Kind {
	case "Role":
		for _, r := range p.Roles {
			if ns != "" && r.Namespace == ns && r.Name == ref.Name {
				return r.Rules, nil
			}
		}
		return nil, apierrors.NewNotFound(rbacv1.Resource("role"), ref.Name)
	case "ClusterRole":
		for _, r := range p.ClusterRoles {
			if r.Name == ref.Name {
				return r.Rules, nil
			}
		}
		return nil, apierrors.NewNotFound(rbacv1.Resource("clusterrole"), ref.Name)
	}
	return nil, fmt.Errorf("unsupported role reference kind: %q", ref.Kind)
}

func refRuleAllows(a authorizer.Attributes, r rbacv1.PolicyRule) bool {
	has := func(list []string, v string, star string) bool {
		for _, x := range list {
			if x == v || x == star {
				return true
			}
		}
		return false
	}
	if !has(r.Verbs, a.GetVerb(), "*") {
		return false
	}
	if !a.IsResourceRequest() {
		for _, u := range r.NonResourceURLs {
			if u == "*" || u == a.GetPath() || (strings.HasSuffix(u, "*") && strings.HasPrefix(a.GetPath(), strings.TrimRight(u, "*"))) {
				return true
			}
		}
		return false
	}
	if !has(r.APIGroups, a.GetAPIGroup(), "*") {
		return false
	}
	combined := a.GetResource()
	if a.GetSubresource() != "" {
		combined += "/" + a.GetSubresource()
	}
	resOK := false
	for _, res := range r.Resources {
		if res == "*" || res == combined || (a.GetSubresource() != "" && res == "*/"+a.GetSubresource()) {
			resOK = true
		}
	}
	if !resOK {
		return false
	}
	if len(r.ResourceNames) == 0 {
		return true
	}
	for _, n := range r.ResourceNames {
		if n == a.GetName() {
			return true
		}
	}
	return false
}

// ReferenceWhoCan restates upstream's subject locator naively: the group
// system:masters, then the subjects of every ClusterRoleBinding and every
// RoleBinding of the request's namespace whose role allows the request, in
// that order, with duplicates removed.
func ReferenceWhoCan(p *rbac.Policy, a authorizer.Attributes) []rbacv1.Subject {
	out := []rbacv1.Subject{{Kind: rbacv1.GroupKind, APIGroup: rbacv1.GroupName, Name: user.SystemPrivilegedGroup}}
	add := func(ref rbacv1.RoleRef, ns string, subjects []rbacv1.Subject) {
		rules, _ := refRoleRules(p, ref, ns)
		for _, r := range rules {
			if refRuleAllows(a, r) {
				out = append(out, subjects...)
				return
			}
		}
	}
	for _, b := range p.ClusterRoleBindings {
		add(b.RoleRef, "", b.Subjects)
	}
	if ns := a.GetNamespace(); ns != "" {
		for _, b := range p.RoleBindings {
			if b.Namespace == ns {
				add(b.RoleRef, ns, b.Subjects)
			}
		}
	}
	var dedup []rbacv1.Subject
	for _, s := range out {
		if !slices.Contains(dedup, s) {
			dedup = append(dedup, s)
		}
	}
	return dedup
}
