package authwebhook

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"

	"github.com/kauth/kauth/internal/rbac"
)

// BenchmarkAuthorize answers kube-apiserver's SubjectAccessReview through
// the handler, from the cache and without it.
func BenchmarkAuthorize(b *testing.B) {
	body, err := os.ReadFile("testdata/sar-v1.json")
	if err != nil {
		b.Fatal(err)
	}
	loaded, err := rbac.Load(context.Background(), rbac.Sources{From: []string{"testdata/rbac.yaml"}, Bootstrap: true})
	if err != nil {
		b.Fatal(err)
	}
	for _, bc := range []struct {
		name string
		ttl  int
	}{{"cached", 1}, {"uncached", 0}} {
		b.Run(bc.name, func(b *testing.B) {
			o := Options{Authorizer: rbac.NewAuthorizer(loaded.Index)}
			if bc.ttl > 0 {
				o.AuthorizedTTL, o.UnauthorizedTTL = DefaultAuthorizedTTL, DefaultUnauthorizedTTL
			}
			h := NewHandler(o)
			b.ReportAllocs()
			for b.Loop() {
				w := httptest.NewRecorder()
				h.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/authorize", bytes.NewReader(body)))
				if w.Code != http.StatusOK {
					b.Fatal(w.Body.String())
				}
			}
		})
	}
}
