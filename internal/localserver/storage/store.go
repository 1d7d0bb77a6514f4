package storage

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/uuid"
	"k8s.io/apimachinery/pkg/watch"
	apistorage "k8s.io/apiserver/pkg/storage"
)

// freshTimeout is how long a read that needs a resourceVersion the store
// has not reached yet waits for it, as kube-apiserver's watch cache blocks
// for three seconds before it answers 504 "Too large resource version".
const freshTimeout = 3 * time.Second

// tooLargeRetrySeconds is the Retry-After of that 504, the watch cache's.
const tooLargeRetrySeconds = 1

// maxUpdateRetries bounds GuaranteedUpdate's optimistic retries.
const maxUpdateRetries = 16

// persister writes changes durably before they become visible. A nil
// persister keeps the store in memory only.
type persister interface {
	put(rv uint64, gvr schema.GroupVersionResource, namespace, name string, obj runtime.Object) error
	remove(rv uint64, gvr schema.GroupVersionResource, namespace, name string) error
	close() error
}

// event is one change in the store's history.
type event struct {
	rv   uint64
	gvr  schema.GroupVersionResource
	ns   string
	typ  watch.EventType
	obj  runtime.Object // as stored after the change (the last state for DELETED)
	prev runtime.Object // before the change, nil on ADDED
	at   time.Time      // when it was recorded, for sizing the history
}

type store struct {
	mu      sync.RWMutex
	rv      uint64
	data    map[schema.GroupVersionResource]map[string]runtime.Object // key "ns/name"
	history map[schema.GroupVersionResource]*history                  // recent events per resource
	// floor is the oldest resourceVersion any history reaches back to: 0
	// for a new store, the loaded resourceVersion for a bbolt file.
	floor    uint64
	watchers map[*watcher]struct{}
	// advanced is closed (and cleared) by the next commit; readers waiting
	// for a newer resourceVersion make it.
	advanced     chan struct{}
	freshTimeout time.Duration
	// bookmarkEvery is bookmarkInterval, shorter in tests.
	bookmarkEvery time.Duration
	persist       persister
	closed        bool
	now           func() time.Time
}

// Option tunes a store.
type Option func(*store)

// WithFreshTimeout sets how long a read waits for a resourceVersion the
// store has not reached before it fails with 504 "Too large resource
// version"; the default is kube-apiserver's three seconds.
func WithFreshTimeout(d time.Duration) Option {
	return func(s *store) { s.freshTimeout = d }
}

// NewMemory returns an empty store that lives in memory.
func NewMemory(opts ...Option) Interface {
	return newStore(nil, opts...)
}

func newStore(p persister, opts ...Option) *store {
	s := &store{
		data:          map[schema.GroupVersionResource]map[string]runtime.Object{},
		history:       map[schema.GroupVersionResource]*history{},
		watchers:      map[*watcher]struct{}{},
		freshTimeout:  freshTimeout,
		bookmarkEvery: bookmarkInterval,
		persist:       p,
		now:           time.Now,
	}
	for _, o := range opts {
		o(s)
	}
	return s
}

func objectKey(namespace, name string) string { return namespace + "/" + name }

func (s *store) Create(_ context.Context, gvr schema.GroupVersionResource, obj runtime.Object) (runtime.Object, error) {
	acc, err := meta.Accessor(obj)
	if err != nil {
		return nil, apierrors.NewBadRequest(fmt.Sprintf("create %s: %v", gvr.Resource, err))
	}
	if acc.GetName() == "" {
		return nil, apierrors.NewBadRequest(fmt.Sprintf("create %s: metadata.name is required", gvr.Resource))
	}
	obj = obj.DeepCopyObject()
	// Stored objects carry no apiVersion/kind, as after a bbolt load; the
	// serializer sets them on the way out.
	obj.GetObjectKind().SetGroupVersionKind(schema.GroupVersionKind{})
	acc, _ = meta.Accessor(obj)
	if acc.GetUID() == "" {
		acc.SetUID(uuid.NewUUID())
	}
	if ts := acc.GetCreationTimestamp(); ts.IsZero() {
		acc.SetCreationTimestamp(metav1.NewTime(s.now().UTC().Truncate(time.Second)))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, errClosed()
	}
	key := objectKey(acc.GetNamespace(), acc.GetName())
	if _, ok := s.data[gvr][key]; ok {
		return nil, apierrors.NewAlreadyExists(gvr.GroupResource(), acc.GetName())
	}
	if err := s.commit(gvr, acc.GetNamespace(), acc.GetName(), watch.Added, obj, nil); err != nil {
		return nil, err
	}
	return obj.DeepCopyObject(), nil
}

