package localserver

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/client-go/util/keyutil"
)

// userKubeconfig copies the admin kubeconfig of s with another credential:
// a bearer token, or a client certificate and key.
func userKubeconfig(t *testing.T, s *Server, token string, certPEM, keyPEM []byte) string {
	t.Helper()
	cfg, err := clientcmd.LoadFromFile(s.KubeconfigPath())
	if err != nil {
		t.Fatal(err)
	}
	auth := cfg.AuthInfos[kubeconfigUser]
	auth.ClientCertificateData, auth.ClientKeyData, auth.Token = certPEM, keyPEM, token
	path := filepath.Join(t.TempDir(), "kubeconfig")
	if err := clientcmd.WriteToFile(*cfg, path); err != nil {
		t.Fatal(err)
	}
	return path
}

// whoami is "kubectl auth whoami -o json" reduced to what it shows.
type whoami struct {
	Username string
	Groups   []string
	Extra    map[string][]string
}

func kubectlWhoami(t *testing.T, kubeconfig string) whoami {
	t.Helper()
	out := mustKubectl(t, kubeconfig, "auth", "whoami", "-o", "json")
	var ssr struct {
		Status struct {
			UserInfo struct {
				Username string              `json:"username"`
				Groups   []string            `json:"groups"`
				Extra    map[string][]string `json:"extra"`
			} `json:"userInfo"`
		} `json:"status"`
	}
	if err := json.Unmarshal([]byte(out), &ssr); err != nil {
		t.Fatalf("kubectl auth whoami -o json: %v\n%s", err, out)
	}
	u := ssr.Status.UserInfo
	return whoami{Username: u.Username, Groups: u.Groups, Extra: u.Extra}
}

// canI runs "kubectl auth can-i" and returns its answer; "no" exits 1.
func canI(t *testing.T, kubeconfig string, args ...string) string {
	t.Helper()
	out, errOut, err := kubectl(t, kubeconfig, append([]string{"auth", "can-i"}, args...)...)
	if err != nil && strings.TrimSpace(out) != "no" {
		t.Fatalf("kubectl auth can-i %s: %v\n%s%s", strings.Join(args, " "), err, out, errOut)
	}
	return strings.TrimSpace(out)
}

const seedPolicy = `apiVersion: v1
kind: Namespace
metadata:
  name: team
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata:
  name: pod-reader
  namespace: default
rules:
- apiGroups: [""]
  resources: ["pods"]
  verbs: ["get", "list", "watch"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: dev-reads-pods
  namespace: default
subjects:
- kind: Group
  name: dev
  apiGroup: rbac.authorization.k8s.io
roleRef:
  kind: Role
  name: pod-reader
  apiGroup: rbac.authorization.k8s.io
---
apiVersion: v1
kind: ServiceAccount
metadata:
  name: ci
  namespace: default
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: ci-view
  namespace: default
subjects:
- kind: ServiceAccount
  name: ci
  namespace: default
roleRef:
  kind: ClusterRole
  name: view
  apiGroup: rbac.authorization.k8s.io
`

