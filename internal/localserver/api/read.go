package api

import (
	"context"
	"fmt"
	"net/http"
	"strconv"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/apiserver/pkg/endpoints/handlers/negotiation"
	apistorage "k8s.io/apiserver/pkg/storage"

	"github.com/kauth/kauth/internal/localserver/registry"
	"github.com/kauth/kauth/internal/localserver/storage"
)

func (a *API) serveGet(ctx context.Context, w http.ResponseWriter, req *http.Request, t target) {
	obj, err := a.store.Get(ctx, t.gvr(), t.namespace, t.name)
	if err != nil {
		a.writeError(w, req, err)
		return
	}
	a.writeTransformed(w, req, http.StatusOK, t.kind, obj, false)
}

func (a *API) serveList(ctx context.Context, w http.ResponseWriter, req *http.Request, t target) {
	q := req.URL.Query()
	pred, err := predicate(t.kind, q.Get("labelSelector"), q.Get("fieldSelector"))
	if err != nil {
		a.writeError(w, req, err)
		return
	}
	opts := storage.ListOptions{Predicate: pred, Continue: q.Get("continue")}
	if opts.ResourceVersion, err = listResourceVersion(q.Get("resourceVersion"), q.Get("resourceVersionMatch"), opts.Continue, a.store.ResourceVersion()); err != nil {
		a.writeError(w, req, err)
		return
	}
	if s := q.Get("limit"); s != "" {
		if opts.Limit, err = strconv.ParseInt(s, 10, 64); err != nil || opts.Limit < 0 {
			a.writeError(w, req, apierrors.NewBadRequest(fmt.Sprintf("invalid limit %q: expected a non-negative integer", s)))
			return
		}
	}
	res, err := a.store.List(ctx, t.gvr(), t.namespace, opts)
	if err != nil {
		a.writeError(w, req, err)
		return
	}
	list := t.kind.NewList()
	if err := meta.SetList(list, res.Items); err != nil {
		a.writeError(w, req, apierrors.NewInternalError(err))
		return
	}
	lm, _ := meta.ListAccessor(list)
	lm.SetResourceVersion(strconv.FormatUint(res.ResourceVersion, 10))
	lm.SetContinue(res.Continue)
	lm.SetRemainingItemCount(res.RemainingItemCount)
	a.writeTransformed(w, req, http.StatusOK, t.kind, list, true)
}

// predicate builds the label and field selector filter; errors are 400s
// with kube-apiserver's messages.
func predicate(k *registry.Kind, labelSel, fieldSel string) (func(runtime.Object) bool, error) {
	ls, err := labels.Parse(labelSel)
	if err != nil {
		return nil, apierrors.NewBadRequest(err.Error())
	}
	fs, err := fields.ParseSelector(fieldSel)
	if err != nil {
		return nil, apierrors.NewBadRequest(err.Error())
	}
	supported, _ := k.Fields(k.New())
	for _, r := range fs.Requirements() {
		if _, ok := supported[r.Field]; !ok {
			return nil, apierrors.NewBadRequest(fmt.Sprintf("field label not supported: %s", r.Field))
		}
	}
	if ls.Empty() && fs.Empty() {
		return nil, nil
	}
	return func(obj runtime.Object) bool {
		m, err := meta.Accessor(obj)
		if err != nil || !ls.Matches(labels.Set(m.GetLabels())) {
			return false
		}
		if fs.Empty() {
			return true
		}
		set, err := k.Fields(obj)
		return err == nil && fs.Matches(set)
	}, nil
}

// writeTransformed writes obj, or its Table or PartialObjectMetadata form
// when the Accept header asks for one, as kube-apiserver's transformObject.
func (a *API) writeTransformed(w http.ResponseWriter, req *http.Request, code int, k *registry.Kind, obj runtime.Object, isList bool) {
	out, gv, err := a.transform(req, k, obj, isList)
	if err != nil {
		a.writeError(w, req, err)
		return
	}
	a.writeObject(w, req, code, gv, out)
}

func (a *API) transform(req *http.Request, k *registry.Kind, obj runtime.Object, isList bool) (runtime.Object, schema.GroupVersion, error) {
	opts, _, err := negotiation.NegotiateOutputMediaType(req, a.codecs, restrictions{})
	if err != nil || opts.Convert == nil {
		return obj, k.GVK.GroupVersion(), nil
	}
	switch opts.Convert.Kind {
	case "Table":
		t, err := a.table(req, k, obj, isList)
		return t, metav1.SchemeGroupVersion, err
	case "PartialObjectMetadata", "PartialObjectMetadataList":
		p, err := partial(obj, isList, opts.Convert.Kind)
		return p, metav1.SchemeGroupVersion, err
	}
	return nil, schema.GroupVersion{}, notAcceptable(fmt.Sprintf("%s is not supported for %s", opts.Convert.Kind, k.Resource))
}

