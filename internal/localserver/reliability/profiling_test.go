package reliability_test

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// kubectl runs kubectl with a kubeconfig and returns stdout, stderr and
// the error of a non-zero exit; the test is skipped without kubectl.
func kubectl(t *testing.T, kubeconfig string, args ...string) (string, string, error) {
	t.Helper()
	bin, err := exec.LookPath("kubectl")
	if err != nil {
		t.Skip("kubectl is not on PATH")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, append([]string{"--kubeconfig", kubeconfig}, args...)...)
	cmd.Env = append(os.Environ(), "HOME="+t.TempDir())
	var out, errOut strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err = cmd.Run()
	return out.String(), errOut.String(), err
}

// tokenKubeconfig writes a copy of the admin kubeconfig that
// authenticates with token instead.
func tokenKubeconfig(t *testing.T, adminKubeconfig, token string) string {
	t.Helper()
	kc, err := clientcmd.LoadFromFile(adminKubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	for name := range kc.AuthInfos {
		kc.AuthInfos[name] = &clientcmdapi.AuthInfo{Token: token}
	}
	p := filepath.Join(t.TempDir(), "kubeconfig")
	if err := clientcmd.WriteToFile(*kc, p); err != nil {
		t.Fatal(err)
	}
	return p
}

// profileTotal reads "goroutine profile: total N" from the first line of
// /debug/pprof/goroutine?debug=1.
func profileTotal(t *testing.T, profile string) int {
	t.Helper()
	m := regexp.MustCompile(`^goroutine profile: total (\d+)\n`).FindStringSubmatch(profile)
	if m == nil {
		t.Fatalf("not a goroutine profile: %.200q", profile)
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

// heapProfileStats reads the runtime.MemStats lines ("# HeapInuse = N")
// at the end of /debug/pprof/heap?debug=1.
func heapProfileStats(profile string) map[string]uint64 {
	stats := map[string]uint64{}
	sc := bufio.NewScanner(strings.NewReader(profile))
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		var name string
		var v uint64
		if _, err := fmt.Sscanf(sc.Text(), "# %s = %d", &name, &v); err == nil {
			stats[name] = v
		}
	}
	return stats
}

// TestProfilingIsForSystemMasters: kauth serve serves /debug/pprof by
// default (--profiling, as kube-apiserver): `kubectl get --raw
// /debug/pprof/goroutine?debug=1` as the admin (system:masters) returns
// the server's goroutine profile, and the heap profile carries the
// runtime's memory statistics; a token user without the nonResourceURL is
// refused 403, as is anonymous. With --profiling=false the path is not
// served (404, even to the admin).
func TestProfilingIsForSystemMasters(t *testing.T) {
	t.Parallel()
	tokens := writeTokens(t, `viewer-token-5b6c7d8e9f0a,viewer,4001,"viewers"`)
	srv := startChild(t, "--token-auth-file", tokens)

	out, errOut, err := kubectl(t, srv.kc, "get", "--raw", "/debug/pprof/goroutine?debug=1")
	if err != nil {
		t.Fatalf("kubectl get --raw /debug/pprof/goroutine?debug=1 as the admin: %v\n%s", err, errOut)
	}
	n := profileTotal(t, out)
	if !strings.Contains(out, "net/http.(*Server).Serve") {
		t.Errorf("the goroutine profile lacks the server's accept loop:\n%.2000s", out)
	}
	heap, errOut, err := kubectl(t, srv.kc, "get", "--raw", "/debug/pprof/heap?debug=1")
	if err != nil {
		t.Fatalf("kubectl get --raw /debug/pprof/heap?debug=1 as the admin: %v\n%s", err, errOut)
	}
	stats := heapProfileStats(heap)
	if stats["HeapInuse"] == 0 || stats["Sys"] == 0 {
		t.Errorf("the heap profile lacks runtime.MemStats (HeapInuse, Sys): %v", stats)
	}
	t.Logf("kauth serve: %d goroutines, heap in use %d MiB, Sys %d MiB", n, stats["HeapInuse"]>>20, stats["Sys"]>>20)

	viewer := tokenKubeconfig(t, srv.kc, "viewer-token-5b6c7d8e9f0a")
	_, errOut, err = kubectl(t, viewer, "get", "--raw", "/debug/pprof/goroutine?debug=1")
	if err == nil || !strings.Contains(errOut, `Error from server (Forbidden): forbidden: User "viewer" cannot get path "/debug/pprof/goroutine"`) {
		t.Errorf("kubectl get --raw /debug/pprof/goroutine as viewer: %v\n%s", err, errOut)
	}
	anon := anonymousClient(t, srv)
	if code, body := anon.do(t, http.MethodGet, "/debug/pprof/", ""); code != http.StatusForbidden {
		t.Errorf("GET /debug/pprof/ anonymously: HTTP %d, want 403: %.300s", code, body)
	}

	off := startChild(t, "--profiling=false")
	_, errOut, err = kubectl(t, off.kc, "get", "--raw", "/debug/pprof/goroutine?debug=1")
	if err == nil || !strings.Contains(errOut, "NotFound") {
		t.Errorf("kubectl get --raw /debug/pprof/goroutine with --profiling=false: %v\n%s", err, errOut)
	}
}

// anonymousClient is an HTTP/2 client of the child that trusts its CA and
// sends no credentials.
func anonymousClient(t *testing.T, c *child) *client {
	t.Helper()
	kc, err := clientcmd.LoadFromFile(c.kc)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	for _, cl := range kc.Clusters {
		pool.AppendCertsFromPEM(cl.CertificateAuthorityData)
	}
	tr := &http2.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}
	t.Cleanup(tr.CloseIdleConnections)
	return &client{base: c.url, hc: &http.Client{Transport: tr}, tr: tr}
}