// TestKubectlIdentities runs the real kubectl as each kind of identity the
// server authenticates and checks what it is and what it may do.
func TestKubectlIdentities(t *testing.T) {
	t.Parallel()
	needKubectl(t)
	s := startServer(t, func(c *Config) {
		c.TokenAuthFile = writeFile(t, "tokens.csv", testTokens)
		c.EnableBootstrapTokenAuth = true
		c.Seed = []string{writeFile(t, "policy.yaml", seedPolicy)}
		// Deleting a ServiceAccount must reject its tokens at once here;
		// kube-apiserver's 10s success cache would delay that.
		c.TokenSuccessCacheTTL = 0
	})
	admin := s.KubeconfigPath()
	alice := userKubeconfig(t, s, "alice-token", nil, nil)

	t.Run("certificate user", func(t *testing.T) {
		got := kubectlWhoami(t, admin)
		if got.Username != AdminUser || !slices.Equal(got.Groups, []string{"system:masters", "system:authenticated"}) {
			t.Errorf("whoami = %+v, want %s in system:masters", got, AdminUser)
		}
		if got := canI(t, admin, "*", "*"); got != "yes" {
			t.Errorf("admin can-i '*' '*' = %q, want yes", got)
		}
		if got := mustKubectl(t, admin, "get", "--raw", "/readyz"); got != "ok" {
			t.Errorf("get --raw /readyz = %q", got)
		}
	})

	t.Run("token user", func(t *testing.T) {
		got := kubectlWhoami(t, alice)
		want := whoami{Username: "alice", Groups: []string{"dev", "qa", "system:authenticated"}}
		if diff := cmp.Diff(want, got, cmp.FilterPath(func(p cmp.Path) bool { return p.Last().String() == ".Extra" }, cmp.Ignore())); diff != "" {
			t.Errorf("whoami mismatch (-want +got):\n%s", diff)
		}
		for _, tc := range []struct {
			args []string
			want string
		}{
			{[]string{"list", "pods"}, "yes"},
			{[]string{"list", "secrets"}, "no"},
			{[]string{"get", "pods", "-n", "team"}, "no"},
		} {
			if got := canI(t, alice, tc.args...); got != tc.want {
				t.Errorf("alice can-i %v = %q, want %q", tc.args, got, tc.want)
			}
		}
		_, errOut, err := kubectl(t, alice, "get", "secrets")
		wantErr := `Error from server (Forbidden): secrets is forbidden: User "alice" cannot list resource "secrets" in API group "" in the namespace "default"`
		if err == nil || strings.TrimSpace(errOut) != wantErr {
			t.Errorf("alice get secrets: err %v stderr %q, want %q", err, errOut, wantErr)
		}
		list := mustKubectl(t, alice, "auth", "can-i", "--list")
		if !strings.Contains(list, "pods") || !strings.Contains(list, "selfsubjectreviews.authentication.k8s.io") {
			t.Errorf("alice can-i --list lacks pods or selfsubjectreviews:\n%s", list)
		}
	})

	t.Run("impersonation", func(t *testing.T) {
		if got := canI(t, admin, "list", "secrets", "--as", "alice"); got != "no" {
			t.Errorf("can-i list secrets --as alice = %q, want no", got)
		}
		if got := canI(t, admin, "list", "pods", "--as", "bob", "--as-group", "dev"); got != "yes" {
			t.Errorf("can-i list pods --as bob --as-group dev = %q, want yes", got)
		}
		// The server answers with kube-apiserver's Status (checked over
		// HTTP in TestChainForbiddenAndUnauthorized); kubectl 1.32's
		// discovery client reduces its message to "unknown".
		_, errOut, err := kubectl(t, alice, "get", "pods", "--as", "bob")
		if err == nil || !strings.Contains(errOut, "Error from server (Forbidden)") {
			t.Errorf("alice --as bob: err %v stderr %q, want Forbidden", err, errOut)
		}
	})

	t.Run("bootstrap token", func(t *testing.T) {
		mustKubectl(t, admin, "-n", "kube-system", "create", "secret", "generic", "bootstrap-token-abcdef",
			"--type", "bootstrap.kubernetes.io/token",
			"--from-literal", "token-id=abcdef", "--from-literal", "token-secret=0123456789abcdef",
			"--from-literal", "usage-bootstrap-authentication=true",
			"--from-literal", "auth-extra-groups=system:bootstrappers:kauth-ci")
		boot := userKubeconfig(t, s, "abcdef.0123456789abcdef", nil, nil)
		got := kubectlWhoami(t, boot)
		want := whoami{Username: "system:bootstrap:abcdef", Groups: []string{"system:bootstrappers", "system:bootstrappers:kauth-ci", "system:authenticated"}}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("whoami mismatch (-want +got):\n%s", diff)
		}
		// The bootstrap policy binds nothing to bootstrappers; kubeadm adds
		// this binding. The RBAC index follows the store.
		if got := canI(t, boot, "create", "certificatesigningrequests"); got != "no" {
			t.Errorf("bootstrapper can-i create csr before the binding = %q, want no", got)
		}
		mustKubectl(t, admin, "create", "clusterrolebinding", "kauth-ci-bootstrap", "--clusterrole", "system:node-bootstrapper", "--group", "system:bootstrappers:kauth-ci")
		if err := s.WaitForRBAC(context.Background()); err != nil {
			t.Fatal(err)
		}
		if got := canI(t, boot, "create", "certificatesigningrequests"); got != "yes" {
			t.Errorf("bootstrapper can-i create csr after the binding = %q, want yes", got)
		}
	})

	t.Run("service account token", func(t *testing.T) {
		tok := strings.TrimSpace(mustKubectl(t, admin, "create", "token", "ci"))
		sa := userKubeconfig(t, s, tok, nil, nil)
		got := kubectlWhoami(t, sa)
		if got.Username != "system:serviceaccount:default:ci" || !slices.Equal(got.Groups, []string{"system:serviceaccounts", "system:serviceaccounts:default", "system:authenticated"}) {
			t.Errorf("whoami = %+v", got)
		}
		if ids := got.Extra["authentication.kubernetes.io/credential-id"]; len(ids) != 1 || !strings.HasPrefix(ids[0], "JTI=") {
			t.Errorf("credential-id = %v, want JTI=...", ids)
		}
		if got := canI(t, sa, "list", "configmaps"); got != "yes" {
			t.Errorf("ci can-i list configmaps = %q, want yes (view)", got)
		}
		mustKubectl(t, admin, "delete", "serviceaccount", "ci")
		_, errOut, err := kubectl(t, sa, "auth", "whoami")
		if err == nil || !strings.Contains(errOut, "Unauthorized") {
			t.Errorf("token of a deleted ServiceAccount: err %v stderr %q, want Unauthorized", err, errOut)
		}
	})

	t.Run("approved CSR becomes a working certificate", func(t *testing.T) {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: "carol", Organization: []string{"dev"}}}, key)
		if err != nil {
			t.Fatal(err)
		}
		csr := fmt.Sprintf(`apiVersion: certificates.k8s.io/v1
kind: CertificateSigningRequest
metadata:
  name: carol
spec:
  request: %s
  signerName: kubernetes.io/kube-apiserver-client
  usages: ["client auth"]
`, base64.StdEncoding.EncodeToString(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der})))
		mustKubectl(t, admin, "create", "-f", writeFile(t, "csr.yaml", csr))
		mustKubectl(t, admin, "certificate", "approve", "carol")
		certB64 := mustKubectl(t, admin, "get", "csr", "carol", "-o", "jsonpath={.status.certificate}")
		certPEM, err := base64.StdEncoding.DecodeString(certB64)
		if err != nil || len(certPEM) == 0 {
			t.Fatalf("status.certificate %q: %v", certB64, err)
		}
		keyPEM, err := keyutil.MarshalPrivateKeyToPEM(key)
		if err != nil {
			t.Fatal(err)
		}
		got := kubectlWhoami(t, userKubeconfig(t, s, "", certPEM, keyPEM))
		if got.Username != "carol" || !slices.Equal(got.Groups, []string{"dev", "system:authenticated"}) {
			t.Errorf("whoami with the signed certificate = %+v, want carol in dev", got)
		}
	})
}

