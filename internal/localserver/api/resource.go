package api

import (
	"fmt"
	"net/http"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apiserver/pkg/endpoints/request"

	"github.com/kauth/kauth/internal/localserver/registry"
)

// target is one resolved resource request.
type target struct {
	kind      *registry.Kind
	namespace string // "" for cluster-scoped kinds and all-namespace lists
	name      string
	sub       string
	verb      string
}

func (t target) gvr() schema.GroupVersionResource { return t.kind.GVR() }

func (a *API) serveResource(w http.ResponseWriter, req *http.Request, info *request.RequestInfo) {
	if isCRDList(info) {
		a.serveEmptyCRDList(w)
		return
	}
	t, err := a.resolve(info)
	if err != nil {
		a.writeError(w, req, err)
		return
	}
	ctx := req.Context()
	switch {
	case t.kind.Ephemeral:
		a.serveReview(w, req, t)
	case t.sub == "token":
		a.serveTokenRequest(w, req, t)
	case t.verb == "get":
		a.serveGet(ctx, w, req, t)
	case t.verb == "list":
		a.serveList(ctx, w, req, t)
	case t.verb == "watch":
		a.serveWatch(ctx, w, req, t)
	case t.verb == "create":
		a.serveCreate(ctx, w, req, t)
	case t.verb == "update":
		a.serveUpdate(ctx, w, req, t)
	case t.verb == "patch":
		a.servePatch(ctx, w, req, t)
	case t.verb == "delete":
		a.serveDelete(ctx, w, req, t)
	case t.verb == "deletecollection":
		a.serveDeleteCollection(ctx, w, req, t)
	default:
		a.writeError(w, req, methodNotAllowed())
	}
}

// resolve maps a RequestInfo to a served kind, namespace, name and
// subresource, or to kube-apiserver's 404 and 405 answers.
func (a *API) resolve(info *request.RequestInfo) (target, error) {
	kind, ok := a.reg.ByResource(schema.GroupVersionResource{Group: info.APIGroup, Version: info.APIVersion, Resource: info.Resource})
	if !ok {
		return target{}, notFound()
	}
	t := target{kind: kind, namespace: info.Namespace, name: info.Name, sub: info.Subresource, verb: info.Verb}
	if kind.Resource == "namespaces" {
		// RequestInfo puts a namespace's own name in Namespace.
		t.namespace = ""
	}
	if !kind.Namespaced && t.namespace != "" {
		return target{}, notFound()
	}
	if kind.Ephemeral {
		if t.verb != "create" || t.sub != "" || t.name != "" {
			return target{}, methodNotAllowed()
		}
		return t, nil
	}
	if t.sub == "" {
		if t.verb == "deletecollection" && kind.NoDeleteCollection {
			return target{}, methodNotAllowed()
		}
		return t, nil
	}
	if t.name == "" {
		return target{}, notFound()
	}
	if kind.Resource == "serviceaccounts" && t.sub == "token" {
		if t.verb != "create" {
			return target{}, methodNotAllowed()
		}
		return t, nil
	}
	if _, ok := kind.Subresources[t.sub]; !ok {
		return target{}, notFound()
	}
	switch {
	case t.sub == "finalize" && t.verb != "update",
		t.verb != "get" && t.verb != "update" && t.verb != "patch":
		return target{}, methodNotAllowed()
	}
	return t, nil
}

// methodNotAllowed is kube-apiserver's answer for a verb a resource does
// not serve (its router's 405).
func methodNotAllowed() error {
	return &apierrors.StatusError{ErrStatus: metav1.Status{
		Status: metav1.StatusFailure, Code: http.StatusMethodNotAllowed, Reason: metav1.StatusReasonMethodNotAllowed,
		Message: "the server does not allow this method on the requested resource", Details: &metav1.StatusDetails{},
	}}
}

// notFoundStatus is kube-apiserver's body for a path it does not serve.
var notFoundStatus = metav1.Status{
	Status: metav1.StatusFailure, Code: http.StatusNotFound, Reason: metav1.StatusReasonNotFound,
	Message: "the server could not find the requested resource", Details: &metav1.StatusDetails{},
}

// isCRDList tells a list of CustomResourceDefinitions. kauth serves no
// apiextensions.k8s.io API, but kubectl's default validation of a kind
// with no PATCH in the OpenAPI (the review APIs: kubectl create -f
// tokenreview.yaml) asks whether the kind is a CRD by listing them, and
// fails when the list fails. The answer is true: there are none.
func isCRDList(info *request.RequestInfo) bool {
	return info.APIGroup == "apiextensions.k8s.io" && info.APIVersion == "v1" && info.Resource == "customresourcedefinitions" &&
		info.Verb == "list" && info.Subresource == ""
}

func (a *API) serveEmptyCRDList(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, _ = fmt.Fprintf(w, `{"kind":"CustomResourceDefinitionList","apiVersion":"apiextensions.k8s.io/v1","metadata":{"resourceVersion":"%d"},"items":[]}`+"\n", a.store.ResourceVersion())
}
