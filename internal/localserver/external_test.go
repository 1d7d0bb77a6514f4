package localserver

import (
	"context"
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
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/kauth/kauth/internal/authn/oidctest"
	"github.com/kauth/kauth/internal/authwebhook"
	"github.com/kauth/kauth/internal/certs"
	"github.com/kauth/kauth/internal/rbac"
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

// webhookKubeconfig writes the kubeconfig-format file of a webhook at srv,
// as "kauth webhook config" writes it.
func webhookKubeconfig(t *testing.T, srv *httptest.Server) string {
	t.Helper()
	data, err := authwebhook.Kubeconfig(srv.URL, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), &clientcmdapi.AuthInfo{})
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "webhook.kubeconfig")
	if err := os.WriteFile(p, data, 0o600); err != nil {
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

// TestServeWithKauthWebhook: kauth serve authenticates and authorizes
// through "kauth webhook serve" (the other half of issue 8), with the
// files "kauth webhook config" writes, and the real kubectl as the user.
func TestServeWithKauthWebhook(t *testing.T) {
	t.Parallel()
	needKubectl(t)
	dir := t.TempDir()
	now := time.Now()
	if _, err := certs.InitCA(certs.InitCARequest{CommonName: "webhook CA", Expiry: time.Hour, Now: now}, dir, false); err != nil {
		t.Fatal(err)
	}
	ca, err := certs.LoadCA(dir)
	if err != nil {
		t.Fatal(err)
	}
	is, err := certs.Issue(ca, certs.IssueRequest{User: "kauth-webhook", Usage: "server", Hosts: []string{"127.0.0.1"}, Expiry: time.Hour, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{
		"webhook.crt": string(is.CertPEM), "webhook.key": string(is.KeyPEM),
		"tokens.csv": "dana-token,dana,4,\"dev\"\n",
		"rbac.yaml": `apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: pod-reader}
rules: [{apiGroups: [""], resources: ["pods"], verbs: ["get", "list"]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: dev, namespace: team-a}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: pod-reader}
subjects: [{apiGroup: rbac.authorization.k8s.io, kind: Group, name: dev}]
`,
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	wh, err := authwebhook.New(context.Background(), authwebhook.Config{
		Listen: "127.0.0.1:0", CertFile: filepath.Join(dir, "webhook.crt"), KeyFile: filepath.Join(dir, "webhook.key"),
		TokenAuthFile: filepath.Join(dir, "tokens.csv"), Policy: rbac.Sources{From: []string{filepath.Join(dir, "rbac.yaml")}},
		Options: authwebhook.Options{TokenTTL: time.Minute, AuthorizedTTL: time.Minute, UnauthorizedTTL: time.Second},
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- wh.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	kcs, err := authwebhook.WriteKubeconfigs(authwebhook.KubeconfigRequest{URL: wh.URL(), CAFile: filepath.Join(dir, certs.CACertFile), Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	s := startServer(t, func(c *Config) {
		c.ExternalAuthn.TokenWebhookConfigFile = kcs[0].Path
		c.AuthorizationModes = []string{ModeRBAC, ModeWebhook}
		c.AuthorizationWebhook.ConfigFile = kcs[1].Path
	})
	kc := userKubeconfig(t, s, "dana-token", nil, nil)
	got := kubectlWhoami(t, kc)
	if diff := cmp.Diff(whoami{Username: "dana", Groups: []string{"dev", "system:authenticated"}}, got, ignoreCredentialID()); diff != "" {
		t.Errorf("kubectl auth whoami mismatch (-want +got):\n%s", diff)
	}
	answer := func(args ...string) string {
		out, _, _ := kubectl(t, kc, append([]string{"auth", "can-i"}, args...)...)
		return strings.Fields(out + " ?")[0]
	}
	if diff := cmp.Diff([]string{"yes", "no"}, []string{answer("list", "pods", "-n", "team-a"), answer("delete", "pods", "-n", "team-a")}); diff != "" {
		t.Errorf("can-i through the webhook mismatch (-want +got):\n%s", diff)
	}
	if st := wh.Handler.Stats(); st.TokenReviews == 0 || st.AccessReviews == 0 {
		t.Errorf("webhook stats = %+v, want reviews of both kinds", st)
	}
}

// TestAuthenticationConfigWithKubectl: --authentication-config with CEL
// claim mappings and validation rules, and its anonymous section (only
// /readyz is open to anonymous requests).
func TestAuthenticationConfigWithKubectl(t *testing.T) {
	t.Parallel()
	needKubectl(t)
	iss, err := oidctest.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = iss.Close() })
	var ca strings.Builder
	for _, l := range strings.SplitAfter(string(iss.CAPEM), "\n") {
		if l != "" {
			ca.WriteString("      " + l)
		}
	}
	cfg := `apiVersion: apiserver.config.k8s.io/v1
kind: AuthenticationConfiguration
jwt:
- issuer:
    url: ` + iss.URL + `
    audiences: [kauth, other]
    audienceMatchPolicy: MatchAny
    certificateAuthority: |
` + ca.String() + `  claimValidationRules:
  - expression: 'claims.hd == "example.com"'
    message: hosted domain must be example.com
  claimMappings:
    username:
      expression: '"idp:" + claims.preferred_username'
    groups:
      expression: 'claims.roles.split(",").map(r, "role:" + r)'
anonymous:
  enabled: true
  conditions:
  - path: /readyz
`
	file := filepath.Join(t.TempDir(), "authn.yaml")
	if err := os.WriteFile(file, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	s := startServer(t, func(c *Config) { c.ExternalAuthn.AuthenticationConfigFile = file })
	now := time.Now()
	tok, err := iss.Sign(oidctest.Claims{"sub": "1", "aud": "kauth", "preferred_username": "erin", "roles": "admin,dev", "hd": "example.com"}, now)
	if err != nil {
		t.Fatal(err)
	}
	got := kubectlWhoami(t, userKubeconfig(t, s, tok, nil, nil))
	want := whoami{Username: "idp:erin", Groups: []string{"role:admin", "role:dev", "system:authenticated"}}
	if diff := cmp.Diff(want, got, ignoreCredentialID()); diff != "" {
		t.Errorf("kubectl auth whoami mismatch (-want +got):\n%s", diff)
	}
	bad, err := iss.Sign(oidctest.Claims{"sub": "1", "aud": "kauth", "preferred_username": "erin", "roles": "admin", "hd": "evil.com"}, now)
	if err != nil {
		t.Fatal(err)
	}
	if _, errOut, err := kubectl(t, userKubeconfig(t, s, bad, nil, nil), "auth", "whoami"); err == nil || !strings.Contains(errOut, "Unauthorized") {
		t.Errorf("token failing the claim validation rule: %v %s, want Unauthorized", err, errOut)
	}
	if code, _ := call(t, s, "GET", "/readyz", "", nil); code != 200 {
		t.Errorf("anonymous /readyz = %d, want 200", code)
	}
	if code, _ := call(t, s, "GET", "/version", "", nil); code != 401 {
		t.Errorf("anonymous /version = %d, want 401 (anonymous only for /readyz)", code)
	}
}