// TestKubectlRestartKeepsState stops a server with a data dir and starts
// another on it: the PKI, the kubeconfig and the objects survive.
func TestKubectlRestartKeepsState(t *testing.T) {
	t.Parallel()
	needKubectl(t)
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	first, err := New(ctx, withDefaults(func(c *Config) { c.DataDir = dir }))
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- first.Run(ctx) }()
	<-first.Ready()
	mustKubectl(t, first.KubeconfigPath(), "create", "configmap", "kept", "--from-literal", "a=b")
	before, err := os.ReadFile(first.KubeconfigPath())
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("first Run() = %v", err)
	}

	second := startServer(t, func(c *Config) { c.DataDir = dir; c.KubeconfigOut = "" })
	if second.KubeconfigPath() != filepath.Join(dir, "kubeconfig") {
		t.Errorf("kubeconfig at %s, want in the data dir", second.KubeconfigPath())
	}
	if got := mustKubectl(t, second.KubeconfigPath(), "get", "configmap", "kept", "-o", "jsonpath={.data.a}"); got != "b" {
		t.Errorf("configmap after restart: %q, want b", got)
	}
	after, err := os.ReadFile(second.KubeconfigPath())
	if err != nil {
		t.Fatal(err)
	}
	// Same CA and admin credential; only the port may differ.
	b, _ := clientcmd.Load(before)
	a, _ := clientcmd.Load(after)
	if string(b.Clusters[kubeconfigCluster].CertificateAuthorityData) != string(a.Clusters[kubeconfigCluster].CertificateAuthorityData) ||
		string(b.AuthInfos[kubeconfigUser].ClientCertificateData) != string(a.AuthInfos[kubeconfigUser].ClientCertificateData) {
		t.Error("the CA or the admin certificate changed across a restart")
	}
}

