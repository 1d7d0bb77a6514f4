package storage

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strconv"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/watch"
)

// watcherBuffer is how many events a watcher may lag behind before it is
// ended (the client re-lists), as kube-apiserver's cacher ends slow watchers.
const watcherBuffer = 1024

// bookmarkInterval is how often a watch that allows bookmarks gets one;
// kube-apiserver sends them about once a minute.
const bookmarkInterval = time.Minute

// InitialEventsEndAnnotation marks the bookmark that ends the initial
// events of a watch-list request.
const InitialEventsEndAnnotation = "k8s.io/initial-events-end"

type watcher struct {
	s    *store
	gvr  schema.GroupVersionResource
	ns   string
	opts WatchOptions
	// after is the version the watch starts after when the client asked
	// for one the store has not reached: nothing up to it is sent.
	after    uint64
	in       *eventQueue
	out      chan watch.Event
	done     chan struct{}
	stopOnce sync.Once
}

func (s *store) Watch(ctx context.Context, gvr schema.GroupVersionResource, namespace string, opts WatchOptions) (watch.Interface, error) {
	from, err := parseResourceVersion(opts.ResourceVersion)
	if err != nil {
		return nil, err
	}
	watchList := opts.SendInitialEvents != nil && *opts.SendInitialEvents
	// Without sendInitialEvents, "" and "0" still start with the current
	// state (the legacy behaviour); sendInitialEvents=false starts now.
	initial := watchList || (opts.SendInitialEvents == nil && from == 0)
	if watchList && from != 0 {
		// The initial state must be at least as new as the version asked
		// for; like the watch cache, wait for it, then fail in the stream.
		if err := s.WaitForResourceVersion(ctx, from); err != nil {
			return errWatch(err), nil
		}
	}
	w := &watcher{s: s, gvr: gvr, ns: namespace, opts: opts,
		in: newEventQueue(), out: make(chan watch.Event), done: make(chan struct{})}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil, errClosed()
	}
	if bound := s.bound(gvr); !initial && from != 0 && from < bound {
		s.mu.Unlock()
		return errWatch(apierrors.NewResourceExpired(fmt.Sprintf("too old resource version: %d (%d)", from, bound))), nil
	}
	var first []event
	switch {
	case initial:
		for _, k := range s.sortedKeys(gvr, namespace) {
			first = append(first, event{rv: s.rv, gvr: gvr, typ: watch.Added, obj: s.data[gvr][k]})
		}
	case from > s.rv:
		// A version the store has not reached: kube-apiserver's watch
		// cache accepts it and sends the events after it.
		w.after = from
	case from != 0:
		first = s.since(from, w)
	}
	startRV := s.rv
	s.watchers[w] = struct{}{}
	s.mu.Unlock()
	go w.run(ctx, first, watchList, startRV)
	return w, nil
}

func parseResourceVersion(rv string) (uint64, error) {
	if rv == "" || rv == "0" {
		return 0, nil
	}
	v, err := strconv.ParseUint(rv, 10, 64)
	if err != nil {
		return 0, apierrors.NewBadRequest(fmt.Sprintf("invalid resource version %q: must be a number", rv))
	}
	return v, nil
}

// since returns the events after rv that w would see. The caller holds s.mu.
func (s *store) since(rv uint64, w *watcher) []event {
	h := s.history[w.gvr]
	if h == nil {
		return nil
	}
	var out []event
	for _, ev := range h.after(rv) {
		if w.matches(ev) {
			out = append(out, ev)
		}
	}
	return out
}

func (w *watcher) matches(ev event) bool {
	return ev.gvr == w.gvr && (w.ns == "" || ev.ns == w.ns)
}

// send queues ev without blocking; false means the watcher fell behind and
// was ended. The caller holds s.mu.
func (w *watcher) send(ev event) bool { return w.in.push(ev) }

