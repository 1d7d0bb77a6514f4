package localserver

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	flowcontrolv1 "k8s.io/api/flowcontrol/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	flowcontrolbootstrap "k8s.io/apiserver/pkg/apis/flowcontrol/bootstrap"

	"github.com/kauth/kauth/internal/localserver/storage"
	"github.com/kauth/kauth/internal/rbac/bootstrappolicy"
)

// The namespaces every new cluster has.
var systemNamespaces = []string{metav1.NamespaceDefault, metav1.NamespaceSystem, metav1.NamespacePublic, corev1.NamespaceNodeLease}

var (
	gvrNamespaces      = corev1.SchemeGroupVersion.WithResource("namespaces")
	gvrServiceAccounts = corev1.SchemeGroupVersion.WithResource("serviceaccounts")
	gvrSecrets         = corev1.SchemeGroupVersion.WithResource("secrets")
	gvrPods            = corev1.SchemeGroupVersion.WithResource("pods")
	gvrConfigMaps      = corev1.SchemeGroupVersion.WithResource("configmaps")
	gvrFlowSchemas     = flowcontrolv1.SchemeGroupVersion.WithResource("flowschemas")
	gvrPriorityLevels  = flowcontrolv1.SchemeGroupVersion.WithResource("prioritylevelconfigurations")
)

// seedDefaults creates what a new kube-apiserver has after its post-start
// hooks: the system namespaces, the bootstrap RBAC policy and the APF
// configuration (mandatory and suggested objects). Objects that already
// exist (a restart with a data dir) are kept as they are, user changes
// included, so seeding is idempotent.
func seedDefaults(ctx context.Context, store storage.Interface) error {
	for _, ns := range systemNamespaces {
		if err := createIfMissing(ctx, store, gvrNamespaces, newNamespace(ns)); err != nil {
			return err
		}
	}
	objs, err := bootstrappolicy.Objects()
	if err != nil {
		return fmt.Errorf("bootstrap RBAC policy: %w", err)
	}
	for _, obj := range objs {
		if err := createIfMissing(ctx, store, rbacResource(obj), obj); err != nil {
			return err
		}
	}
	return seedAPF(ctx, store)
}

func seedAPF(ctx context.Context, store storage.Interface) error {
	plcs := append(append([]*flowcontrolv1.PriorityLevelConfiguration{}, flowcontrolbootstrap.MandatoryPriorityLevelConfigurations...), flowcontrolbootstrap.SuggestedPriorityLevelConfigurations...)
	for _, p := range plcs {
		obj := p.DeepCopy()
		obj.TypeMeta = metav1.TypeMeta{APIVersion: flowcontrolv1.SchemeGroupVersion.String(), Kind: "PriorityLevelConfiguration"}
		if err := createIfMissing(ctx, store, gvrPriorityLevels, obj); err != nil {
			return err
		}
	}
	fss := append(append([]*flowcontrolv1.FlowSchema{}, flowcontrolbootstrap.MandatoryFlowSchemas...), flowcontrolbootstrap.SuggestedFlowSchemas...)
	for _, f := range fss {
		obj := f.DeepCopy()
		obj.TypeMeta = metav1.TypeMeta{APIVersion: flowcontrolv1.SchemeGroupVersion.String(), Kind: "FlowSchema"}
		if err := createIfMissing(ctx, store, gvrFlowSchemas, obj); err != nil {
			return err
		}
	}
	return nil
}

func newNamespace(name string) *corev1.Namespace {
	return &corev1.Namespace{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Namespace"},
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{corev1.LabelMetadataName: name}},
		Spec:       corev1.NamespaceSpec{Finalizers: []corev1.FinalizerName{corev1.FinalizerKubernetes}},
		Status:     corev1.NamespaceStatus{Phase: corev1.NamespaceActive},
	}
}

func rbacResource(obj runtime.Object) schema.GroupVersionResource {
	switch obj.(type) {
	case *rbacv1.Role:
		return gvrRoles
	case *rbacv1.RoleBinding:
		return gvrRoleBindings
	case *rbacv1.ClusterRoleBinding:
		return gvrClusterRoleBindings
	default:
		return gvrClusterRoles
	}
}

func createIfMissing(ctx context.Context, store storage.Interface, gvr schema.GroupVersionResource, obj runtime.Object) error {
	_, err := store.Create(ctx, gvr, obj)
	if err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("seeding %s: %w", gvr.Resource, err)
	}
	return nil
}
