package reliability_test

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// serverGoroutines reads the server's goroutine count from its
// /debug/pprof/goroutine?debug=1 (as the admin).
func serverGoroutines(t *testing.T, admin *client) int {
	t.Helper()
	return profileTotal(t, string(admin.must(t, http.StatusOK, http.MethodGet, "/debug/pprof/goroutine?debug=1", "")))
}

// serverHeapInUse reads HeapInuse from the server's
// /debug/pprof/heap?debug=1&gc=1 (after a garbage collection).
func serverHeapInUse(t *testing.T, admin *client) uint64 {
	t.Helper()
	return heapProfileStats(string(admin.must(t, http.StatusOK, http.MethodGet, "/debug/pprof/heap?debug=1&gc=1", "")))["HeapInuse"]
}

// settledServerGoroutines polls the server's goroutine count until it is
// the same 10 times in a row (connection goroutines end asynchronously)
// and returns it, at most 500 polls.
func settledServerGoroutines(t *testing.T, admin *client) int {
	t.Helper()
	n, same := serverGoroutines(t, admin), 0
	for i := 0; i < 500 && same < 10; i++ {
		time.Sleep(20 * time.Millisecond) // polling for a quiet count
		if m := serverGoroutines(t, admin); m == n {
			same++
		} else {
			n, same = m, 0
		}
	}
	return n
}

