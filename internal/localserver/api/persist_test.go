package api

import (
	"context"
	"net/http/httptest"
	"path/filepath"
	"testing"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/kauth/kauth/internal/localserver/storage"
)

// TestRestartKeepsAcknowledgedWrites writes through the API on a bbolt
// store, reopens the file under a new API and reads everything back.
func TestRestartKeepsAcknowledgedWrites(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "kauth.db")
	ctx := context.Background()
	serve := func() (kubernetes.Interface, func()) {
		st, err := storage.OpenBolt(path)
		if err != nil {
			t.Fatal(err)
		}
		a, err := New(st, Hooks{})
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(testChain(a.Handler()))
		client, err := kubernetes.NewForConfig(&rest.Config{Host: srv.URL})
		if err != nil {
			t.Fatal(err)
		}
		return client, func() { srv.Close(); _ = st.Close() }
	}
	client, stop := serve()
	if _, err := client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "team"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	r := &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: "r"}, Rules: []rbacv1.PolicyRule{{Verbs: []string{"get"}, APIGroups: []string{""}, Resources: []string{"pods"}}}}
	created, err := client.RbacV1().Roles("team").Create(ctx, r, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	stop()

	client, stop = serve()
	defer stop()
	got, err := client.RbacV1().Roles("team").Get(ctx, "r", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got.UID != created.UID || got.ResourceVersion != created.ResourceVersion || len(got.ManagedFields) != 1 {
		t.Fatalf("after restart: %+v, want %+v", got.ObjectMeta, created.ObjectMeta)
	}
	got.Rules[0].Verbs = []string{"list"}
	if _, err := client.RbacV1().Roles("team").Update(ctx, got, metav1.UpdateOptions{}); err != nil {
		t.Fatalf("update after restart: %v", err)
	}
}
