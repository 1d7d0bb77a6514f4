// Command load drives a kauth serve on loopback with a mix of identities
// (a client certificate signed through the CSR API, a static token, a
// service-account token from TokenRequest, and the admin certificate in
// system:masters), verbs (get, list, create, update, delete) and watches,
// for a fixed time or request count, and reports requests per second,
// latency percentiles, answers by status, the server's resident memory and
// goroutines before and after, and whether every watch saw its events in
// order.
//
// By default it starts "kauth serve" as a child process (-kauth PATH):
// resident memory and threads come from /proc/PID/status, and the
// server's own goroutines and heap from its /debug/pprof (--profiling,
// on by default; asked as the admin): the total of
// /debug/pprof/goroutine?debug=1 once it is steady, and HeapInuse of
// /debug/pprof/heap?debug=1&gc=1. With -in-process the server runs inside
// this process through internal/localserver, so runtime.NumGoroutine
// counts its goroutines (taken when the load generator is idle) and the
// memory figures are those of both.
//
// Usage: load [-kauth PATH | -in-process] [-duration 10s] [-requests N]
// [-c 32] [-watches 100] [-serve-arg ARG]...
//
// bench/load/run.sh builds kauth and runs the standard scenarios.
package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-logr/logr"
	"golang.org/x/net/http2"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/klog/v2"

	"github.com/kauth/kauth/internal/localserver"
)

type options struct {
	kauth     string
	inProcess bool
	duration  time.Duration
	requests  int64
	workers   int
	watches   int
	objects   int
	serveArgs []string
	jsonOut   bool
}

type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, " ") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

func main() {
	var o options
	var serveArgs stringList
	flag.StringVar(&o.kauth, "kauth", "kauth", "the kauth binary to run as the server")
	flag.BoolVar(&o.inProcess, "in-process", false, "run the server in this process (goroutines are counted; memory includes the generator)")
	flag.DurationVar(&o.duration, "duration", 10*time.Second, "how long the load runs (it also stops after -requests)")
	flag.Int64Var(&o.requests, "requests", 0, "stop after this many requests (0: only -duration)")
	flag.IntVar(&o.workers, "c", 32, "concurrent workers")
	flag.IntVar(&o.watches, "watches", 100, "concurrent watches on the ConfigMaps of the load namespace")
	flag.IntVar(&o.objects, "objects", 100, "ConfigMaps created before the load")
	flag.Var(&serveArgs, "serve-arg", "extra argument for kauth serve (repeatable), e.g. -serve-arg=--max-requests-inflight=8")
	flag.BoolVar(&o.jsonOut, "json", false, "print the report as JSON")
	flag.Parse()
	o.serveArgs = serveArgs
	if err := run(context.Background(), o); err != nil {
		fmt.Fprintln(os.Stderr, "load:", err)
		os.Exit(1)
	}
}

// server is a running kauth serve and how to observe it.
type server struct {
	url, kubeconfig string
	pid             int
	inProcess       bool
	stop            func()
}

func (s *server) rssKiB() int64  { return procField(s.pid, "VmRSS:") }
func (s *server) threads() int64 { return procField(s.pid, "Threads:") }

func procField(pid int, field string) int64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return -1
	}
	for line := range strings.SplitSeq(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, field); ok {
			n, _ := strconv.ParseInt(strings.Fields(rest)[0], 10, 64)
			return n
		}
	}
	return -1
}

