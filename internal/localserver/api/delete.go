package api

import (
	"context"
	"fmt"
	"net/http"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apiserver/pkg/admission"
	"k8s.io/apiserver/pkg/endpoints/handlers/negotiation"

	"github.com/kauth/kauth/internal/localserver/registry"
	"github.com/kauth/kauth/internal/localserver/storage"
)

var namespacesGVR = corev1.SchemeGroupVersion.WithResource("namespaces")

// immortalNamespaces may not be deleted, as kube-apiserver's
// NamespaceLifecycle admission has it.
var immortalNamespaces = map[string]bool{metav1.NamespaceDefault: true, metav1.NamespaceSystem: true, metav1.NamespacePublic: true}

func (a *API) serveDelete(ctx context.Context, w http.ResponseWriter, req *http.Request, t target) {
	opts, err := a.deleteOptions(w, req)
	if err != nil {
		a.writeError(w, req, err)
		return
	}
	var out runtime.Object
	if t.kind.Resource == "namespaces" {
		out, err = a.deleteNamespace(ctx, t, opts)
	} else {
		out, err = a.deleteOne(ctx, t, opts)
	}
	if err != nil {
		a.writeError(w, req, err)
		return
	}
	a.writeObject(w, req, http.StatusOK, gvOf(t.kind, out), out)
}

func gvOf(k *registry.Kind, obj runtime.Object) schema.GroupVersion {
	if _, ok := obj.(*metav1.Status); ok {
		return schema.GroupVersion{Version: "v1"}
	}
	return k.GVK.GroupVersion()
}

// deleteOptions reads DeleteOptions from the body or the query.
func (a *API) deleteOptions(w http.ResponseWriter, req *http.Request) (*metav1.DeleteOptions, error) {
	opts := &metav1.DeleteOptions{}
	body, err := readBody(w, req)
	if err != nil {
		return nil, err
	}
	if len(body) > 0 {
		info, err := negotiation.NegotiateInputSerializer(req, false, a.codecs)
		if err != nil {
			return nil, err
		}
		gvk := schema.GroupVersionKind{Version: "v1", Kind: "DeleteOptions"}
		if _, _, err := info.Serializer.Decode(body, &gvk, opts); err != nil {
			return nil, apierrors.NewBadRequest(fmt.Sprintf("decode DeleteOptions: %v", err))
		}
	}
	q := req.URL.Query()
	if len(q["dryRun"]) > 0 {
		opts.DryRun = q["dryRun"]
	}
	if p := q.Get("propagationPolicy"); p != "" {
		pp := metav1.DeletionPropagation(p)
		opts.PropagationPolicy = &pp
	}
	for _, v := range opts.DryRun {
		if v != metav1.DryRunAll {
			return nil, apierrors.NewBadRequest(fmt.Sprintf("unsupported dryRun value %q: expected %q", v, metav1.DryRunAll))
		}
	}
	return opts, nil
}

func preconditions(opts *metav1.DeleteOptions) *storage.Preconditions {
	if opts.Preconditions == nil {
		return nil
	}
	p := &storage.Preconditions{}
	if opts.Preconditions.UID != nil {
		p.UID = string(*opts.Preconditions.UID)
	}
	if opts.Preconditions.ResourceVersion != nil {
		p.ResourceVersion = *opts.Preconditions.ResourceVersion
	}
	return p
}

