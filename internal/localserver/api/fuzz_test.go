package api

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

// fuzzHandler is one API over a memory store, shared by fuzz inputs.
func fuzzHandler(t testing.TB) http.Handler {
	ts := newTestServer(t, Hooks{Authorizer: newTestAuthorizer()})
	return testChain(ts.api.Handler())
}

// seedBodies reads the request bodies in testdata/.
func seedBodies(f *testing.F) map[string][]byte {
	f.Helper()
	files, err := filepath.Glob("testdata/*")
	if err != nil {
		f.Fatal(err)
	}
	out := map[string][]byte{}
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		out[filepath.Base(p)] = b
	}
	return out
}

// pathFor is the collection path a seed body is posted to.
func pathFor(body []byte) string {
	u := &unstructured.Unstructured{}
	if err := yaml.Unmarshal(body, &u.Object); err != nil {
		return "/api/v1/namespaces/default/configmaps"
	}
	switch u.GetKind() {
	case "Role":
		return "/apis/rbac.authorization.k8s.io/v1/namespaces/default/roles"
	case "Pod":
		return "/api/v1/namespaces/default/pods"
	case "CertificateSigningRequest":
		return "/apis/certificates.k8s.io/v1/certificatesigningrequests"
	case "SubjectAccessReview":
		return "/apis/authorization.k8s.io/v1/subjectaccessreviews"
	}
	return "/apis/rbac.authorization.k8s.io/v1/namespaces/default/roles/fuzz"
}

// FuzzRequest sends arbitrary methods, paths, queries, content types and
// bodies through the handler: it must answer every one with a Status or
// an object, never panic, and never fail with a 500.
func FuzzRequest(f *testing.F) {
	for name, body := range seedBodies(f) {
		ct := "application/json"
		if strings.HasSuffix(name, ".yaml") {
			ct = "application/yaml"
		}
		f.Add("POST", pathFor(body), "fieldValidation=Strict", ct, body)
		f.Add("PATCH", "/apis/rbac.authorization.k8s.io/v1/namespaces/default/roles/fuzz", "", "application/json-patch+json", body)
		f.Add("PATCH", "/apis/rbac.authorization.k8s.io/v1/namespaces/default/roles/fuzz", "fieldManager=f", "application/apply-patch+yaml", body)
		f.Add("PUT", "/apis/rbac.authorization.k8s.io/v1/namespaces/default/roles/fuzz", "", ct, body)
	}
	f.Add("GET", "/api/v1/namespaces/default/configmaps", "labelSelector=a+in+(b),c!=d&fieldSelector=metadata.name=x&limit=1", "", []byte(nil))
	f.Add("GET", "/api/v1/namespaces/default/configmaps", "continue=eyJydiI6MX0&limit=2", "", []byte(nil))
	f.Add("GET", "/apis/rbac.authorization.k8s.io/v1/roles", "watch=true&resourceVersion=999999999&timeoutSeconds=0", "", []byte(nil))
	f.Add("DELETE", "/api/v1/namespaces/default", "dryRun=All", "application/json", []byte(`{"kind":"DeleteOptions","apiVersion":"v1","preconditions":{"uid":"x"}}`))
	f.Add("PATCH", "/api/v1/namespaces/default/status", "", "application/strategic-merge-patch+json", []byte(`{"status":{"phase":"x"}}`))
	f.Add("GET", "/openapi/v3/apis/rbac.authorization.k8s.io/v1", "", "", []byte(nil))
	h := fuzzHandler(f)
	f.Fuzz(func(t *testing.T, method, path, query, contentType string, body []byte) {
		if !strings.HasPrefix(path, "/") || strings.ContainsAny(path, " \r\n\t?#%") || strings.ContainsAny(method, " \r\n\t") || method == "" {
			return
		}
		target := path
		if query != "" {
			target += "?" + query
		}
		req, err := http.NewRequest(method, "http://kauth"+target, bytes.NewReader(body))
		if err != nil {
			return
		}
		if strings.Contains(query, "watch=true") {
			return // watches stream until their timeout; the watch path has its own tests
		}
		req.Header.Set("Content-Type", contentType)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		// kube-apiserver answers a get with an unparseable resourceVersion
		// with a 500 carrying the versioner's error; kauth does the same.
		badRV := rec.Code == http.StatusInternalServerError && strings.Contains(rec.Body.String(), `"message":"resourceVersion: Invalid value: `)
		if rec.Code >= 500 && rec.Code != http.StatusServiceUnavailable && rec.Code != http.StatusGatewayTimeout && !badRV {
			t.Fatalf("%s %s (%s): %d %s", method, target, contentType, rec.Code, rec.Body)
		}
	})
}
