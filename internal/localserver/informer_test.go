package localserver

import (
	"context"
	"testing"
	"time"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/clientcmd"
)

// TestInformerFollowsRBAC runs a client-go shared informer on RoleBindings
// against the server while they are created, updated and deleted, and
// checks that it sees each change and that authorization follows.
func TestInformerFollowsRBAC(t *testing.T) {
	t.Parallel()
	s := startServer(t, func(c *Config) { c.TokenAuthFile = writeFile(t, "tokens.csv", testTokens) })
	cfg, err := clientcmd.BuildConfigFromFlags("", s.KubeconfigPath())
	if err != nil {
		t.Fatal(err)
	}
	client := kubernetes.NewForConfigOrDie(cfg)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	events := make(chan string, 16)
	factory := informers.NewSharedInformerFactoryWithOptions(client, 0, informers.WithNamespace("default"))
	inf := factory.Rbac().V1().RoleBindings().Informer()
	_, err = inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc: func(obj any) { events <- "add " + obj.(*rbacv1.RoleBinding).Name },
		UpdateFunc: func(_, obj any) {
			events <- "update " + obj.(*rbacv1.RoleBinding).Name + " " + obj.(*rbacv1.RoleBinding).Subjects[0].Name
		},
		DeleteFunc: func(obj any) {
			if rb, ok := obj.(*rbacv1.RoleBinding); ok {
				events <- "delete " + rb.Name
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
		select {
		case got := <-events:
			if got != want {
				t.Fatalf("event %q, want %q", got, want)
			}
		case <-ctx.Done():
			t.Fatalf("no event, want %q", want)
		}
	}
	rbs := client.RbacV1().RoleBindings("default")
	rb := &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "viewers"},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: "bob"}},
		RoleRef:    rbacv1.RoleRef{Kind: "ClusterRole", APIGroup: rbacv1.GroupName, Name: "view"},
	}
	created, err := rbs.Create(ctx, rb, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	expect("add viewers")
	if err := s.WaitForRBAC(ctx); err != nil {
		t.Fatal(err)
	}
	if code, _ := call(t, s, "GET", "/api/v1/namespaces/default/configmaps", "bob-token", nil); code != 200 {
		t.Errorf("bob after the binding: %d, want 200", code)
	}
	created.Subjects[0].Name = "alice"
	if _, err := rbs.Update(ctx, created, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	expect("update viewers alice")
	if err := s.WaitForRBAC(ctx); err != nil {
		t.Fatal(err)
	}
	if code, _ := call(t, s, "GET", "/api/v1/namespaces/default/configmaps", "bob-token", nil); code != 403 {
		t.Errorf("bob after the binding moved to alice: %d, want 403", code)
	}
	if err := rbs.Delete(ctx, "viewers", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	expect("delete viewers")
	if err := s.WaitForRBAC(ctx); err != nil {
		t.Fatal(err)
	}
	if code, _ := call(t, s, "GET", "/api/v1/namespaces/default/configmaps", "alice-token", nil); code != 403 {
		t.Errorf("alice after the delete: %d, want 403", code)
	}
}
