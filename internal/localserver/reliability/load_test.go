package reliability_test

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"runtime"
	"runtime/pprof"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kauth/kauth/internal/localserver"
)

// settledGoroutines polls runtime.NumGoroutine until it has not changed
// for 20 polls (connection goroutines end asynchronously after
// CloseIdleConnections) and returns it: the idle baseline.
func settledGoroutines() int {
	n, same := runtime.NumGoroutine(), 0
	for i := 0; i < 2000 && same < 20; i++ {
		time.Sleep(10 * time.Millisecond) // polling for a quiet count
		if m := runtime.NumGoroutine(); m == n {
			same++
		} else {
			n, same = m, 0
		}
	}
	return n
}

// withoutAPF turns API Priority and Fairness off when the server has it
// (Config.EnablePriorityAndFairness, being added to kauth serve while
// this test was written); through reflection so that the test builds with
// and without the field.
func withoutAPF(c *localserver.Config) {
	if f := reflect.ValueOf(c).Elem().FieldByName("EnablePriorityAndFairness"); f.IsValid() && f.Kind() == reflect.Bool {
		f.SetBool(false)
	}
}

// waitGoroutines polls runtime.NumGoroutine until it is at most want, for
// up to 20 s, and returns the last count.
func waitGoroutines(want int) int {
	deadline := time.Now().Add(20 * time.Second)
	n := runtime.NumGoroutine()
	for n > want && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond) // polling, not synchronisation: the assertion is on the count
		n = runtime.NumGoroutine()
	}
	return n
}

func heapInUse() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse
}

// stall holds in-flight slots of the server: each stalled LIST writes a
// response larger than the HTTP/2 stream window and is never read, so its
// handler blocks in Write and keeps its read-only slot; each stalled POST
// sends a body that never ends, so its handler blocks reading it and keeps
// its mutating slot. release lets them all end.
type stall struct {
	resps   []*http.Response
	pipes   []*io.PipeWriter
	cancels []context.CancelFunc
	done    sync.WaitGroup
}

func (s *stall) release() {
	for _, p := range s.pipes {
		_ = p.CloseWithError(io.ErrUnexpectedEOF)
	}
	for _, r := range s.resps {
		r.Body.Close()
	}
	for _, c := range s.cancels {
		c()
	}
	s.done.Wait()
}

func stallReads(t *testing.T, c *client, st *stall, n int) {
	t.Helper()
	for range n {
		ctx, cancel := context.WithCancel(context.Background())
		st.cancels = append(st.cancels, cancel)
		resp, err := c.request(ctx, http.MethodGet, cmPath(""), "", "Accept-Encoding", "identity")
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("stalled LIST: HTTP %d", resp.StatusCode)
		}
		st.resps = append(st.resps, resp)
	}
}

func stallWrites(t *testing.T, c *client, st *stall, n int) {
	t.Helper()
	for range n {
		pr, pw := io.Pipe()
		st.pipes = append(st.pipes, pw)
		req, err := http.NewRequest(http.MethodPost, c.base+cmPath(""), pr)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+c.token)
		st.done.Go(func() {
			resp, err := c.hc.Do(req)
			if err == nil {
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		})
		if _, err := pw.Write([]byte(`{"apiVersion":"v1","kind":"ConfigMap","metadata":{"generateName":"stalled-"},"data":{"k":"`)); err != nil {
			t.Fatal(err)
		}
	}
}

// untilStatus repeats a request until it answers want (the stalled
// requests reach their slots asynchronously), at most 2000 times.
func untilStatus(t *testing.T, c *client, want int, method, path, body string) {
	t.Helper()
	var got int
	for range 2000 {
		resp, err := c.request(context.Background(), method, path, body)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if got = resp.StatusCode; got == want {
			return
		}
	}
	t.Fatalf("%s %s: last HTTP %d, never %d", method, path, got, want)
}

