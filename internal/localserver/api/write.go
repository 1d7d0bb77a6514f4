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
	utilrand "k8s.io/apimachinery/pkg/util/rand"
	"k8s.io/apiserver/pkg/admission"
	"k8s.io/apiserver/pkg/endpoints/request"
)

// generateNameSuffix is the length of the random suffix for generateName,
// as kube-apiserver's SimpleNameGenerator.
const generateNameSuffix = 5

func (a *API) serveCreate(ctx context.Context, w http.ResponseWriter, req *http.Request, t target) {
	opts, err := parseWriteOptions(req, "CreateOptions")
	if err == nil {
		var body []byte
		if body, err = readBody(w, req); err == nil {
			var obj runtime.Object
			if obj, err = a.decodeBody(w, req, t.kind, body, opts.fieldValidation); err == nil {
				obj, err = a.create(ctx, req, t, obj, opts)
				if err == nil {
					a.writeTransformed(w, req, http.StatusCreated, t.kind, obj, false)
					return
				}
			}
		}
	}
	a.writeError(w, req, err)
}

// create runs one create through namespace checks, the strategy,
// admission, validation, managed fields and the store.
func (a *API) create(ctx context.Context, req *http.Request, t target, obj runtime.Object, opts writeOptions) (runtime.Object, error) {
	m, err := meta.Accessor(obj)
	if err != nil {
		return nil, apierrors.NewBadRequest(err.Error())
	}
	if err := a.checkNamespace(t, m); err != nil {
		return nil, err
	}
	if m.GetName() == "" && m.GetGenerateName() != "" {
		m.SetName(m.GetGenerateName() + utilrand.String(generateNameSuffix))
	}
	if m.GetResourceVersion() != "" {
		return nil, apierrors.NewBadRequest("resourceVersion should not be set on objects to be created")
	}
	if t.kind.Namespaced {
		if err := a.namespaceAcceptsContent(ctx, t.kind, m); err != nil {
			return nil, err
		}
	}
	m.SetUID("")
	m.SetCreationTimestamp(metav1.Time{})
	m.SetDeletionTimestamp(nil)
	m.SetDeletionGracePeriodSeconds(nil)
	m.SetGeneration(0)
	m.SetSelfLink("")
	t.kind.Strategy.PrepareForCreate(ctx, obj)
	// As kube-apiserver's create handler, the managed fields record the
	// request with its defaults, before mutating admission: what admission
	// adds (a token volume, a webhook's or a policy's patch) is nobody's.
	if !opts.applied {
		if obj, err = a.trackCreate(t, obj, managerName(req, opts.fieldManager)); err != nil {
			return nil, err
		}
	}
	if err := a.admit(ctx, t, obj, nil, admission.Create, &metav1.CreateOptions{}, opts.dryRun); err != nil {
		return nil, err
	}
	if errs := t.kind.Strategy.Validate(obj); len(errs) > 0 {
		return nil, apierrors.NewInvalid(t.kind.GVK.GroupKind(), m.GetName(), errs)
	}
	if err := a.checkEscalation(ctx, t, obj, nil); err != nil {
		return nil, err
	}
	if err := a.validateAdmission(ctx, t, obj, nil, admission.Create, &metav1.CreateOptions{}, opts.dryRun); err != nil {
		return nil, err
	}
	if opts.dryRun {
		return obj, nil
	}
	return a.store.Create(ctx, t.gvr(), obj)
}

// checkNamespace fills the object's namespace from the URL, or refuses a
// mismatch, as kube-apiserver's EnsureObjectNamespaceMatchesRequestNamespace.
func (a *API) checkNamespace(t target, m metav1.Object) error {
	switch {
	case !t.kind.Namespaced:
		m.SetNamespace("")
	case m.GetNamespace() == "":
		m.SetNamespace(t.namespace)
	case t.namespace != "" && m.GetNamespace() != t.namespace:
		return apierrors.NewBadRequest("the namespace of the provided object does not match the namespace sent on the request")
	}
	if t.kind.Namespaced && m.GetNamespace() == "" {
		return apierrors.NewBadRequest("the namespace of the provided object does not match the namespace sent on the request")
	}
	return nil
}

