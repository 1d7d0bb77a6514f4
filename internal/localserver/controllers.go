package localserver

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/watch"

	"github.com/kauth/kauth/internal/localserver/storage"
)

// rootCAConfigMap is the ConfigMap kube-controller-manager's
// root-ca-cert-publisher puts in every namespace.
const rootCAConfigMap = "kube-root-ca.crt"

// namespaceDefaults is kube-controller-manager's service-account
// controller and root-CA publisher in one: every active namespace gets the
// "default" ServiceAccount and the kube-root-ca.crt ConfigMap, created
// again when deleted.
type namespaceDefaults struct {
	store storage.Interface
	caPEM []byte
	log   *slog.Logger
}

// ensure creates the defaults of one namespace when it is active.
func (n *namespaceDefaults) ensure(ctx context.Context, ns string) error {
	obj, err := n.store.Get(ctx, gvrNamespaces, "", ns)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if nsObj, ok := obj.(*corev1.Namespace); !ok || nsObj.DeletionTimestamp != nil || nsObj.Status.Phase == corev1.NamespaceTerminating {
		return nil
	}
	sa := &corev1.ServiceAccount{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "ServiceAccount"},
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "default"},
	}
	if err := createIfMissing(ctx, n.store, gvrServiceAccounts, sa); err != nil {
		return err
	}
	cm := &corev1.ConfigMap{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"},
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: rootCAConfigMap, Annotations: map[string]string{"kubernetes.io/description": "Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across distributions of Kubernetes clusters."}},
		Data:       map[string]string{"ca.crt": string(n.caPEM)},
	}
	return createIfMissing(ctx, n.store, gvrConfigMaps, cm)
}

// ensureAll covers the namespaces that exist now.
func (n *namespaceDefaults) ensureAll(ctx context.Context) error {
	res, err := n.store.List(ctx, gvrNamespaces, "", storage.ListOptions{})
	if err != nil {
		return fmt.Errorf("listing namespaces: %w", err)
	}
	for _, obj := range res.Items {
		if ns, ok := obj.(*corev1.Namespace); ok {
			if err := n.ensure(ctx, ns.Name); err != nil {
				return err
			}
		}
	}
	return nil
}

// run reacts to new namespaces and to deleted defaults from rv on.
func (n *namespaceDefaults) run(ctx context.Context, rv uint64) {
	for _, gvr := range []schema.GroupVersionResource{gvrNamespaces, gvrServiceAccounts, gvrConfigMaps} {
		go n.watch(ctx, gvr, rv)
	}
}

func (n *namespaceDefaults) watch(ctx context.Context, gvr schema.GroupVersionResource, rv uint64) {
	for ctx.Err() == nil {
		w, err := n.store.Watch(ctx, gvr, "", storage.WatchOptions{ResourceVersion: strconv.FormatUint(rv, 10)})
		if err != nil {
			if ctx.Err() == nil {
				n.log.Error("watching for namespace defaults", "resource", gvr.Resource, "err", err)
			}
			return
		}
		rv = n.drain(ctx, w, gvr, rv)
		w.Stop()
		// The watch ended (too old, or the store restarted it): catch up
		// with a full pass, then watch from now.
		rv = n.store.ResourceVersion()
		if err := n.ensureAll(ctx); err != nil && ctx.Err() == nil {
			n.log.Error("ensuring namespace defaults", "err", err)
		}
	}
}

func (n *namespaceDefaults) drain(ctx context.Context, w watch.Interface, gvr schema.GroupVersionResource, rv uint64) uint64 {
	for {
		select {
		case <-ctx.Done():
			return rv
		case ev, ok := <-w.ResultChan():
			if !ok || ev.Type == watch.Error {
				return rv
			}
			m, ok := ev.Object.(metav1.Object)
			if !ok {
				continue
			}
			if v, err := strconv.ParseUint(m.GetResourceVersion(), 10, 64); err == nil {
				rv = v
			}
			n.handle(ctx, gvr, ev.Type, m)
		}
	}
}

func (n *namespaceDefaults) handle(ctx context.Context, gvr schema.GroupVersionResource, typ watch.EventType, m metav1.Object) {
	var ns string
	switch {
	case gvr == gvrNamespaces && (typ == watch.Added || typ == watch.Modified):
		ns = m.GetName()
	case gvr == gvrServiceAccounts && typ == watch.Deleted && m.GetName() == "default":
		ns = m.GetNamespace()
	case gvr == gvrConfigMaps && typ == watch.Deleted && m.GetName() == rootCAConfigMap:
		ns = m.GetNamespace()
	default:
		return
	}
	if err := n.ensure(ctx, ns); err != nil && ctx.Err() == nil {
		n.log.Error("ensuring namespace defaults", "namespace", ns, "err", err)
	}
}
