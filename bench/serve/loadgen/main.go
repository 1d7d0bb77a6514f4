// Command loadgen sends GET requests to a kauth serve (or any API server)
// for a fixed count from a number of concurrent workers over HTTP/2 and
// prints requests per second. bench/serve/run.sh drives it.
//
// Usage: loadgen -url URL -ca FILE [-token T] [-n N] [-c C]
package main

import (
	"crypto/tls"
	"crypto/x509"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/net/http2"
)

func main() {
	url := flag.String("url", "", "URL to GET")
	caFile := flag.String("ca", "", "CA bundle that verifies the server")
	token := flag.String("token", "", "bearer token (none: anonymous)")
	n := flag.Int("n", 100000, "requests in total")
	c := flag.Int("c", 64, "concurrent workers")
	flag.Parse()
	if err := run(*url, *caFile, *token, *n, *c); err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(1)
	}
}

func run(url, caFile, token string, n, c int) error {
	ca, err := os.ReadFile(caFile)
	if err != nil {
		return err
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(ca)
	client := &http.Client{Transport: &http2.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}, Timeout: time.Minute}
	var next, failed atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for range c {
		wg.Go(func() {
			for next.Add(1) <= int64(n) {
				if !get(client, url, token) {
					failed.Add(1)
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	fmt.Printf("%d requests in %s: %.0f req/s, %d failed\n", n, elapsed.Round(time.Millisecond), float64(n)/elapsed.Seconds(), failed.Load())
	if failed.Load() > 0 {
		return fmt.Errorf("%d requests failed", failed.Load())
	}
	return nil
}

func get(client *http.Client, url, token string) bool {
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		return false
	}
	req.Header.Set("Accept", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := client.Do(req)
	if err != nil {
		return false
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}