func startServer(ctx context.Context, o options, dir, tokens string) (*server, error) {
	if o.inProcess {
		return startInProcess(ctx, o, dir, tokens)
	}
	args := append([]string{"-o", "json", "serve", "--listen", "127.0.0.1:0", "--token-auth-file", tokens,
		"--kubeconfig-out", filepath.Join(dir, "kubeconfig")}, o.serveArgs...)
	cmd := exec.CommandContext(ctx, o.kauth, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	var st struct {
		URL        string `json:"url"`
		Kubeconfig string `json:"kubeconfig"`
	}
	if err := json.NewDecoder(bufio.NewReader(out)).Decode(&st); err != nil {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		return nil, fmt.Errorf("kauth serve did not report ready: %w: %s", err, stderr.Bytes())
	}
	return &server{url: st.URL, kubeconfig: st.Kubeconfig, pid: cmd.Process.Pid, stop: func() {
		_ = cmd.Process.Signal(os.Interrupt)
		_ = cmd.Wait()
	}}, nil
}

func startInProcess(ctx context.Context, o options, dir, tokens string) (*server, error) {
	if len(o.serveArgs) > 0 {
		return nil, errors.New("-serve-arg needs the child-process mode (drop -in-process)")
	}
	// k8s.io/apiserver reports requests cut off at the end of the run
	// through klog; they are counted in the report instead.
	klog.SetLogger(logr.Discard())
	cfg := localserver.Default()
	cfg.Listen = "127.0.0.1:0"
	cfg.TokenAuthFile = tokens
	cfg.KubeconfigOut = filepath.Join(dir, "kubeconfig")
	ctx, cancel := context.WithCancel(ctx)
	s, err := localserver.New(ctx, cfg)
	if err != nil {
		cancel()
		return nil, err
	}
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	<-s.Ready()
	return &server{url: s.URL(), kubeconfig: s.KubeconfigPath(), pid: os.Getpid(), inProcess: true, stop: func() {
		cancel()
		<-done
	}}, nil
}

// goroutines is the server's goroutine count, or -1 when it cannot be
// known: in-process it is runtime.NumGoroutine once the generator is
// idle; otherwise the total of /debug/pprof/goroutine?debug=1 if served.
func (s *server) goroutines(admin *identity) int64 {
	if s.inProcess {
		return int64(settled(runtime.NumGoroutine))
	}
	if pprofGoroutines(admin) < 0 {
		return -1
	}
	// Steady: the connections of the load end asynchronously.
	return int64(settled(func() int { return int(pprofGoroutines(admin)) }))
}

// pprofGoroutines is the total of /debug/pprof/goroutine?debug=1, or -1.
func pprofGoroutines(admin *identity) int64 {
	resp, err := admin.do(context.Background(), http.MethodGet, "/debug/pprof/goroutine?debug=1", "", "")
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	line, _ := bufio.NewReader(resp.Body).ReadString('\n')
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(line, "goroutine profile: total ") {
		return -1
	}
	n, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimPrefix(line, "goroutine profile: total ")), 10, 64)
	return n
}

// heapInUseKiB is the server's HeapInuse after a garbage collection, or -1
// when it cannot be known: in-process, runtime.ReadMemStats (generator
// and server together); otherwise the "# HeapInuse = N" line of
// /debug/pprof/heap?debug=1&gc=1.
func (s *server) heapInUseKiB(admin *identity) int64 {
	if s.inProcess {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return int64(m.HeapInuse >> 10)
	}
	resp, err := admin.do(context.Background(), http.MethodGet, "/debug/pprof/heap?debug=1&gc=1", "", "")
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, resp.Body)
		return -1
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 0, 64<<10), 4<<20)
	for sc.Scan() {
		var v int64
		if _, err := fmt.Sscanf(sc.Text(), "# HeapInuse = %d", &v); err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			return v >> 10
		}
	}
	return -1
}

// settled polls f until it has not changed for 20 polls 10 ms apart.
func settled(f func() int) int {
	n, same := f(), 0
	for i := 0; i < 1000 && same < 20; i++ {
		time.Sleep(10 * time.Millisecond)
		if m := f(); m == n {
			same++
		} else {
			n, same = m, 0
		}
	}
	return n
}

// identity is one authenticated client over HTTP/2.
type identity struct {
	name  string
	base  string
	token string
	tr    *http2.Transport
	hc    *http.Client
}

func newIdentity(name, base string, ca *x509.CertPool, token string, cert *tls.Certificate) *identity {
	cfg := &tls.Config{RootCAs: ca, MinVersion: tls.VersionTLS12}
	if cert != nil {
		cfg.Certificates = []tls.Certificate{*cert}
	}
	tr := &http2.Transport{TLSClientConfig: cfg}
	return &identity{name: name, base: base, token: token, tr: tr, hc: &http.Client{Transport: tr, Timeout: 2 * time.Minute}}
}

func (id *identity) do(ctx context.Context, method, path, contentType, body string) (*http.Response, error) {
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, id.base+path, r)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if id.token != "" {
		req.Header.Set("Authorization", "Bearer "+id.token)
	}
	return id.hc.Do(req)
}

