package registry

import (
	"strings"
	"time"

	rbacv1 "k8s.io/api/rbac/v1"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/kauth/kauth/internal/rbac"
)

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
			Strategy: simpleStrategy(true, rbac.ValidateName, rbac.ValidateContent, nil),
		},
		{
			GVK: gv.WithKind("ClusterRole"), Resource: "clusterroles", Singular: "clusterrole", AllowCreateOnUpdate: true,
			New: func() runtime.Object { return &rbacv1.ClusterRole{} }, NewList: func() runtime.Object { return &rbacv1.ClusterRoleList{} },
			Strategy: simpleStrategy(false, rbac.ValidateName, rbac.ValidateContent, nil),
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
	st := simpleStrategy(namespaced, rbac.ValidateName, rbac.ValidateContent, defaults)
	base := st.ValidateUpdate
	st.ValidateUpdate = func(obj, old runtime.Object) field.ErrorList {
		errs := base(obj, old)
		ref, _ := parts(obj)
		oldRef, _ := parts(old)
		return append(errs, apivalidation.ValidateImmutableField(*ref, *oldRef, field.NewPath("roleRef"))...)
	}
	return st
}
