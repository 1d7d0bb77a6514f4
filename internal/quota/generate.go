package quota

import (
	"encoding/json"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	sigsyaml "sigs.k8s.io/yaml"
)

// Names and labels of what Generate produces.
const (
	TenantLabel    = "kauth.io/tenant"
	ManagedByLabel = "app.kubernetes.io/managed-by"
	ManagedBy      = "kauth"
	// ObjectName names the ResourceQuota, LimitRange, RoleBinding and
	// ConfigMap in each tenant namespace.
	ObjectName = "kauth-tenant"
	// SpecKey is the ConfigMap key holding the tenant's spec.
	SpecKey = "tenant.yaml"
)

// List is a kubectl-appliable list of objects.
type List struct {
	APIVersion string           `json:"apiVersion"`
	Kind       string           `json:"kind"`
	Items      []runtime.Object `json:"items"`
}

// Generate turns the tenants file into the objects of every tenant
// namespace, in an order kubectl can apply: for each namespace, the
// Namespace (labelled with its tenant), then its ResourceQuota, LimitRange,
// RoleBinding of the admins to the admin role, and a ConfigMap holding the
// tenant's effective spec so the spec travels with the cluster.
func Generate(t *Tenants) (*List, error) {
	list := &List{APIVersion: "v1", Kind: "List", Items: []runtime.Object{}}
	for i := range t.Tenants {
		tn := t.Effective(i)
		spec, err := sigsyaml.Marshal(tn)
		if err != nil {
			return nil, fmt.Errorf("encoding tenant %q: %w", tn.Name, err)
		}
		for _, ns := range tn.Namespaces {
			list.Items = append(list.Items, tenantObjects(tn, ns, string(spec))...)
		}
	}
	return list, nil
}

func tenantObjects(tn Tenant, ns, spec string) []runtime.Object {
	objs := []runtime.Object{namespaceFor(tn, ns)}
	if tn.Quota != nil {
		objs = append(objs, &corev1.ResourceQuota{
			TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "ResourceQuota"},
			ObjectMeta: tenantMeta(tn, ns),
			Spec: corev1.ResourceQuotaSpec{
				Hard: tn.Quota.Hard.DeepCopy(), Scopes: tn.Quota.Scopes,
				ScopeSelector: tn.Quota.ScopeSelector.DeepCopy(),
			},
		})
	}
	if len(tn.Limits) > 0 {
		lr := &corev1.LimitRange{
			TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "LimitRange"},
			ObjectMeta: tenantMeta(tn, ns),
		}
		for _, item := range tn.Limits {
			lr.Spec.Limits = append(lr.Spec.Limits, *item.DeepCopy())
		}
		objs = append(objs, lr)
	}
	if subjects := adminSubjects(tn.Admins); len(subjects) > 0 {
		objs = append(objs, &rbacv1.RoleBinding{
			TypeMeta:   metav1.TypeMeta{APIVersion: rbacv1.SchemeGroupVersion.String(), Kind: "RoleBinding"},
			ObjectMeta: tenantMeta(tn, ns),
			Subjects:   subjects,
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: tn.AdminRole},
		})
	}
	return append(objs, &corev1.ConfigMap{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"},
		ObjectMeta: tenantMeta(tn, ns),
		Data:       map[string]string{SpecKey: spec},
	})
}

func namespaceFor(tn Tenant, ns string) *corev1.Namespace {
	labels := map[string]string{}
	for k, v := range tn.Labels {
		labels[k] = v
	}
	labels[TenantLabel] = tn.Name
	labels[ManagedByLabel] = ManagedBy
	var annotations map[string]string
	if len(tn.Annotations) > 0 {
		annotations = map[string]string{}
		for k, v := range tn.Annotations {
			annotations[k] = v
		}
	}
	return &corev1.Namespace{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Namespace"},
		ObjectMeta: metav1.ObjectMeta{Name: ns, Labels: labels, Annotations: annotations},
	}
}

func tenantMeta(tn Tenant, ns string) metav1.ObjectMeta {
	return metav1.ObjectMeta{
		Name: ObjectName, Namespace: ns,
		Labels: map[string]string{TenantLabel: tn.Name, ManagedByLabel: ManagedBy},
	}
}

func adminSubjects(a Admins) []rbacv1.Subject {
	var out []rbacv1.Subject
	for _, g := range a.Groups {
		out = append(out, rbacv1.Subject{Kind: rbacv1.GroupKind, APIGroup: rbacv1.GroupName, Name: g})
	}
	for _, u := range a.Users {
		out = append(out, rbacv1.Subject{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: u})
	}
	return out
}

// MarshalJSON writes the list as kubectl prints objects: without status
// and without an empty spec.
func (l *List) MarshalJSON() ([]byte, error) {
	items := make([]map[string]any, len(l.Items))
	for i, item := range l.Items {
		m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(item)
		if err != nil {
			return nil, fmt.Errorf("encoding %T: %w", item, err)
		}
		delete(m, "status")
		if spec, ok := m["spec"].(map[string]any); ok && len(spec) == 0 {
			delete(m, "spec")
		}
		items[i] = m
	}
	return json.Marshal(struct {
		APIVersion string           `json:"apiVersion"`
		Kind       string           `json:"kind"`
		Items      []map[string]any `json:"items"`
	}{l.APIVersion, l.Kind, items})
}