// must sends a request and returns the body, failing unless the status
// is one of want.
func (id *identity) must(method, path, body string, want ...int) ([]byte, error) {
	ct := ""
	if body != "" {
		ct = "application/json"
	}
	resp, err := id.do(context.Background(), method, path, ct, body)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if !slices.Contains(want, resp.StatusCode) {
		return nil, fmt.Errorf("%s %s as %s: HTTP %d: %.300s", method, path, id.name, resp.StatusCode, data)
	}
	return data, nil
}

const ns = "load"

func run(ctx context.Context, o options) error {
	dir, err := os.MkdirTemp("", "kauth-load-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	staticToken, err := randomToken()
	if err != nil {
		return err
	}
	tokens := filepath.Join(dir, "tokens.csv")
	if err := os.WriteFile(tokens, []byte(staticToken+`,load-static,2001,"loaders"`+"\n"), 0o600); err != nil {
		return err
	}
	srv, err := startServer(ctx, o, dir, tokens)
	if err != nil {
		return err
	}
	defer srv.stop()
	ids, err := setup(srv, o, staticToken)
	if err != nil {
		return err
	}
	admin := ids[len(ids)-1]
	closeAll := func() {
		for _, id := range ids {
			id.tr.CloseIdleConnections()
		}
	}
	closeAll()
	rep := report{Mode: map[bool]string{true: "in-process", false: "child process"}[srv.inProcess], Workers: o.workers, Watches: o.watches, ServeArgs: o.serveArgs}
	rep.Before = observe(srv, admin)
	res := load(ctx, o, ids)
	rep.fill(res)
	closeAll()
	runtime.GC()
	rep.After = observe(srv, admin)
	closeAll()
	if o.jsonOut {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	rep.print(os.Stdout)
	if res.watchErrors.Load() > 0 {
		return fmt.Errorf("%d watches missed or reordered events", res.watchErrors.Load())
	}
	return nil
}

func randomToken() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return fmt.Sprintf("%x", b), nil
}

type observation struct {
	RSSKiB       int64 `json:"rssKiB"`
	HeapInUseKiB int64 `json:"heapInUseKiB"` // -1: not observable
	Threads      int64 `json:"threads"`
	Goroutines   int64 `json:"goroutines"` // -1: not observable
}

func observe(srv *server, admin *identity) observation {
	heap := srv.heapInUseKiB(admin)
	g := srv.goroutines(admin)
	admin.tr.CloseIdleConnections()
	if srv.inProcess {
		g = int64(settled(runtime.NumGoroutine))
	}
	return observation{RSSKiB: srv.rssKiB(), HeapInUseKiB: heap, Threads: srv.threads(), Goroutines: g}
}

// setup creates the namespace, RBAC for the load identities, the objects,
// a service account with a token and a client certificate through the
// CSR API, and returns the identities (the admin last).
func setup(srv *server, o options, staticToken string) ([]*identity, error) {
	kc, err := clientcmd.LoadFromFile(srv.kubeconfig)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	var adminCert *tls.Certificate
	adminToken := ""
	for _, c := range kc.Clusters {
		pool.AppendCertsFromPEM(c.CertificateAuthorityData)
	}
	for _, a := range kc.AuthInfos {
		if c, err := tls.X509KeyPair(a.ClientCertificateData, a.ClientKeyData); err == nil {
			adminCert = &c
		}
		adminToken = a.Token
	}
	admin := newIdentity("admin", srv.url, pool, adminToken, adminCert)
	steps := []struct{ method, path, body string }{
		{"POST", "/api/v1/namespaces", `{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"` + ns + `"}}`},
		{"POST", "/api/v1/namespaces/" + ns + "/serviceaccounts", `{"apiVersion":"v1","kind":"ServiceAccount","metadata":{"name":"loader"}}`},
		{"POST", "/apis/rbac.authorization.k8s.io/v1/namespaces/" + ns + "/roles", `{"apiVersion":"rbac.authorization.k8s.io/v1","kind":"Role","metadata":{"name":"loader"},
"rules":[{"apiGroups":[""],"resources":["configmaps"],"verbs":["get","list","watch","create","update","patch","delete"]}]}`},
		{"POST", "/apis/rbac.authorization.k8s.io/v1/namespaces/" + ns + "/rolebindings", `{"apiVersion":"rbac.authorization.k8s.io/v1","kind":"RoleBinding","metadata":{"name":"loader"},
"subjects":[{"kind":"Group","name":"loaders","apiGroup":"rbac.authorization.k8s.io"},{"kind":"ServiceAccount","name":"loader","namespace":"` + ns + `"}],
"roleRef":{"kind":"Role","name":"loader","apiGroup":"rbac.authorization.k8s.io"}}`},
	}
	for _, s := range steps {
		if _, err := admin.must(s.method, s.path, s.body, http.StatusCreated); err != nil {
			return nil, err
		}
	}
	for i := range o.objects {
		if _, err := admin.must("POST", cmPath(""), configMap(fmt.Sprintf("seed-%04d", i), "0"), http.StatusCreated); err != nil {
			return nil, err
		}
	}
	data, err := admin.must("POST", "/api/v1/namespaces/"+ns+"/serviceaccounts/loader/token", `{"apiVersion":"authentication.k8s.io/v1","kind":"TokenRequest","spec":{}}`, http.StatusCreated)
	if err != nil {
		return nil, err
	}
	var tr struct {
		Status struct {
			Token string `json:"token"`
		} `json:"status"`
	}
	if err := json.Unmarshal(data, &tr); err != nil {
		return nil, err
	}
	cert, err := clientCertViaCSR(admin)
	if err != nil {
		return nil, err
	}
	return []*identity{
		newIdentity("client certificate (load-cert, loaders)", srv.url, pool, "", cert),
		newIdentity("static token (load-static, loaders)", srv.url, pool, staticToken, nil),
		newIdentity("service-account token (load/loader)", srv.url, pool, tr.Status.Token, nil),
		admin,
	}, nil
}

// clientCertViaCSR gets a certificate for load-cert in group loaders from
// the server's kube-apiserver-client signer: create, approve, read.
func clientCertViaCSR(admin *identity) (*tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: "load-cert", Organization: []string{"loaders"}}}, key)
	if err != nil {
		return nil, err
	}
	csrPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der})
	body, _ := json.Marshal(map[string]any{
		"apiVersion": "certificates.k8s.io/v1", "kind": "CertificateSigningRequest",
		"metadata": map[string]any{"name": "load-cert"},
		"spec":     map[string]any{"request": csrPEM, "signerName": "kubernetes.io/kube-apiserver-client", "usages": []string{"client auth", "digital signature"}},
	})
	path := "/apis/certificates.k8s.io/v1/certificatesigningrequests/load-cert"
	data, err := admin.must("POST", "/apis/certificates.k8s.io/v1/certificatesigningrequests", string(body), http.StatusCreated)
	if err != nil {
		return nil, err
	}
	var csr map[string]any
	if err := json.Unmarshal(data, &csr); err != nil {
		return nil, err
	}
	csr["status"] = map[string]any{"conditions": []map[string]any{{"type": "Approved", "status": "True", "reason": "LoadTest", "message": "bench/load"}}}
	body, _ = json.Marshal(csr)
	if _, err := admin.must("PUT", path+"/approval", string(body), http.StatusOK); err != nil {
		return nil, err
	}
	for range 100 {
		data, err := admin.must("GET", path, "", http.StatusOK)
		if err != nil {
			return nil, err
		}
		var got struct {
			Status struct {
				Certificate []byte `json:"certificate"`
			} `json:"status"`
		}
		if err := json.Unmarshal(data, &got); err != nil {
			return nil, err
		}
		if len(got.Status.Certificate) > 0 {
			keyDER, err := x509.MarshalECPrivateKey(key)
			if err != nil {
				return nil, err
			}
			c, err := tls.X509KeyPair(got.Status.Certificate, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}))
			return &c, err
		}
		time.Sleep(20 * time.Millisecond)
	}
	return nil, errors.New("the approved CSR was not signed")
}

