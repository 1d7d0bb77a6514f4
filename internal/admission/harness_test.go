package admission

import (
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apiserver/pkg/admission"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/client-go/kubernetes/scheme"
)

// harness is an admission chain over a fake clientset with started,
// synced informers.
type harness struct {
	chain  admission.Interface
	client *fake.Clientset
	cfg    Config
}

func newHarness(t *testing.T, names []string, objs ...runtime.Object) *harness {
	t.Helper()
	return newHarnessWith(t, names, nil, objs...)
}

// newHarnessWith calls before with the configuration before the
// informers start (to register controllers on them).
func newHarnessWith(t *testing.T, names []string, before func(Config), objs ...runtime.Object) *harness {
	t.Helper()
	client := fake.NewClientset(objs...)
	f := informers.NewSharedInformerFactory(client, 0)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	cfg := Config{Client: client, Informers: f, Stop: ctx.Done(), Now: func() time.Time { return time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC) }}
	chain, err := New(cfg, names)
	if err != nil {
		t.Fatal(err)
	}
	if before != nil {
		before(cfg)
	}
	f.Start(ctx.Done())
	f.WaitForCacheSync(ctx.Done())
	return &harness{chain: chain, client: client, cfg: cfg}
}

var alice = &user.DefaultInfo{Name: "alice", Groups: []string{"tenants", user.AllAuthenticated}}

// run admits obj as the REST layer does: mutating, then validating.
func (h *harness) run(t *testing.T, op admission.Operation, obj, old runtime.Object, ns, name, resource string) error {
	t.Helper()
	gvks, _, err := scheme.Scheme.ObjectKinds(firstNonNil(obj, old))
	if err != nil {
		t.Fatal(err)
	}
	gvk := gvks[0]
	gvr := schema.GroupVersionResource{Group: gvk.Group, Version: gvk.Version, Resource: resource}
	var opts runtime.Object = &metav1.CreateOptions{}
	switch op {
	case admission.Update:
		opts = &metav1.UpdateOptions{}
	case admission.Delete:
		opts = &metav1.DeleteOptions{}
	}
	attrs := admission.NewAttributesRecord(obj, old, gvk, ns, name, gvr, "", op, opts, false, alice)
	oi := admission.NewObjectInterfacesFromScheme(scheme.Scheme)
	if m, ok := h.chain.(admission.MutationInterface); ok && m.Handles(op) {
		if err := m.Admit(context.Background(), attrs, oi); err != nil {
			return err
		}
	}
	if v, ok := h.chain.(admission.ValidationInterface); ok && v.Handles(op) {
		return v.Validate(context.Background(), attrs, oi)
	}
	return nil
}

func firstNonNil(objs ...runtime.Object) runtime.Object {
	for _, o := range objs {
		if o != nil {
			return o
		}
	}
	return nil
}

func namespace(name string, labels map[string]string) *corev1.Namespace {
	return &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels}, Status: corev1.NamespaceStatus{Phase: corev1.NamespaceActive}}
}

func defaultSA(ns string) *corev1.ServiceAccount {
	return &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "default"}}
}

// pod is a one-container pod; resources are name=quantity requests.
func pod(ns, name string, requests map[corev1.ResourceName]string) *corev1.Pod {
	req := corev1.ResourceList{}
	for k, v := range requests {
		req[k] = resource.MustParse(v)
	}
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "nginx", ImagePullPolicy: corev1.PullIfNotPresent}}},
	}
	if len(req) > 0 {
		p.Spec.Containers[0].Resources.Requests = req
	}
	return p
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
