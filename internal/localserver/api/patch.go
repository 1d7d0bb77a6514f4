package api

import (
	"context"
	"encoding/json"
	"fmt"
	"mime"
	"net/http"

	jsonpatch "gopkg.in/evanphx/json-patch.v4"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/strategicpatch"
	"k8s.io/apiserver/pkg/audit"
	"sigs.k8s.io/yaml"
)

// supportedPatchTypes are the patch content types, in kube-apiserver's
// order for its error message.
var supportedPatchTypes = []string{string(types.JSONPatchType), string(types.MergePatchType), string(types.StrategicMergePatchType), string(types.ApplyYAMLPatchType)}

func (a *API) servePatch(ctx context.Context, w http.ResponseWriter, req *http.Request, t target) {
	out, code, err := a.patch(ctx, w, req, t)
	if err != nil {
		a.writeError(w, req, err)
		return
	}
	a.writeTransformed(w, req, code, t.kind, a.afterWrite(ctx, t, out), false)
}

func (a *API) patch(ctx context.Context, w http.ResponseWriter, req *http.Request, t target) (runtime.Object, int, error) {
	ct, _, err := mime.ParseMediaType(req.Header.Get("Content-Type"))
	if err != nil || !isPatchType(ct) {
		return nil, 0, &apierrors.StatusError{ErrStatus: metav1.Status{Status: metav1.StatusFailure, Code: http.StatusUnsupportedMediaType,
			Reason:  metav1.StatusReasonUnsupportedMediaType,
			Message: fmt.Sprintf("the body of the request was in an unknown format - accepted media types include: %v", supportedPatchTypes)}}
	}
	opts, err := parseWriteOptions(req, "PatchOptions")
	if err != nil {
		return nil, 0, err
	}
	body, err := readBody(w, req)
	if err != nil {
		return nil, 0, err
	}
	// As kube-apiserver's patch handler: the patch is the audit event's
	// requestObject (at level Request and above).
	if audit.AuditContextFrom(ctx).Enabled() {
		audit.LogRequestPatch(ctx, body)
	}
	if ct == string(types.ApplyYAMLPatchType) {
		return a.serverSideApply(ctx, req, t, body, opts)
	}
	jsonInfo, _ := runtime.SerializerInfoForMediaType(a.codecs.SupportedMediaTypes(), runtime.ContentTypeJSON)
	out, err := a.guaranteedUpdate(ctx, req, t, opts, func(cur runtime.Object) (runtime.Object, error) {
		curJSON, err := a.toJSON(t.kind.GVK, cur)
		if err != nil {
			return nil, err
		}
		patched, err := applyPatch(types.PatchType(ct), curJSON, body, t.kind.New())
		if err != nil {
			return nil, err
		}
		return a.decodeWith(w, jsonInfo, t.kind, patched, opts.fieldValidation)
	})
	return out, http.StatusOK, err
}

func isPatchType(ct string) bool {
	for _, p := range supportedPatchTypes {
		if ct == p {
			return true
		}
	}
	return false
}

func (a *API) toJSON(gvk schema.GroupVersionKind, obj runtime.Object) ([]byte, error) {
	c := obj.DeepCopyObject()
	c.GetObjectKind().SetGroupVersionKind(gvk)
	b, err := json.Marshal(c)
	if err != nil {
		return nil, apierrors.NewInternalError(err)
	}
	return b, nil
}

// applyPatch applies a JSON, merge or strategic merge patch with
// kube-apiserver's status codes: an undecodable patch is 400, one that
// cannot be applied is 422.
func applyPatch(pt types.PatchType, cur, patch []byte, schemaObj runtime.Object) ([]byte, error) {
	unprocessable := func(err error) error {
		return apierrors.NewGenericServerResponse(http.StatusUnprocessableEntity, "", schema.GroupResource{}, "", err.Error(), 0, false)
	}
	switch pt {
	case types.JSONPatchType:
		p, err := jsonpatch.DecodePatch(patch)
		if err != nil {
			return nil, apierrors.NewBadRequest(err.Error())
		}
		out, err := p.Apply(cur)
		if err != nil {
			return nil, unprocessable(err)
		}
		return out, nil
	case types.MergePatchType:
		if !json.Valid(patch) {
			return nil, apierrors.NewBadRequest("invalid JSON in merge patch")
		}
		out, err := jsonpatch.MergePatch(cur, patch)
		if err != nil {
			return nil, unprocessable(err)
		}
		return out, nil
	default:
		var m map[string]any
		if err := json.Unmarshal(patch, &m); err != nil {
			return nil, apierrors.NewBadRequest(fmt.Sprintf("invalid JSON in strategic merge patch: %v", err))
		}
		out, err := strategicpatch.StrategicMergePatch(cur, patch, schemaObj)
		if err != nil {
			return nil, unprocessable(err)
		}
		return out, nil
	}
}

// serverSideApply applies an apply configuration with managed fields,
// creating the object when it does not exist.
func (a *API) serverSideApply(ctx context.Context, req *http.Request, t target, body []byte, opts writeOptions) (runtime.Object, int, error) {
	if opts.fieldManager == "" {
		return nil, 0, apierrors.NewBadRequest("PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: Required value: is required for apply patch")
	}
	patch := &unstructured.Unstructured{Object: map[string]any{}}
	if err := yaml.Unmarshal(body, &patch.Object); err != nil {
		return nil, 0, apierrors.NewBadRequest(fmt.Sprintf("error decoding YAML: %v", err))
	}
	if patch.GetAPIVersion() != t.kind.GVK.GroupVersion().String() || patch.GetKind() != t.kind.GVK.Kind {
		return nil, 0, apierrors.NewBadRequest(fmt.Sprintf("the apply configuration must have apiVersion %s and kind %s, got %q and %q",
			t.kind.GVK.GroupVersion(), t.kind.GVK.Kind, patch.GetAPIVersion(), patch.GetKind()))
	}
	if patch.GetName() != t.name {
		return nil, 0, apierrors.NewBadRequest(fmt.Sprintf("the name of the object (%s) does not match the name on the URL (%s)", patch.GetName(), t.name))
	}
	opts.applied = true
	if _, err := a.store.Get(ctx, t.gvr(), t.namespace, t.name); apierrors.IsNotFound(err) && t.sub == "" {
		live := t.kind.New()
		m, _ := meta.Accessor(live)
		m.SetName(t.name)
		m.SetNamespace(t.namespace)
		obj, err := a.apply(t, live, patch, opts.fieldManager, opts.force)
		if err != nil {
			return nil, 0, err
		}
		out, err := a.create(ctx, req, t, obj, opts)
		return out, http.StatusCreated, err
	}
	out, err := a.guaranteedUpdate(ctx, req, t, opts, func(cur runtime.Object) (runtime.Object, error) {
		return a.apply(t, cur, patch, opts.fieldManager, opts.force)
	})
	return out, http.StatusOK, err
}