func cmPath(name string) string {
	if name == "" {
		return "/api/v1/namespaces/" + ns + "/configmaps"
	}
	return "/api/v1/namespaces/" + ns + "/configmaps/" + name
}

func configMap(name, v string) string {
	return `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"` + name + `"},"data":{"v":"` + v + `"}}`
}

// result is what the load measured.
type result struct {
	elapsed     time.Duration
	latencies   map[string][]time.Duration // by verb
	byStatus    map[string]map[string]int64
	total       int64
	watchEvents atomic.Int64
	watchErrors atomic.Int64
}

type sample struct {
	verb, who, status string
	d                 time.Duration
}

func load(ctx context.Context, o options, ids []*identity) *result {
	res := &result{latencies: map[string][]time.Duration{}, byStatus: map[string]map[string]int64{}}
	ctx, cancel := context.WithTimeout(ctx, o.duration)
	defer cancel()
	wctx, wcancel := context.WithCancel(context.Background())
	var wwg sync.WaitGroup
	for i := range o.watches {
		id := ids[i%(len(ids)-1)]
		wwg.Go(func() { watchOne(wctx, id, res) })
	}
	var count atomic.Int64
	samples := make([][]sample, o.workers)
	start := time.Now()
	var wg sync.WaitGroup
	for w := range o.workers {
		wg.Go(func() {
			id := ids[w%len(ids)]
			if w%len(ids) == len(ids)-1 && len(ids) > 1 {
				id = ids[w%(len(ids)-1)] // the admin only watches; load identities do the work
			}
			for i := 0; ctx.Err() == nil; i++ {
				if o.requests > 0 && count.Add(1) > o.requests {
					return
				}
				samples[w] = append(samples[w], oneRequest(ctx, id, w, i))
			}
		})
	}
	wg.Wait()
	res.elapsed = time.Since(start)
	wcancel()
	wwg.Wait()
	for _, ss := range samples {
		for _, s := range ss {
			if s.status == "canceled" {
				continue
			}
			res.total++
			res.latencies[s.verb] = append(res.latencies[s.verb], s.d)
			res.latencies["all"] = append(res.latencies["all"], s.d)
			if res.byStatus[s.who] == nil {
				res.byStatus[s.who] = map[string]int64{}
			}
			res.byStatus[s.who][s.status]++
		}
	}
	return res
}

