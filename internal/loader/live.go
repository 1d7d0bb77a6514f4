package loader

import (
	"context"
	"fmt"

	flowcontrolv1 "k8s.io/api/flowcontrol/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes"
)

// Well-known kinds for LoadLive.
var (
	RoleKind                       = rbacv1.SchemeGroupVersion.WithKind("Role")
	ClusterRoleKind                = rbacv1.SchemeGroupVersion.WithKind("ClusterRole")
	RoleBindingKind                = rbacv1.SchemeGroupVersion.WithKind("RoleBinding")
	ClusterRoleBindingKind         = rbacv1.SchemeGroupVersion.WithKind("ClusterRoleBinding")
	FlowSchemaKind                 = flowcontrolv1.SchemeGroupVersion.WithKind("FlowSchema")
	PriorityLevelConfigurationKind = flowcontrolv1.SchemeGroupVersion.WithKind("PriorityLevelConfiguration")
	NamespaceKind                  = schema.GroupVersionKind{Version: "v1", Kind: "Namespace"}
	ResourceQuotaKind              = schema.GroupVersionKind{Version: "v1", Kind: "ResourceQuota"}
	LimitRangeKind                 = schema.GroupVersionKind{Version: "v1", Kind: "LimitRange"}
)

// RBACKinds are the four kinds the RBAC authorizer reads.
var RBACKinds = []schema.GroupVersionKind{RoleKind, ClusterRoleKind, RoleBindingKind, ClusterRoleBindingKind}

// LiveSource is the source of objects read from a cluster.
const LiveSource = "live"

// LoadLive lists the given kinds from a cluster, in all namespaces, and
// returns them with source "live" and their apiVersion and kind set.
func LoadLive(ctx context.Context, client kubernetes.Interface, kinds ...schema.GroupVersionKind) ([]Object, error) {
	var out []Object
	for _, gvk := range kinds {
		objs, err := listKind(ctx, client, gvk)
		if err != nil {
			return nil, fmt.Errorf("listing %s from the cluster: %w", gvk.Kind, err)
		}
		for _, o := range objs {
			o.GetObjectKind().SetGroupVersionKind(gvk)
			out = append(out, Object{Object: o, Source: Source{File: LiveSource}})
		}
	}
	return out, nil
}

func listKind(ctx context.Context, c kubernetes.Interface, gvk schema.GroupVersionKind) ([]runtime.Object, error) {
	all := metav1.ListOptions{}
	switch gvk {
	case RoleKind:
		l, err := c.RbacV1().Roles("").List(ctx, all)
		return items(l, err, func() int { return len(l.Items) }, func(i int) runtime.Object { return &l.Items[i] })
	case ClusterRoleKind:
		l, err := c.RbacV1().ClusterRoles().List(ctx, all)
		return items(l, err, func() int { return len(l.Items) }, func(i int) runtime.Object { return &l.Items[i] })
	case RoleBindingKind:
		l, err := c.RbacV1().RoleBindings("").List(ctx, all)
		return items(l, err, func() int { return len(l.Items) }, func(i int) runtime.Object { return &l.Items[i] })
	case ClusterRoleBindingKind:
		l, err := c.RbacV1().ClusterRoleBindings().List(ctx, all)
		return items(l, err, func() int { return len(l.Items) }, func(i int) runtime.Object { return &l.Items[i] })
	case FlowSchemaKind:
		l, err := c.FlowcontrolV1().FlowSchemas().List(ctx, all)
		return items(l, err, func() int { return len(l.Items) }, func(i int) runtime.Object { return &l.Items[i] })
	case PriorityLevelConfigurationKind:
		l, err := c.FlowcontrolV1().PriorityLevelConfigurations().List(ctx, all)
		return items(l, err, func() int { return len(l.Items) }, func(i int) runtime.Object { return &l.Items[i] })
	case NamespaceKind:
		l, err := c.CoreV1().Namespaces().List(ctx, all)
		return items(l, err, func() int { return len(l.Items) }, func(i int) runtime.Object { return &l.Items[i] })
	case ResourceQuotaKind:
		l, err := c.CoreV1().ResourceQuotas("").List(ctx, all)
		return items(l, err, func() int { return len(l.Items) }, func(i int) runtime.Object { return &l.Items[i] })
	case LimitRangeKind:
		l, err := c.CoreV1().LimitRanges("").List(ctx, all)
		return items(l, err, func() int { return len(l.Items) }, func(i int) runtime.Object { return &l.Items[i] })
	}
	return nil, fmt.Errorf("kind %s is not supported for live loading", gvk)
}

func items[L any](_ L, err error, n func() int, at func(int) runtime.Object) ([]runtime.Object, error) {
	if err != nil {
		return nil, err
	}
	out := make([]runtime.Object, n())
	for i := range out {
		out[i] = at(i)
	}
	return out, nil
}
