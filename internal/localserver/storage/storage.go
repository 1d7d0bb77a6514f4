package storage

import (
	"context"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/watch"
)

// Interface is the generic object store. Objects are typed k8s.io/api
// objects (for example *rbacv1.Role); namespace and name come from the
// object's metadata on Create and Update. Every method returns deep copies.
type Interface interface {
	// Create stores a new object. It fails with AlreadyExists when the key
	// is taken. The store sets resourceVersion, and uid and
	// creationTimestamp when they are empty.
	Create(ctx context.Context, gvr schema.GroupVersionResource, obj runtime.Object) (runtime.Object, error)
	// Get returns one object or NotFound.
	Get(ctx context.Context, gvr schema.GroupVersionResource, namespace, name string) (runtime.Object, error)
	// List returns the objects of one resource, in one namespace or all
	// namespaces (namespace ""), sorted by namespace and name.
	List(ctx context.Context, gvr schema.GroupVersionResource, namespace string, opts ListOptions) (*ListResult, error)
	// Update replaces an existing object. A non-empty resourceVersion on
	// obj must equal the stored one, otherwise it fails with Conflict.
	Update(ctx context.Context, gvr schema.GroupVersionResource, obj runtime.Object) (runtime.Object, error)
	// GuaranteedUpdate reads the current object, applies tryUpdate and
	// stores the result atomically; tryUpdate may be called more than once.
	GuaranteedUpdate(ctx context.Context, gvr schema.GroupVersionResource, namespace, name string, tryUpdate UpdateFunc) (runtime.Object, error)
	// Delete removes an object and returns it as it was last stored, with a
	// new resourceVersion (the one of the deletion event).
	Delete(ctx context.Context, gvr schema.GroupVersionResource, namespace, name string, precond *Preconditions) (runtime.Object, error)
	// Watch streams the changes of one resource after resourceVersion.
	Watch(ctx context.Context, gvr schema.GroupVersionResource, namespace string, opts WatchOptions) (watch.Interface, error)
	// ResourceVersion is the store's current resourceVersion.
	ResourceVersion() uint64
	// WaitForResourceVersion returns once the store has reached rv, or
	// fails after a short wait (three seconds, as kube-apiserver's watch
	// cache) with a 504 Timeout "Too large resource version" status.
	WaitForResourceVersion(ctx context.Context, rv uint64) error
	// Close releases the store; watches end.
	Close() error
}

// UpdateFunc changes a copy of the current object and returns the object to
// store. Returning an error aborts the update with that error.
type UpdateFunc func(current runtime.Object) (runtime.Object, error)

// Preconditions guard a delete, as metav1.Preconditions do.
type Preconditions struct {
	UID             string
	ResourceVersion string
}

// ListOptions narrow a List.
type ListOptions struct {
	// Predicate keeps the objects it returns true for (label and field
	// selectors); nil keeps all.
	Predicate func(obj runtime.Object) bool
	// Limit is the page size; 0 means no limit.
	Limit int64
	// Continue is the token of a previous page.
	Continue string
	// ResourceVersion, when not 0, lists the state at exactly that version
	// (resourceVersionMatch=Exact): 410 Gone when the resource's event
	// history no longer reaches back to it; when it is newer than the
	// store, the list waits for it and then fails with 504 "Too large
	// resource version". A continue token's version wins over it.
	ResourceVersion uint64
}

// ListResult is one page of a List.
type ListResult struct {
	Items []runtime.Object
	// ResourceVersion is the store's resourceVersion when the list was read
	// (the first page's when continuing).
	ResourceVersion uint64
	// Continue is the token for the next page, empty on the last one.
	Continue string
	// RemainingItemCount counts the matching items after this page when a
	// limit cut it.
	RemainingItemCount *int64
}

// WatchOptions say where a watch starts.
type WatchOptions struct {
	// ResourceVersion: "" or "0" starts with a synthetic ADDED event per
	// existing object (kube-apiserver's "get state and start at most
	// recent") unless SendInitialEvents is false; a number starts after
	// that version, or ends with an ERROR 410 Gone event when the
	// resource's event history no longer reaches back to it. A number the
	// store has not reached yet is accepted: the watch sends what comes
	// after it.
	ResourceVersion string
	// SendInitialEvents, when true, sends ADDED events for the current
	// state (at least as new as ResourceVersion: the watch waits for it,
	// then ends with an ERROR 504 event) and, with AllowBookmarks, a
	// bookmark annotated "k8s.io/initial-events-end" (the watch-list
	// protocol). False starts at the current version without the state.
	SendInitialEvents *bool
	// AllowBookmarks lets the watch send BOOKMARK events.
	AllowBookmarks bool
	// Predicate filters events (label and field selectors); nil keeps all.
	Predicate func(obj runtime.Object) bool
	// NewBookmark builds an empty object of the watched kind for BOOKMARK
	// events; bookmarks are sent only when it is set.
	NewBookmark func() runtime.Object
}
