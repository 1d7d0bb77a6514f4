package reliability_test

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/kauth/kauth/internal/localserver"
)

// TestSlowlorisConnectionsAreClosed opens connections that never finish
// their TLS handshake and connections that send half a request header and
// stall. While they are open the server answers others as usual, and it
// closes each stalled connection itself once its header timeout (32 s,
// kube-apiserver's) passes: the client sees EOF well before its own
// 60 s deadline. This test waits about 32 s of wall time, in parallel with
// the others.
func TestSlowlorisConnectionsAreClosed(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("waits for the server's 30 s header timeout: skipped with -short")
	}
	s := startServer(t, nil)
	admin := newClient(t, s, "admin")
	addr := strings.TrimPrefix(s.URL(), "https://")
	n := pick(50, 500)
	var conns []net.Conn
	for i := range n {
		raw, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { raw.Close() })
		if i%2 == 0 {
			conns = append(conns, raw) // no TLS handshake at all
			continue
		}
		c := tls.Client(raw, tlsConfig(s))
		if err := c.Handshake(); err != nil {
			t.Fatal(err)
		}
		if _, err := fmt.Fprintf(c, "GET /api/v1/namespaces HTTP/1.1\r\nHost: %s\r\nX-Slow: ", addr); err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
	}
	for range 20 {
		admin.must(t, http.StatusOK, http.MethodGet, "/api/v1/namespaces/default", "")
	}
	start := time.Now()
	for i, c := range conns {
		_ = c.SetReadDeadline(start.Add(60 * time.Second))
		_, err := io.ReadAll(c)
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			t.Fatalf("stalled connection %d still open after 60 s: the server has no header timeout", i)
		}
	}
	t.Logf("%d stalled connections (half without a TLS handshake, half with half a header) closed by the server after %s", n, time.Since(start).Round(100*time.Millisecond))
	admin.must(t, http.StatusOK, http.MethodGet, "/api/v1/namespaces/default", "")
}

// TestIdleConnectionsAreClosed keeps an HTTP/1.1 keep-alive connection
// idle after one request: kube-apiserver closes it after its 90 s
// IdleTimeout, so idle clients cannot pile up connections.
func TestIdleConnectionsAreClosed(t *testing.T) {
	t.Parallel()
	if os.Getenv("KAUTH_LONG") != "1" {
		t.Skip("waits 90 s: run with KAUTH_LONG=1")
	}
	s := startServer(t, nil)
	addr := strings.TrimPrefix(s.URL(), "https://")
	c, err := tls.Dial("tcp", addr, tlsConfig(s, adminCert(t, s)))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fmt.Fprintf(c, "GET /readyz HTTP/1.1\r\nHost: %s\r\n\r\n", addr)
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	_ = c.SetReadDeadline(time.Now().Add(120 * time.Second))
	_, err = io.ReadAll(c)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatal("idle keep-alive connection still open after 120 s")
	}
}

// TestStalledWatchReader opens a watch over HTTP/1.1 and never reads it,
// then writes many large objects: every write succeeds (the store never
// waits for a watcher: a watcher more than 1024 events behind is ended),
// a healthy watch on the same resource receives every event in order, and
// reads of other clients succeed.
func TestStalledWatchReader(t *testing.T) {
	t.Parallel()
	s := startServer(t, func(c *localserver.Config) { c.MaxRequestsInFlight = 4 })
	admin := newClient(t, s, "admin")
	addr := strings.TrimPrefix(s.URL(), "https://")
	for range pick(3, 50) {
		c, err := tls.Dial("tcp", addr, tlsConfig(s, adminCert(t, s)))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		fmt.Fprintf(c, "GET /api/v1/namespaces/default/configmaps?watch=1 HTTP/1.1\r\nHost: %s\r\nAccept-Encoding: identity\r\n\r\n", addr)
	}
	rv := fmt.Sprint(s.Store().ResourceVersion())
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	resp, err := admin.request(ctx, http.MethodGet, cmPath("")+"?watch=1&resourceVersion="+rv, "")
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("healthy watch: %v %v", err, resp)
	}
	defer resp.Body.Close()
	events := make(chan error, 1)
	writes := pick(2000, 20000)
	go func() {
		dec := json.NewDecoder(resp.Body)
		for i := range writes {
			var ev watchEvent
			if err := dec.Decode(&ev); err != nil {
				events <- fmt.Errorf("event %d: %w", i, err)
				return
			}
			if want := fmt.Sprintf("w-%05d", i); ev.Type != "ADDED" || ev.Object.Metadata.Name != want {
				events <- fmt.Errorf("event %d: %s %s, want ADDED %s", i, ev.Type, ev.Object.Metadata.Name, want)
				return
			}
		}
		events <- nil
	}()
	pad := strings.Repeat("p", 16<<10)
	for i := range writes {
		admin.must(t, http.StatusCreated, http.MethodPost, cmPath(""), configMap(fmt.Sprintf("w-%05d", i), map[string]string{"pad": pad}))
		if i%500 == 0 {
			admin.must(t, http.StatusOK, http.MethodGet, "/api/v1/namespaces/default", "")
		}
	}
	if err := <-events; err != nil {
		t.Errorf("healthy watch: %v", err)
	}
}