func managerName(req *http.Request, explicit string) string {
	if explicit != "" {
		return explicit
	}
	return managerFromUserAgent(req.UserAgent())
}

func (a *API) serveUpdate(ctx context.Context, w http.ResponseWriter, req *http.Request, t target) {
	opts, err := parseWriteOptions(req, "UpdateOptions")
	if err == nil {
		var body []byte
		if body, err = readBody(w, req); err == nil {
			var obj runtime.Object
			if obj, err = a.decodeBody(w, req, t.kind, body, opts.fieldValidation); err == nil {
				var code int
				obj, code, err = a.update(ctx, req, t, obj, opts)
				if err == nil {
					obj = a.afterWrite(ctx, t, obj)
					a.writeTransformed(w, req, code, t.kind, obj, false)
					return
				}
			}
		}
	}
	a.writeError(w, req, err)
}

// update replaces an object (or creates it where the kind allows).
func (a *API) update(ctx context.Context, req *http.Request, t target, obj runtime.Object, opts writeOptions) (runtime.Object, int, error) {
	m, err := meta.Accessor(obj)
	if err != nil {
		return nil, 0, apierrors.NewBadRequest(err.Error())
	}
	if m.GetName() != t.name {
		return nil, 0, apierrors.NewBadRequest(fmt.Sprintf("the name of the object (%s) does not match the name on the URL (%s)", m.GetName(), t.name))
	}
	if err := a.checkNamespace(t, m); err != nil {
		return nil, 0, err
	}
	if _, err := a.store.Get(ctx, t.gvr(), t.namespace, t.name); apierrors.IsNotFound(err) && t.kind.AllowCreateOnUpdate && t.sub == "" {
		m.SetResourceVersion("")
		out, err := a.create(ctx, req, t, obj, opts)
		return out, http.StatusCreated, err
	}
	out, err := a.guaranteedUpdate(ctx, req, t, opts, func(cur runtime.Object) (runtime.Object, error) {
		return obj.DeepCopyObject(), nil
	})
	return out, http.StatusOK, err
}

// guaranteedUpdate runs an update of the stored object: newObj derives the
// requested object from the current one (a PUT body, a patch), then the
// strategy, admission, validation, managed fields and the store follow.
// A stale resourceVersion in the requested object is a 409 Conflict.
func (a *API) guaranteedUpdate(ctx context.Context, req *http.Request, t target, opts writeOptions, newObj func(cur runtime.Object) (runtime.Object, error)) (runtime.Object, error) {
	var result runtime.Object
	_, err := a.store.GuaranteedUpdate(ctx, t.gvr(), t.namespace, t.name, func(cur runtime.Object) (runtime.Object, error) {
		obj, err := newObj(cur.DeepCopyObject())
		if err != nil {
			return nil, err
		}
		obj, err = a.prepareUpdate(ctx, req, t, obj, cur, opts)
		if err != nil {
			return nil, err
		}
		if opts.dryRun {
			result = obj
			return nil, errDryRun
		}
		return obj, nil
	})
	if err == errDryRun {
		return result, nil
	}
	if err != nil {
		return nil, err
	}
	return a.afterUpdate(ctx, t)
}

// errDryRun stops a dry-run update before the store writes.
var errDryRun = fmt.Errorf("dry run")

// afterUpdate re-reads the object, deleting it when an update removed the
// last finalizer of an object being deleted.
func (a *API) afterUpdate(ctx context.Context, t target) (runtime.Object, error) {
	obj, err := a.store.Get(ctx, t.gvr(), t.namespace, t.name)
	if err != nil {
		return nil, err
	}
	m, _ := meta.Accessor(obj)
	if m.GetDeletionTimestamp() == nil || len(m.GetFinalizers()) > 0 || pendingNamespaceFinalizers(obj) {
		return obj, nil
	}
	deleted, err := a.store.Delete(ctx, t.gvr(), t.namespace, t.name, nil)
	if err == nil && t.kind.Namespaced {
		a.finalizeNamespace(ctx, t.namespace)
	}
	return deleted, err
}

