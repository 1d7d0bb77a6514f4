package registry

import (
	"strings"
	"time"

	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/validate/content"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// rbacName is kube-apiserver's ValidateRBACName: any path segment name.
func rbacName(name string, _ bool) []string { return content.IsPathSegmentName(name) }

func rbacKinds() []*Kind {
	gv := rbacv1.SchemeGroupVersion
	bindingColumns := []metav1.TableColumnDefinition{
		nameColumn(), column("Role", "Role of the binding", 0), ageColumn(),
		column("Users", "Users in the binding", 1), column("Groups", "Groups in the binding", 1),
		column("ServiceAccounts", "ServiceAccounts in the binding", 1),
	}
	return []*Kind{
		{
			GVK: gv.WithKind("Role"), Resource: "roles", Singular: "role", Namespaced: true, AllowCreateOnUpdate: true,
			New: func() runtime.Object { return &rbacv1.Role{} }, NewList: func() runtime.Object { return &rbacv1.RoleList{} },
			Strategy: simpleStrategy(true, rbacName, func(obj runtime.Object) field.ErrorList {
				return validateRules(obj.(*rbacv1.Role).Rules, true)
			}, nil),
		},
		{
			GVK: gv.WithKind("ClusterRole"), Resource: "clusterroles", Singular: "clusterrole", AllowCreateOnUpdate: true,
			New: func() runtime.Object { return &rbacv1.ClusterRole{} }, NewList: func() runtime.Object { return &rbacv1.ClusterRoleList{} },
			Strategy: simpleStrategy(false, rbacName, validateClusterRole, nil),
		},
		{
			GVK: gv.WithKind("RoleBinding"), Resource: "rolebindings", Singular: "rolebinding", Namespaced: true, AllowCreateOnUpdate: true,
			New: func() runtime.Object { return &rbacv1.RoleBinding{} }, NewList: func() runtime.Object { return &rbacv1.RoleBindingList{} },
			Strategy: bindingStrategy(true, func(obj runtime.Object) (*rbacv1.RoleRef, []rbacv1.Subject) {
				b := obj.(*rbacv1.RoleBinding)
				return &b.RoleRef, b.Subjects
			}),
			Columns: bindingColumns,
			Row: func(obj runtime.Object, now time.Time) []any {
				b := obj.(*rbacv1.RoleBinding)
				return bindingRow(b.Name, b.RoleRef, b.Subjects, age(b.CreationTimestamp, now))
			},
		},
		{
			GVK: gv.WithKind("ClusterRoleBinding"), Resource: "clusterrolebindings", Singular: "clusterrolebinding", AllowCreateOnUpdate: true,
			New: func() runtime.Object { return &rbacv1.ClusterRoleBinding{} }, NewList: func() runtime.Object { return &rbacv1.ClusterRoleBindingList{} },
			Strategy: bindingStrategy(false, func(obj runtime.Object) (*rbacv1.RoleRef, []rbacv1.Subject) {
				b := obj.(*rbacv1.ClusterRoleBinding)
				return &b.RoleRef, b.Subjects
			}),
			Columns: bindingColumns,
			Row: func(obj runtime.Object, now time.Time) []any {
				b := obj.(*rbacv1.ClusterRoleBinding)
				return bindingRow(b.Name, b.RoleRef, b.Subjects, age(b.CreationTimestamp, now))
			},
		},
	}
}

func bindingRow(name string, ref rbacv1.RoleRef, subjects []rbacv1.Subject, age string) []any {
	var users, groups, sas []string
	for _, s := range subjects {
		switch s.Kind {
		case rbacv1.UserKind:
			users = append(users, s.Name)
		case rbacv1.GroupKind:
			groups = append(groups, s.Name)
		case rbacv1.ServiceAccountKind:
			sas = append(sas, s.Namespace+"/"+s.Name)
		}
	}
	return []any{name, ref.Kind + "/" + ref.Name, age, strings.Join(users, ", "), strings.Join(groups, ", "), strings.Join(sas, ", ")}
}

// validateRules is kube-apiserver's ValidatePolicyRule over a rule list.
func validateRules(rules []rbacv1.PolicyRule, namespaced bool) field.ErrorList {
	var errs field.ErrorList
	for i, rule := range rules {
		p := field.NewPath("rules").Index(i)
		if len(rule.Verbs) == 0 {
			errs = append(errs, field.Required(p.Child("verbs"), "verbs must contain at least one value"))
		}
		if len(rule.NonResourceURLs) > 0 {
			if namespaced {
				errs = append(errs, field.Invalid(p.Child("nonResourceURLs"), rule.NonResourceURLs, "namespaced rules cannot apply to non-resource URLs"))
			}
			if len(rule.APIGroups) > 0 || len(rule.Resources) > 0 || len(rule.ResourceNames) > 0 {
				errs = append(errs, field.Invalid(p.Child("nonResourceURLs"), rule.NonResourceURLs, "rules cannot apply to both regular resources and non-resource URLs"))
			}
			continue
		}
		if len(rule.APIGroups) == 0 {
			errs = append(errs, field.Required(p.Child("apiGroups"), "resource rules must supply at least one api group"))
		}
		if len(rule.Resources) == 0 {
			errs = append(errs, field.Required(p.Child("resources"), "resource rules must supply at least one resource"))
		}
	}
	return errs
}

func validateClusterRole(obj runtime.Object) field.ErrorList {
	role := obj.(*rbacv1.ClusterRole)
	errs := validateRules(role.Rules, false)
	if role.AggregationRule == nil {
		return errs
	}
	p := field.NewPath("aggregationRule", "clusterRoleSelectors")
	if len(role.AggregationRule.ClusterRoleSelectors) == 0 {
		errs = append(errs, field.Required(p, "at least one clusterRoleSelector required if aggregationRule is non-nil"))
	}
	for i := range role.AggregationRule.ClusterRoleSelectors {
		sel := &role.AggregationRule.ClusterRoleSelectors[i]
		errs = append(errs, metav1validation.ValidateLabelSelector(sel, metav1validation.LabelSelectorValidationOptions{}, p.Index(i))...)
		if _, err := metav1.LabelSelectorAsSelector(sel); err != nil {
			errs = append(errs, field.Invalid(p.Index(i), sel, "invalid label selector."))
		}
	}
	return errs
}

// bindingStrategy defaults and validates role references and subjects as
// kube-apiserver's RBAC v1 defaults and validation do; roleRef is immutable.
func bindingStrategy(namespaced bool, parts func(runtime.Object) (*rbacv1.RoleRef, []rbacv1.Subject)) Strategy {
	defaults := func(obj runtime.Object) {
		ref, subjects := parts(obj)
		if ref.APIGroup == "" {
			ref.APIGroup = rbacv1.GroupName
		}
		for i := range subjects {
			s := &subjects[i]
			if s.APIGroup == "" && (s.Kind == rbacv1.UserKind || s.Kind == rbacv1.GroupKind) {
				s.APIGroup = rbacv1.GroupName
			}
		}
	}
	extra := func(obj runtime.Object) field.ErrorList {
		ref, subjects := parts(obj)
		return validateBinding(*ref, subjects, namespaced)
	}
	st := simpleStrategy(namespaced, rbacName, extra, defaults)
	base := st.ValidateUpdate
	st.ValidateUpdate = func(obj, old runtime.Object) field.ErrorList {
		errs := base(obj, old)
		ref, _ := parts(obj)
		oldRef, _ := parts(old)
		return append(errs, apivalidation.ValidateImmutableField(*ref, *oldRef, field.NewPath("roleRef"))...)
	}
	return st
}

func validateBinding(ref rbacv1.RoleRef, subjects []rbacv1.Subject, namespaced bool) field.ErrorList {
	var errs field.ErrorList
	if ref.APIGroup != rbacv1.GroupName {
		errs = append(errs, field.NotSupported(field.NewPath("roleRef", "apiGroup"), ref.APIGroup, []string{rbacv1.GroupName}))
	}
	kinds := []string{"ClusterRole"}
	if namespaced {
		kinds = []string{"Role", "ClusterRole"}
	}
	if ref.Kind != "ClusterRole" && (!namespaced || ref.Kind != "Role") {
		errs = append(errs, field.NotSupported(field.NewPath("roleRef", "kind"), ref.Kind, kinds))
	}
	if ref.Name == "" {
		errs = append(errs, field.Required(field.NewPath("roleRef", "name"), ""))
	}
	for _, msg := range rbacName(ref.Name, false) {
		if ref.Name != "" {
			errs = append(errs, field.Invalid(field.NewPath("roleRef", "name"), ref.Name, msg))
		}
	}
	for i, s := range subjects {
		errs = append(errs, validateSubject(s, namespaced, field.NewPath("subjects").Index(i))...)
	}
	return errs
}

func validateSubject(s rbacv1.Subject, namespaced bool, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if s.Name == "" {
		errs = append(errs, field.Required(p.Child("name"), ""))
	}
	switch s.Kind {
	case rbacv1.ServiceAccountKind:
		if s.Name != "" {
			for _, msg := range apivalidation.NameIsDNSSubdomain(s.Name, false) {
				errs = append(errs, field.Invalid(p.Child("name"), s.Name, msg))
			}
		}
		if s.APIGroup != "" {
			errs = append(errs, field.NotSupported(p.Child("apiGroup"), s.APIGroup, []string{""}))
		}
		if !namespaced && s.Namespace == "" {
			errs = append(errs, field.Required(p.Child("namespace"), ""))
		}
	case rbacv1.UserKind, rbacv1.GroupKind:
		if s.APIGroup != rbacv1.GroupName {
			errs = append(errs, field.NotSupported(p.Child("apiGroup"), s.APIGroup, []string{rbacv1.GroupName}))
		}
	default:
		errs = append(errs, field.NotSupported(p.Child("kind"), s.Kind, []string{rbacv1.ServiceAccountKind, rbacv1.UserKind, rbacv1.GroupKind}))
	}
	return errs
}
