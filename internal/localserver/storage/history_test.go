package storage

import (
	"context"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/utils/ptr"
)

// newSteppedStore is a memory store whose clock moves 100 seconds on
// every reading, so no two events are within historyFreshness of each
// other and every resource's history stays at minHistory events.
func newSteppedStore(opts ...Option) *store {
	s := newStore(nil, opts...)
	var mu sync.Mutex
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	s.now = func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		now = now.Add(100 * time.Second)
		return now
	}
	return s
}

func createConfigMaps(t *testing.T, s Interface, ns string, n int) {
	t.Helper()
	for i := range n {
		cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "c" + strconv.Itoa(i)}}
		if _, err := s.Create(context.Background(), cmGVR, cm); err != nil {
			t.Fatal(err)
		}
	}
}

func TestHistoryCapacity(t *testing.T) {
	t.Parallel()
	type burst struct {
		events int
		every  time.Duration
	}
	tests := []struct {
		name        string
		bursts      []burst
		wantCap     int
		wantLen     int
		wantEvicted uint64
	}{
		{name: "fewer than the minimum", bursts: []burst{{50, time.Hour}}, wantCap: minHistory, wantLen: 50},
		{name: "slow writes keep the minimum", bursts: []burst{{250, time.Hour}}, wantCap: minHistory, wantLen: minHistory, wantEvicted: 150},
		{name: "a fresh burst doubles", bursts: []burst{{250, time.Millisecond}}, wantCap: 4 * minHistory, wantLen: 250},
		{name: "bounded", bursts: []burst{{maxHistory + 10, time.Millisecond}}, wantCap: maxHistory, wantLen: maxHistory, wantEvicted: 10},
		{
			name:    "shrinks when its newest quarter is stale",
			bursts:  []burst{{400, time.Millisecond}, {1, time.Hour}},
			wantCap: 2 * minHistory, wantLen: 2 * minHistory, wantEvicted: 201,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHistory()
			now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
			rv := uint64(0)
			for _, b := range tc.bursts {
				for range b.events {
					now = now.Add(b.every)
					rv++
					h.add(event{rv: rv, at: now})
				}
			}
			got := []any{len(h.ring), h.len(), h.evicted}
			want := []any{tc.wantCap, tc.wantLen, tc.wantEvicted}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Fatalf("capacity, length, evicted (-want +got):\n%s", diff)
			}
			if evs := h.after(0); len(evs) != tc.wantLen || evs[len(evs)-1].rv != rv || evs[0].rv != tc.wantEvicted+1 {
				t.Fatalf("after(0) holds %d events from %d to %d", len(evs), evs[0].rv, evs[len(evs)-1].rv)
			}
		})
	}
}

// A burst of writes to one resource does not expire watches and exact
// lists of another, as with kube-apiserver's per-resource watch caches.
func TestBurstOnOneResourceKeepsOthers(t *testing.T) {
	t.Parallel()
	s := newSteppedStore()
	ctx := context.Background()
	if _, err := s.Create(ctx, rolesGVR, role("a", "r1")); err != nil {
		t.Fatal(err)
	}
	createConfigMaps(t, s, "a", minHistory+50)
	if _, err := s.Create(ctx, rolesGVR, role("a", "r2")); err != nil {
		t.Fatal(err)
	}

	w, err := s.Watch(ctx, rolesGVR, "", WatchOptions{ResourceVersion: "1"})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	if got := next(t, w); got != (seen{watch.Added, "r2", strconv.Itoa(minHistory + 52)}) {
		t.Fatalf("roles watch from rv 1 after a configmap burst = %v", got)
	}
	exact, err := s.List(ctx, rolesGVR, "", ListOptions{ResourceVersion: 1})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"a/r1"}, names(exact.Items)); diff != "" {
		t.Fatalf("exact roles list at rv 1 (-want +got):\n%s", diff)
	}

	cw, err := s.Watch(ctx, cmGVR, "", WatchOptions{ResourceVersion: "1"})
	if err != nil {
		t.Fatal(err)
	}
	if ev := <-cw.ResultChan(); ev.Type != watch.Error || ev.Object.(*metav1.Status).Code != 410 {
		t.Fatalf("configmaps watch from rv 1 = %v %+v, want ERROR 410", ev.Type, ev.Object)
	}
	_, err = s.List(ctx, cmGVR, "", ListOptions{ResourceVersion: 1})
	want := metav1.Status{Status: metav1.StatusFailure, Code: 410, Reason: metav1.StatusReasonExpired, Message: "The resourceVersion for the provided list is too old."}
	if diff := cmp.Diff(want, status(err)); diff != "" {
		t.Fatalf("exact configmaps list at rv 1 (-want +got):\n%s", diff)
	}
	// The newest configmap events are still there.
	if _, err := s.List(ctx, cmGVR, "", ListOptions{ResourceVersion: minHistory}); err != nil {
		t.Fatalf("exact configmaps list inside the window: %v", err)
	}
}

