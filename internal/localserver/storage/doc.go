// Package storage is the one generic object store behind kauth serve.
//
// It mirrors the contract kube-apiserver's registry has with etcd3: every
// write bumps one global resourceVersion counter, Update and Delete honour
// optimistic concurrency (a stale resourceVersion is a 409 Conflict), and
// Watch fans events out to every watcher from any resourceVersion still in
// the event window; older ones fail with 410 Gone ("too old resource
// version") just as the watch cache does. A paged List continues at the
// snapshot of its first page, rebuilt from the same event window, or fails
// with 410 Expired once that is gone. Objects are typed k8s.io/api
// objects keyed by GroupVersionResource, namespace and name, and every read
// returns a deep copy so callers may mutate what they get.
//
// Two backends share that behaviour: [NewMemory] keeps everything in memory,
// and [OpenBolt] writes each change in one bbolt transaction (the counter and
// the object together) before it becomes visible, so a restart loses nothing
// that was acknowledged. A bbolt file carries a format version key; files
// written by a newer kauth, or damaged ones, are refused instead of guessed at.
//
// Errors are k8s.io/apimachinery StatusErrors (NotFound, AlreadyExists,
// Conflict, Gone) so the REST layer can return them unchanged.
package storage