// terminate ends the watcher from the store's side. The caller holds s.mu.
func (w *watcher) terminate() { w.in.close() }

// eventQueue is a watcher's backlog: the events the store has sent and
// the watcher has not taken yet, at most watcherBuffer of them. It grows
// with the backlog, so the many watches that are idle hold no buffer (a
// channel of watcherBuffer events would hold its whole size from the
// start). One producer (under the store's lock) and one consumer.
type eventQueue struct {
	mu     sync.Mutex
	items  []event // items[head:] are queued
	head   int
	closed bool
	// ready holds a token when items or closed changed since the
	// consumer last took them.
	ready chan struct{}
}

func newEventQueue() *eventQueue { return &eventQueue{ready: make(chan struct{}, 1)} }

func (q *eventQueue) signal() {
	select {
	case q.ready <- struct{}{}:
	default:
	}
}

// push appends ev; when the backlog is already full it closes the queue
// instead and returns false, as a full channel ended a slow watcher.
func (q *eventQueue) push(ev event) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return false
	}
	if len(q.items)-q.head >= watcherBuffer {
		q.closed = true
		q.signal()
		return false
	}
	if q.head > 0 && len(q.items) == cap(q.items) {
		// Reuse the taken front before growing.
		n := copy(q.items, q.items[q.head:])
		clear(q.items[n:])
		q.items, q.head = q.items[:n], 0
	}
	q.items = append(q.items, ev)
	q.signal()
	return true
}

// close ends the queue; the consumer still takes what is in it.
func (q *eventQueue) close() {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.closed = true
	q.signal()
}

// pop takes the oldest event. ok is false when there is none; then done
// tells whether the queue is closed, and nothing more will come.
func (q *eventQueue) pop() (ev event, ok, done bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.head == len(q.items) {
		if cap(q.items) > 64 {
			q.items = nil // let a burst's buffer go
		} else {
			q.items = q.items[:0]
		}
		q.head = 0
		return event{}, false, q.closed
	}
	ev = q.items[q.head]
	q.items[q.head] = event{}
	q.head++
	return ev, true, false
}

func (q *eventQueue) len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.items) - q.head
}

func (w *watcher) ResultChan() <-chan watch.Event { return w.out }

func (w *watcher) Stop() {
	w.stopOnce.Do(func() {
		close(w.done)
		w.s.mu.Lock()
		if _, ok := w.s.watchers[w]; ok {
			delete(w.s.watchers, w)
			w.in.close()
		}
		w.s.mu.Unlock()
	})
}

func (w *watcher) run(ctx context.Context, first []event, watchList bool, startRV uint64) {
	defer close(w.out)
	defer w.Stop()
	lastRV := max(startRV, w.after)
	for _, ev := range first {
		if !w.emit(ctx, ev) {
			return
		}
		lastRV = max(lastRV, ev.rv)
	}
	if watchList && !w.bookmark(ctx, startRV, true) {
		return
	}
	tick := time.NewTicker(w.s.bookmarkEvery)
	defer tick.Stop()
	for {
		select {
		case <-w.in.ready:
			// One event at a time: the one being delivered and the queue
			// make the lag that ends a slow watcher, as with a channel.
			for {
				ev, ok, done := w.in.pop()
				if done {
					return
				}
				if !ok {
					break
				}
				if ev.rv <= w.after {
					continue
				}
				if !w.emit(ctx, ev) {
					return
				}
				lastRV = ev.rv
			}
		case <-tick.C:
			lastRV = w.progress(lastRV)
			if lastRV > w.after && !w.bookmark(ctx, lastRV, false) {
				return
			}
		case <-ctx.Done():
			return
		case <-w.done:
			return
		}
	}
}

// progress is the version a bookmark may carry: the store's current one
// when every event up to it has been sent (nothing is queued for this
// watcher), so a client resumes from a recent version even when its
// resource is quiet; otherwise the last sent event's.
func (w *watcher) progress(lastRV uint64) uint64 {
	w.s.mu.RLock()
	defer w.s.mu.RUnlock()
	if w.in.len() == 0 {
		return max(lastRV, w.s.rv)
	}
	return lastRV
}

