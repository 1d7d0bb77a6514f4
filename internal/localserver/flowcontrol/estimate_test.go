package flowcontrol

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/endpoints/request"
	apistorage "k8s.io/apiserver/pkg/storage"
	utilflowcontrol "k8s.io/apiserver/pkg/util/flowcontrol"
)

// fakeCounter is the storage's object counts.
type fakeCounter map[string]apistorage.Stats

func (f fakeCounter) ObjectStats(context.Context) (map[string]apistorage.Stats, error) { return f, nil }

// estimateController has 600 seats (roomy's nominal limit 353, so at
// most 53 seats a request; queued's 36, at most 6) and knows 1000
// configmaps of 1000 bytes.
func estimateController(t *testing.T, opts Options) *Controller {
	t.Helper()
	opts.ServerConcurrencyLimit, opts.RequestWaitLimit = 600, time.Hour
	opts.Objects = fakeCounter{"configmaps": {ObjectCount: 1000, EstimatedAverageObjectSizeBytes: 1000}, "secrets": {ObjectCount: 0}}
	c, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	fss, pls := testConfig()
	if err := c.SetConfig(fss, pls); err != nil {
		t.Fatal(err)
	}
	if err := c.RefreshObjectCounts(context.Background()); err != nil {
		t.Fatal(err)
	}
	return c
}

// newRequest is verb on /api/v1/namespaces/default/RESOURCE[/NAME]?QUERY
// as u, with its request info.
func newRequest(u user.Info, verb, resource, name, query string) *http.Request {
	path := "/api/v1/namespaces/default/" + resource
	if name != "" {
		path += "/" + name
	}
	method := map[string]string{"create": http.MethodPost, "update": http.MethodPut, "delete": http.MethodDelete}[verb]
	if method == "" {
		method = http.MethodGet
	}
	r := httptest.NewRequest(method, path+"?"+query, nil)
	ctx := request.WithUser(r.Context(), u)
	ctx = request.WithRequestInfo(ctx, &request.RequestInfo{IsResourceRequest: true, Path: path, Verb: verb, APIVersion: "v1",
		Namespace: "default", Resource: resource, Name: name})
	return r.WithContext(ctx)
}

// dumpRowOf returns the dump_requests row of the one request of level,
// padding squashed.
func dumpRowOf(t *testing.T, c *Controller, level string) string {
	t.Helper()
	for _, l := range strings.Split(squash(dumpString(c, PathDumpRequests)), "\n") {
		if strings.HasPrefix(l, level+", ") {
			return l
		}
	}
	t.Fatalf("dump_requests has no row for %s", level)
	return ""
}

// seatsInUse sums the SeatsInUse column of dump_queues for level.
func seatsInUse(t *testing.T, c *Controller, level string) int {
	t.Helper()
	n := 0
	c.mu.RLock()
	l := c.levels[level]
	c.mu.RUnlock()
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, q := range l.qs.QueueStates() {
		n += q.SeatsInUse
	}
	return n
}

func TestListSeatsFollowStoredObjects(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, user, resource, objName, query string
		wantLevel                            string
		wantSeats                            int
	}{
		// 1000 objects × 1000 bytes read from storage, 100 kB a seat.
		{name: "whole list", user: "bob", resource: "configmaps", wantLevel: "roomy", wantSeats: 10},
		{name: "a page", user: "bob", resource: "configmaps", query: "limit=500", wantLevel: "roomy", wantSeats: 5},
		{name: "from the cache", user: "bob", resource: "configmaps", query: "resourceVersion=0", wantLevel: "roomy", wantSeats: 10},
		{name: "one object", user: "bob", resource: "configmaps", objName: "x", wantLevel: "roomy", wantSeats: 1},
		{name: "nothing stored", user: "bob", resource: "secrets", wantLevel: "roomy", wantSeats: 1},
		{name: "uncounted resource", user: "bob", resource: "pods", wantLevel: "roomy", wantSeats: 1},
		// queued: nominal 36, hand size 1, so at most ceil(0.15 × 36) = 6.
		{name: "capped by the level", user: "carol", resource: "configmaps", wantLevel: "queued", wantSeats: 6},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := estimateController(t, Options{})
			g := newGate()
			h := c.WithPriorityAndFairness(g)
			u := &user.DefaultInfo{Name: tt.user, Groups: []string{user.AllAuthenticated}}
			done := make(chan int)
			go func() {
				w := httptest.NewRecorder()
				h.ServeHTTP(w, newRequest(u, "list", tt.resource, tt.objName, tt.query))
				done <- w.Code
			}()
			<-g.entered
			got := dumpRowOf(t, c, tt.wantLevel)
			if want := ", " + itoa(tt.wantSeats) + ", 0, 0s, "; !contains(got, want) {
				t.Errorf("dump_requests row %q lacks initial seats, final seats and latency %q", got, want)
			}
			if n := seatsInUse(t, c, tt.wantLevel); n != tt.wantSeats {
				t.Errorf("seats in use = %d, want %d", n, tt.wantSeats)
			}
			g.releaseAll()
			if code := <-done; code != http.StatusOK {
				t.Errorf("status %d", code)
			}
			if n := seatsInUse(t, c, tt.wantLevel); n != 0 {
				t.Errorf("seats in use after the list = %d, want 0", n)
			}
		})
	}
}