// oneRequest sends the i-th request of worker w: 60% get, 20% list
// (limit 50), then create, update and delete of the worker's own object.
func oneRequest(ctx context.Context, id *identity, w, i int) sample {
	own := fmt.Sprintf("w%03d", w)
	var verb, method, path, body string
	switch k := i % 20; {
	case k < 12:
		verb, method, path = "get", "GET", cmPath(fmt.Sprintf("seed-%04d", (w*7+i)%50))
	case k < 16:
		verb, method, path = "list", "GET", cmPath("")+"?limit=50"
	case k < 17:
		verb, method, path, body = "create", "POST", cmPath(""), configMap(own, "0")
	case k < 19:
		verb, method, path, body = "update", "PUT", cmPath(own), configMap(own, strconv.Itoa(i))
	default:
		verb, method, path = "delete", "DELETE", cmPath(own)
	}
	ct := ""
	if body != "" {
		ct = "application/json"
	}
	start := time.Now()
	resp, err := id.do(ctx, method, path, ct, body)
	if err != nil {
		if ctx.Err() != nil {
			return sample{status: "canceled"}
		}
		return sample{verb: verb, who: id.name, status: "transport error", d: time.Since(start)}
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return sample{verb: verb, who: id.name, status: strconv.Itoa(resp.StatusCode), d: time.Since(start)}
}

// watchOne watches the load namespace's ConfigMaps from "now" and checks
// that resourceVersions only grow.
func watchOne(ctx context.Context, id *identity, res *result) {
	resp, err := id.do(ctx, "GET", cmPath("")+"?watch=1&resourceVersion=0&allowWatchBookmarks=true", "", "")
	if err != nil {
		if ctx.Err() == nil {
			res.watchErrors.Add(1)
		}
		return
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		res.watchErrors.Add(1)
		return
	}
	dec := json.NewDecoder(resp.Body)
	var last uint64
	initial := true
	for {
		var ev struct {
			Type   string `json:"type"`
			Object struct {
				Metadata struct {
					ResourceVersion string `json:"resourceVersion"`
				} `json:"metadata"`
			} `json:"object"`
		}
		if err := dec.Decode(&ev); err != nil {
			if ctx.Err() == nil {
				res.watchErrors.Add(1)
			}
			return
		}
		rv, _ := strconv.ParseUint(ev.Object.Metadata.ResourceVersion, 10, 64)
		if ev.Type != "ADDED" {
			initial = false
		}
		// Initial ADDED events all carry the list's resourceVersion order
		// of keys, not of versions; order is checked from the first change.
		if !initial && ev.Type != "BOOKMARK" && rv < last {
			res.watchErrors.Add(1)
			return
		}
		if !initial {
			last = max(last, rv)
		}
		res.watchEvents.Add(1)
	}
}

type latency struct {
	Count int64   `json:"count"`
	P50ms float64 `json:"p50ms"`
	P90ms float64 `json:"p90ms"`
	P99ms float64 `json:"p99ms"`
	MaxMs float64 `json:"maxMs"`
}

type report struct {
	Mode          string                      `json:"mode"`
	ServeArgs     []string                    `json:"serveArgs,omitempty"`
	Workers       int                         `json:"workers"`
	Watches       int                         `json:"watches"`
	Seconds       float64                     `json:"seconds"`
	Requests      int64                       `json:"requests"`
	PerSecond     float64                     `json:"requestsPerSecond"`
	Latency       map[string]latency          `json:"latency"`
	ByStatus      map[string]map[string]int64 `json:"byIdentityAndStatus"`
	WatchEvents   int64                       `json:"watchEvents"`
	WatchFailures int64                       `json:"watchFailures"`
	Before        observation                 `json:"before"`
	After         observation                 `json:"after"`
}

func (r *report) fill(res *result) {
	r.Seconds = res.elapsed.Seconds()
	r.Requests = res.total
	r.PerSecond = float64(res.total) / res.elapsed.Seconds()
	r.ByStatus = res.byStatus
	r.WatchEvents = res.watchEvents.Load()
	r.WatchFailures = res.watchErrors.Load()
	r.Latency = map[string]latency{}
	for verb, ds := range res.latencies {
		slices.Sort(ds)
		q := func(p float64) float64 { return float64(ds[int(p*float64(len(ds)-1))]) / 1e6 }
		r.Latency[verb] = latency{Count: int64(len(ds)), P50ms: q(.5), P90ms: q(.9), P99ms: q(.99), MaxMs: q(1)}
	}
}

func (r *report) print(w io.Writer) {
	var b bytes.Buffer
	fmt.Fprintf(&b, "server: %s %s\n", r.Mode, strings.Join(r.ServeArgs, " "))
	fmt.Fprintf(&b, "load: %d workers, %d watches, %.1fs: %d requests, %.0f req/s\n", r.Workers, r.Watches, r.Seconds, r.Requests, r.PerSecond)
	fmt.Fprintf(&b, "%-8s %8s %9s %9s %9s %9s\n", "VERB", "COUNT", "P50(ms)", "P90(ms)", "P99(ms)", "MAX(ms)")
	for _, verb := range []string{"get", "list", "create", "update", "delete", "all"} {
		if l, ok := r.Latency[verb]; ok {
			fmt.Fprintf(&b, "%-8s %8d %9.2f %9.2f %9.2f %9.2f\n", verb, l.Count, l.P50ms, l.P90ms, l.P99ms, l.MaxMs)
		}
	}
	fmt.Fprintln(&b, "answers by identity and status:")
	for _, who := range sortedKeys(r.ByStatus) {
		var parts []string
		for _, st := range sortedKeys(r.ByStatus[who]) {
			parts = append(parts, fmt.Sprintf("%s=%d", st, r.ByStatus[who][st]))
		}
		fmt.Fprintf(&b, "  %-42s %s\n", who, strings.Join(parts, " "))
	}
	fmt.Fprintf(&b, "watch events received: %d; watches failed or out of order: %d\n", r.WatchEvents, r.WatchFailures)
	g := func(n int64) string {
		if n < 0 {
			return "n/a (no /debug/pprof: --profiling=false?)"
		}
		return strconv.FormatInt(n, 10)
	}
	heap := func(kib int64) string {
		if kib < 0 {
			return "n/a"
		}
		return fmt.Sprintf("%.1f MiB", float64(kib)/1024)
	}
	fmt.Fprintf(&b, "server before: RSS %.1f MiB, heap in use %s, %d threads, goroutines %s\n", float64(r.Before.RSSKiB)/1024, heap(r.Before.HeapInUseKiB), r.Before.Threads, g(r.Before.Goroutines))
	fmt.Fprintf(&b, "server after:  RSS %.1f MiB, heap in use %s, %d threads, goroutines %s\n", float64(r.After.RSSKiB)/1024, heap(r.After.HeapInUseKiB), r.After.Threads, g(r.After.Goroutines))
	_, _ = w.Write(b.Bytes())
}

func sortedKeys[V any](m map[string]V) []string {
	return slices.Sorted(maps.Keys(m))
}