// deleteOne deletes an object, or marks it for deletion while finalizers
// remain, and answers as kube-apiserver's generic registry does.
func (a *API) deleteOne(ctx context.Context, t target, opts *metav1.DeleteOptions) (runtime.Object, error) {
	cur, err := a.store.Get(ctx, t.gvr(), t.namespace, t.name)
	if err != nil {
		return nil, err
	}
	dryRun := len(opts.DryRun) > 0
	if err := a.validateAdmission(ctx, t, nil, cur, admission.Delete, opts, dryRun); err != nil {
		return nil, err
	}
	m, _ := meta.Accessor(cur)
	if len(m.GetFinalizers()) > 0 {
		if dryRun || m.GetDeletionTimestamp() != nil {
			return cur, nil
		}
		return a.markDeleted(ctx, t.gvr(), t.namespace, t.name, nil)
	}
	var out runtime.Object = cur
	if !dryRun {
		if out, err = a.store.Delete(ctx, t.gvr(), t.namespace, t.name, preconditions(opts)); err != nil {
			return nil, err
		}
		if t.kind.Namespaced {
			a.finalizeNamespace(ctx, t.namespace)
		}
	}
	if t.kind.ReturnDeletedObject {
		return out, nil
	}
	om, _ := meta.Accessor(out)
	return &metav1.Status{Status: metav1.StatusSuccess, Details: &metav1.StatusDetails{
		Name: t.name, Group: t.kind.GVK.Group, Kind: t.kind.Resource, UID: om.GetUID()}}, nil
}

// markDeleted sets deletionTimestamp (and lets mutate change more).
func (a *API) markDeleted(ctx context.Context, gvr schema.GroupVersionResource, ns, name string, mutate func(runtime.Object)) (runtime.Object, error) {
	return a.store.GuaranteedUpdate(ctx, gvr, ns, name, func(cur runtime.Object) (runtime.Object, error) {
		m, _ := meta.Accessor(cur)
		if m.GetDeletionTimestamp() == nil {
			now := metav1.NewTime(a.now().UTC())
			zero := int64(0)
			m.SetDeletionTimestamp(&now)
			m.SetDeletionGracePeriodSeconds(&zero)
		}
		if mutate != nil {
			mutate(cur)
		}
		return cur, nil
	})
}

// deleteNamespace moves a namespace to Terminating and finalizes it: its
// content is deleted, then the "kubernetes" finalizer is removed and the
// namespace goes, as kube-apiserver and its namespace controller do.
func (a *API) deleteNamespace(ctx context.Context, t target, opts *metav1.DeleteOptions) (runtime.Object, error) {
	if immortalNamespaces[t.name] {
		return nil, apierrors.NewForbidden(t.kind.GroupResource(), t.name, fmt.Errorf("this namespace may not be deleted"))
	}
	cur, err := a.store.Get(ctx, namespacesGVR, "", t.name)
	if err != nil {
		return nil, err
	}
	ns := cur.(*corev1.Namespace)
	if p := preconditions(opts); p != nil && ((p.UID != "" && p.UID != string(ns.UID)) || (p.ResourceVersion != "" && p.ResourceVersion != ns.ResourceVersion)) {
		return nil, apierrors.NewConflict(t.kind.GroupResource(), t.name, fmt.Errorf("precondition failed"))
	}
	if err := a.validateAdmission(ctx, t, nil, cur, admission.Delete, opts, len(opts.DryRun) > 0); err != nil {
		return nil, err
	}
	if len(opts.DryRun) > 0 || ns.DeletionTimestamp != nil {
		return cur, nil
	}
	marked, err := a.markDeleted(ctx, namespacesGVR, "", t.name, func(o runtime.Object) {
		o.(*corev1.Namespace).Status.Phase = corev1.NamespaceTerminating
	})
	if err != nil {
		return nil, err
	}
	a.finalizeNamespace(ctx, t.name)
	return marked, nil
}

