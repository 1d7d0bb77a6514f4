package servebench

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/net/http2"

	"github.com/kauth/kauth/internal/localserver"
)

const tokens = "bench-token,bench,1001,readers\n"

// policy is the RBAC and data the benchmarks seed, shared with run.sh.
const policy = "testdata/policy.yaml"

// start runs a server until the benchmark ends.
func start(b *testing.B, mutate func(*localserver.Config)) *localserver.Server {
	b.Helper()
	dir := b.TempDir()
	cfg := localserver.Default()
	cfg.Listen = "127.0.0.1:0"
	cfg.KubeconfigOut = filepath.Join(dir, "kubeconfig")
	if mutate != nil {
		mutate(&cfg)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s, err := localserver.New(ctx, cfg)
	if err != nil {
		cancel()
		b.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	b.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			b.Error(err)
		}
	})
	<-s.Ready()
	return s
}

func write(b *testing.B, name, content string) string {
	b.Helper()
	p := filepath.Join(b.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		b.Fatal(err)
	}
	return p
}

// client speaks HTTP/2 over TLS, as kubectl and client-go do.
func client(s *localserver.Server) *http.Client {
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(s.CAPEM())
	return &http.Client{Transport: &http2.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}, Timeout: time.Minute}
}

// BenchmarkReady measures New to ready with no data dir: PKI, store,
// seeding (namespaces, bootstrap RBAC policy, APF objects), the RBAC
// index and the handler chain.
func BenchmarkReady(b *testing.B) {
	dir := b.TempDir()
	for b.Loop() {
		ctx, cancel := context.WithCancel(context.Background())
		cfg := localserver.Default()
		cfg.Listen = "127.0.0.1:0"
		cfg.KubeconfigOut = filepath.Join(dir, "kubeconfig")
		s, err := localserver.New(ctx, cfg)
		if err != nil {
			b.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- s.Run(ctx) }()
		<-s.Ready()
		cancel()
		if err := <-done; err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRequests measures requests per second, 64 concurrent clients
// sharing one HTTP/2 connection pool: GET one ConfigMap and LIST the
// namespace's ConfigMaps, with a static token and RBAC ("authz") and with
// the same token and AlwaysAllow ("baseline", the cost of everything but
// the RBAC decision). Anonymous requests make no baseline: like
// kube-apiserver, the server closes an anonymous HTTP/2 connection after
// each request, so they measure TLS handshakes.
func BenchmarkRequests(b *testing.B) {
	paths := map[string]string{
		"GET":  "/api/v1/namespaces/default/configmaps/bench",
		"LIST": "/api/v1/namespaces/default/configmaps",
	}
	modes := []struct {
		name   string
		token  string
		mutate func(*localserver.Config)
	}{
		{"authz", "bench-token", func(c *localserver.Config) {
			c.TokenAuthFile = write(b, "tokens.csv", tokens)
			c.Seed = []string{policy}
		}},
		{"baseline", "bench-token", func(c *localserver.Config) {
			c.TokenAuthFile = write(b, "tokens.csv", tokens)
			c.AuthorizationModes = []string{localserver.ModeAlwaysAllow}
			c.Seed = []string{policy}
		}},
	}
	for _, m := range modes {
		s := start(b, m.mutate)
		c := client(s)
		for _, verb := range []string{"GET", "LIST"} {
			b.Run(verb+"/"+m.name, func(b *testing.B) {
				url := s.URL() + paths[verb]
				b.SetParallelism(32)
				b.ResetTimer()
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						req, _ := http.NewRequest(http.MethodGet, url, nil)
						req.Header.Set("Accept", "application/json")
						if m.token != "" {
							req.Header.Set("Authorization", "Bearer "+m.token)
						}
						resp, err := c.Do(req)
						if err != nil {
							b.Error(err)
							return
						}
						_, _ = io.Copy(io.Discard, resp.Body)
						resp.Body.Close()
						if resp.StatusCode != http.StatusOK {
							b.Errorf("%s: HTTP %d", url, resp.StatusCode)
							return
						}
					}
				})
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
			})
		}
	}
}
