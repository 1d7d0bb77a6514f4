package rbac

import (
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/validate/content"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// validate checks an RBAC object as kube-apiserver's create validation
// does (pkg/apis/rbac/validation): names are path segments, rules are
// either resource rules or non-resource rules, bindings reference a Role or
// ClusterRole of rbac.authorization.k8s.io, subjects are well formed.
func validate(obj runtime.Object) field.ErrorList {
	var errs field.ErrorList
	switch v := obj.(type) {
	case *rbacv1.Role:
		errs = validateMeta(&v.ObjectMeta, true)
	case *rbacv1.ClusterRole:
		errs = validateMeta(&v.ObjectMeta, false)
	case *rbacv1.RoleBinding:
		errs = validateMeta(&v.ObjectMeta, true)
	case *rbacv1.ClusterRoleBinding:
		errs = validateMeta(&v.ObjectMeta, false)
	default:
		return nil
	}
	return append(errs, ValidateContent(obj)...)
}

// ValidateContent checks the fields of an RBAC object other than its
// metadata, in kube-apiserver's order: a Role's or ClusterRole's rules and
// aggregation rule, a binding's roleRef and subjects. Callers that
// validate metadata themselves (the local server's registry) pair it with
// [ValidateName]; other objects yield no errors.
func ValidateContent(obj runtime.Object) field.ErrorList {
	switch v := obj.(type) {
	case *rbacv1.Role:
		return validateRules(v.Rules, true)
	case *rbacv1.ClusterRole:
		return append(validateRules(v.Rules, false), validateAggregation(v.AggregationRule)...)
	case *rbacv1.RoleBinding:
		return append(validateRoleRef(v.RoleRef, true), validateSubjects(v.Subjects, true)...)
	case *rbacv1.ClusterRoleBinding:
		return append(validateRoleRef(v.RoleRef, false), validateSubjects(v.Subjects, false)...)
	}
	return nil
}

// ValidateName is RBAC's minimal name rule, kube-apiserver's
// ValidateRBACName: any path segment ("." and "..", "/" and "%" are
// refused), so role names like "system:node" are valid. It is an
// apivalidation.ValidateNameFunc.
func ValidateName(name string, _ bool) []string {
	return content.IsPathSegmentName(name)
}

func validateMeta(meta *metav1.ObjectMeta, namespaced bool) field.ErrorList {
	return apivalidation.ValidateObjectMeta(meta, namespaced, ValidateName, field.NewPath("metadata"))
}

func validateRules(rules []rbacv1.PolicyRule, namespaced bool) field.ErrorList {
	var errs field.ErrorList
	for i, r := range rules {
		errs = append(errs, validateRule(r, namespaced, field.NewPath("rules").Index(i))...)
	}
	return errs
}

func validateRule(r rbacv1.PolicyRule, namespaced bool, fp *field.Path) field.ErrorList {
	var errs field.ErrorList
	if len(r.Verbs) == 0 {
		errs = append(errs, field.Required(fp.Child("verbs"), "verbs must contain at least one value"))
	}
	if len(r.NonResourceURLs) > 0 {
		if namespaced {
			errs = append(errs, field.Invalid(fp.Child("nonResourceURLs"), r.NonResourceURLs, "namespaced rules cannot apply to non-resource URLs"))
		}
		if len(r.APIGroups) > 0 || len(r.Resources) > 0 || len(r.ResourceNames) > 0 {
			errs = append(errs, field.Invalid(fp.Child("nonResourceURLs"), r.NonResourceURLs, "rules cannot apply to both regular resources and non-resource URLs"))
		}
		return errs
	}
	if len(r.APIGroups) == 0 {
		errs = append(errs, field.Required(fp.Child("apiGroups"), "resource rules must supply at least one api group"))
	}
	if len(r.Resources) == 0 {
		errs = append(errs, field.Required(fp.Child("resources"), "resource rules must supply at least one resource"))
	}
	return errs
}

func validateAggregation(a *rbacv1.AggregationRule) field.ErrorList {
	if a == nil {
		return nil
	}
	fp := field.NewPath("aggregationRule", "clusterRoleSelectors")
	var errs field.ErrorList
	if len(a.ClusterRoleSelectors) == 0 {
		errs = append(errs, field.Required(fp, "at least one clusterRoleSelector required if aggregationRule is non-nil"))
	}
	for i := range a.ClusterRoleSelectors {
		sel := &a.ClusterRoleSelectors[i]
		errs = append(errs, metav1validation.ValidateLabelSelector(sel, metav1validation.LabelSelectorValidationOptions{}, fp.Index(i))...)
		if _, err := metav1.LabelSelectorAsSelector(sel); err != nil {
			errs = append(errs, field.Invalid(fp.Index(i), sel, "invalid label selector."))
		}
	}
	return errs
}

func validateRoleRef(ref rbacv1.RoleRef, namespaced bool) field.ErrorList {
	var errs field.ErrorList
	fp := field.NewPath("roleRef")
	if ref.APIGroup != rbacv1.GroupName {
		errs = append(errs, field.NotSupported(fp.Child("apiGroup"), ref.APIGroup, []string{rbacv1.GroupName}))
	}
	kinds := []string{KindClusterRole}
	if namespaced {
		kinds = []string{KindRole, KindClusterRole}
	}
	if ref.Kind != KindClusterRole && (!namespaced || ref.Kind != KindRole) {
		errs = append(errs, field.NotSupported(fp.Child("kind"), ref.Kind, kinds))
	}
	if ref.Name == "" {
		errs = append(errs, field.Required(fp.Child("name"), ""))
	}
	for _, msg := range ValidateName(ref.Name, false) {
		if ref.Name != "" {
			errs = append(errs, field.Invalid(fp.Child("name"), ref.Name, msg))
		}
	}
	return errs
}

func validateSubjects(subjects []rbacv1.Subject, namespaced bool) field.ErrorList {
	var errs field.ErrorList
	for i, s := range subjects {
		errs = append(errs, validateSubject(s, namespaced, field.NewPath("subjects").Index(i))...)
	}
	return errs
}

func validateSubject(s rbacv1.Subject, namespaced bool, fp *field.Path) field.ErrorList {
	var errs field.ErrorList
	if s.Name == "" {
		errs = append(errs, field.Required(fp.Child("name"), ""))
	}
	switch s.Kind {
	case rbacv1.ServiceAccountKind:
		if s.Name != "" {
			for _, msg := range apivalidation.ValidateServiceAccountName(s.Name, false) {
				errs = append(errs, field.Invalid(fp.Child("name"), s.Name, msg))
			}
		}
		if s.APIGroup != "" {
			errs = append(errs, field.NotSupported(fp.Child("apiGroup"), s.APIGroup, []string{""}))
		}
		if !namespaced && s.Namespace == "" {
			errs = append(errs, field.Required(fp.Child("namespace"), ""))
		}
	case rbacv1.UserKind, rbacv1.GroupKind:
		if s.APIGroup != rbacv1.GroupName {
			errs = append(errs, field.NotSupported(fp.Child("apiGroup"), s.APIGroup, []string{rbacv1.GroupName}))
		}
	default:
		errs = append(errs, field.NotSupported(fp.Child("kind"), s.Kind, []string{rbacv1.ServiceAccountKind, rbacv1.UserKind, rbacv1.GroupKind}))
	}
	return errs
}