// finalizeNamespace deletes the content of a terminating namespace and,
// once it is empty, removes the namespace finalizer and the namespace.
// Content with finalizers is marked deleted and waits for them.
func (a *API) finalizeNamespace(ctx context.Context, name string) {
	obj, err := a.store.Get(ctx, namespacesGVR, "", name)
	if err != nil {
		return
	}
	if ns := obj.(*corev1.Namespace); ns.DeletionTimestamp == nil {
		return
	}
	remaining := 0
	for _, k := range a.reg.Kinds() {
		if !k.Namespaced || k.Ephemeral {
			continue
		}
		remaining += a.deleteContent(ctx, k, name)
	}
	if remaining > 0 {
		return
	}
	out, err := a.store.GuaranteedUpdate(ctx, namespacesGVR, "", name, func(cur runtime.Object) (runtime.Object, error) {
		ns := cur.(*corev1.Namespace)
		var keep []corev1.FinalizerName
		for _, f := range ns.Spec.Finalizers {
			if f != registry.NamespaceFinalizer {
				keep = append(keep, f)
			}
		}
		ns.Spec.Finalizers = keep
		return ns, nil
	})
	if err != nil {
		return
	}
	if ns := out.(*corev1.Namespace); len(ns.Spec.Finalizers) == 0 && len(ns.Finalizers) == 0 {
		_, _ = a.store.Delete(ctx, namespacesGVR, "", name, nil)
	}
}

// deleteContent deletes the objects of one kind in a namespace and returns
// how many remain (waiting for finalizers).
func (a *API) deleteContent(ctx context.Context, k *registry.Kind, ns string) int {
	res, err := a.store.List(ctx, k.GVR(), ns, storage.ListOptions{})
	if err != nil {
		return 1
	}
	remaining := 0
	for _, obj := range res.Items {
		m, _ := meta.Accessor(obj)
		if len(m.GetFinalizers()) > 0 {
			remaining++
			if m.GetDeletionTimestamp() == nil {
				_, _ = a.markDeleted(ctx, k.GVR(), ns, m.GetName(), nil)
			}
			continue
		}
		if _, err := a.store.Delete(ctx, k.GVR(), ns, m.GetName(), nil); err != nil && !apierrors.IsNotFound(err) {
			remaining++
		}
	}
	return remaining
}

// namespaceAcceptsContent is kube-apiserver's NamespaceLifecycle admission
// for creates: the namespace must exist and not be terminating.
func (a *API) namespaceAcceptsContent(ctx context.Context, k *registry.Kind, m metav1.Object) error {
	obj, err := a.store.Get(ctx, namespacesGVR, "", m.GetNamespace())
	if err != nil {
		return err
	}
	if ns := obj.(*corev1.Namespace); ns.DeletionTimestamp != nil || ns.Status.Phase == corev1.NamespaceTerminating {
		return apierrors.NewForbidden(k.GroupResource(), m.GetName(), fmt.Errorf(
			"unable to create new content in namespace %s because it is being terminated", m.GetNamespace()))
	}
	return nil
}

func (a *API) serveDeleteCollection(ctx context.Context, w http.ResponseWriter, req *http.Request, t target) {
	opts, err := a.deleteOptions(w, req)
	if err != nil {
		a.writeError(w, req, err)
		return
	}
	q := req.URL.Query()
	pred, err := predicate(t.kind, q.Get("labelSelector"), q.Get("fieldSelector"))
	if err != nil {
		a.writeError(w, req, err)
		return
	}
	res, err := a.store.List(ctx, t.gvr(), t.namespace, storage.ListOptions{Predicate: pred})
	if err != nil {
		a.writeError(w, req, err)
		return
	}
	var deleted []runtime.Object
	for _, obj := range res.Items {
		m, _ := meta.Accessor(obj)
		one := t
		one.namespace, one.name = m.GetNamespace(), m.GetName()
		out, err := a.deleteOne(ctx, one, opts)
		if err != nil && !apierrors.IsNotFound(err) {
			a.writeError(w, req, err)
			return
		}
		if _, isStatus := out.(*metav1.Status); !isStatus && out != nil {
			deleted = append(deleted, out)
		} else if out != nil {
			deleted = append(deleted, obj)
		}
	}
	list := t.kind.NewList()
	_ = meta.SetList(list, deleted)
	a.writeObject(w, req, http.StatusOK, t.kind.GVK.GroupVersion(), list)
}
