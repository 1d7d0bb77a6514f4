package localserver

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"k8s.io/client-go/tools/clientcmd"
)

// startServer runs a server on 127.0.0.1:0 until the test ends and
// returns it once it is ready.
func startServer(t *testing.T, mutate func(*Config)) *Server {
	t.Helper()
	cfg := Default()
	cfg.Listen = "127.0.0.1:0"
	cfg.KubeconfigOut = filepath.Join(t.TempDir(), "kubeconfig")
	if mutate != nil {
		mutate(&cfg)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s, err := New(ctx, cfg)
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

// kubectl runs the real kubectl against s with kubeconfig (the admin's
// when empty) and returns stdout, stderr and the exit error.
func kubectl(t *testing.T, kubeconfig string, args ...string) (string, string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "kubectl", append([]string{"--kubeconfig", kubeconfig}, args...)...)
	cmd.Env = append(os.Environ(), "HOME="+t.TempDir(), "KUBECACHEDIR="+t.TempDir())
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	return out.String(), errOut.String(), err
}

func needKubectl(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("integration test: skipped with -short")
	}
	if _, err := exec.LookPath("kubectl"); err != nil {
		t.Skip("kubectl not on PATH")
	}
}

func mustKubectl(t *testing.T, kubeconfig string, args ...string) string {
	t.Helper()
	out, errOut, err := kubectl(t, kubeconfig, args...)
	if err != nil {
		t.Fatalf("kubectl %s: %v\nstdout: %s\nstderr: %s", strings.Join(args, " "), err, out, errOut)
	}
	return out
}

func TestReadyzWithKubectl(t *testing.T) {
	t.Parallel()
	needKubectl(t)
	s := startServer(t, nil)
	got := mustKubectl(t, s.KubeconfigPath(), "get", "--raw", "/readyz")
	if got != "ok" {
		t.Errorf("kubectl get --raw /readyz = %q, want %q", got, "ok")
	}
}

// TestShutdownEndsWatches stops a server while a watch is open: Run must
// return without waiting for the client (the request timeout is an hour).
func TestShutdownEndsWatches(t *testing.T) {
	t.Parallel()
	cfg := withDefaults(func(c *Config) {
		c.RequestTimeout = time.Hour
		c.KubeconfigOut = filepath.Join(t.TempDir(), "kubeconfig")
	})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s, err := New(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	<-s.Ready()
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(s.CAPEM())
	kc, err := clientcmd.LoadFromFile(s.KubeconfigPath())
	if err != nil {
		t.Fatal(err)
	}
	auth := kc.AuthInfos[kubeconfigUser]
	cert, err := tls.X509KeyPair(auth.ClientCertificateData, auth.ClientKeyData)
	if err != nil {
		t.Fatal(err)
	}
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, Certificates: []tls.Certificate{cert}}}}
	resp, err := client.Get(s.URL() + "/api/v1/namespaces/default/configmaps?watch=1")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("watch: HTTP %d", resp.StatusCode)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run() = %v", err)
	}
}
