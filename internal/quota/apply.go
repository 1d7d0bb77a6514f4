package quota

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"
)

// Actions Apply reports for each object.
const (
	ActionCreated   = "created"
	ActionUpdated   = "updated"
	ActionUnchanged = "unchanged"
)

// Applied is what Apply did to one object.
type Applied struct {
	Kind      string `json:"kind"`
	Namespace string `json:"namespace,omitempty"`
	Name      string `json:"name"`
	Action    string `json:"action"`
}

// ApplyResult lists what Apply did, in the list's order.
type ApplyResult struct {
	Objects []Applied `json:"objects"`
}

type crud[T metav1.Object] interface {
	Get(ctx context.Context, name string, opts metav1.GetOptions) (T, error)
	Create(ctx context.Context, obj T, opts metav1.CreateOptions) (T, error)
	Update(ctx context.Context, obj T, opts metav1.UpdateOptions) (T, error)
}

// Apply creates each object of the list, or updates it in place when it
// exists: labels and annotations are merged (kauth's own win), the spec,
// data or subjects are replaced. Objects it does not generate are an error.
func Apply(ctx context.Context, c kubernetes.Interface, list *List) (*ApplyResult, error) {
	res := &ApplyResult{Objects: []Applied{}}
	for _, item := range list.Items {
		a, err := applyOne(ctx, c, item)
		if err != nil {
			return res, err
		}
		res.Objects = append(res.Objects, a)
	}
	return res, nil
}

func applyOne(ctx context.Context, c kubernetes.Interface, item runtime.Object) (Applied, error) {
	var action string
	var err error
	switch o := item.(type) {
	case *corev1.Namespace:
		action, err = upsert(ctx, c.CoreV1().Namespaces(), o, func(have, want *corev1.Namespace) {})
	case *corev1.ResourceQuota:
		action, err = upsert(ctx, c.CoreV1().ResourceQuotas(o.Namespace), o, func(have, want *corev1.ResourceQuota) { have.Spec = want.Spec })
	case *corev1.LimitRange:
		action, err = upsert(ctx, c.CoreV1().LimitRanges(o.Namespace), o, func(have, want *corev1.LimitRange) { have.Spec = want.Spec })
	case *rbacv1.RoleBinding:
		action, err = upsertRoleBinding(ctx, c, o)
	case *corev1.ConfigMap:
		action, err = upsert(ctx, c.CoreV1().ConfigMaps(o.Namespace), o, func(have, want *corev1.ConfigMap) { have.Data = want.Data })
	default:
		return Applied{}, fmt.Errorf("applying %T: not an object kauth quota generates", item)
	}
	kind := item.GetObjectKind().GroupVersionKind().Kind
	m, _ := item.(metav1.Object)
	if err != nil {
		return Applied{}, fmt.Errorf("applying %s %s: %w", kind, qualifiedName(m), err)
	}
	return Applied{Kind: kind, Namespace: m.GetNamespace(), Name: m.GetName(), Action: action}, nil
}

func qualifiedName(m metav1.Object) string {
	if m.GetNamespace() == "" {
		return m.GetName()
	}
	return m.GetNamespace() + "/" + m.GetName()
}

// upsert creates want, or merges it into the existing object with
// mergeSpec and updates it when something changed.
func upsert[T interface {
	metav1.Object
	runtime.Object
}](ctx context.Context, c crud[T], want T, mergeSpec func(have, want T)) (string, error) {
	have, err := c.Get(ctx, want.GetName(), metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		_, err = c.Create(ctx, want, metav1.CreateOptions{FieldManager: ManagedBy})
		return ActionCreated, err
	}
	if err != nil {
		return "", err
	}
	updated, ok := have.DeepCopyObject().(T)
	if !ok {
		return "", fmt.Errorf("unexpected type %T", have)
	}
	updated.SetLabels(mergeMaps(updated.GetLabels(), want.GetLabels()))
	updated.SetAnnotations(mergeMaps(updated.GetAnnotations(), want.GetAnnotations()))
	mergeSpec(updated, want)
	if equality.Semantic.DeepEqual(have, updated) {
		return ActionUnchanged, nil
	}
	_, err = c.Update(ctx, updated, metav1.UpdateOptions{FieldManager: ManagedBy})
	return ActionUpdated, err
}

// upsertRoleBinding replaces a binding whose roleRef changed: roleRef is
// immutable, so it is deleted and created again.
func upsertRoleBinding(ctx context.Context, c kubernetes.Interface, want *rbacv1.RoleBinding) (string, error) {
	rbs := c.RbacV1().RoleBindings(want.Namespace)
	have, err := rbs.Get(ctx, want.Name, metav1.GetOptions{})
	if err == nil && have.RoleRef != want.RoleRef {
		if err := rbs.Delete(ctx, want.Name, metav1.DeleteOptions{}); err != nil {
			return "", err
		}
		if _, err := rbs.Create(ctx, want, metav1.CreateOptions{FieldManager: ManagedBy}); err != nil {
			return "", err
		}
		return ActionUpdated, nil
	}
	return upsert(ctx, rbs, want, func(have, want *rbacv1.RoleBinding) { have.Subjects = want.Subjects })
}

func mergeMaps(have, want map[string]string) map[string]string {
	if len(want) == 0 {
		return have
	}
	out := map[string]string{}
	for k, v := range have {
		out[k] = v
	}
	for k, v := range want {
		out[k] = v
	}
	return out
}