// TestOverloadAnswers429 overloads the server from one identity while its
// read-only and mutating in-flight slots are all taken: every request of
// that identity is answered 429 with Retry-After at once (not queued),
// while a light flow of system:masters requests keeps succeeding (the
// max-in-flight filter's exemption, as in kube-apiserver); watches, being
// long-running, still open. Once the load ends, the same identity is
// served again, the heap is back within bounds and the goroutine count
// returns to its baseline.
//
// This is the max-in-flight filter (kube-apiserver with
// --enable-priority-and-fairness=false): --max-requests-inflight and
// --max-mutating-requests-inflight.
func TestOverloadAnswers429(t *testing.T) {
	const reads, writes = 2, 1
	base := runtime.NumGoroutine()
	s := startServer(t, func(c *localserver.Config) {
		withoutAPF(c)
		c.MaxRequestsInFlight, c.MaxMutatingRequestsInFlight = reads, writes
		c.TokenAuthFile = writeTokens(t, `heavy-token-0123456789,heavy,1001,"heavy"`)
	})
	admin := newClient(t, s, "admin")
	heavy := newClient(t, s, "heavy-token-0123456789")
	grantConfigMaps(t, s, admin, "heavy")
	// 16 ConfigMaps of 900 KiB: a 14 MiB LIST, well over the 4 MiB HTTP/2
	// stream window of the client.
	// The data is random so that response compression cannot shrink it.
	for i := range 16 {
		raw := make([]byte, 675<<10)
		_, _ = rand.Read(raw)
		admin.must(t, http.StatusCreated, http.MethodPost, cmPath(""), configMap(fmt.Sprintf("big-%02d", i), map[string]string{"v": base64.StdEncoding.EncodeToString(raw)}))
	}
	admin.must(t, http.StatusCreated, http.MethodPost, cmPath(""), configMap("light", nil))
	heavy.must(t, http.StatusOK, http.MethodGet, cmPath("light"), "")
	heapBefore := heapInUse()
	admin.closeIdle()
	heavy.closeIdle()
	serverBase := settledGoroutines()

	st := &stall{}
	stallReads(t, heavy, st, reads)
	stallWrites(t, heavy, st, writes)
	untilStatus(t, heavy, http.StatusTooManyRequests, http.MethodGet, cmPath("big-00"), "")
	untilStatus(t, heavy, http.StatusTooManyRequests, http.MethodPost, cmPath(""), "{}")

	workers, perWorker := pick(16, 64), pick(50, 2000)
	var heavyCodes [600]atomic.Int64
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range perWorker {
				method, body := http.MethodGet, ""
				if (w+i)%4 == 0 {
					method, body = http.MethodPost, configMap(fmt.Sprintf("h-%d-%d", w, i), nil)
				}
				resp, err := heavy.request(context.Background(), method, cmPath("big-01"), body)
				if method == http.MethodPost {
					resp, err = heavy.request(context.Background(), method, cmPath(""), body)
				}
				if err != nil {
					heavyCodes[599].Add(1)
					continue
				}
				if resp.StatusCode == http.StatusTooManyRequests && resp.Header.Get("Retry-After") == "" {
					t.Errorf("429 without Retry-After")
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				heavyCodes[resp.StatusCode].Add(1)
			}
		})
	}
	light := pick(100, 2000)
	var lightFailed atomic.Int64
	var slowest atomic.Int64
	wg.Go(func() {
		for i := range light {
			start := time.Now()
			code, body := admin.do(t, http.MethodPut, cmPath("light"), configMap("light", map[string]string{"i": fmt.Sprint(i)}))
			if code != http.StatusOK && code != http.StatusCreated {
				lightFailed.Add(1)
				t.Errorf("light PUT %d: HTTP %d: %s", i, code, body)
			}
			if code, _ := admin.do(t, http.MethodGet, cmPath("light"), ""); code != http.StatusOK {
				lightFailed.Add(1)
				t.Errorf("light GET %d: HTTP %d", i, code)
			}
			if d := int64(time.Since(start)); d > slowest.Load() {
				slowest.Store(d)
			}
		}
	})
	// A watch of the overloaded identity still opens: watches are
	// long-running and take no in-flight slot.
	wctx, wcancel := context.WithCancel(context.Background())
	wresp, err := heavy.request(wctx, http.MethodGet, cmPath("")+"?watch=1&resourceVersion="+fmt.Sprint(s.Store().ResourceVersion()), "")
	if err != nil || wresp.StatusCode != http.StatusOK {
		t.Errorf("watch during overload: %v %v", err, wresp)
	}
	wg.Wait()
	wcancel()
	if wresp != nil {
		wresp.Body.Close()
	}

	total := int64(workers * perWorker)
	if got := heavyCodes[http.StatusTooManyRequests].Load(); got != total {
		t.Errorf("overloaded identity: %d of %d requests answered 429 (other codes: %v)", got, total, codes(&heavyCodes))
	}
	t.Logf("overload: %d heavy requests all 429; %d light PUT+GET pairs as system:masters, %d failed, slowest pair %s",
		total, light, lightFailed.Load(), time.Duration(slowest.Load()).Round(time.Microsecond))

	st.release()
	// The stalled handlers end asynchronously once their streams close.
	untilStatus(t, heavy, http.StatusOK, http.MethodGet, cmPath("big-00"), "")
	untilStatus(t, heavy, http.StatusCreated, http.MethodPost, cmPath(""), configMap("after", nil))

	if after := heapInUse(); after > heapBefore+64<<20 {
		t.Errorf("heap in use %d MiB after the load, %d MiB before: more than 64 MiB kept", after>>20, heapBefore>>20)
	} else {
		t.Logf("heap in use: %d MiB before, %d MiB after", heapBefore>>20, after>>20)
	}
	admin.closeIdle()
	heavy.closeIdle()
	if n := waitGoroutines(serverBase); n > serverBase {
		var stacks strings.Builder
		_ = pprof.Lookup("goroutine").WriteTo(&stacks, 1)
		t.Errorf("goroutines: %d after the load, baseline %d with the server idle (%d before it started):\n%s", n, serverBase, base, stacks.String())
	}
}

func codes(c *[600]atomic.Int64) map[int]int64 {
	m := map[int]int64{}
	for i := range c {
		if v := c[i].Load(); v != 0 {
			m[i] = v
		}
	}
	return m
}
