package main

import (
	"fmt"

	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/kubernetes/pkg/api/legacyscheme"
	rbacinternal "k8s.io/kubernetes/pkg/apis/rbac"
	_ "k8s.io/kubernetes/pkg/apis/rbac/install" // registers rbac/v1 defaults and conversions
	rbacvalidation "k8s.io/kubernetes/pkg/apis/rbac/validation"

	"github.com/kauth/kauth/internal/loader"
	"github.com/kauth/kauth/internal/rbac"
)

// UpstreamValidate defaults obj as kube-apiserver's rbac/v1 endpoint does
// and runs the create validation of its registry strategy.
func UpstreamValidate(obj runtime.Object) field.ErrorList {
	obj = obj.DeepCopyObject()
	legacyscheme.Scheme.Default(obj)
	convert := func(in, out any) field.ErrorList {
		if err := legacyscheme.Scheme.Convert(in, out, nil); err != nil {
			return field.ErrorList{field.InternalError(nil, err)}
		}
		return nil
	}
	switch o := obj.(type) {
	case *rbacv1.Role:
		var in rbacinternal.Role
		if errs := convert(o, &in); errs != nil {
			return errs
		}
		return rbacvalidation.ValidateRole(&in)
	case *rbacv1.ClusterRole:
		var in rbacinternal.ClusterRole
		if errs := convert(o, &in); errs != nil {
			return errs
		}
		return rbacvalidation.ValidateClusterRole(&in, rbacvalidation.ClusterRoleValidationOptions{})
	case *rbacv1.RoleBinding:
		var in rbacinternal.RoleBinding
		if errs := convert(o, &in); errs != nil {
			return errs
		}
		return rbacvalidation.ValidateRoleBinding(&in)
	case *rbacv1.ClusterRoleBinding:
		var in rbacinternal.ClusterRoleBinding
		if errs := convert(o, &in); errs != nil {
			return errs
		}
		return rbacvalidation.ValidateClusterRoleBinding(&in)
	}
	return field.ErrorList{field.InternalError(nil, fmt.Errorf("unexpected %T", obj))}
}

// KauthValidate loads obj as kauth's --from does after decoding.
func KauthValidate(obj runtime.Object) error {
	obj = obj.DeepCopyObject()
	setKind(obj)
	_, _, err := rbac.FromObjects([]loader.Object{{Object: obj, Source: loader.Source{File: "policy.yaml", Line: 1}}})
	return err
}

// setKind sets apiVersion and kind, as a decoded manifest has them.
func setKind(obj runtime.Object) {
	kind := ""
	switch obj.(type) {
	case *rbacv1.Role:
		kind = "Role"
	case *rbacv1.ClusterRole:
		kind = "ClusterRole"
	case *rbacv1.RoleBinding:
		kind = "RoleBinding"
	case *rbacv1.ClusterRoleBinding:
		kind = "ClusterRoleBinding"
	}
	obj.GetObjectKind().SetGroupVersionKind(rbacv1.SchemeGroupVersion.WithKind(kind))
}