func (s *store) Get(_ context.Context, gvr schema.GroupVersionResource, namespace, name string) (runtime.Object, error) {
	s.mu.RLock()
	obj, ok := s.data[gvr][objectKey(namespace, name)]
	s.mu.RUnlock()
	if !ok {
		return nil, apierrors.NewNotFound(gvr.GroupResource(), name)
	}
	return obj.DeepCopyObject(), nil
}

func (s *store) List(ctx context.Context, gvr schema.GroupVersionResource, namespace string, opts ListOptions) (*ListResult, error) {
	start, listRV, err := decodeContinue(opts.Continue)
	if err != nil {
		return nil, err
	}
	if opts.Continue == "" {
		listRV = opts.ResourceVersion
	}
	if listRV != 0 {
		// An exact read of a version the store has not reached waits for
		// it, as the watch cache does, then fails with 504.
		if err := s.WaitForResourceVersion(ctx, listRV); err != nil {
			return nil, err
		}
	}
	s.mu.RLock()
	if listRV == 0 {
		listRV = s.rv
	}
	if listRV < s.bound(gvr) {
		s.mu.RUnlock()
		if opts.Continue != "" {
			return nil, continueExpiredError(start)
		}
		return nil, apierrors.NewResourceExpired(listExpired)
	}
	state := s.data[gvr]
	if listRV < s.rv {
		// A continued or exact list reads the state at its version,
		// rebuilt by undoing the resource's newer events, as etcd3 reads
		// at a revision.
		state = s.snapshotAt(gvr, listRV)
	}
	keys := sortedKeys(state, namespace)
	objs := make([]runtime.Object, 0, len(keys))
	for _, k := range keys {
		objs = append(objs, state[k])
	}
	s.mu.RUnlock()
	return page(keys, objs, start, listRV, opts), nil
}

// The messages kube-apiserver gives when etcd has compacted the revision a
// list asks for: an exact list, and a continued one. The latter comes with
// a continue token that goes on from the same key at the latest version.
const (
	listExpired          = "The resourceVersion for the provided list is too old."
	inconsistentContinue = "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list."
)

func continueExpiredError(start string) error {
	err := apierrors.NewResourceExpired(inconsistentContinue)
	err.ErrStatus.ListMeta.Continue = encodeContinueLatest(start)
	return err
}

// bound is the oldest resourceVersion from which the events of gvr are all
// still held: watches and snapshots of gvr may start at any version >= it.
// The caller holds s.mu.
func (s *store) bound(gvr schema.GroupVersionResource) uint64 {
	b := s.floor
	if h := s.history[gvr]; h != nil {
		b = max(b, h.evicted)
	}
	return b
}

// WaitForResourceVersion returns once the store has reached rv. It waits
// at most the fresh timeout (three seconds by default, as kube-apiserver's
// watch cache) and then fails with a 504 Timeout "Too large resource
// version" status, whose cause is ResourceVersionTooLarge.
func (s *store) WaitForResourceVersion(ctx context.Context, rv uint64) error {
	s.mu.RLock()
	cur := s.rv
	s.mu.RUnlock()
	if cur >= rv {
		return nil
	}
	timer := time.NewTimer(s.freshTimeout)
	defer timer.Stop()
	for {
		s.mu.Lock()
		cur = s.rv
		if cur >= rv || s.closed {
			closed := s.closed
			s.mu.Unlock()
			if closed {
				return errClosed()
			}
			return nil
		}
		if s.advanced == nil {
			s.advanced = make(chan struct{})
		}
		advanced := s.advanced
		s.mu.Unlock()
		select {
		case <-advanced:
		case <-timer.C:
			return apistorage.NewTooLargeResourceVersionError(rv, cur, tooLargeRetrySeconds)
		case <-ctx.Done():
			return apistorage.NewTooLargeResourceVersionError(rv, cur, tooLargeRetrySeconds)
		}
	}
}

