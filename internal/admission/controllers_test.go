package admission

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/apiserver/pkg/admission"
)

// waitFor reads w until match accepts an object; the test's deadline
// bounds it.
func waitFor(t *testing.T, w watch.Interface, match func(any) bool) {
	t.Helper()
	defer w.Stop()
	for ev := range w.ResultChan() {
		if match(ev.Object) {
			return
		}
	}
	t.Fatal("watch ended before the expected object appeared")
}

func TestNamespaceCreatorFlow(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	var ctrl *Controllers
	h := newHarnessWith(t, []string{NamespaceCreator}, func(cfg Config) { ctrl = NewControllers(cfg, true) })

	ns := namespace("alice-dev", nil)
	ns.Annotations = map[string]string{CreatedByAnnotation: "mallory"}
	if err := h.run(t, admission.Create, ns, nil, "", ns.Name, "namespaces"); err != nil {
		t.Fatal(err)
	}
	if got := ns.Annotations[CreatedByAnnotation]; got != "alice" {
		t.Fatalf("%s = %q, want the requesting user alice", CreatedByAnnotation, got)
	}
	upd := ns.DeepCopy()
	upd.Annotations[CreatedByAnnotation] = "mallory"
	if err := h.run(t, admission.Update, upd, ns, "", ns.Name, "namespaces"); err != nil {
		t.Fatal(err)
	}
	if got := upd.Annotations[CreatedByAnnotation]; got != "alice" {
		t.Errorf("an update changed %s to %q", CreatedByAnnotation, got)
	}

	w, err := h.client.RbacV1().RoleBindings("alice-dev").Watch(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	go ctrl.Run(ctx)
	if _, err := h.client.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	var got *rbacv1.RoleBinding
	waitFor(t, w, func(o any) bool { got, _ = o.(*rbacv1.RoleBinding); return got != nil })
	want := []rbacv1.Subject{{Kind: "User", APIGroup: "rbac.authorization.k8s.io", Name: "alice"}}
	if diff := cmp.Diff(want, got.Subjects); diff != "" {
		t.Errorf("subjects (-want +got):\n%s", diff)
	}
	if got.RoleRef.Name != "admin" || got.RoleRef.Kind != "ClusterRole" {
		t.Errorf("roleRef = %+v, want ClusterRole admin", got.RoleRef)
	}
}

func TestCreatorBindingForServiceAccount(t *testing.T) {
	t.Parallel()
	got := creatorBinding(namespace("ci-1", nil), "system:serviceaccount:ci:runner").Subjects
	want := []rbacv1.Subject{{Kind: "ServiceAccount", Namespace: "ci", Name: "runner"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("subjects (-want +got):\n%s", diff)
	}
}

func TestQuotaStatusController(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	rq := &corev1.ResourceQuota{
		ObjectMeta: metav1.ObjectMeta{Namespace: "team", Name: "compute"},
		Spec: corev1.ResourceQuotaSpec{Hard: corev1.ResourceList{
			corev1.ResourcePods: resource.MustParse("10"), corev1.ResourceRequestsCPU: resource.MustParse("4"),
			"count/configmaps":                             resource.MustParse("5"),
			"count/serviceaccounts":                        resource.MustParse("5"),
			"count/roles.rbac.authorization.k8s.io":        resource.MustParse("5"),
			"count/rolebindings.rbac.authorization.k8s.io": resource.MustParse("5"),
		}},
	}
	done := pod("team", "finished", map[corev1.ResourceName]string{corev1.ResourceCPU: "3"})
	done.Status.Phase = corev1.PodSucceeded
	var ctrl *Controllers
	h := newHarnessWith(t, nil, func(cfg Config) { ctrl = NewControllers(cfg, false) },
		namespace("team", nil), rq,
		pod("team", "a", map[corev1.ResourceName]string{corev1.ResourceCPU: "500m"}),
		pod("team", "b", map[corev1.ResourceName]string{corev1.ResourceCPU: "1"}),
		done,
		&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "team", Name: "c"}},
		&corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: "team", Name: "default"}},
		&corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: "team", Name: "builder"}},
		&rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Namespace: "team", Name: "reader"}},
		&rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Namespace: "other", Name: "reader"}},
		pod("other", "elsewhere", map[corev1.ResourceName]string{corev1.ResourceCPU: "1"}))
	w, err := h.client.CoreV1().ResourceQuotas("team").Watch(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	go ctrl.Run(ctx)
	var got *corev1.ResourceQuota
	waitFor(t, w, func(o any) bool { got, _ = o.(*corev1.ResourceQuota); return got != nil && got.Status.Used != nil })
	used := map[string]string{}
	for k, v := range got.Status.Used {
		used[string(k)] = v.String()
	}
	want := map[string]string{
		"pods": "2", "requests.cpu": "1500m", "count/configmaps": "1", "count/serviceaccounts": "2",
		"count/roles.rbac.authorization.k8s.io": "1", "count/rolebindings.rbac.authorization.k8s.io": "0",
	}
	if diff := cmp.Diff(want, used); diff != "" {
		t.Errorf("status.used (-want +got):\n%s", diff)
	}
}
