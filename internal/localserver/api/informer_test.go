package api

import (
	"context"
	"testing"
	"time"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/tools/cache"
)

// TestInformerFollowsRBAC runs a client-go shared informer against the
// handler while RBAC objects change, and checks it sees every change.
func TestInformerFollowsRBAC(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, Hooks{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if _, err := ts.client.RbacV1().ClusterRoles().Create(ctx, &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "before"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	factory := informers.NewSharedInformerFactory(ts.client, time.Hour)
	inf := factory.Rbac().V1().ClusterRoles().Informer()
	events := make(chan string, 16)
	_, err := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc: func(obj any) { events <- "add " + obj.(*rbacv1.ClusterRole).Name },
		UpdateFunc: func(_, obj any) {
			events <- "update " + obj.(*rbacv1.ClusterRole).Name + " " + obj.(*rbacv1.ClusterRole).Labels["v"]
		},
		DeleteFunc: func(obj any) {
			if cr, ok := obj.(*rbacv1.ClusterRole); ok {
				events <- "delete " + cr.Name
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	factory.Start(ctx.Done())
	if !cache.WaitForCacheSync(ctx.Done(), inf.HasSynced) {
		t.Fatal("informer did not sync")
	}
	expect := func(want string) {
		t.Helper()
		if got := <-events; got != want {
			t.Fatalf("event %q, want %q", got, want)
		}
	}
	expect("add before")
	roles := ts.client.RbacV1().ClusterRoles()
	if _, err := roles.Create(ctx, &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "after"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	expect("add after")
	if _, err := roles.Patch(ctx, "after", "application/merge-patch+json", []byte(`{"metadata":{"labels":{"v":"2"}}}`), metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	expect("update after 2")
	if err := roles.Delete(ctx, "before", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	expect("delete before")
	if got := inf.GetStore().ListKeys(); len(got) != 1 || got[0] != "after" {
		t.Fatalf("informer cache = %v, want [after]", got)
	}
}
