package reliability_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"k8s.io/client-go/tools/clientcmd"
)

var (
	buildOnce sync.Once
	kauthBin  string
	buildErr  error
)

// kauth builds the kauth binary once per test run and returns its path.
func kauth(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and runs the kauth binary: skipped with -short")
	}
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "kauth-reliability-")
		if err != nil {
			buildErr = err
			return
		}
		kauthBin = filepath.Join(dir, "kauth")
		out, err := exec.Command("go", "build", "-o", kauthBin, "github.com/kauth/kauth/cmd/kauth").CombinedOutput()
		if err != nil {
			buildErr = &buildError{err: err, out: out}
		}
	})
	if buildErr != nil {
		t.Fatalf("go build ./cmd/kauth: %v", buildErr)
	}
	return kauthBin
}

type buildError struct {
	err error
	out []byte
}

func (e *buildError) Error() string { return e.err.Error() + "\n" + string(e.out) }

func TestMain(m *testing.M) {
	code := m.Run()
	if kauthBin != "" {
		_ = os.RemoveAll(filepath.Dir(kauthBin))
	}
	os.Exit(code)
}

// child is a "kauth serve" process.
type child struct {
	cmd    *exec.Cmd
	stderr *lockedBuffer
	url    string
	kc     string
	done   chan error
	killed sync.Once
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// startChild runs "kauth -o json serve --listen 127.0.0.1:0 ARGS..." and
// returns once the server printed its status (it is then ready).
func startChild(t *testing.T, args ...string) *child {
	t.Helper()
	bin := kauth(t)
	cmd := exec.Command(bin, append([]string{"-o", "json", "serve", "--listen", "127.0.0.1:0"}, args...)...)
	cmd.Env = append(os.Environ(), "HOME="+t.TempDir())
	c := &child{cmd: cmd, stderr: &lockedBuffer{}, done: make(chan error, 1)}
	cmd.Stderr = c.stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.kill() })
	go func() { c.done <- cmd.Wait() }()
	var st struct {
		URL        string `json:"url"`
		Kubeconfig string `json:"kubeconfig"`
	}
	if err := json.NewDecoder(bufio.NewReader(stdout)).Decode(&st); err != nil {
		t.Fatalf("kauth serve did not become ready (%v): %s", err, c.stderr.String())
	}
	c.url, c.kc = st.URL, st.Kubeconfig
	return c
}

// runChild runs kauth with args to its end and returns its exit code and
// stderr.
func runChild(t *testing.T, args ...string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, kauth(t), args...)
	cmd.Env = append(os.Environ(), "HOME="+t.TempDir())
	var errOut bytes.Buffer
	cmd.Stderr = &errOut
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode(), errOut.String()
	}
	if err != nil {
		t.Fatal(err)
	}
	return 0, errOut.String()
}

// kill sends SIGKILL (a no-op for a process that has already exited) and
// waits for the Wait goroutine, once: the test and its cleanup both call it,
// and only that goroutine may touch the Cmd's state.
func (c *child) kill() {
	c.killed.Do(func() {
		_ = c.cmd.Process.Kill()
		<-c.done
	})
}

// client returns an admin HTTP/2 client of the child from its kubeconfig
// (client certificate or token).
func (c *child) client(t *testing.T) *client {
	t.Helper()
	kc, err := clientcmd.LoadFromFile(c.kc)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	cfg := &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	for _, cl := range kc.Clusters {
		pool.AppendCertsFromPEM(cl.CertificateAuthorityData)
	}
	var token string
	for _, a := range kc.AuthInfos {
		if cert, err := tls.X509KeyPair(a.ClientCertificateData, a.ClientKeyData); err == nil {
			cfg.Certificates = []tls.Certificate{cert}
		}
		token = a.Token
	}
	tr := &http2.Transport{TLSClientConfig: cfg}
	t.Cleanup(tr.CloseIdleConnections)
	return &client{base: c.url, token: token, hc: &http.Client{Transport: tr}, tr: tr}
}
