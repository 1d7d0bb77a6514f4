package api

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kauth/kauth/internal/localserver/storage"
)

// benchServe serves one request through the test chain and the handler,
// without a network, and fails on anything but 200.
func benchServe(b *testing.B, h http.Handler, path, accept string) {
	b.Helper()
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req := httptest.NewRequest(http.MethodGet, path, nil)
			if accept != "" {
				req.Header.Set("Accept", accept)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != http.StatusOK {
				b.Fatalf("GET %s: %d %s", path, rec.Code, rec.Body)
			}
		}
	})
}

func benchSetup(b *testing.B, configMaps int) http.Handler {
	b.Helper()
	ts := newTestServer(b, Hooks{})
	for i := range configMaps {
		cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("cm-%03d", i), Labels: map[string]string{"i": fmt.Sprint(i % 10)}},
			Data: map[string]string{"key": "value"}}
		if _, err := ts.client.CoreV1().ConfigMaps("default").Create(context.Background(), cm, metav1.CreateOptions{}); err != nil {
			b.Fatal(err)
		}
	}
	return testChain(ts.api.Handler())
}

func BenchmarkGet(b *testing.B) {
	h := benchSetup(b, 100)
	benchServe(b, h, "/api/v1/namespaces/default/configmaps/cm-042", "")
}

func BenchmarkGetTable(b *testing.B) {
	h := benchSetup(b, 100)
	benchServe(b, h, "/api/v1/namespaces/default/configmaps/cm-042", "application/json;as=Table;v=v1;g=meta.k8s.io")
}

func BenchmarkList100(b *testing.B) {
	h := benchSetup(b, 100)
	benchServe(b, h, "/api/v1/namespaces/default/configmaps", "")
}

func BenchmarkListSelector(b *testing.B) {
	h := benchSetup(b, 100)
	benchServe(b, h, "/api/v1/namespaces/default/configmaps?labelSelector=i%3D3", "")
}

// BenchmarkNew measures building the REST layer, part of kauth serve's
// time to ready.
func BenchmarkNew(b *testing.B) {
	for range b.N {
		if _, err := New(storage.NewMemory(), Hooks{}); err != nil {
			b.Fatal(err)
		}
	}
}