func pendingNamespaceFinalizers(obj runtime.Object) bool {
	ns, ok := obj.(*corev1.Namespace)
	return ok && len(ns.Spec.Finalizers) > 0
}

func (a *API) prepareUpdate(ctx context.Context, req *http.Request, t target, obj, cur runtime.Object, opts writeOptions) (runtime.Object, error) {
	m, err := meta.Accessor(obj)
	if err != nil {
		return nil, apierrors.NewBadRequest(err.Error())
	}
	cm, _ := meta.Accessor(cur)
	if m.GetName() != cm.GetName() || (t.kind.Namespaced && m.GetNamespace() != cm.GetNamespace()) {
		return nil, apierrors.NewBadRequest(fmt.Sprintf("the name of the object (%s) does not match the name on the URL (%s)", m.GetName(), cm.GetName()))
	}
	if rv := m.GetResourceVersion(); rv != "" && rv != cm.GetResourceVersion() {
		return nil, apierrors.NewConflict(t.kind.GroupResource(), t.name,
			fmt.Errorf("the object has been modified; please apply your changes to the latest version and try again"))
	}
	m.SetResourceVersion(cm.GetResourceVersion())
	m.SetUID(cm.GetUID())
	m.SetCreationTimestamp(cm.GetCreationTimestamp())
	m.SetDeletionTimestamp(cm.GetDeletionTimestamp())
	m.SetDeletionGracePeriodSeconds(cm.GetDeletionGracePeriodSeconds())
	m.SetGeneration(cm.GetGeneration())
	if t.sub != "" {
		t.kind.Subresources[t.sub].PrepareForUpdate(ctx, obj, cur)
	} else {
		t.kind.Strategy.PrepareForUpdate(ctx, obj, cur)
	}
	// Managed fields before mutating admission, as on create.
	if !opts.applied {
		var err error
		if obj, err = a.trackUpdate(t, cur, obj, managerName(req, opts.fieldManager)); err != nil {
			return nil, err
		}
	}
	if err := a.admit(ctx, t, obj, cur, admission.Update, &metav1.UpdateOptions{}, opts.dryRun); err != nil {
		return nil, err
	}
	if errs := t.kind.ValidateUpdateFor(t.sub)(obj, cur); len(errs) > 0 {
		return nil, apierrors.NewInvalid(t.kind.GVK.GroupKind(), t.name, errs)
	}
	if err := a.checkEscalation(ctx, t, obj, cur); err != nil {
		return nil, err
	}
	if err := a.validateAdmission(ctx, t, obj, cur, admission.Update, &metav1.UpdateOptions{}, opts.dryRun); err != nil {
		return nil, err
	}
	return obj, nil
}

// admit runs mutating admission when configured.
func (a *API) admit(ctx context.Context, t target, obj, old runtime.Object, op admission.Operation, opOpts runtime.Object, dryRun bool) error {
	mut, ok := a.hooks.Admission.(admission.MutationInterface)
	if !ok || !mut.Handles(op) {
		return nil
	}
	return mut.Admit(ctx, a.attributes(ctx, t, obj, old, op, opOpts, dryRun), a.objIface)
}

// validateAdmission runs validating admission when configured.
func (a *API) validateAdmission(ctx context.Context, t target, obj, old runtime.Object, op admission.Operation, opOpts runtime.Object, dryRun bool) error {
	val, ok := a.hooks.Admission.(admission.ValidationInterface)
	if !ok || !val.Handles(op) {
		return nil
	}
	return val.Validate(ctx, a.attributes(ctx, t, obj, old, op, opOpts, dryRun), a.objIface)
}

func (a *API) attributes(ctx context.Context, t target, obj, old runtime.Object, op admission.Operation, opOpts runtime.Object, dryRun bool) admission.Attributes {
	u, _ := request.UserFrom(ctx)
	ns, name := t.namespace, t.name
	if m, err := meta.Accessor(obj); err == nil && obj != nil {
		ns, name = m.GetNamespace(), m.GetName()
	}
	return admission.NewAttributesRecord(obj, old, t.kind.GVK, ns, name, t.gvr(), t.sub, op, opOpts, dryRun, u)
}
