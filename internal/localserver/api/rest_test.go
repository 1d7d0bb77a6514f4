package api

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	rbacapply "k8s.io/client-go/applyconfigurations/rbac/v1"
)

func role(name string, verbs ...string) *rbacv1.Role {
	return &rbacv1.Role{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"app": name}},
		Rules:      []rbacv1.PolicyRule{{Verbs: verbs, APIGroups: []string{""}, Resources: []string{"pods"}}},
	}
}

func TestTypedClientCRUD(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, Hooks{})
	ctx := context.Background()
	roles := ts.client.RbacV1().Roles("default")

	created, err := roles.Create(ctx, role("reader", "get"), metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if created.UID == "" || created.ResourceVersion == "" || len(created.ManagedFields) != 1 {
		t.Fatalf("created role lacks server fields: %+v", created.ObjectMeta)
	}
	if _, err := roles.Create(ctx, role("reader", "get"), metav1.CreateOptions{}); !apierrors.IsAlreadyExists(err) {
		t.Fatalf("duplicate create: %v", err)
	}
	gen, err := roles.Create(ctx, &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{GenerateName: "gen-"}}, metav1.CreateOptions{})
	if err != nil || len(gen.Name) != len("gen-")+5 {
		t.Fatalf("generateName: %v %q", err, gen.GetName())
	}

	stale := created.DeepCopy()
	created.Rules[0].Verbs = []string{"get", "list"}
	updated, err := roles.Update(ctx, created, metav1.UpdateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	stale.Rules[0].Verbs = []string{"delete"}
	if _, err := roles.Update(ctx, stale, metav1.UpdateOptions{}); !apierrors.IsConflict(err) {
		t.Fatalf("stale update: got %v, want 409", err)
	}

	patched, err := roles.Patch(ctx, "reader", types.MergePatchType, []byte(`{"metadata":{"labels":{"tier":"x"}}}`), metav1.PatchOptions{})
	if err != nil || patched.Labels["tier"] != "x" || patched.Labels["app"] != "reader" {
		t.Fatalf("merge patch: %v %v", err, patched.GetLabels())
	}
	patched, err = roles.Patch(ctx, "reader", types.JSONPatchType, []byte(`[{"op":"add","path":"/rules/0/verbs/-","value":"watch"}]`), metav1.PatchOptions{})
	if err != nil || !cmp.Equal(patched.Rules[0].Verbs, []string{"get", "list", "watch"}) {
		t.Fatalf("json patch: %v %v", err, patched)
	}
	patched, err = roles.Patch(ctx, "reader", types.StrategicMergePatchType, []byte(`{"metadata":{"annotations":{"a":"b"}}}`), metav1.PatchOptions{})
	if err != nil || patched.Annotations["a"] != "b" || patched.ResourceVersion == updated.ResourceVersion {
		t.Fatalf("strategic patch: %v %v", err, patched)
	}

	list, err := roles.List(ctx, metav1.ListOptions{LabelSelector: "app=reader"})
	if err != nil || len(list.Items) != 1 || list.ResourceVersion == "" {
		t.Fatalf("list by label: %v %+v", err, list)
	}
	if _, err := roles.List(ctx, metav1.ListOptions{FieldSelector: "spec.nope=1"}); !apierrors.IsBadRequest(err) {
		t.Fatalf("bad field selector: %v", err)
	}
	byName, err := roles.List(ctx, metav1.ListOptions{FieldSelector: "metadata.name=reader"})
	if err != nil || len(byName.Items) != 1 {
		t.Fatalf("field selector: %v %d", err, len(byName.Items))
	}
	if err := roles.Delete(ctx, "reader", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := roles.Get(ctx, "reader", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Fatalf("get after delete: %v", err)
	}
}

func TestServerSideApply(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, Hooks{})
	ctx := context.Background()
	roles := ts.client.RbacV1().Roles("default")
	cfg := rbacapply.Role("applied", "default").WithRules(rbacapply.PolicyRule().WithVerbs("get").WithAPIGroups("").WithResources("pods"))
	out, err := roles.Apply(ctx, cfg, metav1.ApplyOptions{FieldManager: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.ManagedFields) != 1 || out.ManagedFields[0].Manager != "alice" || out.ManagedFields[0].Operation != metav1.ManagedFieldsOperationApply {
		t.Fatalf("managed fields: %+v", out.ManagedFields)
	}
	other := rbacapply.Role("applied", "default").WithRules(rbacapply.PolicyRule().WithVerbs("list").WithAPIGroups("").WithResources("pods"))
	if _, err := roles.Apply(ctx, other, metav1.ApplyOptions{FieldManager: "bob"}); !apierrors.IsConflict(err) {
		t.Fatalf("conflicting apply: got %v, want 409", err)
	}
	forced, err := roles.Apply(ctx, other, metav1.ApplyOptions{FieldManager: "bob", Force: true})
	if err != nil || forced.Rules[0].Verbs[0] != "list" {
		t.Fatalf("forced apply: %v %+v", err, forced)
	}
}

func TestStrictFieldValidation(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, Hooks{})
	body := []byte(`{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c"},"data":{"k":"v"},"bogus":1}`)
	res := ts.client.CoreV1().RESTClient().Post().Namespace("default").Resource("configmaps").
		Param("fieldValidation", "Strict").Body(body).Do(context.Background())
	err := res.Error()
	want := `ConfigMap in version "v1" cannot be handled as a ConfigMap: strict decoding error: unknown field "bogus"`
	if !apierrors.IsBadRequest(err) || err.Error() != want {
		t.Fatalf("strict: got %v\nwant %s", err, want)
	}
	var warnings []string
	res = ts.client.CoreV1().RESTClient().Post().Namespace("default").Resource("configmaps").Body(body).Do(context.Background())
	for _, w := range res.Warnings() {
		warnings = append(warnings, w.Text)
	}
	if res.Error() != nil || !cmp.Equal(warnings, []string{`unknown field "bogus"`}) {
		t.Fatalf("warn: %v %q", res.Error(), warnings)
	}
}

