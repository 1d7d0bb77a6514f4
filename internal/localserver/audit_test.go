package localserver

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const requestResponsePolicy = `apiVersion: audit.k8s.io/v1
kind: Policy
rules:
- level: RequestResponse
`

// TestAuditLogKeepsTokensOut issues a service-account token and reviews
// it with an audit policy that logs every body, and checks that neither
// that token nor the bearer token of the caller reaches the log.
func TestAuditLogKeepsTokensOut(t *testing.T) {
	t.Parallel()
	logPath := filepath.Join(t.TempDir(), "audit.log")
	s := startServer(t, func(c *Config) {
		c.TokenAuthFile = writeFile(t, "tokens.csv", "root-token-123,root,1,system:masters\n")
		c.AuditLogPath = logPath
		c.AuditPolicyFile = writeFile(t, "policy.yaml", requestResponsePolicy)
	})
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(s.CAPEM())
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	post := func(path, body string) []byte {
		req, err := http.NewRequest(http.MethodPost, s.URL()+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer root-token-123")
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		out, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusCreated && resp.StatusCode != http.StatusOK {
			t.Fatalf("POST %s: %d %s", path, resp.StatusCode, out)
		}
		return out
	}
	var tr struct {
		Status struct{ Token string } `json:"status"`
	}
	if err := json.Unmarshal(post("/api/v1/namespaces/default/serviceaccounts/default/token", `{"apiVersion":"authentication.k8s.io/v1","kind":"TokenRequest","spec":{}}`), &tr); err != nil || tr.Status.Token == "" {
		t.Fatalf("TokenRequest: %v, token %q", err, tr.Status.Token)
	}
	post("/apis/authentication.k8s.io/v1/tokenreviews", `{"apiVersion":"authentication.k8s.io/v1","kind":"TokenReview","spec":{"token":"`+tr.Status.Token+`"}}`)
	post("/api/v1/namespaces/default/configmaps", `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"logged"},"data":{"k":"v"}}`)

	log, err := os.ReadFile(logPath)
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{tr.Status.Token, "root-token-123"} {
		if bytes.Contains(log, []byte(secret)) {
			t.Errorf("audit log contains a token (%.12s...)", secret)
		}
	}
	if !bytes.Contains(log, []byte(redactedAnnotation)) {
		t.Error("audit log has no redacted event")
	}
	if !bytes.Contains(log, []byte(`"responseObject":{"kind":"ConfigMap"`)) {
		t.Error("audit log lacks the ConfigMap's body, which the policy asks for")
	}
	// As kube-apiserver's handlers: the request body too, and the created
	// object's name in objectRef (a create's URL does not name it).
	if !bytes.Contains(log, []byte(`"requestObject":{"kind":"ConfigMap"`)) {
		t.Error("audit log lacks the ConfigMap request's body, which the policy asks for")
	}
	if !bytes.Contains(log, []byte(`"objectRef":{"resource":"configmaps","namespace":"default","name":"logged"`)) {
		t.Error("audit event of the create does not name the created ConfigMap in objectRef")
	}
	if info, err := os.Stat(logPath); err != nil || info.Mode().Perm() != 0o600 {
		t.Errorf("audit log mode: %v %v, want 0600", info.Mode().Perm(), err)
	}
}