func status(err error) metav1.Status {
	if st, ok := err.(apierrors.APIStatus); ok {
		return st.Status()
	}
	return metav1.Status{Message: "not a status: " + errString(err)}
}

func errString(err error) string {
	if err == nil {
		return "<nil>"
	}
	return err.Error()
}

func tooLarge(rv, current uint64) metav1.Status {
	return metav1.Status{
		Status: metav1.StatusFailure, Code: 504, Reason: metav1.StatusReasonTimeout,
		Message: "Timeout: Too large resource version: " + strconv.FormatUint(rv, 10) + ", current: " + strconv.FormatUint(current, 10),
		Details: &metav1.StatusDetails{
			Causes:            []metav1.StatusCause{{Type: metav1.CauseTypeResourceVersionTooLarge, Message: "Too large resource version"}},
			RetryAfterSeconds: 1,
		},
	}
}

func TestWaitForResourceVersion(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	t.Run("reached", func(t *testing.T) {
		t.Parallel()
		s := NewMemory(WithFreshTimeout(0))
		createConfigMaps(t, s, "a", 2)
		for _, rv := range []uint64{0, 1, 2} {
			if err := s.WaitForResourceVersion(ctx, rv); err != nil {
				t.Fatalf("rv %d: %v", rv, err)
			}
		}
	})
	t.Run("too large", func(t *testing.T) {
		t.Parallel()
		s := NewMemory(WithFreshTimeout(0))
		createConfigMaps(t, s, "a", 2)
		if diff := cmp.Diff(tooLarge(5, 2), status(s.WaitForResourceVersion(ctx, 5))); diff != "" {
			t.Fatalf("(-want +got):\n%s", diff)
		}
		_, err := s.List(ctx, cmGVR, "", ListOptions{ResourceVersion: 5})
		if diff := cmp.Diff(tooLarge(5, 2), status(err)); diff != "" {
			t.Fatalf("exact list (-want +got):\n%s", diff)
		}
	})
	t.Run("reached while waiting", func(t *testing.T) {
		t.Parallel()
		s := NewMemory(WithFreshTimeout(time.Hour))
		done := make(chan error, 1)
		go func() { done <- s.WaitForResourceVersion(ctx, 3) }()
		createConfigMaps(t, s, "a", 3)
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	})
	t.Run("exact list waits", func(t *testing.T) {
		t.Parallel()
		s := NewMemory(WithFreshTimeout(time.Hour))
		done := make(chan *ListResult, 1)
		go func() {
			res, _ := s.List(ctx, cmGVR, "", ListOptions{ResourceVersion: 2})
			done <- res
		}()
		createConfigMaps(t, s, "a", 3)
		if res := <-done; res == nil || res.ResourceVersion != 2 || len(res.Items) != 2 {
			t.Fatalf("exact list at a version reached while waiting: %+v", res)
		}
	})
	t.Run("closed", func(t *testing.T) {
		t.Parallel()
		s := NewMemory(WithFreshTimeout(time.Hour))
		done := make(chan error, 1)
		go func() { done <- s.WaitForResourceVersion(ctx, 3) }()
		_ = s.Close()
		if err := <-done; !apierrors.IsServiceUnavailable(err) && err != nil {
			t.Fatalf("wait on a closed store: %v", err)
		}
	})
}

func TestWatchStartingPoints(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	t.Run("future version", func(t *testing.T) {
		t.Parallel()
		s := NewMemory()
		createConfigMaps(t, s, "a", 2)
		w, err := s.Watch(ctx, cmGVR, "", WatchOptions{ResourceVersion: "4"})
		if err != nil {
			t.Fatal(err)
		}
		defer w.Stop()
		createConfigMaps(t, s, "b", 3) // rv 3, 4, 5
		if got := nextCM(t, w); got != (seen{watch.Added, "c2", "5"}) {
			t.Fatalf("first event of a watch from rv 4 = %v, want the one at rv 5", got)
		}
	})
	t.Run("sendInitialEvents=false starts now", func(t *testing.T) {
		t.Parallel()
		s := NewMemory()
		createConfigMaps(t, s, "a", 2)
		w, err := s.Watch(ctx, cmGVR, "", WatchOptions{SendInitialEvents: ptr.To(false)})
		if err != nil {
			t.Fatal(err)
		}
		defer w.Stop()
		createConfigMaps(t, s, "b", 1)
		if got := nextCM(t, w); got != (seen{watch.Added, "c0", "3"}) {
			t.Fatalf("first event = %v, want the new object only", got)
		}
	})
	t.Run("watch-list waits for its version", func(t *testing.T) {
		t.Parallel()
		s := NewMemory(WithFreshTimeout(0))
		createConfigMaps(t, s, "a", 2)
		w, err := s.Watch(ctx, cmGVR, "", WatchOptions{ResourceVersion: "9", SendInitialEvents: ptr.To(true), AllowBookmarks: true})
		if err != nil {
			t.Fatal(err)
		}
		ev := <-w.ResultChan()
		st, _ := ev.Object.(*metav1.Status)
		if ev.Type != watch.Error || st == nil {
			t.Fatalf("got %v %+v, want an ERROR event", ev.Type, ev.Object)
		}
		if diff := cmp.Diff(tooLarge(9, 2), *st); diff != "" {
			t.Fatalf("(-want +got):\n%s", diff)
		}
	})
}

