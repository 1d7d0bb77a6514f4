// Package storage is the one generic object store behind kauth serve.
//
// It mirrors the contract kube-apiserver's registry has with etcd3: every
// write bumps one global resourceVersion counter, Update and Delete honour
// optimistic concurrency (a stale resourceVersion is a 409 Conflict), and
// Watch fans events out to every watcher from any resourceVersion still in
// the event history of its resource; older ones fail with 410 Gone ("too
// old resource version") just as the watch cache does. Like
// kube-apiserver's per-resource watch caches, each resource keeps its own
// history: it starts at 100 events, doubles while all of it is younger
// than 75 seconds and halves when its newest quarter is older, up to 4096
// events, so a burst of writes to one resource never expires the watches
// of another. A paged List continues at the snapshot of its first page, and
// an exact List reads the snapshot at its version, both rebuilt from that
// history, or fail with 410 Expired once it is gone (a continued list's 410
// carries a token that goes on at the latest version, as kube-apiserver's
// does). A read that needs a resourceVersion the store has not reached
// waits for it up to three seconds and then fails with 504 "Too large
// resource version" (WaitForResourceVersion). Objects are typed k8s.io/api
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
