package rbac

import (
	"errors"
	"fmt"

	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/kauth/kauth/internal/loader"
)

// The four RBAC kinds, as they appear in roleRef.kind and in [ObjectKey].
const (
	KindRole               = "Role"
	KindClusterRole        = "ClusterRole"
	KindRoleBinding        = "RoleBinding"
	KindClusterRoleBinding = "ClusterRoleBinding"
)

// DefaultNamespace is given to a Role or RoleBinding whose manifest has no
// namespace, as "kubectl apply -f" does without a context namespace.
const DefaultNamespace = "default"

// Policy is a set of RBAC objects: the four kinds kube-apiserver's RBAC
// authorizer reads, in the order they were loaded. Build it with
// [FromObjects] (or fill it directly in tests), resolve aggregation with
// [Aggregate], then index it with [NewIndex]. An Index keeps pointers into
// the Policy: do not change the Policy after indexing it.
type Policy struct {
	Roles               []*rbacv1.Role
	ClusterRoles        []*rbacv1.ClusterRole
	RoleBindings        []*rbacv1.RoleBinding
	ClusterRoleBindings []*rbacv1.ClusterRoleBinding
	// Sources tells where each object was defined; objects built in code
	// have no entry.
	Sources map[ObjectKey]loader.Source
}

// ObjectKey names one RBAC object. Namespace is empty for the cluster-wide
// kinds.
type ObjectKey struct {
	Kind      string `json:"kind"`
	Namespace string `json:"namespace,omitempty"`
	Name      string `json:"name"`
}

// String renders the key as Kind "ns/name" or Kind "name".
func (k ObjectKey) String() string {
	if k.Namespace != "" {
		return fmt.Sprintf("%s %q", k.Kind, k.Namespace+"/"+k.Name)
	}
	return fmt.Sprintf("%s %q", k.Kind, k.Name)
}

// Source returns where the object named by k was loaded from (the zero
// Source when unknown).
func (p *Policy) Source(k ObjectKey) loader.Source {
	return p.Sources[k]
}

// Len is the number of objects in the policy.
func (p *Policy) Len() int {
	return len(p.Roles) + len(p.ClusterRoles) + len(p.RoleBindings) + len(p.ClusterRoleBindings)
}

// FromObjects builds a Policy from loaded objects. Role, ClusterRole,
// RoleBinding and ClusterRoleBinding of rbac.authorization.k8s.io/v1 are
// defaulted and validated as kube-apiserver would on create; other kinds
// are skipped and counted. Every invalid object and every duplicate is
// reported, each as "file:line: Kind "name": field: problem", joined in
// one error. Objects are deep-copied, so callers keep theirs.
func FromObjects(objs []loader.Object) (*Policy, int, error) {
	p := &Policy{Sources: make(map[ObjectKey]loader.Source, len(objs))}
	skipped := 0
	var errs []error
	for _, o := range objs {
		added, err := p.add(o)
		switch {
		case err != nil:
			errs = append(errs, err)
		case !added:
			skipped++
		}
	}
	return p, skipped, errors.Join(errs...)
}

// add validates one object and appends it; it reports false for kinds that
// are not RBAC.
func (p *Policy) add(o loader.Object) (bool, error) {
	key, obj, err := prepare(o.Object)
	if err != nil || obj == nil {
		if err != nil {
			err = fmt.Errorf("%s: %w", o.Source, err)
		}
		return false, err
	}
	if errs := validate(obj); len(errs) > 0 {
		return false, fmt.Errorf("%s: %s: %w", o.Source, key, errs.ToAggregate())
	}
	if first, dup := p.Sources[key]; dup {
		return false, fmt.Errorf("%s: duplicate %s, first defined at %s", o.Source, key, first)
	}
	p.Sources[key] = o.Source
	switch v := obj.(type) {
	case *rbacv1.Role:
		p.Roles = append(p.Roles, v)
	case *rbacv1.ClusterRole:
		p.ClusterRoles = append(p.ClusterRoles, v)
	case *rbacv1.RoleBinding:
		p.RoleBindings = append(p.RoleBindings, v)
	case *rbacv1.ClusterRoleBinding:
		p.ClusterRoleBindings = append(p.ClusterRoleBindings, v)
	}
	return true, nil
}