// TestAPFOverloadAnswers429 overloads "kauth serve" (a child process, API
// Priority and Fairness on, as by default) from one user whose FlowSchema
// sends it to a priority level of its own (1 nominal share, no lending or
// borrowing, limitResponse Reject), created through the API as a cluster
// admin would. Once that level's seats are taken (stalled LISTs whose
// answers the client never reads, added until the next one is refused),
// every further request of that user, from 16 concurrent workers, is
// answered 429 with Retry-After at once, while a light flow of another
// token user (classified by the default FlowSchemas) keeps being served,
// as does the admin (exempt). After the stalls are released the heavy
// user is served again, the server's heap (HeapInuse after a GC, from
// /debug/pprof/heap) is within 64 MiB of where it was, and its goroutine
// count (/debug/pprof/goroutine) returns to the idle baseline. Only what a
// client sees is checked: statuses, headers, the profiles.
func TestAPFOverloadAnswers429(t *testing.T) {
	t.Parallel()
	tokens := writeTokens(t, `apf-heavy-token-31415926,heavy,6001,"heavy"`, `apf-light-token-27182818,light,6002,"light"`)
	srv := startChild(t, "--token-auth-file", tokens)
	admin := srv.client(t)
	anon := anonymousClient(t, srv)
	heavy := &client{base: srv.url, token: "apf-heavy-token-31415926", hc: anon.hc, tr: anon.tr}
	light := &client{base: srv.url, token: "apf-light-token-27182818", hc: anon.hc, tr: anon.tr}
	// heavy's requests stream on their own HTTP/2 connection, so that
	// their stalled streams cannot hold up the others' flow control.
	heavyOwn := anonymousClient(t, srv)
	heavyOwn.token = heavy.token

	for _, g := range []string{"heavy", "light"} {
		admin.must(t, http.StatusCreated, http.MethodPost, "/apis/rbac.authorization.k8s.io/v1/namespaces/default/rolebindings",
			`{"metadata":{"name":"edit-`+g+`"},"subjects":[{"kind":"Group","name":"`+g+`","apiGroup":"rbac.authorization.k8s.io"}],"roleRef":{"kind":"ClusterRole","name":"edit","apiGroup":"rbac.authorization.k8s.io"}}`)
	}
	admin.must(t, http.StatusCreated, http.MethodPost, "/apis/flowcontrol.apiserver.k8s.io/v1/prioritylevelconfigurations",
		`{"metadata":{"name":"heavy"},"spec":{"type":"Limited","limited":{"nominalConcurrencyShares":1,"lendablePercent":0,"borrowingLimitPercent":0,"limitResponse":{"type":"Reject"}}}}`)
	fsBody := admin.must(t, http.StatusCreated, http.MethodPost, "/apis/flowcontrol.apiserver.k8s.io/v1/flowschemas",
		`{"metadata":{"name":"heavy"},"spec":{"priorityLevelConfiguration":{"name":"heavy"},"matchingPrecedence":500,"distinguisherMethod":{"type":"ByUser"},
"rules":[{"subjects":[{"kind":"User","user":{"name":"heavy"}}],"resourceRules":[{"verbs":["*"],"apiGroups":["*"],"resources":["*"],"namespaces":["*"]}]}]}}`)
	var fs struct {
		Metadata struct {
			UID string `json:"uid"`
		} `json:"metadata"`
	}
	must(t, json.Unmarshal(fsBody, &fs))
	// Seven ConfigMaps of 900 KiB: a 6 MiB LIST, over the client's 4 MiB
	// HTTP/2 stream window, so a LIST that is not read blocks its handler.
	for i := range 7 {
		raw := make([]byte, 675<<10)
		_, _ = rand.Read(raw)
		admin.must(t, http.StatusCreated, http.MethodPost, cmPath(""), configMap(fmt.Sprintf("big-%02d", i), map[string]string{"v": base64.StdEncoding.EncodeToString(raw)}))
	}
	admin.must(t, http.StatusCreated, http.MethodPost, cmPath(""), configMap("light", nil))
	// The server applies RBAC and the FlowSchema asynchronously: wait
	// until heavy's GET is allowed and classified by its schema.
	for i := 0; ; i++ {
		resp, err := heavy.request(context.Background(), http.MethodGet, cmPath("light"), "")
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK && resp.Header.Get("X-Kubernetes-PF-FlowSchema-UID") == fs.Metadata.UID {
			break
		}
		if i == 2000 {
			t.Fatalf("heavy's GET: HTTP %d, FlowSchema UID %q; never 200 through FlowSchema %s", resp.StatusCode, resp.Header.Get("X-Kubernetes-PF-FlowSchema-UID"), fs.Metadata.UID)
		}
	}
	light.must(t, http.StatusOK, http.MethodGet, cmPath("light"), "")
	admin.closeIdle()
	anon.closeIdle()
	heapBefore := serverHeapInUse(t, admin)
	base := settledServerGoroutines(t, admin)

	// Take every seat of heavy's level: stalled LISTs until one is refused.
	st := &stall{}
	seats := 0
	for ; ; seats++ {
		if seats == 64 {
			t.Fatal("64 stalled LISTs and heavy's level still takes more")
		}
		ctx, cancel := context.WithCancel(context.Background())
		st.cancels = append(st.cancels, cancel)
		resp, err := heavyOwn.request(ctx, http.MethodGet, cmPath(""), "", "Accept-Encoding", "identity")
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode == http.StatusTooManyRequests {
			resp.Body.Close()
			break
		}
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("stalled LIST: HTTP %d", resp.StatusCode)
		}
		st.resps = append(st.resps, resp)
	}
	released := false
	t.Cleanup(func() {
		if !released {
			st.release()
		}
	})

	// The long run stays well inside the 60 s request timeout that would
	// end the stalled LISTs and free their seats.
	workers, perWorker := 16, pick(50, 500)
	var heavyCodes [600]atomic.Int64
	var noRetryAfter atomic.Int64
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range perWorker {
				method, path, body := http.MethodGet, cmPath("light"), ""
				if (w+i)%4 == 0 {
					method, path, body = http.MethodPost, cmPath(""), configMap(fmt.Sprintf("h-%d-%d", w, i), nil)
				}
				resp, err := heavy.request(context.Background(), method, path, body)
				if err != nil {
					heavyCodes[599].Add(1)
					continue
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode == http.StatusTooManyRequests && resp.Header.Get("Retry-After") == "" {
					noRetryAfter.Add(1)
				}
				heavyCodes[resp.StatusCode].Add(1)
			}
		})
	}
	lightPairs := pick(100, 1000)
	var lightFailed atomic.Int64
	var lightLat []time.Duration
	wg.Go(func() {
		for i := range lightPairs {
			start := time.Now()
			for _, c := range []*client{light, admin} {
				if code, body := c.do(t, http.MethodPut, cmPath("light"), configMap("light", map[string]string{"i": fmt.Sprint(i)})); code != http.StatusOK {
					lightFailed.Add(1)
					t.Errorf("light PUT %d: HTTP %d: %.300s", i, code, body)
				}
				if code, _ := c.do(t, http.MethodGet, cmPath("light"), ""); code != http.StatusOK {
					lightFailed.Add(1)
					t.Errorf("light GET %d: HTTP %d", i, code)
				}
			}
			lightLat = append(lightLat, time.Since(start))
		}
	})
	wg.Wait()
	total := int64(workers * perWorker)
	if got := heavyCodes[http.StatusTooManyRequests].Load(); got != total {
		t.Errorf("heavy user: %d of %d requests answered 429 (all answers: %v)", got, total, codes(&heavyCodes))
	}
	if n := noRetryAfter.Load(); n != 0 {
		t.Errorf("%d answers 429 without Retry-After", n)
	}
	slices.Sort(lightLat)

	st.release()
	released = true
	untilStatus(t, heavy, http.StatusOK, http.MethodGet, cmPath("big-00"), "")
	untilStatus(t, heavy, http.StatusCreated, http.MethodPost, cmPath(""), configMap("after", nil))
	heapAfter := serverHeapInUse(t, admin)
	if heapAfter > heapBefore+64<<20 {
		t.Errorf("server heap in use %d MiB after the load, %d MiB before: more than 64 MiB kept", heapAfter>>20, heapBefore>>20)
	}
	// As for the baseline, the admin's one connection stays open (it asks
	// for the profile) and the others are closed.
	heavy.closeIdle()
	heavyOwn.closeIdle()
	n := serverGoroutines(t, admin)
	for i := 0; i < 1000 && n > base; i++ {
		time.Sleep(20 * time.Millisecond) // polling, not synchronisation: the assertion is on the count
		n = serverGoroutines(t, admin)
	}
	if n > base {
		t.Errorf("server goroutines: %d after the load, %d before it (idle baseline)\n%.4000s", n, base,
			admin.must(t, http.StatusOK, http.MethodGet, "/debug/pprof/goroutine?debug=1", ""))
	}
	t.Logf("APF overload: %d stalled LISTs fill heavy's level; %d heavy requests from %d workers all 429 with Retry-After; %d light PUT+GET pairs of light and the admin, %d failed, p50 %s, p99 %s, max %s; server heap in use %d MiB before, %d MiB after; goroutines %d before, %d after",
		seats, total, workers, lightPairs, lightFailed.Load(), lightLat[len(lightLat)/2].Round(time.Microsecond), lightLat[len(lightLat)*99/100].Round(time.Microsecond), lightLat[len(lightLat)-1].Round(time.Microsecond),
		heapBefore>>20, heapAfter>>20, base, n)
}
