package api

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apiserver/pkg/admission"
)

// labelAdmission adds a label (mutating) and refuses configmaps named
// "forbidden" (validating), recording the order it was called in.
type labelAdmission struct {
	mu    sync.Mutex
	calls []string
}

func (l *labelAdmission) record(s string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.calls = append(l.calls, s)
}

func (l *labelAdmission) recorded() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.calls...)
}

func (l *labelAdmission) Handles(admission.Operation) bool { return true }

func (l *labelAdmission) Admit(_ context.Context, a admission.Attributes, _ admission.ObjectInterfaces) error {
	l.record("admit " + string(a.GetOperation()) + " " + a.GetName())
	if cm, ok := a.GetObject().(*corev1.ConfigMap); ok {
		if cm.Labels == nil {
			cm.Labels = map[string]string{}
		}
		cm.Labels["admitted"] = "true"
	}
	return nil
}

func (l *labelAdmission) Validate(_ context.Context, a admission.Attributes, _ admission.ObjectInterfaces) error {
	l.record("validate " + string(a.GetOperation()) + " " + a.GetName())
	if a.GetName() == "forbidden" {
		return admission.NewForbidden(a, errors.New("not this one"))
	}
	return nil
}

func TestAdmissionHooks(t *testing.T) {
	t.Parallel()
	adm := &labelAdmission{}
	ts := newTestServer(t, Hooks{Admission: adm})
	ctx := context.Background()
	cms := ts.client.CoreV1().ConfigMaps("default")
	before := len(adm.recorded())
	cm, err := cms.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "ok"}}, metav1.CreateOptions{})
	if err != nil || cm.Labels["admitted"] != "true" {
		t.Fatalf("mutating admission: %v %+v", err, cm)
	}
	_, err = cms.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "forbidden"}}, metav1.CreateOptions{})
	if !apierrors.IsForbidden(err) {
		t.Fatalf("validating admission: %v", err)
	}
	if err := cms.Delete(ctx, "ok", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	want := []string{"admit CREATE ok", "validate CREATE ok", "admit CREATE forbidden", "validate CREATE forbidden", "validate DELETE ok"}
	if diff := cmp.Diff(want, adm.recorded()[before:]); diff != "" {
		t.Fatalf("admission calls (-want +got):\n%s", diff)
	}
}
