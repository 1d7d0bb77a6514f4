package storage_test

import (
	"context"
	"fmt"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kauth/kauth/internal/localserver/storage"
)

func Example() {
	ctx := context.Background()
	s := storage.NewMemory()
	roles := rbacv1.SchemeGroupVersion.WithResource("roles")
	w, _ := s.Watch(ctx, roles, "team", storage.WatchOptions{ResourceVersion: "0"})
	defer w.Stop()

	created, _ := s.Create(ctx, roles, &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Namespace: "team", Name: "reader"}})
	stale := created.DeepCopyObject()
	created.(*rbacv1.Role).Labels = map[string]string{"tier": "a"}
	updated, _ := s.Update(ctx, roles, created)
	_, err := s.Update(ctx, roles, stale)

	fmt.Println(updated.(*rbacv1.Role).ResourceVersion)
	fmt.Println(err)
	for range 2 {
		ev := <-w.ResultChan()
		fmt.Println(ev.Type, ev.Object.(*rbacv1.Role).ResourceVersion)
	}
	// Output:
	// 2
	// Operation cannot be fulfilled on roles.rbac.authorization.k8s.io "reader": the object has been modified; please apply your changes to the latest version and try again
	// ADDED 1
	// MODIFIED 2
}
