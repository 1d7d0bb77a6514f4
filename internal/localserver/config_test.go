package localserver

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	certificatesv1 "k8s.io/api/certificates/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	auditinternal "k8s.io/apiserver/pkg/apis/audit"
)

// runtimeUnknown stands for a logged request or response body.
var runtimeUnknown = runtime.Unknown{Raw: []byte(`{"spec":{"token":"secret"}}`)}

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		mutate func(*Config)
		want   []string
	}{
		{name: "defaults"},
		{name: "modes in order", mutate: func(c *Config) { c.AuthorizationModes = []string{ModeAlwaysDeny, ModeRBAC} }},
		{name: "unknown mode", mutate: func(c *Config) { c.AuthorizationModes = []string{"Node"} },
			want: []string{`--authorization-mode "Node": must be one of RBAC, AlwaysAllow, AlwaysDeny, Webhook, ABAC`}},
		{name: "repeated mode", mutate: func(c *Config) { c.AuthorizationModes = []string{ModeRBAC, ModeRBAC} },
			want: []string{`--authorization-mode "RBAC": specified more than once`}},
		{name: "no mode", mutate: func(c *Config) { c.AuthorizationModes = nil },
			want: []string{"--authorization-mode: at least one mode is required (one of RBAC, AlwaysAllow, AlwaysDeny, Webhook, ABAC)"}},
		{name: "listen without port", mutate: func(c *Config) { c.Listen = "localhost" },
			want: []string{`--listen "localhost": expected host:port: address localhost: missing port in address`}},
		{name: "negative limits and timeout", mutate: func(c *Config) {
			c.MaxRequestsInFlight, c.MaxMutatingRequestsInFlight, c.RequestTimeout = -1, -2, 0
		}, want: []string{
			"--max-requests-inflight -1: must not be negative",
			"--max-mutating-requests-inflight -2: must not be negative",
			"--request-timeout 0s: must be positive",
		}},
		{name: "policy without log", mutate: func(c *Config) { c.AuditPolicyFile = "p.yaml" },
			want: []string{"--audit-policy-file needs --audit-log-path: the log backend is the only audit backend"}},
		{name: "verification keys without a signing key", mutate: func(c *Config) { c.ServiceAccountKeyFiles = []string{"sa.pub"} }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := Default()
			if tc.mutate != nil {
				tc.mutate(&c)
			}
			var got []string
			if err := c.Validate(); err != nil {
				var ce *ConfigError
				if !errors.As(err, &ce) {
					t.Errorf("Validate() error is %T, want *ConfigError", err)
				}
				got = strings.Split(err.Error(), "\n")
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Validate() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestBootstrapTokens(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	secret := func(mutate func(*corev1.Secret)) *fakeObjects {
		s := &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Namespace: "kube-system", Name: "bootstrap-token-abcdef"},
			Type:       "bootstrap.kubernetes.io/token",
			Data: map[string][]byte{
				"token-id": []byte("abcdef"), "token-secret": []byte("0123456789abcdef"),
				"usage-bootstrap-authentication": []byte("true"),
				"auth-extra-groups":              []byte("system:bootstrappers:a,system:bootstrappers:b"),
			},
		}
		if mutate != nil {
			mutate(s)
		}
		return &fakeObjects{secrets: map[string]*corev1.Secret{"kube-system/bootstrap-token-abcdef": s}}
	}
	tests := []struct {
		name   string
		token  string
		objs   *fakeObjects
		want   string
		groups []string
	}{
		{name: "valid", token: "abcdef.0123456789abcdef", objs: secret(nil), want: "system:bootstrap:abcdef",
			groups: []string{"system:bootstrappers", "system:bootstrappers:a", "system:bootstrappers:b"}},
		{name: "wrong secret", token: "abcdef.0123456789abcdeX", objs: secret(nil)},
		{name: "not a bootstrap token", token: "alice-token", objs: secret(nil)},
		{name: "no secret", token: "zzzzzz.0123456789abcdef", objs: secret(nil)},
		{name: "wrong type", token: "abcdef.0123456789abcdef", objs: secret(func(s *corev1.Secret) { s.Type = corev1.SecretTypeOpaque })},
		{name: "not for authentication", token: "abcdef.0123456789abcdef", objs: secret(func(s *corev1.Secret) { delete(s.Data, "usage-bootstrap-authentication") })},
		{name: "expired", token: "abcdef.0123456789abcdef", objs: secret(func(s *corev1.Secret) { s.Data["expiration"] = []byte("2025-12-31T00:00:00Z") })},
		{name: "not yet expired", token: "abcdef.0123456789abcdef", objs: secret(func(s *corev1.Secret) { s.Data["expiration"] = []byte("2026-01-02T00:00:00Z") }),
			want: "system:bootstrap:abcdef", groups: []string{"system:bootstrappers", "system:bootstrappers:a", "system:bootstrappers:b"}},
		{name: "being deleted", token: "abcdef.0123456789abcdef", objs: secret(func(s *corev1.Secret) { s.DeletionTimestamp = &metav1.Time{Time: now} })},
		{name: "bad extra group", token: "abcdef.0123456789abcdef", objs: secret(func(s *corev1.Secret) { s.Data["auth-extra-groups"] = []byte("admins") })},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := &bootstrapTokens{secrets: tc.objs, now: func() time.Time { return now }}
			resp, ok, err := b.AuthenticateToken(context.Background(), tc.token)
			if err != nil {
				t.Fatalf("AuthenticateToken() error = %v", err)
			}
			if tc.want == "" {
				if ok {
					t.Errorf("AuthenticateToken() authenticated %q, want nothing", resp.User.GetName())
				}
				return
			}
			if !ok {
				t.Fatal("AuthenticateToken() = not authenticated")
			}
			if resp.User.GetName() != tc.want {
				t.Errorf("user = %q, want %q", resp.User.GetName(), tc.want)
			}
			if diff := cmp.Diff(tc.groups, resp.User.GetGroups()); diff != "" {
				t.Errorf("groups mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCSRSigner(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	cfg := Default()
	cfg.Now = func() time.Time { return now }
	p, err := loadOrCreatePKI(&cfg, servingHosts("127.0.0.1"))
	if err != nil {
		t.Fatal(err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: "carol", Organization: []string{"dev"}}}, key)
	if err != nil {
		t.Fatal(err)
	}
	reqPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der})
	seconds := func(n int32) *int32 { return &n }
	tests := []struct {
		name     string
		spec     certificatesv1.CertificateSigningRequestSpec
		wantLife time.Duration
		wantErr  string
	}{
		{name: "default one year", spec: certificatesv1.CertificateSigningRequestSpec{Usages: []certificatesv1.KeyUsage{"client auth"}}, wantLife: 365*24*time.Hour + csrBackdate},
		{name: "expirationSeconds honoured", spec: certificatesv1.CertificateSigningRequestSpec{Usages: []certificatesv1.KeyUsage{"digital signature", "client auth"}, ExpirationSeconds: seconds(3600)}, wantLife: time.Hour + csrBackdate},
		{name: "at least ten minutes", spec: certificatesv1.CertificateSigningRequestSpec{Usages: []certificatesv1.KeyUsage{"client auth"}, ExpirationSeconds: seconds(60)}, wantLife: 10*time.Minute + csrBackdate},
		{name: "server auth refused", spec: certificatesv1.CertificateSigningRequestSpec{Usages: []certificatesv1.KeyUsage{"client auth", "server auth"}}, wantErr: "invalid usage for client certificate: server auth"},
		{name: "client auth required", spec: certificatesv1.CertificateSigningRequestSpec{Usages: []certificatesv1.KeyUsage{"digital signature"}}, wantErr: "missing required usage for client certificate: client auth"},
		{name: "other signer", spec: certificatesv1.CertificateSigningRequestSpec{SignerName: "example.com/x", Usages: []certificatesv1.KeyUsage{"client auth"}}, wantErr: `signer "example.com/x" is not served here`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			spec := tc.spec
			spec.Request = reqPEM
			if spec.SignerName == "" {
				spec.SignerName = certificatesv1.KubeAPIServerClientSignerName
			}
			s := &csrSigner{ca: p, now: cfg.Now, rnd: rand.Reader}
			out, err := s.Sign(context.Background(), &certificatesv1.CertificateSigningRequest{Spec: spec})
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("Sign() error = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			certs, err := parseCerts(out)
			if err != nil {
				t.Fatal(err)
			}
			c := certs[0]
			if got := c.NotAfter.Sub(c.NotBefore); got != tc.wantLife {
				t.Errorf("lifetime = %s, want %s", got, tc.wantLife)
			}
			if c.Subject.CommonName != "carol" || c.IsCA || c.CheckSignatureFrom(p.CA) != nil {
				t.Errorf("certificate %v: want carol, not a CA, signed by the serve CA", c.Subject)
			}
			if _, err := c.Verify(x509.VerifyOptions{Roots: p.ClientCAs, CurrentTime: now, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
				t.Errorf("certificate does not verify as a client: %v", err)
			}
		})
	}
}

func TestAuditRedaction(t *testing.T) {
	t.Parallel()
	body := func() *auditinternal.Event {
		return &auditinternal.Event{
			ObjectRef:      &auditinternal.ObjectReference{},
			RequestObject:  nil,
			ResponseObject: nil,
			Annotations:    map[string]string{"a": "b"},
		}
	}
	tests := []struct {
		name               string
		group, res, subres string
		redacted           bool
	}{
		{name: "token review", group: "authentication.k8s.io", res: "tokenreviews", redacted: true},
		{name: "token request", res: "serviceaccounts", subres: "token", redacted: true},
		{name: "secret", res: "secrets", redacted: true},
		{name: "service account", res: "serviceaccounts"},
		{name: "configmap", res: "configmaps"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ev := body()
			ev.ObjectRef = &auditinternal.ObjectReference{APIGroup: tc.group, Resource: tc.res, Subresource: tc.subres}
			ev.RequestObject = &runtimeUnknown
			ev.ResponseObject = &runtimeUnknown
			got := redact(ev)
			if tc.redacted != (got.RequestObject == nil && got.ResponseObject == nil) {
				t.Errorf("redacted = %v, want %v", got.RequestObject == nil, tc.redacted)
			}
			if tc.redacted && (got.Annotations[redactedAnnotation] == "" || ev.RequestObject == nil || ev.Annotations[redactedAnnotation] != "") {
				t.Error("want the copy annotated and the original untouched")
			}
		})
	}
}

func TestPKIPersists(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cfg := Default()
	cfg.DataDir = dir
	first, err := loadOrCreatePKI(&cfg, servingHosts("127.0.0.1"))
	if err != nil {
		t.Fatal(err)
	}
	second, err := loadOrCreatePKI(&cfg, servingHosts("127.0.0.1"))
	if err != nil {
		t.Fatal(err)
	}
	if string(first.CAPEM) != string(second.CAPEM) || string(first.AdminCertPEM) != string(second.AdminCertPEM) || !publicKeysEqual(first.SAKey.Public(), second.SAKey.Public()) {
		t.Error("a second start made a new CA, admin certificate or signing key")
	}
	for _, f := range []string{"pki/ca.key", "pki/serving.key", "pki/admin.key", "pki/sa.key"} {
		info, err := os.Stat(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		if info.Mode().Perm() != 0o600 {
			t.Errorf("%s mode %v, want 0600", f, info.Mode().Perm())
		}
	}
	// A new listen host renews the serving certificate with the same CA.
	third, err := loadOrCreatePKI(&cfg, servingHosts("10.1.2.3"))
	if err != nil {
		t.Fatal(err)
	}
	if third.Serving.Leaf.VerifyHostname("10.1.2.3") != nil || string(third.CAPEM) != string(first.CAPEM) {
		t.Error("the serving certificate was not renewed for the new host under the same CA")
	}
	// A user client CA: the admin gets a token, kept in the data dir.
	cfg.ClientCAFile = filepath.Join(dir, "pki", "ca.crt")
	withCA, err := loadOrCreatePKI(&cfg, servingHosts("127.0.0.1"))
	if err != nil {
		t.Fatal(err)
	}
	again, err := loadOrCreatePKI(&cfg, servingHosts("127.0.0.1"))
	if err != nil {
		t.Fatal(err)
	}
	if withCA.AdminToken == "" || withCA.AdminToken != again.AdminToken || withCA.AdminCertPEM != nil {
		t.Errorf("admin token %q then %q, cert %v: want one kept token and no certificate", withCA.AdminToken, again.AdminToken, withCA.AdminCertPEM != nil)
	}
}

func TestWriteKubeconfigRefusesForeignFiles(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	foreign := filepath.Join(dir, "foreign")
	if err := os.WriteFile(foreign, []byte("apiVersion: v1\nkind: Config\nclusters:\n- name: prod\n  cluster: {server: https://prod}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	p := &PKI{CAPEM: []byte("ca"), AdminToken: "t"}
	data, err := adminKubeconfig("https://127.0.0.1:1", p)
	if err != nil {
		t.Fatal(err)
	}
	if err := writeKubeconfig(foreign, data, false); err == nil || !strings.Contains(err.Error(), "pass --force") {
		t.Errorf("writing over a foreign kubeconfig: %v, want a --force error", err)
	}
	if err := writeKubeconfig(foreign, data, true); err != nil {
		t.Errorf("with force: %v", err)
	}
	other, err := adminKubeconfig("https://127.0.0.1:2", p)
	if err != nil {
		t.Fatal(err)
	}
	if err := writeKubeconfig(foreign, other, false); err != nil {
		t.Errorf("replacing kauth serve's own kubeconfig: %v", err)
	}
}