// prepare deep-copies and defaults an RBAC v1 object. It returns a nil
// object for kinds outside RBAC and an error for RBAC versions that
// kube-apiserver v1.37 no longer serves.
func prepare(obj runtime.Object) (ObjectKey, runtime.Object, error) {
	switch v := obj.(type) {
	case *rbacv1.Role:
		c := v.DeepCopy()
		defaultNamespace(&c.Namespace)
		return ObjectKey{KindRole, c.Namespace, c.Name}, c, nil
	case *rbacv1.ClusterRole:
		c := v.DeepCopy()
		c.Namespace = "" // the API server drops it for cluster-scoped kinds
		return ObjectKey{KindClusterRole, "", c.Name}, c, nil
	case *rbacv1.RoleBinding:
		c := v.DeepCopy()
		defaultNamespace(&c.Namespace)
		defaultBinding(&c.RoleRef, c.Subjects)
		return ObjectKey{KindRoleBinding, c.Namespace, c.Name}, c, nil
	case *rbacv1.ClusterRoleBinding:
		c := v.DeepCopy()
		c.Namespace = ""
		defaultBinding(&c.RoleRef, c.Subjects)
		return ObjectKey{KindClusterRoleBinding, "", c.Name}, c, nil
	}
	if obj == nil {
		return ObjectKey{}, nil, nil
	}
	gvk := loader.GVK(obj)
	if gvk.Group == rbacv1.GroupName && isRBACKind(gvk.Kind) {
		return ObjectKey{}, nil, fmt.Errorf("apiVersion: %s/%s is not served by Kubernetes v1.37; expected %s",
			gvk.Group, gvk.Version, rbacv1.SchemeGroupVersion)
	}
	if u, ok := obj.(*unstructured.Unstructured); ok && u.GroupVersionKind().Group == rbacv1.GroupName && isRBACKind(u.GetKind()) {
		return ObjectKey{}, nil, fmt.Errorf("apiVersion: %s is not served by Kubernetes v1.37; expected %s", u.GetAPIVersion(), rbacv1.SchemeGroupVersion)
	}
	return ObjectKey{}, nil, nil
}

func isRBACKind(kind string) bool {
	switch kind {
	case KindRole, KindClusterRole, KindRoleBinding, KindClusterRoleBinding:
		return true
	}
	return false
}

func defaultNamespace(ns *string) {
	if *ns == "" {
		*ns = DefaultNamespace
	}
}

// defaultBinding applies rbac/v1's defaulting (SetDefaults_RoleBinding,
// SetDefaults_Subject): roleRef.apiGroup and the apiGroup of User and Group
// subjects default to rbac.authorization.k8s.io.
func defaultBinding(ref *rbacv1.RoleRef, subjects []rbacv1.Subject) {
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

// Layer returns base without the RBAC objects that top redefines, followed
// by top: how --bootstrap-policy (base) combines with a user's own
// manifests (top), which may carry edited copies of the default roles.
func Layer(base, top []loader.Object) []loader.Object {
	seen := make(map[ObjectKey]bool, len(top))
	for _, o := range top {
		if k, ok := keyOf(o.Object); ok {
			seen[k] = true
		}
	}
	out := make([]loader.Object, 0, len(base)+len(top))
	for _, o := range base {
		if k, ok := keyOf(o.Object); ok && seen[k] {
			continue
		}
		out = append(out, o)
	}
	return append(out, top...)
}

// keyOf names an RBAC v1 object as FromObjects will (namespace defaulted).
func keyOf(obj runtime.Object) (ObjectKey, bool) {
	ns := func(n string) string {
		if n == "" {
			return DefaultNamespace
		}
		return n
	}
	switch v := obj.(type) {
	case *rbacv1.Role:
		return ObjectKey{KindRole, ns(v.Namespace), v.Name}, true
	case *rbacv1.ClusterRole:
		return ObjectKey{KindClusterRole, "", v.Name}, true
	case *rbacv1.RoleBinding:
		return ObjectKey{KindRoleBinding, ns(v.Namespace), v.Name}, true
	case *rbacv1.ClusterRoleBinding:
		return ObjectKey{KindClusterRoleBinding, "", v.Name}, true
	}
	return ObjectKey{}, false
}
