package admission

import (
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"testing"

	admissionv1 "k8s.io/api/admission/v1"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apiserver/pkg/admission"
	"k8s.io/utils/ptr"
)

// webhookServer answers AdmissionReviews on loopback: /mutate labels
// every ConfigMap, /deny refuses the ConfigMap named "reserved".
func webhookServer(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var review admissionv1.AdmissionReview
		if err := json.NewDecoder(r.Body).Decode(&review); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		resp := &admissionv1.AdmissionResponse{UID: review.Request.UID, Allowed: true}
		switch r.URL.Path {
		case "/mutate":
			resp.Patch = []byte(`[{"op":"add","path":"/metadata/labels","value":{"mutated":"yes"}}]`)
			resp.PatchType = ptr.To(admissionv1.PatchTypeJSONPatch)
		case "/deny":
			if review.Request.Name == "reserved" {
				resp.Allowed = false
				resp.Result = &metav1.Status{Message: "the name reserved is kept for the platform team"}
			}
		}
		review.Response = resp
		review.Request = nil
		_ = json.NewEncoder(w).Encode(&review)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestWebhooks(t *testing.T) {
	t.Parallel()
	srv := webhookServer(t)
	ca := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	rules := []admissionregistrationv1.RuleWithOperations{{
		Operations: []admissionregistrationv1.OperationType{admissionregistrationv1.Create},
		Rule:       admissionregistrationv1.Rule{APIGroups: []string{""}, APIVersions: []string{"v1"}, Resources: []string{"configmaps"}},
	}}
	none := admissionregistrationv1.SideEffectClassNone
	// The API server defaults the selectors to {} (match everything).
	all := &metav1.LabelSelector{}
	hookCfg := func(path string) admissionregistrationv1.WebhookClientConfig {
		return admissionregistrationv1.WebhookClientConfig{URL: ptr.To(srv.URL + path), CABundle: ca}
	}
	mwc := &admissionregistrationv1.MutatingWebhookConfiguration{
		ObjectMeta: metav1.ObjectMeta{Name: "label"},
		Webhooks: []admissionregistrationv1.MutatingWebhook{{
			Name: "label.kauth.test", ClientConfig: hookCfg("/mutate"), Rules: rules, SideEffects: &none, NamespaceSelector: all, ObjectSelector: all,
			AdmissionReviewVersions: []string{"v1"},
		}},
	}
	vwc := &admissionregistrationv1.ValidatingWebhookConfiguration{
		ObjectMeta: metav1.ObjectMeta{Name: "deny"},
		Webhooks: []admissionregistrationv1.ValidatingWebhook{{
			Name: "deny.kauth.test", ClientConfig: hookCfg("/deny"), Rules: rules, SideEffects: &none, NamespaceSelector: all, ObjectSelector: all,
			AdmissionReviewVersions: []string{"v1"},
		}},
	}
	h := newHarness(t, []string{MutatingAdmissionWebhook, ValidatingAdmissionWebhook}, namespace("team", nil), mwc, vwc)

	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "team", Name: "settings"}}
	if err := h.run(t, admission.Create, cm, nil, "team", cm.Name, "configmaps"); err != nil {
		t.Fatal(err)
	}
	if cm.Labels["mutated"] != "yes" {
		t.Errorf("labels after the mutating webhook = %v, want mutated=yes", cm.Labels)
	}

	reserved := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "team", Name: "reserved"}}
	want := `admission webhook "deny.kauth.test" denied the request: the name reserved is kept for the platform team`
	if got := errString(h.run(t, admission.Create, reserved, nil, "team", reserved.Name, "configmaps")); got != want {
		t.Errorf("error = %q, want %q", got, want)
	}
}