// snapshotAt returns the objects of gvr as they were at rv, which must not
// be older than s.bound(gvr). The caller holds s.mu.
func (s *store) snapshotAt(gvr schema.GroupVersionResource, rv uint64) map[string]runtime.Object {
	state := make(map[string]runtime.Object, len(s.data[gvr]))
	for k, v := range s.data[gvr] {
		state[k] = v
	}
	h := s.history[gvr]
	if h == nil {
		return state
	}
	for i := h.len() - 1; i >= 0; i-- {
		ev := h.at(i)
		if ev.rv <= rv {
			break
		}
		m, err := meta.Accessor(ev.obj)
		if err != nil {
			continue
		}
		key := objectKey(ev.ns, m.GetName())
		if ev.typ == watch.Added {
			delete(state, key)
		} else {
			state[key] = ev.prev
		}
	}
	return state
}

// page cuts one page out of the sorted keys, starting after start.
func page(keys []string, objs []runtime.Object, start string, listRV uint64, opts ListOptions) *ListResult {
	res := &ListResult{ResourceVersion: listRV}
	i := sort.SearchStrings(keys, start)
	if start != "" && i < len(keys) && keys[i] == start {
		i++
	}
	for ; i < len(keys); i++ {
		if opts.Predicate != nil && !opts.Predicate(objs[i]) {
			continue
		}
		if opts.Limit > 0 && int64(len(res.Items)) == opts.Limit {
			res.Continue = encodeContinue(keys[i-1], listRV)
			remaining := int64(0)
			for ; i < len(keys); i++ {
				if opts.Predicate == nil || opts.Predicate(objs[i]) {
					remaining++
				}
			}
			res.RemainingItemCount = &remaining
			break
		}
		res.Items = append(res.Items, objs[i].DeepCopyObject())
	}
	return res
}

func (s *store) sortedKeys(gvr schema.GroupVersionResource, namespace string) []string {
	return sortedKeys(s.data[gvr], namespace)
}

func sortedKeys(state map[string]runtime.Object, namespace string) []string {
	keys := make([]string, 0, len(state))
	prefix := namespace + "/"
	for k := range state {
		if namespace == "" || (len(k) > len(prefix) && k[:len(prefix)] == prefix) {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	return keys
}

func (s *store) Update(ctx context.Context, gvr schema.GroupVersionResource, obj runtime.Object) (runtime.Object, error) {
	acc, err := meta.Accessor(obj)
	if err != nil {
		return nil, apierrors.NewBadRequest(fmt.Sprintf("update %s: %v", gvr.Resource, err))
	}
	return s.GuaranteedUpdate(ctx, gvr, acc.GetNamespace(), acc.GetName(), func(runtime.Object) (runtime.Object, error) {
		return obj.DeepCopyObject(), nil
	})
}

func (s *store) GuaranteedUpdate(ctx context.Context, gvr schema.GroupVersionResource, namespace, name string, tryUpdate UpdateFunc) (runtime.Object, error) {
	for range maxUpdateRetries {
		current, err := s.Get(ctx, gvr, namespace, name)
		if err != nil {
			return nil, err
		}
		currentRV := mustRV(current)
		updated, err := tryUpdate(current.DeepCopyObject())
		if err != nil {
			return nil, err
		}
		out, retry, err := s.swap(gvr, namespace, name, currentRV, updated)
		if retry {
			continue
		}
		return out, err
	}
	return nil, apierrors.NewConflict(gvr.GroupResource(), name, fmt.Errorf("too many concurrent updates"))
}

// swap stores updated if the object is still at currentRV. retry reports a
// concurrent write that happened since it was read.
func (s *store) swap(gvr schema.GroupVersionResource, namespace, name, currentRV string, updated runtime.Object) (runtime.Object, bool, error) {
	acc, err := meta.Accessor(updated)
	if err != nil {
		return nil, false, apierrors.NewBadRequest(err.Error())
	}
	if acc.GetNamespace() != namespace || acc.GetName() != name {
		return nil, false, apierrors.NewBadRequest(fmt.Sprintf("update %s: the name or namespace of the object (%s/%s) does not match %s/%s", gvr.Resource, acc.GetNamespace(), acc.GetName(), namespace, name))
	}
	wantRV := acc.GetResourceVersion()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, false, errClosed()
	}
	prev, ok := s.data[gvr][objectKey(namespace, name)]
	if !ok {
		return nil, false, apierrors.NewNotFound(gvr.GroupResource(), name)
	}
	nowRV := mustRV(prev)
	if wantRV != "" && wantRV != nowRV {
		return nil, false, conflict(gvr, name)
	}
	if nowRV != currentRV {
		return nil, true, nil
	}
	updated = updated.DeepCopyObject()
	updated.GetObjectKind().SetGroupVersionKind(schema.GroupVersionKind{})
	acc, _ = meta.Accessor(updated)
	acc.SetResourceVersion(nowRV)
	if equality.Semantic.DeepEqual(prev, updated) {
		// Like etcd3's GuaranteedUpdate: an update that changes nothing is
		// not written and keeps its resourceVersion.
		return prev.DeepCopyObject(), false, nil
	}
	if err := s.commit(gvr, namespace, name, watch.Modified, updated, prev); err != nil {
		return nil, false, err
	}
	return updated.DeepCopyObject(), false, nil
}

func conflict(gvr schema.GroupVersionResource, name string) error {
	return apierrors.NewConflict(gvr.GroupResource(), name,
		fmt.Errorf("the object has been modified; please apply your changes to the latest version and try again"))
}

func (s *store) Delete(_ context.Context, gvr schema.GroupVersionResource, namespace, name string, precond *Preconditions) (runtime.Object, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, errClosed()
	}
	key := objectKey(namespace, name)
	prev, ok := s.data[gvr][key]
	if !ok {
		return nil, apierrors.NewNotFound(gvr.GroupResource(), name)
	}
	if err := checkPreconditions(gvr, name, prev, precond); err != nil {
		return nil, err
	}
	last := prev.DeepCopyObject()
	if err := s.commit(gvr, namespace, name, watch.Deleted, last, prev); err != nil {
		return nil, err
	}
	return last.DeepCopyObject(), nil
}