// TestWatchHoldsSeatsWhileItInitialises: a watch from resourceVersion ""
// costs what its initial list costs, until it starts its response or the
// storage signals that it has initialised.
func TestWatchHoldsSeatsWhileItInitialises(t *testing.T) {
	t.Parallel()
	for _, how := range []string{"response", "signal"} {
		t.Run(how, func(t *testing.T) {
			t.Parallel()
			c := estimateController(t, Options{})
			started, initialise, end := make(chan struct{}), make(chan struct{}), make(chan struct{})
			initialised := make(chan struct{})
			h := c.WithPriorityAndFairness(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				close(started)
				<-initialise
				if how == "signal" {
					utilflowcontrol.WatchInitialized(r.Context())
				} else {
					w.WriteHeader(http.StatusOK)
				}
				close(initialised)
				<-end
			}))
			done := make(chan struct{})
			go func() {
				h.ServeHTTP(httptest.NewRecorder(), newRequest(bob, "watch", "configmaps", "", "watch=true"))
				close(done)
			}()
			<-started
			if n := seatsInUse(t, c, "roomy"); n != 10 {
				t.Errorf("seats while the watch initialises = %d, want 10", n)
			}
			if got := dumpRowOf(t, c, "roomy"); !contains(got, ", 10, 0, 0s, ") {
				t.Errorf("dump_requests row %q, want 10 initial seats", got)
			}
			close(initialise)
			<-initialised
			if n := seatsInUse(t, c, "roomy"); n != 0 {
				t.Errorf("seats once the watch has initialised = %d, want 0", n)
			}
			close(end)
			<-done
		})
	}
}

// TestMutatingRequestLingersForWatchers: with 25 watches on configmaps, a
// create takes 1 seat, then keeps ceil(25/10) = 3 seats for 5 ms after
// it finishes (kube-apiserver's mutating work estimator).
func TestMutatingRequestLingersForWatchers(t *testing.T) {
	t.Parallel()
	type later struct {
		d time.Duration
		f func()
	}
	scheduled := make(chan later, 1)
	c := estimateController(t, Options{AfterFunc: func(d time.Duration, f func()) { scheduled <- later{d, f} }})
	end := make(chan struct{})
	watching := make(chan struct{}, 25)
	creating, created := make(chan struct{}), make(chan struct{})
	h := c.WithPriorityAndFairness(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		info, _ := request.RequestInfoFrom(r.Context())
		if info.Verb == "watch" {
			w.WriteHeader(http.StatusOK)
			watching <- struct{}{}
			<-end
			return
		}
		close(creating)
		<-created
	}))
	var wg sync.WaitGroup
	for range 25 {
		wg.Go(func() {
			h.ServeHTTP(httptest.NewRecorder(), newRequest(bob, "watch", "configmaps", "", "watch=true&resourceVersion=5"))
		})
		<-watching
	}
	wg.Go(func() { h.ServeHTTP(httptest.NewRecorder(), newRequest(bob, "create", "configmaps", "", "")) })
	<-creating
	if got := dumpRowOf(t, c, "roomy"); !contains(got, ", 1, 3, 5ms, ") {
		t.Errorf("dump_requests row %q, want 1 initial seat, 3 final seats, 5ms", got)
	}
	close(created)
	end1 := <-scheduled
	if end1.d != 5*time.Millisecond {
		t.Errorf("additional latency %s, want 5ms", end1.d)
	}
	levels := squash(dumpString(c, PathDumpPriorityLevels))
	if !contains(levels, "roomy, 0, true, false, 0, 0, 26, 0, 0, 0\n") {
		t.Errorf("dump_priority_levels while the create lingers:\n%s", levels)
	}
	if n := seatsInUse(t, c, "roomy"); n != 3 {
		t.Errorf("seats while the create lingers = %d, want 3", n)
	}
	queues := squash(dumpString(c, PathDumpQueues))
	lingering := 0
	for _, l := range strings.Split(queues, "\n") {
		if f := strings.Split(l, ", "); len(f) > 4 && f[0] == "roomy" && f[4] == "3" {
			if f[3] != "0" {
				t.Errorf("dump_queues counts the lingering create as executing: %s", l)
			}
			lingering++
		}
	}
	if lingering != 1 {
		t.Errorf("dump_queues has %d roomy queues with 3 seats in use, want 1:\n%s", lingering, queues)
	}
	end1.f()
	if n := seatsInUse(t, c, "roomy"); n != 0 {
		t.Errorf("seats after the additional latency = %d, want 0", n)
	}
	close(end)
	wg.Wait()
}