func TestNamespaceLifecycle(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, Hooks{})
	ctx := context.Background()
	ts.createNamespace(t, "team")
	ns, _ := ts.client.CoreV1().Namespaces().Get(ctx, "team", metav1.GetOptions{})
	if ns.Status.Phase != corev1.NamespaceActive || ns.Labels["kubernetes.io/metadata.name"] != "team" || len(ns.Spec.Finalizers) != 1 {
		t.Fatalf("namespace defaults: %+v", ns)
	}
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "c", Finalizers: []string{"example.com/hold"}}}
	if _, err := ts.client.CoreV1().ConfigMaps("team").Create(ctx, cm, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := ts.client.RbacV1().Roles("team").Create(ctx, role("r", "get"), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := ts.client.RbacV1().Roles("nowhere").Create(ctx, role("r", "get"), metav1.CreateOptions{}); !apierrors.IsNotFound(err) {
		t.Fatalf("create in missing namespace: %v", err)
	}
	err := ts.client.CoreV1().Namespaces().Delete(ctx, "kube-system", metav1.DeleteOptions{})
	if !apierrors.IsForbidden(err) || err.Error() != `namespaces "kube-system" is forbidden: this namespace may not be deleted` {
		t.Fatalf("deleting kube-system: %v", err)
	}
	if err := ts.client.CoreV1().Namespaces().Delete(ctx, "team", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	ns, err = ts.client.CoreV1().Namespaces().Get(ctx, "team", metav1.GetOptions{})
	if err != nil || ns.Status.Phase != corev1.NamespaceTerminating {
		t.Fatalf("terminating namespace: %v %+v", err, ns.Status)
	}
	if _, err := ts.client.RbacV1().Roles("team").Get(ctx, "r", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Fatalf("content survived: %v", err)
	}
	_, err = ts.client.RbacV1().Roles("team").Create(ctx, role("r2", "get"), metav1.CreateOptions{})
	if !apierrors.IsForbidden(err) || err.Error() != `roles.rbac.authorization.k8s.io "r2" is forbidden: unable to create new content in namespace team because it is being terminated` {
		t.Fatalf("create in terminating namespace: %v", err)
	}
	// Releasing the last finalizer lets the content and then the namespace go.
	held, _ := ts.client.CoreV1().ConfigMaps("team").Get(ctx, "c", metav1.GetOptions{})
	if held.DeletionTimestamp == nil {
		t.Fatal("finalized content was not marked deleted")
	}
	held.Finalizers = nil
	if _, err := ts.client.CoreV1().ConfigMaps("team").Update(ctx, held, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := ts.client.CoreV1().Namespaces().Get(ctx, "team", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Fatalf("namespace after finalization: %v", err)
	}
}

func TestValidationErrors(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, Hooks{})
	ctx := context.Background()
	tests := []struct {
		name string
		obj  *rbacv1.RoleBinding
		want string
	}{
		{"bad roleRef kind", &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "b"}, RoleRef: rbacv1.RoleRef{Kind: "Pod", Name: "x"}},
			`RoleBinding.rbac.authorization.k8s.io "b" is invalid: roleRef.kind: Unsupported value: "Pod": supported values: "Role", "ClusterRole"`},
		{"subject without name", &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "b"}, RoleRef: rbacv1.RoleRef{Kind: "Role", Name: "x"},
			Subjects: []rbacv1.Subject{{Kind: "User"}}},
			`RoleBinding.rbac.authorization.k8s.io "b" is invalid: subjects[0].name: Required value`},
	}
	for _, tc := range tests {
		_, err := ts.client.RbacV1().RoleBindings("default").Create(ctx, tc.obj, metav1.CreateOptions{})
		if !apierrors.IsInvalid(err) || err.Error() != tc.want {
			t.Errorf("%s:\n got %v\nwant %s", tc.name, err, tc.want)
		}
	}
}

