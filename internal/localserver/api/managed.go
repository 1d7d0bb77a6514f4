package api

import (
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/managedfields"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
)

// fieldManager returns the managed-fields tracker of a kind and
// subresource, built on first use from the OpenAPI type converter.
func (a *API) fieldManager(t target) (*managedfields.FieldManager, error) {
	key := fieldManagerKey{gvk: t.kind.GVK, subresource: t.sub}
	a.fmMu.Lock()
	defer a.fmMu.Unlock()
	if fm, ok := a.fieldManagers[key]; ok {
		return fm, nil
	}
	tc, err := typeConverter()
	if err != nil {
		return nil, apierrors.NewInternalError(err)
	}
	fm, err := managedfields.NewDefaultFieldManager(tc, a.scheme, a.scheme, a.scheme,
		t.kind.GVK, t.kind.GVK.GroupVersion(), t.sub, nil)
	if err != nil {
		return nil, apierrors.NewInternalError(err)
	}
	a.fieldManagers[key] = fm
	return fm, nil
}

// withKind sets the object's apiVersion and kind for the duration of f, as
// the field manager reads them to find the object's schema.
func withKind(gvk schema.GroupVersionKind, objs ...runtime.Object) func() {
	for _, o := range objs {
		if o != nil {
			o.GetObjectKind().SetGroupVersionKind(gvk)
		}
	}
	return func() {
		for _, o := range objs {
			if o != nil {
				o.GetObjectKind().SetGroupVersionKind(schema.GroupVersionKind{})
			}
		}
	}
}

// trackCreate records manager as the owner of every field of a new object.
func (a *API) trackCreate(t target, obj runtime.Object, manager string) (runtime.Object, error) {
	return a.trackUpdate(t, t.kind.New(), obj, manager)
}

// trackUpdate records the fields manager changed from live to obj.
func (a *API) trackUpdate(t target, live, obj runtime.Object, manager string) (runtime.Object, error) {
	fm, err := a.fieldManager(t)
	if err != nil {
		return nil, err
	}
	live = live.DeepCopyObject()
	restore := withKind(t.kind.GVK, live, obj)
	out := fm.UpdateNoErrors(live, obj, manager)
	restore()
	if out != obj {
		out.GetObjectKind().SetGroupVersionKind(schema.GroupVersionKind{})
	}
	return out, nil
}

// apply runs server-side apply of patch onto live for manager.
func (a *API) apply(t target, live runtime.Object, patch *unstructured.Unstructured, manager string, force bool) (runtime.Object, error) {
	fm, err := a.fieldManager(t)
	if err != nil {
		return nil, err
	}
	restore := withKind(t.kind.GVK, live)
	out, err := fm.Apply(live, patch, manager, force)
	restore()
	if err != nil {
		return nil, err
	}
	out.GetObjectKind().SetGroupVersionKind(schema.GroupVersionKind{})
	if _, err := meta.Accessor(out); err != nil {
		return nil, apierrors.NewInternalError(err)
	}
	return out, nil
}