// emit translates a store event through the predicate, as kube-apiserver's
// cacher does: an object that starts matching is ADDED, one that stops
// matching is DELETED.
func (w *watcher) emit(ctx context.Context, ev event) bool {
	cur := w.opts.Predicate == nil || w.opts.Predicate(ev.obj)
	prev := ev.prev != nil && (w.opts.Predicate == nil || w.opts.Predicate(ev.prev))
	typ := ev.typ
	switch {
	case ev.typ == watch.Deleted && !prev:
		return true
	case ev.typ == watch.Modified && cur && !prev:
		typ = watch.Added
	case ev.typ == watch.Modified && !cur && prev:
		typ = watch.Deleted
	case ev.typ != watch.Deleted && !cur:
		return true
	}
	return w.deliver(ctx, watch.Event{Type: typ, Object: ev.obj.DeepCopyObject()})
}

func (w *watcher) bookmark(ctx context.Context, rv uint64, initialEnd bool) bool {
	if !w.opts.AllowBookmarks || w.opts.NewBookmark == nil {
		return true
	}
	obj := w.opts.NewBookmark()
	acc, err := meta.Accessor(obj)
	if err != nil {
		return true
	}
	acc.SetResourceVersion(strconv.FormatUint(rv, 10))
	if initialEnd {
		acc.SetAnnotations(map[string]string{InitialEventsEndAnnotation: "true"})
	}
	return w.deliver(ctx, watch.Event{Type: watch.Bookmark, Object: obj})
}

func (w *watcher) deliver(ctx context.Context, ev watch.Event) bool {
	select {
	case w.out <- ev:
		return true
	case <-ctx.Done():
		return false
	case <-w.done:
		return false
	}
}

// errWatch is a watch that reports one error event and ends, the way
// kube-apiserver answers a watch from a compacted resourceVersion.
func errWatch(err error) watch.Interface {
	ch := make(chan watch.Event, 1)
	status := apierrors.APIStatus(apierrors.NewInternalError(err)).Status()
	if se, ok := err.(apierrors.APIStatus); ok {
		status = se.Status()
	}
	ch <- watch.Event{Type: watch.Error, Object: &status}
	close(ch)
	return &staticWatch{ch: ch}
}

type staticWatch struct{ ch chan watch.Event }

func (s *staticWatch) ResultChan() <-chan watch.Event { return s.ch }
func (s *staticWatch) Stop()                          {}

// continueToken is the decoded form of a list continue parameter. RV is
// the version of the list's first page; -1 (kube-apiserver's convention,
// in the token it hands out when that version is gone) continues at the
// latest version.
type continueToken struct {
	RV    int64  `json:"rv"`
	Start string `json:"start"`
}

func encodeContinue(lastKey string, rv uint64) string {
	return encodeToken(continueToken{RV: int64(rv), Start: lastKey})
}

func encodeContinueLatest(lastKey string) string {
	return encodeToken(continueToken{RV: -1, Start: lastKey})
}

func encodeToken(t continueToken) string {
	b, _ := json.Marshal(t)
	return base64.RawURLEncoding.EncodeToString(b)
}

// decodeContinue returns the key to continue after and the version to
// list at, 0 for the latest.
func decodeContinue(token string) (string, uint64, error) {
	if token == "" {
		return "", 0, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(token)
	var t continueToken
	if err == nil {
		err = json.Unmarshal(b, &t)
	}
	if err != nil || t.RV == 0 || t.RV < -1 {
		return "", 0, apierrors.NewBadRequest("invalid continue token: expected a token returned by a previous list")
	}
	if t.RV == -1 {
		return t.Start, 0, nil
	}
	return t.Start, uint64(t.RV), nil
}
