package localserver

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apiserver/pkg/authentication/request/anonymous"
	"k8s.io/apiserver/pkg/authorization/authorizerfactory"
	"k8s.io/client-go/kubernetes/scheme"
)

// call sends one request to s with an optional bearer token and extra
// headers and returns the status code and the body.
func call(t *testing.T, s *Server, method, path, token string, header http.Header) (int, string) {
	t.Helper()
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(s.CAPEM())
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}, Timeout: 30 * time.Second}
	req, err := http.NewRequest(method, s.URL()+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(body)
}

// statusOf decodes a metav1.Status body.
func statusOf(t *testing.T, body string) metav1.Status {
	t.Helper()
	var st metav1.Status
	if err := json.Unmarshal([]byte(body), &st); err != nil {
		t.Fatalf("body is not a Status: %v\n%s", err, body)
	}
	return st
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

const testTokens = `alice-token,alice,1001,"dev,qa"
bob-token,bob,1002
`

func TestChainForbiddenAndUnauthorized(t *testing.T) {
	t.Parallel()
	s := startServer(t, func(c *Config) { c.TokenAuthFile = writeFile(t, "tokens.csv", testTokens) })
	tests := []struct {
		name       string
		path       string
		token      string
		header     http.Header
		wantCode   int
		wantReason metav1.StatusReason
		wantMsg    string
	}{
		{
			name: "anonymous may read readyz", path: "/readyz", wantCode: 200,
		},
		{
			name: "anonymous list secrets", path: "/api/v1/namespaces/default/secrets", wantCode: 403, wantReason: metav1.StatusReasonForbidden,
			wantMsg: `secrets is forbidden: User "system:anonymous" cannot list resource "secrets" in API group "" in the namespace "default"`,
		},
		{
			name: "token user get clusterrole", path: "/apis/rbac.authorization.k8s.io/v1/clusterroles/admin", token: "alice-token", wantCode: 403, wantReason: metav1.StatusReasonForbidden,
			wantMsg: `clusterroles.rbac.authorization.k8s.io "admin" is forbidden: User "alice" cannot get resource "clusterroles" in API group "rbac.authorization.k8s.io" at the cluster scope`,
		},
		{
			name: "bad token is 401 even with anonymous on", path: "/readyz", token: "nope", wantCode: 401, wantReason: metav1.StatusReasonUnauthorized,
			wantMsg: "Unauthorized",
		},
		{
			name: "impersonation needs the impersonate verb", path: "/api/v1/namespaces", token: "alice-token", header: http.Header{"Impersonate-User": {"bob"}}, wantCode: 403,
			wantReason: metav1.StatusReasonForbidden,
			wantMsg:    `users "bob" is forbidden: User "alice" cannot impersonate resource "users" in API group "" at the cluster scope`,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			code, body := call(t, s, http.MethodGet, tc.path, tc.token, tc.header)
			if code != tc.wantCode {
				t.Fatalf("GET %s = %d, want %d\n%s", tc.path, code, tc.wantCode, body)
			}
			if tc.wantReason == "" {
				return
			}
			st := statusOf(t, body)
			if diff := cmp.Diff(tc.wantMsg, st.Message); diff != "" || st.Reason != tc.wantReason {
				t.Errorf("reason %q, message mismatch (-want +got):\n%s", st.Reason, diff)
			}
		})
	}
}

func TestChainAnonymousOff(t *testing.T) {
	t.Parallel()
	s := startServer(t, func(c *Config) { c.AnonymousAuth = false })
	code, body := call(t, s, http.MethodGet, "/readyz", "", nil)
	if code != http.StatusUnauthorized || statusOf(t, body).Reason != metav1.StatusReasonUnauthorized {
		t.Errorf("GET /readyz without credentials = %d %s, want 401 Unauthorized", code, body)
	}
}

func TestChainAlwaysDenyKeepsSystemMasters(t *testing.T) {
	t.Parallel()
	s := startServer(t, func(c *Config) {
		c.AuthorizationModes = []string{ModeAlwaysDeny}
		c.TokenAuthFile = writeFile(t, "tokens.csv", "root-token,root,1,system:masters\n"+testTokens)
	})
	if code, body := call(t, s, http.MethodGet, "/readyz", "root-token", nil); code != 200 {
		t.Errorf("system:masters under AlwaysDeny: %d %s, want 200", code, body)
	}
	if code, _ := call(t, s, http.MethodGet, "/readyz", "alice-token", nil); code != 403 {
		t.Errorf("alice under AlwaysDeny: %d, want 403", code)
	}
}

func TestChainBootstrapToken(t *testing.T) {
	t.Parallel()
	s := startServer(t, func(c *Config) { c.EnableBootstrapTokenAuth = true })
	secret := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: "kube-system", Name: "bootstrap-token-abcdef"},
		Type:       "bootstrap.kubernetes.io/token",
		StringData: nil,
		Data: map[string][]byte{
			"token-id": []byte("abcdef"), "token-secret": []byte("0123456789abcdef"),
			"usage-bootstrap-authentication": []byte("true"), "auth-extra-groups": []byte("system:bootstrappers:ci"),
		},
	}
	if _, err := s.Store().Create(context.Background(), gvrSecrets, secret); err != nil {
		t.Fatal(err)
	}
	code, body := call(t, s, http.MethodGet, "/api/v1/namespaces/default/secrets", "abcdef.0123456789abcdef", nil)
	want := `secrets is forbidden: User "system:bootstrap:abcdef" cannot list resource "secrets" in API group "" in the namespace "default"`
	if code != 403 || statusOf(t, body).Message != want {
		t.Errorf("bootstrap token: %d %s, want 403 %q", code, body, want)
	}
	if code, _ := call(t, s, http.MethodGet, "/readyz", "abcdef.0123456789abcdeX", nil); code != 401 {
		t.Errorf("wrong bootstrap secret: %d, want 401", code)
	}
}

func TestChainRecoversFromPanics(t *testing.T) {
	t.Parallel()
	panicking := http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("boom") })
	h := buildHandlerChain(panicking, chainConfig{
		authn:          anonymous.NewAuthenticator(nil),
		authz:          authorizerfactory.NewAlwaysAllowAuthorizer(),
		audit:          &auditing{},
		requestTimeout: time.Minute,
		serializer:     scheme.Codecs.WithoutConversion(),
	})
	for range 2 { // the chain keeps serving after a panic
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/api/v1/namespaces/default/pods", nil))
		if rec.Code != http.StatusInternalServerError {
			t.Fatalf("panicking handler: code %d, want 500", rec.Code)
		}
	}
}