func nextCM(t *testing.T, w watch.Interface) seen {
	t.Helper()
	ev, ok := <-w.ResultChan()
	if !ok {
		t.Fatal("watch closed")
	}
	cm, ok := ev.Object.(*corev1.ConfigMap)
	if !ok {
		t.Fatalf("event %v %T", ev.Type, ev.Object)
	}
	return seen{ev.Type, cm.Name, cm.ResourceVersion}
}

// A bookmark carries the store's version once nothing is queued for the
// watcher, so a client of a quiet resource resumes from a recent version.
func TestBookmarkProgress(t *testing.T) {
	t.Parallel()
	s := newStore(nil)
	ctx := context.Background()
	wi, err := s.Watch(ctx, rolesGVR, "", WatchOptions{ResourceVersion: "0", AllowBookmarks: true,
		NewBookmark: func() runtime.Object { return &rbacv1.Role{} }})
	if err != nil {
		t.Fatal(err)
	}
	defer wi.Stop()
	createConfigMaps(t, s, "a", 5)
	w := wi.(*watcher)
	if got := w.progress(0); got != 5 {
		t.Fatalf("progress with nothing queued = %d, want 5", got)
	}
	if _, err := s.Create(ctx, rolesGVR, role("a", "r")); err != nil {
		t.Fatal(err)
	}
	// The role event may still be queued; then progress must not pass it.
	if got := w.progress(0); got != 0 && got != 6 {
		t.Fatalf("progress = %d, want 0 (event queued) or 6", got)
	}
}

// A reopened bbolt store has no history: it reaches back to the version it
// loaded, and nothing before it.
func TestReopenedBoltHistoryStartsAtItsVersion(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "kauth.db")
	s, err := OpenBolt(path)
	if err != nil {
		t.Fatal(err)
	}
	createConfigMaps(t, s, "a", 3)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = OpenBolt(path, WithFreshTimeout(0))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	ctx := context.Background()

	w, err := s.Watch(ctx, cmGVR, "", WatchOptions{ResourceVersion: "1"})
	if err != nil {
		t.Fatal(err)
	}
	ev := <-w.ResultChan()
	want := metav1.Status{Status: metav1.StatusFailure, Code: 410, Reason: metav1.StatusReasonExpired, Message: "too old resource version: 1 (3)"}
	if st, ok := ev.Object.(*metav1.Status); !ok || ev.Type != watch.Error || !cmp.Equal(want, *st) {
		t.Fatalf("watch from before the reload: %v %+v", ev.Type, ev.Object)
	}
	_, err = s.List(ctx, cmGVR, "", ListOptions{ResourceVersion: 2})
	if diff := cmp.Diff(metav1.Status{Status: metav1.StatusFailure, Code: 410, Reason: metav1.StatusReasonExpired, Message: listExpired}, status(err)); diff != "" {
		t.Fatalf("exact list from before the reload (-want +got):\n%s", diff)
	}
	if res, err := s.List(ctx, cmGVR, "", ListOptions{ResourceVersion: 3}); err != nil || len(res.Items) != 3 {
		t.Fatalf("exact list at the loaded version: %v", err)
	}
	w, err = s.Watch(ctx, cmGVR, "", WatchOptions{ResourceVersion: "3"})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	createConfigMaps(t, s, "b", 1)
	if got := nextCM(t, w); got != (seen{watch.Added, "c0", "4"}) {
		t.Fatalf("watch from the loaded version = %v", got)
	}
}

// Periodic bookmarks of a quiet resource carry the store's version, so a
// client resumes from after the writes to other resources.
func TestPeriodicBookmarkCarriesStoreVersion(t *testing.T) {
	t.Parallel()
	s := newStore(nil)
	s.bookmarkEvery = time.Millisecond
	ctx := context.Background()
	if _, err := s.Create(ctx, rolesGVR, role("a", "r")); err != nil {
		t.Fatal(err)
	}
	createConfigMaps(t, s, "a", 5)
	w, err := s.Watch(ctx, rolesGVR, "", WatchOptions{ResourceVersion: "1", AllowBookmarks: true,
		NewBookmark: func() runtime.Object { return &rbacv1.Role{} }})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	ev := <-w.ResultChan()
	if r, ok := ev.Object.(*rbacv1.Role); ev.Type != watch.Bookmark || !ok || r.ResourceVersion != "6" {
		t.Fatalf("first event %v %+v, want a BOOKMARK at 6", ev.Type, ev.Object)
	}
}
