package reliability_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/net/http2"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/kauth/kauth/internal/localserver"
)

// long reports whether the long versions of the tests were asked for.
func long() bool { return os.Getenv("KAUTH_LONG") == "1" }

// pick returns short, or long when KAUTH_LONG=1.
func pick(short, long_ int) int {
	if long() {
		return long_
	}
	return short
}

// startServer runs a server on 127.0.0.1:0 until the test ends and returns
// it once it is ready.
func startServer(t *testing.T, mutate func(*localserver.Config)) *localserver.Server {
	t.Helper()
	cfg := localserver.Default()
	cfg.Listen = "127.0.0.1:0"
	cfg.KubeconfigOut = filepath.Join(t.TempDir(), "kubeconfig")
	if mutate != nil {
		mutate(&cfg)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s, err := localserver.New(ctx, cfg)
	if err != nil {
		cancel()
		t.Fatalf("New() error = %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run() error = %v", err)
		}
	})
	select {
	case <-s.Ready():
	case err := <-done:
		t.Fatalf("Run() ended before ready: %v", err)
	}
	return s
}

// writeTokens writes a static token file (token,user,uid,"groups") with
// mode 0600 and returns its path.
func writeTokens(t *testing.T, lines ...string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "tokens.csv")
	if err := os.WriteFile(p, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// client is a raw HTTP client of one identity.
type client struct {
	base  string
	token string
	hc    *http.Client
	tr    http.RoundTripper
}

// adminCert returns the admin client certificate of the kubeconfig the
// server wrote.
func adminCert(t *testing.T, s *localserver.Server) tls.Certificate {
	t.Helper()
	kc, err := clientcmd.LoadFromFile(s.KubeconfigPath())
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range kc.AuthInfos {
		cert, err := tls.X509KeyPair(a.ClientCertificateData, a.ClientKeyData)
		if err == nil {
			return cert
		}
	}
	t.Fatal("the admin kubeconfig has no client certificate")
	return tls.Certificate{}
}

func tlsConfig(s *localserver.Server, certs ...tls.Certificate) *tls.Config {
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(s.CAPEM())
	return &tls.Config{RootCAs: pool, Certificates: certs, MinVersion: tls.VersionTLS12, ServerName: "127.0.0.1"}
}

// newClient makes an HTTP/2 client authenticating with token, or with the
// admin certificate when token is "admin", or anonymously when empty.
func newClient(t *testing.T, s *localserver.Server, token string) *client {
	t.Helper()
	cfg := tlsConfig(s)
	if token == "admin" {
		cfg = tlsConfig(s, adminCert(t, s))
		token = ""
	}
	tr := &http2.Transport{TLSClientConfig: cfg}
	t.Cleanup(tr.CloseIdleConnections)
	return &client{base: s.URL(), token: token, hc: &http.Client{Transport: tr}, tr: tr}
}

// newHTTP1Client is newClient over HTTP/1.1: one TCP connection per
// concurrent request.
func newHTTP1Client(t *testing.T, s *localserver.Server, token string) *client {
	t.Helper()
	cfg := tlsConfig(s)
	if token == "admin" {
		cfg = tlsConfig(s, adminCert(t, s))
		token = ""
	}
	tr := &http.Transport{TLSClientConfig: cfg, MaxIdleConnsPerHost: 64}
	t.Cleanup(tr.CloseIdleConnections)
	return &client{base: s.URL(), token: token, hc: &http.Client{Transport: tr}, tr: tr}
}

func (c *client) closeIdle() {
	if ci, ok := c.tr.(interface{ CloseIdleConnections() }); ok {
		ci.CloseIdleConnections()
	}
}

func (c *client) request(ctx context.Context, method, path, body string, hdr ...string) (*http.Response, error) {
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, r)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		if http.CanonicalHeaderKey(hdr[i]) == "Content-Type" {
			req.Header.Set(hdr[i], hdr[i+1])
			continue
		}
		req.Header.Add(hdr[i], hdr[i+1])
	}
	return c.hc.Do(req)
}

// do sends a request and returns the status code and the whole body.
func (c *client) do(t *testing.T, method, path, body string, hdr ...string) (int, []byte) {
	t.Helper()
	resp, err := c.request(context.Background(), method, path, body, hdr...)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading the body: %v", method, path, err)
	}
	return resp.StatusCode, data
}

// must sends a request and fails the test unless the status is want.
func (c *client) must(t *testing.T, want int, method, path, body string, hdr ...string) []byte {
	t.Helper()
	code, data := c.do(t, method, path, body, hdr...)
	if code != want {
		t.Fatalf("%s %s: HTTP %d, want %d: %s", method, path, code, want, data)
	}
	return data
}

// status is the part of a metav1.Status the tests look at.
type status struct {
	Kind    string `json:"kind"`
	Reason  string `json:"reason"`
	Message string `json:"message"`
	Code    int    `json:"code"`
}

func parseStatus(t *testing.T, data []byte) status {
	t.Helper()
	var st status
	if err := json.Unmarshal(data, &st); err != nil || st.Kind != "Status" {
		t.Fatalf("body is not a Status (%v): %.300s", err, data)
	}
	return st
}

// grantConfigMaps lets the group read and write configmaps in default.
func grantConfigMaps(t *testing.T, s *localserver.Server, admin *client, group string) {
	t.Helper()
	role := `{"apiVersion":"rbac.authorization.k8s.io/v1","kind":"Role","metadata":{"name":"cm-` + group + `","namespace":"default"},
"rules":[{"apiGroups":[""],"resources":["configmaps"],"verbs":["get","list","watch","create","update","patch","delete"]}]}`
	binding := `{"apiVersion":"rbac.authorization.k8s.io/v1","kind":"RoleBinding","metadata":{"name":"cm-` + group + `","namespace":"default"},
"subjects":[{"kind":"Group","name":"` + group + `","apiGroup":"rbac.authorization.k8s.io"}],
"roleRef":{"kind":"Role","name":"cm-` + group + `","apiGroup":"rbac.authorization.k8s.io"}}`
	admin.must(t, http.StatusCreated, http.MethodPost, "/apis/rbac.authorization.k8s.io/v1/namespaces/default/roles", role)
	admin.must(t, http.StatusCreated, http.MethodPost, "/apis/rbac.authorization.k8s.io/v1/namespaces/default/rolebindings", binding)
	if err := s.WaitForRBAC(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func configMap(name string, data map[string]string) string {
	b, _ := json.Marshal(map[string]any{
		"apiVersion": "v1", "kind": "ConfigMap",
		"metadata": map[string]any{"name": name, "namespace": "default"},
		"data":     data,
	})
	return string(b)
}

func cmPath(name string) string {
	if name == "" {
		return "/api/v1/namespaces/default/configmaps"
	}
	return fmt.Sprintf("/api/v1/namespaces/default/configmaps/%s", name)
}

func tlsDial(s *localserver.Server, addr string, certs ...tls.Certificate) (*tls.Conn, error) {
	return tls.Dial("tcp", addr, tlsConfig(s, certs...))
}

func b64url(s string) string { return base64.URLEncoding.EncodeToString([]byte(s)) }