func checkPreconditions(gvr schema.GroupVersionResource, name string, obj runtime.Object, p *Preconditions) error {
	if p == nil {
		return nil
	}
	acc, _ := meta.Accessor(obj)
	if p.UID != "" && types.UID(p.UID) != acc.GetUID() {
		return apierrors.NewConflict(gvr.GroupResource(), name, fmt.Errorf(
			"Precondition failed: UID in precondition: %s, UID in object meta: %s", p.UID, acc.GetUID()))
	}
	if p.ResourceVersion != "" && p.ResourceVersion != acc.GetResourceVersion() {
		return apierrors.NewConflict(gvr.GroupResource(), name, fmt.Errorf(
			"Precondition failed: ResourceVersion in precondition: %s, ResourceVersion in object meta: %s", p.ResourceVersion, acc.GetResourceVersion()))
	}
	return nil
}

// commit assigns the next resourceVersion to obj, persists the change and
// then makes it visible and tells the watchers. The caller holds s.mu.
func (s *store) commit(gvr schema.GroupVersionResource, namespace, name string, typ watch.EventType, obj, prev runtime.Object) error {
	rv := s.rv + 1
	acc, _ := meta.Accessor(obj)
	acc.SetResourceVersion(strconv.FormatUint(rv, 10))
	if s.persist != nil {
		var err error
		if typ == watch.Deleted {
			err = s.persist.remove(rv, gvr, namespace, name)
		} else {
			err = s.persist.put(rv, gvr, namespace, name, obj)
		}
		if err != nil {
			return apierrors.NewInternalError(fmt.Errorf("write %s %s/%s: %w", gvr.Resource, namespace, name, err))
		}
	}
	s.rv = rv
	if s.advanced != nil {
		close(s.advanced)
		s.advanced = nil
	}
	key := objectKey(namespace, name)
	if typ == watch.Deleted {
		delete(s.data[gvr], key)
	} else {
		if s.data[gvr] == nil {
			s.data[gvr] = map[string]runtime.Object{}
		}
		s.data[gvr][key] = obj
	}
	s.record(event{rv: rv, gvr: gvr, ns: namespace, typ: typ, obj: obj, prev: prev, at: s.now()})
	return nil
}

func (s *store) record(ev event) {
	h := s.history[ev.gvr]
	if h == nil {
		h = newHistory()
		s.history[ev.gvr] = h
	}
	h.add(ev)
	for w := range s.watchers {
		if w.matches(ev) && !w.send(ev) {
			delete(s.watchers, w)
		}
	}
}

func (s *store) ResourceVersion() uint64 {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.rv
}

func (s *store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	if s.advanced != nil {
		close(s.advanced)
		s.advanced = nil
	}
	for w := range s.watchers {
		w.terminate()
		delete(s.watchers, w)
	}
	if s.persist != nil {
		return s.persist.close()
	}
	return nil
}

func mustRV(obj runtime.Object) string {
	acc, err := meta.Accessor(obj)
	if err != nil {
		return ""
	}
	return acc.GetResourceVersion()
}

func errClosed() error {
	return apierrors.NewServiceUnavailable("the store is closed")
}
