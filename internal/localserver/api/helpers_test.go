package api

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp/cmpopts"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/endpoints/filters"
	"k8s.io/apiserver/pkg/endpoints/request"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/kauth/kauth/internal/localserver/storage"
)

// testUser is who the test chain says every request comes from, unless
// an Impersonate-User header names another user.
var testUser = &user.DefaultInfo{Name: "admin", UID: "admin-uid", Groups: []string{"system:masters", "system:authenticated"}}

// testChain is the smallest stand-in for kauth serve's filter chain: it
// sets RequestInfo the way kube-apiserver does and a fixed user.
func testChain(h http.Handler) http.Handler {
	withUser := http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		var u user.Info = testUser
		// A stand-in for impersonation: the real filter lives in the
		// server assembly.
		if name := req.Header.Get("Impersonate-User"); name != "" {
			u = &user.DefaultInfo{Name: name, Groups: append(req.Header.Values("Impersonate-Group"), "system:authenticated")}
		}
		h.ServeHTTP(w, req.WithContext(request.WithUser(req.Context(), u)))
	})
	factory := &request.RequestInfoFactory{APIPrefixes: sets.NewString("api", "apis"), GrouplessAPIPrefixes: sets.NewString("api")}
	return filters.WithRequestInfo(withUser, factory)
}

type testServer struct {
	api    *API
	store  storage.Interface
	srv    *httptest.Server
	client kubernetes.Interface
	config *rest.Config
}

func newTestServer(t testing.TB, hooks Hooks) *testServer {
	t.Helper()
	return newTestServerOn(t, storage.NewMemory(), hooks)
}

// newTestServerOn is newTestServer over a given store.
func newTestServerOn(t testing.TB, store storage.Interface, hooks Hooks) *testServer {
	t.Helper()
	a, err := New(store, hooks)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(testChain(a.Handler()))
	t.Cleanup(srv.Close)
	cfg := &rest.Config{Host: srv.URL, QPS: -1}
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ts := &testServer{api: a, store: store, srv: srv, client: client, config: cfg}
	for _, ns := range []string{"default", "kube-system"} {
		ts.createNamespace(t, ns)
	}
	return ts
}

func (ts *testServer) createNamespace(t testing.TB, name string) {
	t.Helper()
	_, err := ts.client.CoreV1().Namespaces().Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
}

func (ts *testServer) raw(t *testing.T, method, path, contentType, body string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, ts.srv.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := ts.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// cmpSorted compares string slices ignoring order.
var cmpSorted = cmpopts.SortSlices(func(a, b string) bool { return a < b })
