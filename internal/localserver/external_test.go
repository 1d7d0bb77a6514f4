package localserver

import (
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	authenticationv1 "k8s.io/api/authentication/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/kauth/kauth/internal/authn/oidctest"
	"github.com/kauth/kauth/internal/certs"
)

// TestOIDCWithKubectl: the real kubectl with an ID token from a small
// OIDC issuer on loopback, configured with kube-apiserver's --oidc-* flags.
func TestOIDCWithKubectl(t *testing.T) {
	t.Parallel()
	needKubectl(t)
	iss, err := oidctest.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = iss.Close() })
	caFile := filepath.Join(t.TempDir(), "oidc-ca.crt")
	if err := os.WriteFile(caFile, iss.CAPEM, 0o644); err != nil {
		t.Fatal(err)
	}
	s := startServer(t, func(c *Config) {
		c.ExternalAuthn.OIDC.IssuerURL = iss.URL
		c.ExternalAuthn.OIDC.ClientID = "kauth"
		c.ExternalAuthn.OIDC.UsernameClaim = "email"
		c.ExternalAuthn.OIDC.GroupsClaim = "groups"
		c.ExternalAuthn.OIDC.GroupsPrefix = "oidc:"
		c.ExternalAuthn.OIDC.CAFile = caFile
	})
	now := time.Now()
	claims := oidctest.Claims{"sub": "u-1", "aud": "kauth", "email": "alice@example.com", "email_verified": true, "groups": []string{"dev", "ops"}}
	good, err := iss.Sign(claims, now)
	if err != nil {
		t.Fatal(err)
	}
	got := kubectlWhoami(t, userKubeconfig(t, s, good, nil, nil))
	want := whoami{Username: "alice@example.com", Groups: []string{"oidc:dev", "oidc:ops", "system:authenticated"}}
	if diff := cmp.Diff(want, got, ignoreCredentialID()); diff != "" {
		t.Errorf("kubectl auth whoami mismatch (-want +got):\n%s", diff)
	}

	expiredClaims := oidctest.Claims{}
	for k, v := range claims {
		expiredClaims[k] = v
	}
	expiredClaims["iat"], expiredClaims["exp"] = now.Add(-2*time.Hour).Unix(), now.Add(-time.Hour).Unix()
	expired, err := iss.Sign(expiredClaims, now)
	if err != nil {
		t.Fatal(err)
	}
	forged, err := iss.SignWithForeignKey(claims, now)
	if err != nil {
		t.Fatal(err)
	}
	for name, tok := range map[string]string{"expired": expired, "wrongly signed": forged} {
		out, errOut, err := kubectl(t, userKubeconfig(t, s, tok, nil, nil), "auth", "whoami")
		if err == nil || !strings.Contains(errOut, "Unauthorized") {
			t.Errorf("%s token: kubectl auth whoami = %v\n%s%s; want Unauthorized", name, err, out, errOut)
		}
	}
}

func ignoreCredentialID() cmp.Option {
	return cmp.Transformer("noCredentialID", func(w whoami) whoami {
		delete(w.Extra, "authentication.kubernetes.io/credential-id")
		if len(w.Extra) == 0 {
			w.Extra = nil
		}
		return w
	})
}

// TestTokenWebhookBreakerInReadyz: a failing token webhook opens its
// breaker after five failures; the backend is not called again and
// /readyz?verbose names it.
func TestTokenWebhookBreakerInReadyz(t *testing.T) {
	t.Parallel()
	var calls atomic.Int64
	backend := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 1 {
			var tr authenticationv1.TokenReview
			_ = json.NewDecoder(r.Body).Decode(&tr)
			tr.Status = authenticationv1.TokenReviewStatus{Authenticated: true, User: authenticationv1.UserInfo{Username: "webhook-user", Groups: []string{"idp"}}}
			_ = json.NewEncoder(w).Encode(tr)
			return
		}
		http.Error(w, "identity service down", http.StatusInternalServerError)
	}))
	t.Cleanup(backend.Close)
	kc := webhookKubeconfig(t, backend)
	backoff := wait.Backoff{Duration: time.Millisecond, Factor: 1, Steps: 1}
	s := startServer(t, func(c *Config) {
		c.ExternalAuthn.TokenWebhookConfigFile = kc
		c.ExternalAuthn.TokenWebhookCacheTTL = 2 * time.Minute
		c.WebhookRetryBackoff = &backoff
	})
	// The first token is answered and cached: asked twice, called once.
	for range 2 {
		if code, body := call(t, s, http.MethodGet, "/apis/authentication.k8s.io/v1", "webhook-token-0", nil); code != http.StatusOK {
			t.Fatalf("webhook user: %d %s", code, body)
		}
	}
	if got := calls.Load(); got != 1 {
		t.Fatalf("backend calls = %d, want 1 within the cache TTL", got)
	}
	for i := range 8 {
		if code, _ := call(t, s, http.MethodGet, "/api", "webhook-token-"+string(rune('a'+i)), nil); code != http.StatusUnauthorized {
			t.Fatalf("token %d while failing: %d, want 401", i, code)
		}
	}
	if got := calls.Load(); got != 6 {
		t.Errorf("backend calls = %d, want 6 (1 answer, then 5 failures open the breaker)", got)
	}
	code, body := call(t, s, http.MethodGet, "/readyz?verbose", "", nil)
	if code != http.StatusInternalServerError || !strings.Contains(body, "[-]webhook-breaker-authentication-token-webhook failed") {
		t.Errorf("/readyz?verbose = %d\n%s", code, body)
	}
}

