package registry

import (
	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// reviewKinds are the review APIs: create-only, answered and never
// stored. Package api answers them through its hooks; their validation is
// here.
func reviewKinds() []*Kind {
	review := func(gvk schema.GroupVersionKind, resource string, namespaced bool, obj func() runtime.Object, validate func(runtime.Object) field.ErrorList) *Kind {
		return &Kind{GVK: gvk, Resource: resource, Singular: "", Namespaced: namespaced, Ephemeral: true,
			New: obj, Strategy: Strategy{Validate: validate}}
	}
	authn, authz := authenticationv1.SchemeGroupVersion, authorizationv1.SchemeGroupVersion
	return []*Kind{
		review(authn.WithKind("TokenReview"), "tokenreviews", false, func() runtime.Object { return &authenticationv1.TokenReview{} }, nil),
		review(authn.WithKind("SelfSubjectReview"), "selfsubjectreviews", false, func() runtime.Object { return &authenticationv1.SelfSubjectReview{} }, nil),
		review(authz.WithKind("SubjectAccessReview"), "subjectaccessreviews", false, func() runtime.Object { return &authorizationv1.SubjectAccessReview{} },
			func(obj runtime.Object) field.ErrorList {
				s := obj.(*authorizationv1.SubjectAccessReview).Spec
				errs := validateAccessSpec(s.ResourceAttributes, s.NonResourceAttributes)
				if s.User == "" && len(s.Groups) == 0 {
					errs = append(errs, field.Invalid(field.NewPath("spec", "user"), s.User, `at least one of user or group must be specified`))
				}
				return errs
			}),
		review(authz.WithKind("LocalSubjectAccessReview"), "localsubjectaccessreviews", true, func() runtime.Object { return &authorizationv1.LocalSubjectAccessReview{} },
			func(obj runtime.Object) field.ErrorList {
				r := obj.(*authorizationv1.LocalSubjectAccessReview)
				errs := validateAccessSpec(r.Spec.ResourceAttributes, r.Spec.NonResourceAttributes)
				if r.Spec.NonResourceAttributes != nil {
					errs = append(errs, field.Invalid(field.NewPath("spec", "nonResourceAttributes"), r.Spec.NonResourceAttributes, `disallowed on this kind of request`))
				}
				if r.Spec.User == "" && len(r.Spec.Groups) == 0 {
					errs = append(errs, field.Invalid(field.NewPath("spec", "user"), r.Spec.User, `at least one of user or group must be specified`))
				}
				return errs
			}),
		review(authz.WithKind("SelfSubjectAccessReview"), "selfsubjectaccessreviews", false, func() runtime.Object { return &authorizationv1.SelfSubjectAccessReview{} },
			func(obj runtime.Object) field.ErrorList {
				s := obj.(*authorizationv1.SelfSubjectAccessReview).Spec
				return validateAccessSpec(s.ResourceAttributes, s.NonResourceAttributes)
			}),
		review(authz.WithKind("SelfSubjectRulesReview"), "selfsubjectrulesreviews", false, func() runtime.Object { return &authorizationv1.SelfSubjectRulesReview{} }, nil),
	}
}

// validateAccessSpec is kube-apiserver's rule for access review specs:
// exactly one of resourceAttributes and nonResourceAttributes.
func validateAccessSpec(res *authorizationv1.ResourceAttributes, nonRes *authorizationv1.NonResourceAttributes) field.ErrorList {
	spec := field.NewPath("spec")
	switch {
	case res != nil && nonRes != nil:
		return field.ErrorList{field.Invalid(spec.Child("nonResourceAttributes"), nonRes, `cannot be specified in combination with resourceAttributes`)}
	case res == nil && nonRes == nil:
		return field.ErrorList{field.Invalid(spec.Child("resourceAttributes"), res, `exactly one of nonResourceAttributes or resourceAttributes must be specified`)}
	}
	return nil
}