func items(obj runtime.Object, isList bool) ([]runtime.Object, error) {
	if !isList {
		return []runtime.Object{obj}, nil
	}
	return meta.ExtractList(obj)
}

func (a *API) table(req *http.Request, k *registry.Kind, obj runtime.Object, isList bool) (*metav1.Table, error) {
	objs, err := items(obj, isList)
	if err != nil {
		return nil, apierrors.NewInternalError(err)
	}
	t, err := k.Table(objs, a.now())
	if err != nil {
		return nil, apierrors.NewInternalError(err)
	}
	if isList {
		lm, _ := meta.ListAccessor(obj)
		t.ResourceVersion, t.Continue, t.RemainingItemCount = lm.GetResourceVersion(), lm.GetContinue(), lm.GetRemainingItemCount()
	} else if m, err := meta.Accessor(obj); err == nil {
		t.ResourceVersion = m.GetResourceVersion()
	}
	switch req.URL.Query().Get("includeObject") {
	case "None":
		for i := range t.Rows {
			t.Rows[i].Object = runtime.RawExtension{}
		}
	case "Object":
		for i := range t.Rows {
			o := objs[i].DeepCopyObject()
			o.GetObjectKind().SetGroupVersionKind(k.GVK)
			t.Rows[i].Object = runtime.RawExtension{Object: o}
		}
	}
	return t, nil
}

func partial(obj runtime.Object, isList bool, kind string) (runtime.Object, error) {
	objs, err := items(obj, isList)
	if err != nil {
		return nil, apierrors.NewInternalError(err)
	}
	var out []metav1.PartialObjectMetadata
	for _, o := range objs {
		m, err := meta.Accessor(o)
		if err != nil {
			return nil, apierrors.NewInternalError(err)
		}
		p := metav1.PartialObjectMetadata{}
		om, ok := m.(*metav1.ObjectMeta)
		if !ok {
			return nil, apierrors.NewInternalError(fmt.Errorf("%T has no object metadata", o))
		}
		p.ObjectMeta = *om.DeepCopy()
		p.TypeMeta = metav1.TypeMeta{APIVersion: metav1.SchemeGroupVersion.String(), Kind: "PartialObjectMetadata"}
		out = append(out, p)
	}
	if kind == "PartialObjectMetadata" && !isList && len(out) == 1 {
		return &out[0], nil
	}
	if kind == "PartialObjectMetadata" {
		return nil, notAcceptable("a list must be requested as PartialObjectMetadataList")
	}
	list := &metav1.PartialObjectMetadataList{Items: out}
	if isList {
		lm, _ := meta.ListAccessor(obj)
		list.ResourceVersion, list.Continue = lm.GetResourceVersion(), lm.GetContinue()
	}
	return list, nil
}

func notAcceptable(msg string) error {
	return apierrors.NewGenericServerResponse(http.StatusNotAcceptable, "", schema.GroupResource{}, "", msg, 0, false)
}

// listResourceVersion applies kube-apiserver's list resourceVersion rules
// and returns the version to list at exactly (0 for the current state):
// "" and "0" read the current state, N with NotOlderThan (or no match)
// needs the store to have reached N, and N with Exact reads the snapshot.
func listResourceVersion(rv, match, cont string, current uint64) (uint64, error) {
	invalid := func(f *field.Error) error {
		return apierrors.NewInvalid(schema.GroupKind{Group: metav1.GroupName, Kind: "ListOptions"}, "", field.ErrorList{f})
	}
	if match != "" && rv == "" {
		return 0, invalid(field.Forbidden(field.NewPath("resourceVersionMatch"), "resourceVersionMatch is forbidden unless resourceVersion is provided"))
	}
	if cont != "" && rv != "" && rv != "0" {
		return 0, invalid(field.Forbidden(field.NewPath("resourceVersion"), "specifying resource version is not allowed when using continue"))
	}
	switch match {
	case "", string(metav1.ResourceVersionMatchNotOlderThan), string(metav1.ResourceVersionMatchExact):
	default:
		return 0, invalid(field.NotSupported(field.NewPath("resourceVersionMatch"), match,
			[]string{string(metav1.ResourceVersionMatchExact), string(metav1.ResourceVersionMatchNotOlderThan)}))
	}
	if rv == "" || rv == "0" {
		if match == string(metav1.ResourceVersionMatchExact) {
			return 0, invalid(field.Forbidden(field.NewPath("resourceVersionMatch"), `resourceVersionMatch "exact" is forbidden for resourceVersion "0"`))
		}
		return 0, nil
	}
	n, err := strconv.ParseUint(rv, 10, 64)
	if err != nil {
		return 0, apierrors.NewBadRequest(fmt.Sprintf("invalid resource version %q: must be a number", rv))
	}
	if match == string(metav1.ResourceVersionMatchExact) {
		return n, nil
	}
	if n > current {
		return 0, apistorage.NewTooLargeResourceVersionError(n, current, 1)
	}
	return 0, nil
}