func webhookKubeconfig(t *testing.T, srv *httptest.Server) string {
	t.Helper()
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["w"] = &clientcmdapi.Cluster{Server: srv.URL, CertificateAuthorityData: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})}
	cfg.AuthInfos["w"] = &clientcmdapi.AuthInfo{}
	cfg.Contexts["w"] = &clientcmdapi.Context{Cluster: "w", AuthInfo: "w"}
	cfg.CurrentContext = "w"
	p := filepath.Join(t.TempDir(), "webhook.kubeconfig")
	if err := clientcmd.WriteToFile(*cfg, p); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestClientCRL: with --client-crl-file, a certificate revoked by
// "kauth cert revoke" is refused and an unrevoked one still works; a new
// revocation takes effect without a restart.
func TestClientCRLWithKubectl(t *testing.T) {
	t.Parallel()
	needKubectl(t)
	dir := t.TempDir()
	now := time.Now()
	if _, err := certs.InitCA(certs.InitCARequest{CommonName: "team CA", Expiry: 24 * time.Hour, Now: now}, dir, false); err != nil {
		t.Fatal(err)
	}
	ca, err := certs.LoadCA(dir)
	if err != nil {
		t.Fatal(err)
	}
	issue := func(u string) (*certs.Issued, string) {
		is, err := certs.Issue(ca, certs.IssueRequest{User: u, Groups: []string{"dev"}, Expiry: time.Hour, Now: now})
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, u+".crt")
		if err := os.WriteFile(p, is.CertPEM, 0o644); err != nil {
			t.Fatal(err)
		}
		return is, p
	}
	alice, aliceFile := issue("alice")
	bob, bobFile := issue("bob")
	if _, err := certs.Revoke(certs.RevokeRequest{CADir: dir, CertFile: aliceFile, Now: now}); err != nil {
		t.Fatal(err)
	}
	s := startServer(t, func(c *Config) {
		c.ClientCAFile = filepath.Join(dir, certs.CACertFile)
		c.ExternalAuthn.ClientCRLFile = filepath.Join(dir, certs.CACRLFile)
	})
	aliceKC := userKubeconfig(t, s, "", alice.CertPEM, alice.KeyPEM)
	bobKC := userKubeconfig(t, s, "", bob.CertPEM, bob.KeyPEM)
	if _, errOut, err := kubectl(t, aliceKC, "auth", "whoami"); err == nil || !strings.Contains(errOut, "Unauthorized") {
		t.Errorf("revoked alice: %v %s, want Unauthorized", err, errOut)
	}
	if got := kubectlWhoami(t, bobKC); got.Username != "bob" {
		t.Errorf("bob = %+v, want bob", got)
	}
	if _, err := certs.Revoke(certs.RevokeRequest{CADir: dir, CertFile: bobFile, Now: now}); err != nil {
		t.Fatal(err)
	}
	if _, errOut, err := kubectl(t, bobKC, "auth", "whoami"); err == nil || !strings.Contains(errOut, "Unauthorized") {
		t.Errorf("bob after revocation: %v %s, want Unauthorized", err, errOut)
	}
}

// TestABACAndWebhookModes: --authorization-mode=RBAC,ABAC with a policy
// file, answered for kubectl auth can-i.
func TestABACModeWithKubectl(t *testing.T) {
	t.Parallel()
	needKubectl(t)
	dir := t.TempDir()
	policy := filepath.Join(dir, "abac.jsonl")
	tokens := filepath.Join(dir, "tokens.csv")
	if err := os.WriteFile(policy, []byte(`{"apiVersion":"abac.authorization.kubernetes.io/v1beta1","kind":"Policy","spec":{"user":"carol","namespace":"team-a","resource":"pods","apiGroup":"","readonly":true}}`+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(tokens, []byte("carol-token,carol,3\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	s := startServer(t, func(c *Config) {
		c.AuthorizationModes = []string{"RBAC", "ABAC"}
		c.AuthorizationPolicyFile = policy
		c.TokenAuthFile = tokens
	})
	kc := userKubeconfig(t, s, "carol-token", nil, nil)
	answer := func(args ...string) string {
		out, _, _ := kubectl(t, kc, append([]string{"auth", "can-i"}, args...)...)
		return strings.Fields(out + " ?")[0]
	}
	got := []string{answer("list", "pods", "-n", "team-a"), answer("delete", "pods", "-n", "team-a"), answer("list", "pods", "-n", "team-b")}
	if diff := cmp.Diff([]string{"yes", "no", "no"}, got); diff != "" {
		t.Errorf("can-i mismatch (-want +got):\n%s", diff)
	}
}
