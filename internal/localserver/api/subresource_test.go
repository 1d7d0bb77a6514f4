package api

import (
	"context"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

func TestStatusSubresourceAndDryRun(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, Hooks{})
	ctx := context.Background()
	pods := ts.client.CoreV1().Pods("default")
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p"}, Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "nginx:1"}}},
		Status: corev1.PodStatus{Phase: corev1.PodRunning}}
	created, err := pods.Create(ctx, pod, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if created.Status.Phase != corev1.PodPending {
		t.Fatalf("create set status.phase %q; only /status may", created.Status.Phase)
	}
	created.Status.Phase = corev1.PodRunning
	created.Labels = map[string]string{"ignored": "by-status"}
	updated, err := pods.UpdateStatus(ctx, created, metav1.UpdateOptions{})
	if err != nil || updated.Status.Phase != corev1.PodRunning || updated.Labels != nil {
		t.Fatalf("status update: %v %+v", err, updated)
	}
	updated.Spec.Containers[0].Name = "renamed"
	if _, err := pods.Update(ctx, updated, metav1.UpdateOptions{}); !apierrors.IsInvalid(err) {
		t.Fatalf("pod spec change: %v", err)
	}
	// A server-side dry run answers but stores nothing.
	dry := &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: "dry"}}
	if _, err := ts.client.RbacV1().Roles("default").Create(ctx, dry, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}}); err != nil {
		t.Fatal(err)
	}
	if _, err := ts.client.RbacV1().Roles("default").Get(ctx, "dry", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Fatalf("dry-run create was stored: %v", err)
	}
	if _, err := pods.Patch(ctx, "p", types.MergePatchType, []byte(`{"metadata":{"labels":{"x":"y"}}}`), metav1.PatchOptions{DryRun: []string{metav1.DryRunAll}}); err != nil {
		t.Fatal(err)
	}
	if got, _ := pods.Get(ctx, "p", metav1.GetOptions{}); got.Labels["x"] != "" {
		t.Fatal("dry-run patch was stored")
	}
}

func TestDeletePreconditionsAndCollections(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, Hooks{})
	ctx := context.Background()
	cms := ts.client.CoreV1().ConfigMaps("default")
	for _, n := range []string{"a", "b", "c"} {
		if _, err := cms.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: n, Labels: map[string]string{"g": map[bool]string{true: "x", false: "y"}[n != "c"]}}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	wrong := types.UID("nope")
	if err := cms.Delete(ctx, "a", metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &wrong}}); !apierrors.IsConflict(err) {
		t.Fatalf("delete with a wrong uid: %v", err)
	}
	if err := cms.DeleteCollection(ctx, metav1.DeleteOptions{}, metav1.ListOptions{LabelSelector: "g=x"}); err != nil {
		t.Fatal(err)
	}
	left, _ := cms.List(ctx, metav1.ListOptions{})
	if len(left.Items) != 1 || left.Items[0].Name != "c" {
		t.Fatalf("after deletecollection: %+v", left.Items)
	}
	ns, err := ts.client.CoreV1().Namespaces().Get(ctx, "kube-system", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ns.Spec.Finalizers = append(ns.Spec.Finalizers, "example.com/extra")
	fin, err := ts.client.CoreV1().Namespaces().Finalize(ctx, ns, metav1.UpdateOptions{})
	if err != nil || len(fin.Spec.Finalizers) != 2 {
		t.Fatalf("finalize: %v %+v", err, fin)
	}
	st, err := ts.client.CoreV1().ServiceAccounts("default").Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "sa"}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	raw, err := ts.client.CoreV1().RESTClient().Delete().Namespace("default").Resource("serviceaccounts").Name("sa").DoRaw(ctx)
	if err != nil || !contains(string(raw), `"kind":"ServiceAccount"`, string(st.UID)) {
		t.Fatalf("serviceaccount delete answers with the object: %v %s", err, raw)
	}
	raw, err = ts.client.CoreV1().RESTClient().Delete().Namespace("default").Resource("configmaps").Name("c").DoRaw(ctx)
	if err != nil || !contains(string(raw), `"kind":"Status"`, `"status":"Success"`, `"kind":"configmaps"`) {
		t.Fatalf("configmap delete answers with a Status: %v %s", err, raw)
	}
}

func contains(s string, subs ...string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}
