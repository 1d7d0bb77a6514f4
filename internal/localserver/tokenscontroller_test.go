package localserver

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/kauth/kauth/internal/tokens"
)

func adminClientset(t *testing.T, s *Server) kubernetes.Interface {
	t.Helper()
	cfg, err := clientcmd.BuildConfigFromFlags("", s.KubeconfigPath())
	if err != nil {
		t.Fatal(err)
	}
	c, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// watchSecret waits for the first event on the named Secret that done
// accepts and returns its object.
func watchSecret(t *testing.T, c kubernetes.Interface, ns, name, rv string, done func(watch.EventType, *corev1.Secret) bool) *corev1.Secret {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	w, err := c.CoreV1().Secrets(ns).Watch(ctx, metav1.ListOptions{FieldSelector: fields.OneTermEqualSelector("metadata.name", name).String(), ResourceVersion: rv})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	for ev := range w.ResultChan() {
		if s, ok := ev.Object.(*corev1.Secret); ok && done(ev.Type, s) {
			return s
		}
	}
	t.Fatalf("secret %s/%s: the watch ended before the expected event", ns, name)
	return nil
}

// TestLegacyServiceAccountTokens follows a Secret-based token through its
// life with the real kubectl: the tokens controller fills the Secret in,
// the token authenticates as its service account and stamps the Secret's
// last-used label, and deleting the ServiceAccount deletes the Secret.
func TestLegacyServiceAccountTokens(t *testing.T) {
	needKubectl(t)
	t.Parallel()
	s := startServer(t, nil)
	c := adminClientset(t, s)
	ctx := t.Context()
	sa, err := c.CoreV1().ServiceAccounts("default").Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "builder"}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	created, err := c.CoreV1().Secrets("default").Create(ctx, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "builder-token", Annotations: map[string]string{corev1.ServiceAccountNameKey: "builder"}},
		Type:       corev1.SecretTypeServiceAccountToken,
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	filled := watchSecret(t, c, "default", "builder-token", created.ResourceVersion, func(_ watch.EventType, s *corev1.Secret) bool {
		return len(s.Data[corev1.ServiceAccountTokenKey]) > 0
	})
	if got, want := string(filled.Data[corev1.ServiceAccountRootCAKey]), string(s.pki.CAPEM); got != want {
		t.Errorf("ca.crt = %q, want the server's CA", got)
	}
	if got := string(filled.Data[corev1.ServiceAccountNamespaceKey]); got != "default" {
		t.Errorf("namespace = %q, want default", got)
	}
	if got := filled.Annotations[corev1.ServiceAccountUIDKey]; got != string(sa.UID) {
		t.Errorf("uid annotation = %q, want %q", got, sa.UID)
	}
	token := string(filled.Data[corev1.ServiceAccountTokenKey])
	info, err := tokens.InspectJWT(token, tokens.VerifyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !info.Legacy || info.Issuer != tokens.LegacyIssuer {
		t.Errorf("decoded token = %+v, want a legacy token of issuer %q", info, tokens.LegacyIssuer)
	}

	kc := userKubeconfig(t, s, token, nil, nil)
	want := whoami{Username: "system:serviceaccount:default:builder", Groups: []string{"system:serviceaccounts", "system:serviceaccounts:default", "system:authenticated"}}
	if diff := cmp.Diff(want, kubectlWhoami(t, kc)); diff != "" {
		t.Errorf("whoami (-want +got):\n%s", diff)
	}
	used, err := c.CoreV1().Secrets("default").Get(ctx, "builder-token", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got, today := used.Labels[legacyLastUsedLabel], time.Now().UTC().Format("2006-01-02"); got != today && got != time.Now().UTC().AddDate(0, 0, 1).Format("2006-01-02") {
		t.Errorf("label %s = %q, want today (%s)", legacyLastUsedLabel, got, today)
	}

	// Revocation (invalid-since label, another token in the Secret) is in
	// TestLegacyTokenValidation: kube-apiserver caches a token's success
	// for 10 s, and so does kauth serve.

	// The ServiceAccount goes: its token Secret goes with it.
	if err := c.CoreV1().ServiceAccounts("default").Delete(ctx, "builder", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	watchSecret(t, c, "default", "builder-token", used.ResourceVersion, func(typ watch.EventType, _ *corev1.Secret) bool { return typ == watch.Deleted })
}

// TestLegacyTokenSecretsSettledAtStart: a seeded token Secret has its
// token by the time the server has settled, and one that names a missing
// ServiceAccount is gone.
func TestLegacyTokenSecretsSettledAtStart(t *testing.T) {
	t.Parallel()
	seed := writeFile(t, "seed.yaml", `apiVersion: v1
kind: ServiceAccount
metadata: {name: ci, namespace: default}
---
apiVersion: v1
kind: Secret
metadata:
  name: ci-token
  namespace: default
  annotations: {kubernetes.io/service-account.name: ci}
type: kubernetes.io/service-account-token
---
apiVersion: v1
kind: Secret
metadata:
  name: orphan-token
  namespace: default
  annotations: {kubernetes.io/service-account.name: nobody}
type: kubernetes.io/service-account-token
`)
	s := startServer(t, func(c *Config) { c.Seed = []string{seed} })
	<-s.Settled()
	c := adminClientset(t, s)
	got, err := c.CoreV1().Secrets("default").Get(t.Context(), "ci-token", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Data[corev1.ServiceAccountTokenKey]) == 0 {
		t.Errorf("ci-token has no token once the server is ready: %v", got.Data)
	}
	if _, err := c.CoreV1().Secrets("default").Get(t.Context(), "orphan-token", metav1.GetOptions{}); err == nil {
		t.Errorf("orphan-token, whose ServiceAccount does not exist, is still there")
	}
}
