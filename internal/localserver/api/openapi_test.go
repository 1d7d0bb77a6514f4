package api

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestOpenAPI(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, Hooks{})
	get := func(path, accept string) *http.Response {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, ts.srv.URL+path, nil)
		if accept != "" {
			req.Header.Set("Accept", accept)
		}
		client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { resp.Body.Close() })
		return resp
	}
	var disc struct {
		Paths map[string]struct {
			ServerRelativeURL string `json:"serverRelativeURL"`
		} `json:"paths"`
	}
	if err := json.NewDecoder(get("/openapi/v3", "").Body).Decode(&disc); err != nil {
		t.Fatal(err)
	}
	var gvs []string
	for gv := range disc.Paths {
		gvs = append(gvs, gv)
	}
	o, _ := ts.api.openapiDocs()
	if diff := cmp.Diff(o.v3GroupVersions(), gvs, cmpSorted); diff != "" || len(gvs) != 7 {
		t.Fatalf("v3 discovery (-want +got):\n%s", diff)
	}
	rbacURL := disc.Paths["apis/rbac.authorization.k8s.io/v1"].ServerRelativeURL
	resp := get(rbacURL, "application/json")
	if resp.StatusCode != 200 || resp.Header.Get("Cache-Control") != "public, immutable" {
		t.Fatalf("v3 rbac: %d %v", resp.StatusCode, resp.Header)
	}
	var doc struct {
		Paths map[string]any `json:"paths"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&doc)
	if _, ok := doc.Paths["/apis/rbac.authorization.k8s.io/v1/namespaces/{namespace}/roles/{name}"]; !ok {
		t.Fatal("v3 rbac document lacks the roles path")
	}
	if resp := get("/openapi/v3/apis/rbac.authorization.k8s.io/v1?hash=stale", ""); resp.StatusCode != http.StatusMovedPermanently || resp.Header.Get("Location") != rbacURL {
		t.Fatalf("stale hash: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	if resp := get(rbacURL, "application/com.github.proto-openapi.spec.v3@v1.0+protobuf"); resp.StatusCode != 200 || !strings.Contains(resp.Header.Get("Content-Type"), "protobuf") {
		t.Fatalf("v3 protobuf: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if resp := get("/openapi/v2", "application/com.github.proto-openapi.spec.v2@v1.0+protobuf"); resp.StatusCode != 200 {
		t.Fatalf("v2 protobuf: %d", resp.StatusCode)
	}
	var v2 struct {
		Definitions map[string]any `json:"definitions"`
	}
	if err := json.NewDecoder(get("/openapi/v2", "application/json").Body).Decode(&v2); err != nil || v2.Definitions["io.k8s.api.rbac.v1.Role"] == nil {
		t.Fatalf("v2 json: %v", err)
	}
	if resp := get("/openapi/v2", "text/html"); resp.StatusCode != http.StatusNotAcceptable {
		t.Fatalf("v2 as html: %d", resp.StatusCode)
	}
	if resp := get("/openapi/v3/apis/apps/v1", ""); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("unserved group: %d", resp.StatusCode)
	}
}
