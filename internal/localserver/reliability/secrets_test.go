package reliability_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"k8s.io/client-go/tools/clientcmd"
)

const (
	staticToken    = "static-7c1d5e9a0b2f4e6d8a1c3b5d"
	wrongToken     = "wrong-3e5f7a9b1c2d4e6f8a0b2c4d"
	bootstrapID    = "q1w2e3"
	bootstrapSec   = "z9y8x7w6v5u4t3s2"
	secretValue    = "s3cr3t-payload-4f8e2a"
	reviewedToken  = "reviewed-9d8c7b6a5f4e3d2c1b0a"
	tokenFileValue = "file-only-6a5b4c3d2e1f0a9b8c7d"
)

// kauthRun runs kauth with args and stdin and returns stdout and stderr;
// a non-zero exit is returned as err.
func kauthRun(t *testing.T, stdin string, args ...string) (string, string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, kauth(t), args...)
	cmd.Env = append(os.Environ(), "HOME="+t.TempDir())
	cmd.Stdin = strings.NewReader(stdin)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	return out.String(), errOut.String(), err
}

// TestSecretsNeverLogged runs "kauth -v 10 serve" with a static token
// file, bootstrap tokens, an audit log at RequestResponse level and a data
// dir, then exercises every way a credential reaches the server: good and
// bad bearer tokens, a token in the URL, a bootstrap token, TokenRequest,
// TokenReview, a Secret, the websocket protocol header. Then it runs CLI
// commands with -v 10 against it. No token, token secret, Secret value or
// private key appears in the server's stderr or stdout (-v 10 logs), the
// audit log, or any error body; the CLI's diagnostics (stderr) carry none
// either (stdout may print what the command exists to print).
func TestSecretsNeverLogged(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	tokens := filepath.Join(dir, "tokens.csv")
	audit := filepath.Join(dir, "audit.log")
	policy := filepath.Join(dir, "policy.yaml")
	must(t, os.WriteFile(tokens, []byte(staticToken+`,carol,1003,"system:masters"`+"\n"+tokenFileValue+",dave,1004\n"), 0o600))
	must(t, os.WriteFile(policy, []byte("apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n- level: RequestResponse\n"), 0o600))
	srv := startChild(t, "-v", "10", "--data-dir", data, "--token-auth-file", tokens, "--enable-bootstrap-token-auth",
		"--audit-log-path", audit, "--audit-policy-file", policy)
	admin := srv.client(t)
	carol := &client{base: srv.url, token: staticToken, hc: admin.hc, tr: admin.tr}
	bad := &client{base: srv.url, token: wrongToken, hc: admin.hc, tr: admin.tr}
	anon := &client{base: srv.url, hc: admin.hc, tr: admin.tr}

	var bodies [][]byte
	// Error answers must not echo credentials; successful ones may carry
	// what the API returns (a TokenRequest's token, a Secret's data, a
	// TokenReview's spec, as kube-apiserver does).
	keep := func(code int, b []byte) {
		if code >= 400 {
			bodies = append(bodies, b)
		}
	}
	keep(carol.do(t, "GET", "/api/v1/namespaces/default/configmaps", ""))
	keep(bad.do(t, "GET", "/api/v1/namespaces/default/configmaps", ""))
	keep(anon.do(t, "GET", "/api/v1/namespaces?access_token="+staticToken, ""))
	keep(anon.do(t, "GET", "/api/v1/namespaces", "", "Sec-WebSocket-Protocol", "base64url.bearer.authorization.k8s.io."+strings.TrimRight(b64url(wrongToken), "=")))
	keep(carol.do(t, "POST", "/api/v1/namespaces/default/secrets",
		`{"apiVersion":"v1","kind":"Secret","metadata":{"name":"s"},"stringData":{"password":"`+secretValue+`"}}`))
	keep(carol.do(t, "POST", "/api/v1/namespaces/kube-system/secrets",
		`{"apiVersion":"v1","kind":"Secret","metadata":{"name":"bootstrap-token-`+bootstrapID+`"},"type":"bootstrap.kubernetes.io/token",
"stringData":{"token-id":"`+bootstrapID+`","token-secret":"`+bootstrapSec+`","usage-bootstrap-authentication":"true"}}`))
	boot := &client{base: srv.url, token: bootstrapID + "." + bootstrapSec, hc: admin.hc, tr: admin.tr}
	keep(boot.do(t, "GET", "/api/v1/namespaces/default/configmaps", ""))
	wrongBoot := &client{base: srv.url, token: bootstrapID + ".0000000000000000", hc: admin.hc, tr: admin.tr}
	keep(wrongBoot.do(t, "GET", "/api/v1/namespaces/default/configmaps", ""))
	code, tr := carol.do(t, "POST", "/api/v1/namespaces/default/serviceaccounts/default/token", `{"apiVersion":"authentication.k8s.io/v1","kind":"TokenRequest","spec":{}}`)
	if code != http.StatusCreated {
		t.Fatalf("TokenRequest: HTTP %d %s", code, tr)
	}
	var treq struct {
		Status struct {
			Token string `json:"token"`
		} `json:"status"`
	}
	must(t, json.Unmarshal(tr, &treq))
	saToken := treq.Status.Token
	sa := &client{base: srv.url, token: saToken, hc: admin.hc, tr: admin.tr}
	keep(sa.do(t, "GET", "/api/v1/namespaces/default/configmaps", ""))
	keep(carol.do(t, "POST", "/apis/authentication.k8s.io/v1/tokenreviews", `{"apiVersion":"authentication.k8s.io/v1","kind":"TokenReview","spec":{"token":"`+reviewedToken+`"}}`))
	keep(carol.do(t, "POST", "/apis/authentication.k8s.io/v1/tokenreviews", `{"apiVersion":"authentication.k8s.io/v1","kind":"TokenReview","spec":{"token":"`+saToken+`"}}`))
	// Malformed requests that carry a secret in the body.
	keep(carol.do(t, "POST", "/api/v1/namespaces/default/secrets", `{"apiVersion":"v1","kind":"Secret","metadata":{"name":"t"},"stringData":{"password":"`+secretValue+`"},"bogus":[`))
	keep(carol.do(t, "POST", "/apis/authentication.k8s.io/v1/tokenreviews", `{"apiVersion":"authentication.k8s.io/v1","kind":"TokenReview","spec":{"token":"`+reviewedToken+`","x":}`))

	kcData, err := os.ReadFile(srv.kc)
	must(t, err)
	kc, err := clientcmd.Load(kcData)
	must(t, err)
	var keyLines []string
	for _, a := range kc.AuthInfos {
		keyLines = append(keyLines, pemBodyLines(a.ClientKeyData)...)
	}
	keyFiles, _ := filepath.Glob(filepath.Join(data, "*.key"))
	for _, f := range keyFiles {
		b, _ := os.ReadFile(f)
		keyLines = append(keyLines, pemBodyLines(b)...)
	}
	if len(keyLines) == 0 {
		t.Fatal("found no private key to look for")
	}

	// CLI commands at -v 10 against the server.
	cli := map[string]string{}
	run := func(name, stdin string, args ...string) {
		out, errOut, err := kauthRun(t, stdin, append([]string{"-v", "10"}, args...)...)
		cli[name+" (stderr)"] = errOut
		t.Logf("kauth %s: err %v", name, err)
		_ = out
	}
	run("token sa request", "", "--kubeconfig", srv.kc, "token", "sa", "request", "-n", "default", "default")
	run("token bootstrap create --apply", "", "--kubeconfig", srv.kc, "token", "bootstrap", "create", "--apply", "--token", "a1b2c3."+bootstrapSec)
	run("token decode (static)", staticToken, "token", "decode", "-", "--token-file", tokens)
	run("token decode (wrong)", wrongToken, "token", "decode", "-", "--token-file", tokens)
	run("token decode (sa)", saToken, "token", "decode", "-")
	badFile := filepath.Join(dir, "bad.csv")
	must(t, os.WriteFile(badFile, []byte(staticToken+",a,1\n"+staticToken+",b,2\n"+wrongToken+"\n"+reviewedToken+",,3\n"), 0o600))
	run("token static lint", "", "token", "static", "lint", badFile)
	run("serve with a bad token file", "", "serve", "--listen", "127.0.0.1:0", "--token-auth-file", badFile)

	srv.kill()
	auditLog, err := os.ReadFile(audit)
	must(t, err)
	if len(auditLog) == 0 {
		t.Fatal("empty audit log")
	}
	places := map[string]string{
		"serve -v 10 stderr": srv.stderr.String(),
		"audit log":          string(auditLog),
		"error bodies":       string(bytes.Join(bodies, []byte("\n"))),
	}
	for k, v := range cli {
		places[k] = v
	}
	secrets := map[string]string{
		"static token":                staticToken,
		"wrong token":                 wrongToken,
		"token-file-only token":       tokenFileValue,
		"bootstrap token secret":      bootstrapSec,
		"Secret value":                secretValue,
		"Secret value (base64)":       base64.StdEncoding.EncodeToString([]byte(secretValue)),
		"TokenReview token":           reviewedToken,
		"service-account token":       saToken,
		"service-account token sig":   saToken[strings.LastIndex(saToken, ".")+1:],
		"wrong token (websocket b64)": strings.TrimRight(b64url(wrongToken), "="),
	}
	for i, l := range keyLines {
		secrets["private key line "+string(rune('a'+i%26))] = l
	}
	// The audit event of the ?access_token= request keeps its requestURI
	// with the value redacted (kube-apiserver would write it verbatim).
	if !strings.Contains(string(auditLog), `"requestURI":"/api/v1/namespaces?access_token=REDACTED"`) {
		t.Errorf("audit log lacks the redacted requestURI of the ?access_token= request")
	}
	for where, text := range places {
		for what, secret := range secrets {
			if strings.Contains(text, secret) {
				t.Errorf("%s contains the %s", where, what)
			}
		}
	}
	t.Logf("searched %d places (%d bytes of -v 10 logs, %d bytes of audit log) for %d secrets",
		len(places), len(srv.stderr.String()), len(auditLog), len(secrets))
}

// pemBodyLines returns the base64 lines of the PEM blocks in data.
func pemBodyLines(data []byte) []string {
	var out []string
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			return out
		}
		enc := base64.StdEncoding.EncodeToString(b.Bytes)
		for len(enc) > 64 {
			out = append(out, enc[:64])
			enc = enc[64:]
		}
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