func TestErrorShapes(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, Hooks{})
	tests := []struct {
		method, path, contentType, body string
		code                            int
		reason                          metav1.StatusReason
	}{
		{"GET", "/api/v1/widgets", "", "", 404, metav1.StatusReasonNotFound},
		{"GET", "/apis/nope.example.com/v1/things", "", "", 404, metav1.StatusReasonNotFound},
		{"GET", "/api/v1/namespaces/default/configmaps/missing", "", "", 404, metav1.StatusReasonNotFound},
		{"POST", "/api/v1/namespaces/default/configmaps", "application/json", "{not json", 400, metav1.StatusReasonBadRequest},
		{"PATCH", "/api/v1/namespaces/default", "text/plain", "{}", 415, metav1.StatusReasonUnsupportedMediaType},
		{"GET", "/apis/authentication.k8s.io/v1/tokenreviews", "", "", 405, metav1.StatusReasonMethodNotAllowed},
		{"POST", "/api/v1/namespaces/default/configmaps", "application/json", `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"x"},"data":{"k":"` + string(make([]byte, 4<<20)) + `"}}`, 413, metav1.StatusReasonRequestEntityTooLarge},
		{"GET", "/api/v1/namespaces/default/configmaps?labelSelector=a%20in", "", "", 400, metav1.StatusReasonBadRequest},
		{"GET", "/api/v1/namespaces/default/configmaps?limit=ten", "", "", 400, metav1.StatusReasonBadRequest},
		{"POST", "/api/v1/namespaces/default/configmaps?fieldValidation=Loud", "application/json", `{}`, 422, metav1.StatusReasonInvalid},
	}
	for _, tc := range tests {
		code, status := ts.do(t, tc.method, tc.path, tc.contentType, tc.body)
		if code != tc.code || status.Reason != tc.reason || status.Kind != "Status" {
			t.Errorf("%s %s: got %d %s %q, want %d %s", tc.method, tc.path, code, status.Reason, status.Message, tc.code, tc.reason)
		}
	}
}

func (ts *testServer) do(t *testing.T, method, path, contentType, body string) (int, metav1.Status) {
	t.Helper()
	code, raw := ts.raw(t, method, path, contentType, body)
	var st metav1.Status
	_ = json.Unmarshal(raw, &st)
	return code, st
}