func withDefaults(mutate func(*Config)) Config {
	cfg := Default()
	cfg.Listen = "127.0.0.1:0"
	mutate(&cfg)
	return cfg
}

// TestKubectlOwnClientCA brings a client CA the server does not hold: its
// certificates authenticate, the serve CA's do not, and the admin
// kubeconfig works through the token the server minted.
func TestKubectlOwnClientCA(t *testing.T) {
	t.Parallel()
	needKubectl(t)
	now := time.Now()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ca, err := signCert(rand.Reader, &x509.Certificate{
		Subject: pkix.Name{CommonName: "own-ca"}, NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}, nil, caKey.Public(), caKey)
	if err != nil {
		t.Fatal(err)
	}
	userKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	user, err := signCert(rand.Reader, &x509.Certificate{
		Subject: pkix.Name{CommonName: "dave", Organization: []string{"ops"}}, NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}, ca, userKey.Public(), caKey)
	if err != nil {
		t.Fatal(err)
	}
	s := startServer(t, func(c *Config) { c.ClientCAFile = writeFile(t, "ca.crt", string(pemCert(ca))) })
	if got := kubectlWhoami(t, s.KubeconfigPath()); got.Username != AdminUser {
		t.Errorf("admin through the minted token: %+v", got)
	}
	keyPEM, err := keyutil.MarshalPrivateKeyToPEM(userKey)
	if err != nil {
		t.Fatal(err)
	}
	got := kubectlWhoami(t, userKubeconfig(t, s, "", pemCert(user), keyPEM))
	if got.Username != "dave" || !slices.Equal(got.Groups, []string{"ops", "system:authenticated"}) {
		t.Errorf("whoami with a certificate of the own CA = %+v, want dave in ops", got)
	}
	// A certificate of the serve CA is not trusted for clients any more.
	serveSigned, err := signCert(rand.Reader, &x509.Certificate{
		Subject: pkix.Name{CommonName: "mallory", Organization: []string{"system:masters"}}, NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour),
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}, s.pki.CA, userKey.Public(), s.pki.CAKey)
	if err != nil {
		t.Fatal(err)
	}
	_, errOut, err := kubectl(t, userKubeconfig(t, s, "", pemCert(serveSigned), keyPEM), "auth", "whoami")
	if err == nil || !strings.Contains(errOut, "Unauthorized") {
		t.Errorf("serve-CA certificate with --client-ca-file: err %v stderr %q, want Unauthorized", err, errOut)
	}
}
