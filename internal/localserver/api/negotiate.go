package api

import (
	"encoding/json"
	"net/http"

	apidiscoveryv2 "k8s.io/api/apidiscovery/v2"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apiserver/pkg/endpoints/handlers/responsewriters"
)

// restrictions are the output transformations the API serves: tables,
// partial object metadata, and aggregated discovery.
type restrictions struct{}

func (restrictions) AllowsMediaTypeTransform(_, _ string, gvk *schema.GroupVersionKind) bool {
	if gvk == nil {
		return true
	}
	switch *gvk {
	case metav1.SchemeGroupVersion.WithKind("Table"),
		metav1.SchemeGroupVersion.WithKind("PartialObjectMetadata"),
		metav1.SchemeGroupVersion.WithKind("PartialObjectMetadataList"),
		apidiscoveryv2.SchemeGroupVersion.WithKind("APIGroupDiscoveryList"):
		return true
	}
	return false
}

func (restrictions) AllowsServerVersion(string) bool { return false }

func (restrictions) AllowsStreamSchema(s string) bool { return s == "watch" }

func responsewritersWriteDiscovery(a *API, w http.ResponseWriter, req *http.Request, list *apidiscoveryv2.APIGroupDiscoveryList) {
	responsewriters.WriteObjectNegotiated(a.codecs, restrictions{}, discoveryGV, w, req, http.StatusOK, list, true)
}

// writeJSON writes a non-API object (the /version answer) as JSON.
func (a *API) writeJSON(w http.ResponseWriter, code int, v any) {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_, _ = w.Write(b)
}
