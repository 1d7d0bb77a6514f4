package api

import (
	"context"
	"fmt"
	"net/http"
	"strconv"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metainternalversion "k8s.io/apimachinery/pkg/apis/meta/internalversion"
	metainternalversionscheme "k8s.io/apimachinery/pkg/apis/meta/internalversion/scheme"
	metainternalversionvalidation "k8s.io/apimachinery/pkg/apis/meta/internalversion/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apiserver/pkg/endpoints/handlers/negotiation"
	apistorage "k8s.io/apiserver/pkg/storage"

	"github.com/kauth/kauth/internal/localserver/registry"
	"github.com/kauth/kauth/internal/localserver/storage"
)

func (a *API) serveGet(ctx context.Context, w http.ResponseWriter, req *http.Request, t target) {
	if rv := req.URL.Query().Get("resourceVersion"); rv != "" {
		// "" reads the latest object, "0" any version (the store is always
		// current), a number one at least that new: like the watch cache,
		// wait briefly for a version the store has not reached, then 504.
		n, err := apistorage.APIObjectVersioner{}.ParseResourceVersion(rv)
		if err != nil {
			// kube-apiserver passes the versioner's error through
			// unconverted: a 500 with its message.
			a.writeError(w, req, err)
			return
		}
		if err := a.store.WaitForResourceVersion(ctx, n); err != nil {
			a.writeError(w, req, err)
			return
		}
	}
	obj, err := a.store.Get(ctx, t.gvr(), t.namespace, t.name)
	if err != nil {
		a.writeError(w, req, err)
		return
	}
	a.writeTransformed(w, req, http.StatusOK, t.kind, obj, false)
}

func (a *API) serveList(ctx context.Context, w http.ResponseWriter, req *http.Request, t target) {
	lo, err := listOptions(req)
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
	opts := storage.ListOptions{Predicate: pred, Continue: lo.Continue, Limit: max(lo.Limit, 0)}
	if lo.ResourceVersion == "0" {
		// The watch cache serves resourceVersion=0 whole: no limit.
		opts.Limit = 0
	}
	minRV, exact, err := listResourceVersion(lo)
	if err != nil {
		a.writeError(w, req, err)
		return
	}
	if err := a.store.WaitForResourceVersion(ctx, minRV); err != nil {
		a.writeError(w, req, err)
		return
	}
	opts.ResourceVersion = exact
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

// listOptions decodes the query of a list or watch as kube-apiserver's
// listOpts does: a value that does not parse is a 400, a combination that
// metainternalversion's validation refuses a 422 Invalid ListOptions. The
// WatchList defaults apply (the feature is on in v1.37): a watch from ""
// or "0" is a watch-list with sendInitialEvents.
func listOptions(req *http.Request) (metainternalversion.ListOptions, error) {
	var lo metainternalversion.ListOptions
	if err := metainternalversionscheme.ParameterCodec.DecodeParameters(req.URL.Query(), metav1.SchemeGroupVersion, &lo); err != nil {
		return lo, apierrors.NewBadRequest(err.Error())
	}
	metainternalversion.SetListOptionsDefaults(&lo, true)
	if errs := metainternalversionvalidation.ValidateListOptions(&lo, true); len(errs) > 0 {
		return lo, apierrors.NewInvalid(schema.GroupKind{Group: metav1.GroupName, Kind: "ListOptions"}, "", errs)
	}
	return lo, nil
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
// (https://kubernetes.io/docs/reference/using-api/api-concepts/#resource-versions)
// to validated options. It returns the version the store must have
// reached (NotOlderThan, or a bare number: 0 is any) and the version to
// list at exactly (resourceVersionMatch=Exact, or the legacy form: a number
// with a limit), 0 for the current state.
func listResourceVersion(lo metainternalversion.ListOptions) (minRV, exact uint64, err error) {
	if lo.Continue != "" {
		if lo.ResourceVersion != "" && lo.ResourceVersion != "0" {
			return 0, 0, apierrors.NewBadRequest("specifying resource version is not allowed when using continue")
		}
		return 0, 0, nil
	}
	n, err := apistorage.APIObjectVersioner{}.ParseResourceVersion(lo.ResourceVersion)
	if err != nil {
		return 0, 0, apierrors.NewBadRequest(fmt.Sprintf("invalid resource version: %v", err))
	}
	if lo.ResourceVersionMatch == metav1.ResourceVersionMatchExact || (lo.ResourceVersionMatch == "" && lo.Limit > 0 && n > 0) {
		return 0, n, nil
	}
	return n, 0, nil
}
