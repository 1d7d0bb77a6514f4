package api

import (
	"bytes"
	"compress/gzip"
	_ "embed" // the OpenAPI documents
	"encoding/json"
	"fmt"
	"io"
	"net/http"

	"k8s.io/apimachinery/pkg/util/managedfields"
	"k8s.io/kube-openapi/pkg/handler"
	"k8s.io/kube-openapi/pkg/handler3"
	"k8s.io/kube-openapi/pkg/spec3"
	"k8s.io/kube-openapi/pkg/validation/spec"
)

// openapiDocs are kube-apiserver v1.37's published OpenAPI v2 and v3
// documents cut down to the served kinds by tools/openapi-spec.
//
//go:embed openapi.json.gz
var openapiDocs []byte

type openapiSpec struct {
	V2 json.RawMessage            `json:"v2"`
	V3 map[string]json.RawMessage `json:"v3"`
}

// openapi holds the parsed documents and their handlers.
type openapi struct {
	v2        *spec.Swagger
	v3        map[string]*spec3.OpenAPI
	converter managedfields.TypeConverter
	mux       *http.ServeMux
}

func loadOpenAPI() (*openapi, error) {
	zr, err := gzip.NewReader(bytes.NewReader(openapiDocs))
	if err != nil {
		return nil, fmt.Errorf("read embedded openapi: %w", err)
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		return nil, fmt.Errorf("read embedded openapi: %w", err)
	}
	var docs openapiSpec
	if err := json.Unmarshal(raw, &docs); err != nil {
		return nil, fmt.Errorf("read embedded openapi: %w", err)
	}
	o := &openapi{v2: &spec.Swagger{}, v3: map[string]*spec3.OpenAPI{}, mux: http.NewServeMux()}
	if err := json.Unmarshal(docs.V2, o.v2); err != nil {
		return nil, fmt.Errorf("read embedded openapi v2: %w", err)
	}
	for gv, doc := range docs.V3 {
		d := &spec3.OpenAPI{}
		if err := json.Unmarshal(doc, d); err != nil {
			return nil, fmt.Errorf("read embedded openapi v3 %s: %w", gv, err)
		}
		o.v3[gv] = d
	}
	defs := make(map[string]*spec.Schema, len(o.v2.Definitions))
	for name := range o.v2.Definitions {
		s := o.v2.Definitions[name]
		defs[name] = &s
	}
	if o.converter, err = managedfields.NewTypeConverter(defs, false); err != nil {
		return nil, fmt.Errorf("build type converter: %w", err)
	}
	handler.NewOpenAPIService(o.v2).RegisterOpenAPIVersionedService("/openapi/v2", o.mux)
	v3 := handler3.NewOpenAPIService()
	for gv, d := range o.v3 {
		v3.UpdateGroupVersion(gv, d)
	}
	if err := v3.RegisterOpenAPIV3VersionedService("/openapi/v3", prefixMux{o.mux}); err != nil {
		return nil, fmt.Errorf("register openapi v3: %w", err)
	}
	return o, nil
}

// prefixMux adapts http.ServeMux to kube-openapi's PathHandlerByGroupVersion.
type prefixMux struct{ *http.ServeMux }

func (m prefixMux) HandlePrefix(path string, h http.Handler) { m.Handle(path, h) }
