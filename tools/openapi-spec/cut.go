package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// served lists, per group/version path prefix, the resources kauth serve
// serves and their subresources. It must match internal/localserver/registry.
var served = map[string]map[string][]string{
	"api/v1": {
		"namespaces": {"status", "finalize"}, "serviceaccounts": {"token"}, "secrets": nil,
		"configmaps": nil, "resourcequotas": {"status"}, "limitranges": nil, "pods": {"status"},
		"events": nil,
	},
	"apis/rbac.authorization.k8s.io/v1": {
		"roles": nil, "rolebindings": nil, "clusterroles": nil, "clusterrolebindings": nil,
	},
	"apis/flowcontrol.apiserver.k8s.io/v1": {
		"flowschemas": {"status"}, "prioritylevelconfigurations": {"status"},
	},
	"apis/certificates.k8s.io/v1": {"certificatesigningrequests": {"approval", "status"}},
	"apis/admissionregistration.k8s.io/v1": {
		"mutatingwebhookconfigurations": nil, "validatingwebhookconfigurations": nil,
		"validatingadmissionpolicies": {"status"}, "validatingadmissionpolicybindings": nil,
		"mutatingadmissionpolicies": nil, "mutatingadmissionpolicybindings": nil,
	},
	"apis/authentication.k8s.io/v1": {"tokenreviews": nil, "selfsubjectreviews": nil},
	"apis/authorization.k8s.io/v1": {
		"subjectaccessreviews": nil, "localsubjectaccessreviews": nil,
		"selfsubjectaccessreviews": nil, "selfsubjectrulesreviews": nil,
	},
}

// Spec is the embedded document: the v2 swagger and one v3 document per
// group/version path ("api/v1", "apis/rbac.authorization.k8s.io/v1").
type Spec struct {
	V2 map[string]any            `json:"v2"`
	V3 map[string]map[string]any `json:"v3"`
}

func cut(dir string) (*Spec, error) {
	v2, err := readJSON(filepath.Join(dir, "swagger.json"))
	if err != nil {
		return nil, err
	}
	spec := &Spec{V2: v2, V3: map[string]map[string]any{}}
	filterPaths(v2)
	defs, _ := v2["definitions"].(map[string]any)
	keepReachable(v2["paths"], defs, "#/definitions/")
	for gv := range served {
		name := strings.ReplaceAll(gv, "/", "__") + "_openapi.json"
		doc, err := readJSON(filepath.Join(dir, "v3", name))
		if err != nil {
			return nil, err
		}
		filterPaths(doc)
		comps, _ := doc["components"].(map[string]any)
		schemas, _ := comps["schemas"].(map[string]any)
		keepReachable(doc["paths"], schemas, "#/components/schemas/")
		spec.V3[gv] = doc
	}
	return spec, nil
}

func readJSON(path string) (map[string]any, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return m, nil
}

// filterPaths drops every path that is not a served resource.
func filterPaths(doc map[string]any) {
	paths, _ := doc["paths"].(map[string]any)
	for p := range paths {
		if !servedPath(p) {
			delete(paths, p)
		}
	}
}

func servedPath(p string) bool {
	p = strings.Trim(p, "/")
	for gv, resources := range served {
		if p == gv {
			return true
		}
		rest, ok := strings.CutPrefix(p, gv+"/")
		if !ok {
			continue
		}
		rest = strings.TrimPrefix(rest, "watch/")
		if r, ok := strings.CutPrefix(rest, "namespaces/{namespace}/"); ok {
			rest = r
		}
		seg := strings.Split(rest, "/")
		subs, ok := resources[seg[0]]
		if !ok {
			return false
		}
		switch len(seg) {
		case 1, 2:
			return true
		case 3:
			for _, s := range subs {
				if s == seg[2] {
					return true
				}
			}
		}
		return false
	}
	return false
}

// keepReachable removes from defs every schema that the paths do not reach
// through $ref, directly or through other schemas.
func keepReachable(paths any, defs map[string]any, prefix string) {
	keep := map[string]bool{}
	var queue []string
	walk := func(v any) {
		collectRefs(v, prefix, func(name string) {
			if !keep[name] {
				keep[name] = true
				queue = append(queue, name)
			}
		})
	}
	walk(paths)
	for len(queue) > 0 {
		name := queue[0]
		queue = queue[1:]
		walk(defs[name])
	}
	for n := range defs {
		if !keep[n] {
			delete(defs, n)
		}
	}
}

func collectRefs(v any, prefix string, f func(string)) {
	switch t := v.(type) {
	case map[string]any:
		for k, x := range t {
			if s, ok := x.(string); ok && k == "$ref" && strings.HasPrefix(s, prefix) {
				f(strings.TrimPrefix(s, prefix))
				continue
			}
			collectRefs(x, prefix, f)
		}
	case []any:
		for _, x := range t {
			collectRefs(x, prefix, f)
		}
	}
}
