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
	apistorage "k8s.io/apiserver/pkg/storage"
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
	s        *store
	gvr      schema.GroupVersionResource
	ns       string
	opts     WatchOptions
	in       chan event
	out      chan watch.Event
	done     chan struct{}
	stopOnce sync.Once
}

func (s *store) Watch(ctx context.Context, gvr schema.GroupVersionResource, namespace string, opts WatchOptions) (watch.Interface, error) {
	var from uint64
	if opts.ResourceVersion != "" && opts.ResourceVersion != "0" {
		v, err := strconv.ParseUint(opts.ResourceVersion, 10, 64)
		if err != nil {
			return nil, apierrors.NewBadRequest(fmt.Sprintf("invalid resource version %q: must be a number", opts.ResourceVersion))
		}
		from = v
	}
	w := &watcher{s: s, gvr: gvr, ns: namespace, opts: opts,
		in: make(chan event, watcherBuffer), out: make(chan watch.Event), done: make(chan struct{})}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil, errClosed()
	}
	initial := opts.SendInitialEvents || from == 0
	if !initial && from < s.oldest {
		s.mu.Unlock()
		return errWatch(apierrors.NewResourceExpired(fmt.Sprintf("too old resource version: %d (%d)", from, s.oldest))), nil
	}
	if from > s.rv {
		cur := s.rv
		s.mu.Unlock()
		return nil, apistorage.NewTooLargeResourceVersionError(from, cur, 1)
	}
	var first []event
	if initial {
		for _, k := range s.sortedKeys(gvr, namespace) {
			first = append(first, event{rv: s.rv, gvr: gvr, typ: watch.Added, obj: s.data[gvr][k]})
		}
	} else {
		first = s.since(from, w)
	}
	startRV := s.rv
	s.watchers[w] = struct{}{}
	s.mu.Unlock()
	go w.run(ctx, first, initial, startRV)
	return w, nil
}

// since returns the events after rv that w would see. The caller holds s.mu.
func (s *store) since(rv uint64, w *watcher) []event {
	var out []event
	n := len(s.history)
	for i := range n {
		ev := s.history[(s.head+i)%n]
		if ev.rv > rv && w.matches(ev) {
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
func (w *watcher) send(ev event) bool {
	select {
	case w.in <- ev:
		return true
	default:
		close(w.in)
		return false
	}
}

// terminate ends the watcher from the store's side. The caller holds s.mu.
func (w *watcher) terminate() { close(w.in) }

func (w *watcher) ResultChan() <-chan watch.Event { return w.out }

func (w *watcher) Stop() {
	w.stopOnce.Do(func() {
		close(w.done)
		w.s.mu.Lock()
		if _, ok := w.s.watchers[w]; ok {
			delete(w.s.watchers, w)
			close(w.in)
		}
		w.s.mu.Unlock()
	})
}

func (w *watcher) run(ctx context.Context, first []event, initial bool, startRV uint64) {
	defer close(w.out)
	defer w.Stop()
	lastRV := startRV
	for _, ev := range first {
		if !w.emit(ctx, ev) {
			return
		}
		lastRV = max(lastRV, ev.rv)
	}
	if initial && w.opts.SendInitialEvents && !w.bookmark(ctx, startRV, true) {
		return
	}
	tick := time.NewTicker(bookmarkInterval)
	defer tick.Stop()
	for {
		select {
		case ev, ok := <-w.in:
			if !ok || !w.emit(ctx, ev) {
				return
			}
			lastRV = ev.rv
		case <-tick.C:
			if !w.bookmark(ctx, lastRV, false) {
				return
			}
		case <-ctx.Done():
			return
		case <-w.done:
			return
		}
	}
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
func errWatch(err *apierrors.StatusError) watch.Interface {
	ch := make(chan watch.Event, 1)
	status := err.Status()
	ch <- watch.Event{Type: watch.Error, Object: &status}
	close(ch)
	return &staticWatch{ch: ch}
}

type staticWatch struct{ ch chan watch.Event }

func (s *staticWatch) ResultChan() <-chan watch.Event { return s.ch }
func (s *staticWatch) Stop()                          {}

// continueToken is the decoded form of a list continue parameter.
type continueToken struct {
	RV    uint64 `json:"rv"`
	Start string `json:"start"`
}

func encodeContinue(lastKey string, rv uint64) string {
	b, _ := json.Marshal(continueToken{RV: rv, Start: lastKey})
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeContinue(token string) (string, uint64, error) {
	if token == "" {
		return "", 0, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(token)
	var t continueToken
	if err == nil {
		err = json.Unmarshal(b, &t)
	}
	if err != nil || t.RV == 0 {
		return "", 0, apierrors.NewBadRequest("invalid continue token: expected a token returned by a previous list")
	}
	return t.Start, t.RV, nil
}
