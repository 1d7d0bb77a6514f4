package localserver

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

type oneSecret struct{ s *corev1.Secret }

func (o oneSecret) GetSecret(_ context.Context, namespace, name string) (*corev1.Secret, error) {
	if namespace == o.s.Namespace && name == o.s.Name {
		return o.s.DeepCopy(), nil
	}
	return nil, apierrors.NewNotFound(schema.GroupResource{Resource: "secrets"}, name)
}

// FuzzBootstrapTokenAuthenticate feeds arbitrary bearer tokens to the
// bootstrap-token authenticator with one valid Secret in kube-system: only
// that exact token authenticates, nothing errors, nothing panics.
func FuzzBootstrapTokenAuthenticate(f *testing.F) {
	const valid = "abcdef.0123456789abcdef"
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	b := &bootstrapTokens{now: func() time.Time { return now }, secrets: oneSecret{&corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: "kube-system", Name: "bootstrap-token-abcdef"},
		Type:       "bootstrap.kubernetes.io/token",
		Data: map[string][]byte{
			"token-id": []byte("abcdef"), "token-secret": []byte("0123456789abcdef"),
			"usage-bootstrap-authentication": []byte("true"), "auth-extra-groups": []byte("system:bootstrappers:extra"),
			"expiration": []byte(now.Add(time.Hour).Format(time.RFC3339)),
		},
	}}}
	for _, s := range []string{valid, "abcdef.0123456789abcdeF", "ABCDEF.0123456789abcdef", "abcdef.0123456789abcde", "abcdef:0123456789abcdef", "abcdef.0123456789abcdef ", "", "."} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, token string) {
		resp, ok, err := b.AuthenticateToken(context.Background(), token)
		if err != nil {
			t.Fatalf("AuthenticateToken(%q) error = %v", token, err)
		}
		if ok != (token == valid) {
			t.Fatalf("AuthenticateToken(%q) = %v, want %v", token, ok, token == valid)
		}
		if ok && resp.User.GetName() != "system:bootstrap:abcdef" {
			t.Fatalf("user = %q", resp.User.GetName())
		}
	})
}

// FuzzAuthorizationHeader sends arbitrary Authorization and
// Impersonate-User headers through a running server's whole chain (static
// tokens, bootstrap tokens, service-account JWTs, anonymous, impersonation,
// RBAC): the answer is 200 only for the listed static token, otherwise 401,
// 403 or 400, never a 5xx, and no answer repeats the header's token.
func FuzzAuthorizationHeader(f *testing.F) {
	const good = "fuzz-static-token-8c2d4e6f"
	dir := f.TempDir()
	tokens := filepath.Join(dir, "tokens.csv")
	if err := os.WriteFile(tokens, []byte(good+`,fuzzer,7,"system:masters"`+"\n"), 0o600); err != nil {
		f.Fatal(err)
	}
	cfg := Default()
	cfg.Listen = "127.0.0.1:0"
	cfg.TokenAuthFile = tokens
	cfg.EnableBootstrapTokenAuth = true
	cfg.KubeconfigOut = filepath.Join(dir, "kubeconfig")
	ctx, cancel := context.WithCancel(context.Background())
	s, err := New(ctx, cfg)
	if err != nil {
		cancel()
		f.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	f.Cleanup(func() { cancel(); <-done })
	<-s.Ready()
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(s.CAPEM())
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}, ForceAttemptHTTP2: true}
	f.Cleanup(tr.CloseIdleConnections)
	hc := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	for _, seed := range [][2]string{
		{"Bearer " + good, ""}, {"Bearer " + good, "alice"}, {"Bearer abcdef.0123456789abcdef", ""},
		{"Bearer eyJhbGciOiJSUzI1NiJ9.e30.c2ln", ""}, {"Basic YWxpY2U6cGFzcw==", ""}, {"Bearer", ""}, {"bearer " + good, ""},
		{"Bearer  " + good, ""}, {"", "system:admin"}, {"Bearer " + good + " x", ""},
	} {
		f.Add(seed[0], seed[1])
	}
	f.Fuzz(func(t *testing.T, authz, as string) {
		req, err := http.NewRequest(http.MethodGet, s.URL()+"/api/v1/namespaces/default/configmaps", nil)
		if err != nil {
			t.Skip()
		}
		req.Header.Set("Authorization", authz)
		if as != "" {
			req.Header.Set("Impersonate-User", as)
		}
		resp, err := hc.Do(req)
		if err != nil {
			t.Skip("net/http refused to send the header")
		}
		body := make([]byte, 4096)
		n, _ := resp.Body.Read(body)
		resp.Body.Close()
		code := resp.StatusCode
		if code >= 500 {
			t.Fatalf("Authorization %q Impersonate-User %q: HTTP %d: %s", authz, as, code, body[:n])
		}
		if code == http.StatusOK && !strings.Contains(authz, good) {
			t.Fatalf("Authorization %q Impersonate-User %q: HTTP 200 without the static token", authz, as)
		}
		if tok := strings.TrimSpace(strings.TrimPrefix(authz, "Bearer ")); len(tok) >= 16 && code >= 400 && strings.Contains(string(body[:n]), tok) {
			t.Fatalf("the answer repeats the token: %s", body[:n])
		}
	})
}
